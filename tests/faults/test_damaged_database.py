"""A damaged SQLite register file: every command ends in one clear line with exit 7 (or does its
work when the damage is where it does not read), never "internal error" exit 1, and a refused
change leaves the file as it was. `db check --integrity` finds every damage, also the kind that
SQLite does not notice on open (PRAGMA quick_check: it reads the whole file, so it is asked for,
not run on open; about 1.4 s a gigabyte)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.faults.conftest import Invoke, digest, one_error_line

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

Damage = Callable[[bytearray, int], bytearray]
SEED = 20261122


def _noise(size: int) -> bytes:
    """The same bytes every run: a damage that can be replayed, not a secret."""
    return random.Random(SEED).randbytes(size)  # noqa: S311


def _truncated(data: bytearray, _page: int) -> bytearray:
    return data[: len(data) // 2]


def _truncated_mid_page(data: bytearray, page: int) -> bytearray:
    return data[: len(data) // 2 + page // 3]


def _zeroed_header(data: bytearray, _page: int) -> bytearray:
    data[:100] = bytes(100)
    return data


def _random_middle_pages(data: bytearray, page: int) -> bytearray:
    pages = len(data) // page
    first, last = pages // 3, 2 * pages // 3
    data[first * page : last * page] = _noise((last - first) * page)
    return data


def _random_last_page(data: bytearray, page: int) -> bytearray:
    """Not seen on open, nor by commands that do not read that page."""
    data[-page:] = _noise(page)
    return data


def _garbage(data: bytearray, _page: int) -> bytearray:
    return bytearray(_noise(len(data)))


def _text(data: bytearray, _page: int) -> bytearray:
    return bytearray(b"this is not a database\n" * (len(data) // 23))


DAMAGES: dict[str, Damage] = {
    "truncated": _truncated,
    "truncated-mid-page": _truncated_mid_page,
    "zeroed-header": _zeroed_header,
    "random-middle-pages": _random_middle_pages,
    "random-last-page": _random_last_page,
    "garbage": _garbage,
    "text-file": _text,
}

READS = [
    ("db", "check"),
    ("db", "current"),
    ("unit", "list"),
    ("person", "list"),
    ("consent", "list"),
    ("audit", "verify"),
    ("audit", "consents"),
]


@pytest.fixture
def register(cli: Invoke, home: Path, tmp_path: Path) -> Path:
    """A register of a few hundred people, consents and audit events: some hundred pages."""
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    born = (date.today() - timedelta(days=6 * 365)).isoformat()
    people = tmp_path / "people.csv"
    people.write_text(
        "ref,name,born,kind,unit\n"
        + "".join(f"K{i:03},Barn{i} Nordmann,{born},child,bhg\n" for i in range(300)),
        encoding="utf-8",
    )
    for args in (
        ("unit", "add", "bhg", "--name", "Solsikken"),
        ("purpose", "add", "facebook", "--title", "Facebook", "--notice-file", notice),
        ("import", "people", people),
        ("person", "add", "--name", "Mor Nordmann", "--born", "1990-01-01", "--kind", "adult"),
    ):
        assert cli(*args).exit_code == 0
    return home / "consentreg.db"


def _damage(path: Path, damage: Damage) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) // page > 50  # enough pages for "the middle" to mean something
    path.write_bytes(damage(data, page))


@pytest.mark.parametrize("name", DAMAGES)
def test_every_command_on_a_damaged_register_ends_in_one_clear_line(
    cli: Invoke, register: Path, name: str
) -> None:
    _damage(register, DAMAGES[name])
    for args in READS:
        result = cli(*args)
        assert result.exit_code in (0, 7), (args, result.exit_code, result.stderr)
        if result.exit_code == 7:
            one_error_line(result, 7, str(register), "is damaged", "restore it from a backup")


@pytest.mark.parametrize("name", DAMAGES)
def test_a_change_asked_of_a_damaged_register_writes_nothing(
    cli: Invoke, register: Path, name: str
) -> None:
    _damage(register, DAMAGES[name])
    before = digest(register)
    result = cli("unit", "add", "skole", "--name", "Lyngtoppen skole")
    if result.exit_code != 0:  # the damage may lie where adding a unit does not read
        one_error_line(result, 7, "is damaged")
        assert digest(register) == before
        assert not register.with_name(register.name + "-wal").exists()


@pytest.mark.parametrize("name", DAMAGES)
def test_db_check_integrity_finds_every_damage(cli: Invoke, register: Path, name: str) -> None:
    _damage(register, DAMAGES[name])
    one_error_line(cli("db", "check", "--integrity"), 7, str(register), "is damaged")


def test_a_damage_not_seen_on_open_shows_on_the_read_that_meets_it(
    cli: Invoke, register: Path
) -> None:
    """The audit log's first page overwritten: opening and the schema check do not read it,
    `audit verify` does."""
    with sqlite3.connect(register) as conn:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'audit_events'"
        ).fetchone()
    conn.close()

    def audit_log_root(data: bytearray, page: int) -> bytearray:
        data[(root - 1) * page : root * page] = _noise(page)
        return data

    _damage(register, audit_log_root)
    assert cli("db", "check").exit_code == 0  # the schema reads fine
    assert cli("unit", "list").exit_code == 0
    one_error_line(cli("audit", "verify"), 7, "is damaged")
    one_error_line(cli("db", "check", "--integrity"), 7, "is damaged")


def test_an_intact_register_passes_the_integrity_check(cli: Invoke, register: Path) -> None:
    result = cli("db", "check", "--integrity")
    assert result.exit_code == 0
    assert result.stdout == "schema is at head, database file intact\n"


def test_an_empty_register_file_says_the_schema_is_missing(cli: Invoke, register: Path) -> None:
    register.write_bytes(b"")
    one_error_line(cli("unit", "list"), 6, "run `consentreg db upgrade`")
