"""A CONSENTREG_HOME that cannot be written.

On a read-only file system (a read-only bind mount here) the register is opened read-only and
immutable: SQLite cannot create its -wal and -shm files there, and nothing can change the file
through that mount, so reads work; every change, and every view that records who looked (the
access log is itself a change), ends in one line with exit 2 and writes nothing. A copy whose -wal
still holds changes cannot be read without them: exit 2, saying why.

A folder this user may not write (permissions, not a read-only mount) cannot be read either (SQLite
must create -wal and -shm even to read, and another user may be writing, so immutable would be a
lie): exit 2, saying which folder needs write permission. As root that needs the capability to
override permissions dropped: a subprocess under `setpriv`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.faults.conftest import Invoke, Mount, digest, one_error_line

sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

READ_ONLY_FS = (
    "is on a read-only file system: it can be read here, not changed; nothing was written"
)


@pytest.fixture
def register(cli: Invoke, home: Path, tmp_path: Path) -> Path:
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    born = (date.today() - timedelta(days=5 * 365)).isoformat()
    for args in (
        ("unit", "add", "bhg", "--name", "Solsikken"),
        ("purpose", "add", "facebook", "--title", "Facebook", "--notice-file", notice),
        ("person", "add", "--name", "Emma Nordmann", "--born", born, "--ref", "K1"),
    ):
        assert cli(*args).exit_code == 0
    return home / "consentreg.db"


@sqlite
def test_a_register_on_a_read_only_file_system_can_be_read(
    cli: Invoke, register: Path, read_only: Mount
) -> None:
    with read_only(register.parent):
        units = cli("unit", "list")
        assert units.exit_code == 0
        assert "Solsikken" in units.stdout
        assert cli("person", "show", "ref:K1").exit_code == 0
        assert cli("purpose", "list").exit_code == 0
        assert cli("consent", "list").exit_code == 0
        assert cli("db", "check", "--integrity").exit_code == 0
        assert cli("audit", "verify").exit_code == 0
        assert not list(register.parent.glob("*-shm"))


@sqlite
def test_a_change_on_a_read_only_file_system_is_refused_and_writes_nothing(
    cli: Invoke, register: Path, read_only: Mount, tmp_path: Path
) -> None:
    before = digest(register)
    evidence = tmp_path / "skjema.txt"
    evidence.write_text("signert skjema\n", encoding="utf-8")
    with read_only(register.parent):
        for args in (
            ("unit", "add", "skole", "--name", "Lyngtoppen"),
            ("person", "restrict", "ref:K1", "--reason", "adressesperre"),
            ("audit", "consents"),  # records who looked: a change
            ("audit", "checkpoint"),
        ):
            one_error_line(cli(*args), 2, str(register), READ_ONLY_FS)
    assert digest(register) == before
    assert "Lyngtoppen" not in cli("unit", "list").stdout


@sqlite
def test_init_on_a_read_only_register_that_is_ready_changes_nothing(
    cli: Invoke, register: Path, read_only: Mount
) -> None:
    before = digest(register)
    with read_only(register.parent):
        assert cli("init").exit_code == 0
        assert cli("db", "upgrade").exit_code == 0
    assert digest(register) == before


def test_init_cannot_create_a_home_on_a_read_only_file_system(
    invoke: Invoke, tmp_path: Path, read_only: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = tmp_path / "media"
    parent.mkdir()
    monkeypatch.setenv("CONSENTREG_HOME", str(parent / "home"))
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    with read_only(parent):
        one_error_line(invoke("init"), 2, f"{parent} is on a read-only file system")
    assert not (parent / "home").exists()


def _copy_with_a_change_in_its_journal(register: Path, *, shm: bool) -> Path:
    """A copy taken while a change still waits in the -wal file (as after a crash)."""
    live = sqlite3.connect(register, isolation_level=None)
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("PRAGMA user_version=7")
    copy = register.parent.parent / "copy"
    shutil.copytree(register.parent, copy)
    live.close()
    assert (copy / "consentreg.db-wal").stat().st_size > 0
    if not shm:
        (copy / "consentreg.db-shm").unlink()
    return copy


@sqlite
def test_a_copy_with_its_journal_and_index_is_read_with_the_journal(
    invoke: Invoke, register: Path, read_only: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reads a read-only WAL database whose -wal and -shm files exist (3.22 and later)."""
    copy = _copy_with_a_change_in_its_journal(register, shm=True)
    monkeypatch.setenv("CONSENTREG_HOME", str(copy))
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    with read_only(copy):
        assert "Solsikken" in invoke("unit", "list").stdout
        seen = sqlite3.connect(f"file:{copy / 'consentreg.db'}?mode=ro", uri=True)
        try:
            assert seen.execute("PRAGMA user_version").fetchone() == (7,)
        finally:
            seen.close()


@sqlite
def test_a_copy_whose_journal_holds_changes_without_its_index_says_why_it_cannot_be_read(
    invoke: Invoke, register: Path, read_only: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy_with_a_change_in_its_journal(register, shm=False)
    monkeypatch.setenv("CONSENTREG_HOME", str(copy))
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    with read_only(copy):
        one_error_line(
            invoke("unit", "list"),
            2,
            "journal consentreg.db-wal holds changes not yet in the database file;"
            " open it once where it is writable",
        )


@sqlite
def test_a_home_this_user_may_not_write_ends_in_one_clear_line(
    register: Path, tmp_path: Path
) -> None:
    """Permissions, not a read-only mount: as root, the override of file permissions dropped."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv is None:
        pytest.skip("root without setpriv: cannot drop the override of file permissions")
    drop = ["--inh-caps=-dac_override,-dac_read_search"]
    drop += ["--bounding-set=-dac_override,-dac_read_search"]
    prefix = [setpriv, *drop] if os.geteuid() == 0 and setpriv else []
    register.parent.chmod(0o500)
    env = {**os.environ, "CONSENTREG_HOME": str(register.parent)}
    env.pop("CONSENTREG_DB", None)
    env.pop("CONSENTREG_KEY_FILE", None)
    try:
        for args in (["unit", "list"], ["unit", "add", "skole", "--name", "Lyngtoppen"]):
            done = subprocess.run(
                [*prefix, sys.executable, "-m", "consentreg_cli", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
            assert done.returncode == 2, done.stderr
            assert done.stderr.splitlines() == [
                f"Error: cannot use the register at {register}: this user may not create files"
                f" in {register.parent}, and SQLite keeps consentreg.db-wal and consentreg.db-shm"
                " there, even to read; nothing was written: give this user write permission on"
                " the folder"
            ]
    finally:
        register.parent.chmod(0o700)
