"""A register migrated by a newer consentreg (its alembic_version names a revision this program
does not know): every command exits 6 saying to upgrade consentreg itself, `db upgrade` included
(Alembic alone would fail with "Can't locate revision", exit 1), and nothing is written. On both
engines."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from consentreg.db.schema import HEAD_REVISION
from tests.faults.conftest import Invoke, one_error_line

FUTURE = "f00d"


@pytest.fixture
def newer(cli: Invoke, db_url: str) -> str:
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE})
    engine.dispose()
    return db_url


def _revision(db_url: str) -> str:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(found)


@pytest.mark.parametrize(
    "args",
    [
        ("unit", "list"),
        ("unit", "add", "skole", "--name", "Lyngtoppen"),
        ("db", "check"),
        ("db", "upgrade"),
        ("init",),
    ],
    ids=lambda a: " ".join(a),
)
def test_a_schema_newer_than_this_program_says_to_upgrade_consentreg(
    cli: Invoke, newer: str, args: tuple[str, ...]
) -> None:
    one_error_line(
        cli(*args),
        6,
        f"database schema is at {FUTURE}, a revision this consentreg",
        f"(it knows up to {HEAD_REVISION})",
        "upgrade consentreg itself",
    )
    assert _revision(newer) == FUTURE


def test_db_current_shows_both_revisions(cli: Invoke, newer: str) -> None:
    result = cli("--json", "db", "current")
    assert result.exit_code == 0
    assert result.json() == {"current": FUTURE, "head": HEAD_REVISION}


def test_an_older_schema_still_says_to_run_db_upgrade(cli: Invoke, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    engine.dispose()
    one_error_line(cli("unit", "list"), 6, "run `consentreg db upgrade`")
