"""`consentreg backup` and `consentreg restore` as a user runs them: from a register on either
engine into a new SQLite home holding the register's key files, then `audit verify`; and every
refusal with its exit code and one line on stderr."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from consentreg.db.schema import HEAD_REVISION
from consentreg.services.backup.sealed import KEY_MISMATCH, MAGIC
from tests.cli.conftest import Invoke, born_years_ago

NAME = "Kari Backupsen"


@pytest.fixture
def backup(cli: Invoke, tmp_path: Path) -> Path:
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    assert (
        cli("person", "add", "--name", NAME, "--born", born_years_ago(4), "--unit", "bhg").exit_code
        == 0
    )
    assert cli("audit", "checkpoint").exit_code == 0
    path = tmp_path / "register.crbackup"
    result = cli("--json", "backup", "-o", path)
    assert result.exit_code == 0, result.stderr
    assert result.json()["path"] == str(path)
    return path


def new_home(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, *, keys: bool) -> Path:
    """A second PC's home on SQLite, with the register's key files copied in, or none."""
    other = tmp_path / "restored"
    other.mkdir(mode=0o700)
    if keys:
        for name in ("master.key", "signing.key"):
            shutil.copy2(home / name, other / name)
    monkeypatch.setenv("CONSENTREG_HOME", str(other))
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    return other


def test_a_restored_register_verifies_and_shows_its_people(
    cli: Invoke, backup: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert NAME.encode() not in backup.read_bytes()
    new_home(tmp_path, home, monkeypatch, keys=True)
    missing = cli("restore", backup)  # the person keys file is not in the new home
    assert missing.exit_code == 2
    assert "person keys file" in missing.stderr
    assert "--keys" in missing.stderr
    result = cli("restore", backup, "--keys", home / "person-keys.crkeys")
    assert result.exit_code == 0, result.stderr
    assert "restored" in result.stdout
    assert cli("audit", "verify").exit_code == 0
    assert NAME in cli("person", "list").stdout


def test_a_backup_never_replaces_a_file(cli: Invoke, backup: Path) -> None:
    before = backup.read_bytes()
    result = cli("backup", "-o", backup)
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert backup.read_bytes() == before


def test_a_restore_into_a_register_with_rows_names_a_table(cli: Invoke, backup: Path) -> None:
    result = cli("restore", backup)
    assert result.exit_code == 2
    assert "has rows" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_backup_read_with_another_key_exits_7_and_writes_nothing(
    cli: Invoke, backup: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_home(tmp_path, home, monkeypatch, keys=False)
    assert cli("init").exit_code == 0  # a new key: not the register's
    result = cli("restore", backup)
    assert result.exit_code == 7
    assert KEY_MISMATCH in result.stderr
    assert NAME not in cli("person", "list").stdout
    actions = {e["action"] for e in cli("--json", "audit", "log").json()["events"]}
    assert not {"unit.add", "person.add"} & actions, actions


def newer_schema(data: bytes) -> bytes:
    """The header's revision (after the magic, the format and its length) made unknown."""
    at = len(MAGIC) + 2
    return data[:at] + b"9" * len(HEAD_REVISION) + data[at + len(HEAD_REVISION) :]


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda data: data[:-10], 7),
        (lambda data: data[:200] + bytes([data[200] ^ 4]) + data[201:], 7),
        (lambda data: b"not a backup" + data, 2),
        (newer_schema, 6),
    ],
    ids=["cut short", "a byte changed", "not a backup", "a newer schema"],
)
def test_a_damaged_or_foreign_file_is_refused_and_nothing_written(
    cli: Invoke,
    backup: Path,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: object,
    code: int,
) -> None:
    backup.write_bytes(damage(backup.read_bytes()))  # type: ignore[operator]
    other = new_home(tmp_path, home, monkeypatch, keys=True)
    result = cli("restore", backup)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("Error: ")
    assert not (other / "consentreg.db").exists()
