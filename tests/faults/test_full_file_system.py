"""A full file system under CONSENTREG_HOME (a small tmpfs of its own, filled up): every command
ends in one line with exit 2 naming the folder, the transaction is rolled back, and no file is
left half-written (a key file; evidence goes into the database with its consent). Once space is freed the register is as before.

With a few tens of kilobytes free, SQLite can still create its -shm index and read, but not write
its journal: reads work, changes fail with SQLITE_FULL. With nothing free, even a read fails
(SQLite cannot create the -shm file): the same message."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.faults.conftest import Invoke, Mount, fill, one_error_line

FULL = "is full; nothing was written: free some space and try again"


@pytest.fixture
def home(tmpfs: Mount) -> Iterator[Path]:
    """CONSENTREG_HOME on a 3 MB file system of its own (the `cli` fixture runs `init` there)."""
    with tmpfs(3 * 1024) as folder:
        yield folder / "home"


@pytest.fixture
def register(cli: Invoke, home: Path, tmp_path: Path) -> dict[str, str]:
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    born = (date.today() - timedelta(days=5 * 365)).isoformat()
    ids = {}
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    assert cli("purpose", "add", "facebook", "--title", "F", "--notice-file", notice).exit_code == 0
    for key, name in (("child", "Emma Nordmann"), ("mother", "Mor Nordmann")):
        kind = "child" if key == "child" else "adult"
        added = cli("person", "add", "--name", name, "--born", born, "--kind", kind)
        ids[key] = added.stdout.strip()
    assert cli("guardian", "add", ids["child"], ids["mother"]).exit_code == 0
    return ids


sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@sqlite
def test_a_change_on_a_full_file_system_is_rolled_back_with_one_clear_line(
    cli: Invoke, home: Path, register: dict[str, str]
) -> None:
    filler = fill(home, leave_kb=36)
    assert cli("unit", "list").exit_code == 0  # room for the -shm index: reads work
    one_error_line(cli("unit", "add", "skole", "--name", "Lyngtoppen"), 2, str(home), FULL)
    filler.unlink()
    assert "skole" not in cli("unit", "list").stdout
    assert cli("audit", "verify").exit_code == 0
    assert cli("unit", "add", "skole", "--name", "Lyngtoppen").exit_code == 0


@sqlite
def test_on_a_file_system_with_nothing_free_even_a_read_says_it_is_full(
    cli: Invoke, home: Path, register: dict[str, str]
) -> None:
    filler = fill(home, leave_kb=0)
    for args in (("unit", "list"), ("person", "add", "--name", "Ola", "--born", "2020-01-01")):
        one_error_line(cli(*args), 2, str(home), FULL)
    filler.unlink()
    assert cli("audit", "verify").exit_code == 0
    assert "Ola" not in cli("person", "list").stdout


@sqlite
def test_evidence_that_does_not_fit_leaves_no_file_and_no_consent(
    cli: Invoke, home: Path, register: dict[str, str], tmp_path: Path
) -> None:
    evidence = tmp_path / "skanning.pdf"
    evidence.write_bytes(os.urandom(600 * 1024))
    filler = fill(home, leave_kb=300)
    result = cli(
        "consent",
        "grant",
        register["child"],
        "--purpose",
        "facebook",
        "--by",
        register["mother"],
        "--evidence",
        evidence,
    )
    one_error_line(result, 2, str(home), FULL)  # evidence goes into the register's database
    filler.unlink()
    assert not (home / "evidence").exists()
    assert "grant" not in cli("consent", "list").stdout
    assert cli("audit", "verify").exit_code == 0


def test_init_on_a_full_file_system_leaves_no_half_written_key(
    invoke: Invoke, tmpfs: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tmpfs(1024) as folder:
        home = folder / "home"
        monkeypatch.setenv("CONSENTREG_HOME", str(home))
        monkeypatch.delenv("CONSENTREG_DB", raising=False)
        filler = fill(folder, leave_kb=0)
        one_error_line(invoke("init"), 2, "cannot write the key file", "is full")
        assert not (home / "master.key").exists()
        filler.unlink()
        assert invoke("init").exit_code == 0
        assert invoke("unit", "list").exit_code == 0


def test_init_whose_database_does_not_fit_can_be_run_again(
    invoke: Invoke, tmpfs: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tmpfs(2048) as folder:
        home = folder / "home"
        monkeypatch.setenv("CONSENTREG_HOME", str(home))
        monkeypatch.delenv("CONSENTREG_DB", raising=False)
        filler = fill(folder, leave_kb=96)  # the keys fit, the schema does not
        one_error_line(invoke("init"), 2, str(home), FULL)
        filler.unlink()
        assert invoke("init").exit_code == 0
        assert invoke("db", "check", "--integrity").exit_code == 0


@sqlite
def test_output_to_a_full_file_system_is_an_error_not_a_silent_success(
    cli: Invoke, home: Path, register: dict[str, str], tmpfs: Mount
) -> None:
    with tmpfs(64) as out_folder:
        fill(out_folder, leave_kb=0)
        env = {**os.environ, "CONSENTREG_HOME": str(home)}
        env.pop("CONSENTREG_DB", None)
        with (out_folder / "units.txt").open("w") as stdout:
            done = subprocess.run(
                [sys.executable, "-m", "consentreg_cli", "unit", "list"],
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: the output could not be written to stdout (No space left on device)"
    ]
