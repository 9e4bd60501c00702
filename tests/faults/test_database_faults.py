"""The database cannot serve: busy (9, both engines), a PostgreSQL server out of reach or refusing
the login (2), its driver not installed (2), a login without the privileges (8). And the one
code no fault may end in: 1, for a bug, which says only the error's type."""

from __future__ import annotations

import socket
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from consentreg.db import engine as db_engine
from tests.faults.conftest import Invoke, one_error_line

BUSY = "Error: the register is busy (another writer); nothing was written, try again"
WRITER_LOCK = 0x636F6E73  # consentreg.db.engine's advisory lock for writers


@contextmanager
def writer_lock_held(db_url: str) -> Iterator[None]:
    """Another writer holds the register: SQLite's write lock, PostgreSQL's writer lock."""
    if db_url.startswith("sqlite"):
        other = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.close()
        return
    engine = create_engine(db_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": WRITER_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WRITER_LOCK})
    engine.dispose()


def test_a_busy_register_exits_9_and_writes_nothing(
    cli: Invoke, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_MS", 300)
    with writer_lock_held(db_url):
        result = cli("unit", "add", "bhg", "--name", "Solsikken")
        assert result.exit_code == 9
        assert result.stderr.splitlines() == [BUSY]
        assert cli("unit", "list").exit_code == 0  # readers are never held up
    assert "bhg" not in cli("unit", "list").stdout


def test_with_json_a_busy_register_says_so_in_the_document(
    cli: Invoke, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_MS", 300)
    with writer_lock_held(db_url):
        result = cli("--json", "unit", "add", "bhg", "--name", "Solsikken")
    assert result.exit_code == 9
    assert result.json()["error"] == {
        "type": "DatabaseBusyError",
        "message": BUSY.removeprefix("Error: "),
        "exit_code": 9,
    }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bug_exits_1_naming_only_the_error_type(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consentreg.services import units

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("Emma Nordmann, born 2021-03-14")

    monkeypatch.setattr(units, "list_units", broken)
    result = one_error_line(cli("unit", "list"), 1, "internal error (RuntimeError)")
    assert "Emma" not in result


@pytest.fixture
def server_env(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("CONSENTREG_HOME", str(tmp_path / "home"))
    return invoke


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_postgresql_server_out_of_reach_is_a_clear_error(
    server_env: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    port = _closed_port()
    monkeypatch.setenv("CONSENTREG_DB", f"postgresql+psycopg://consentreg@127.0.0.1:{port}/reg")
    for args in (("unit", "list"), ("db", "upgrade"), ("db", "current")):
        one_error_line(
            server_env(*args),
            2,
            f"cannot reach the PostgreSQL server at 127.0.0.1:{port}/reg: is it running",
        )


def test_without_the_postgresql_driver_the_error_says_which_extra_to_install(
    server_env: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` fails as if missing
    monkeypatch.setenv("CONSENTREG_DB", "postgresql+psycopg://consentreg@db.example/reg")
    one_error_line(
        server_env("unit", "list"),
        2,
        "the database driver for postgresql+psycopg is not installed:",
        'pip install "consentreg[postgres]"',
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql+nosuchdriver://u@h/d", "names 'mysql+nosuchdriver', which consentreg does not"),
        ("::not a url::", "the database URL (--db or CONSENTREG_DB) is not a URL"),
    ],
)
def test_a_database_url_consentreg_cannot_use_is_a_clear_error(
    server_env: Invoke, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("CONSENTREG_DB", url)
    one_error_line(server_env("unit", "list"), 2, message)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_login_the_server_refuses_is_a_clear_error(
    server_env: Invoke, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = f"nobody_{uuid.uuid4().hex[:8]}"
    url = make_url(db_url).set(username=login, password=None).render_as_string()
    monkeypatch.setenv("CONSENTREG_DB", url)
    one_error_line(
        server_env("unit", "list"),
        2,
        f"refused the connection as {login}:",
        f'role "{login}" does not exist',
    )


@pytest.fixture
def login_without_grants(db_url: str) -> Iterator[str]:
    """A PostgreSQL login that may connect and nothing else."""
    login = f"cr_nogrant_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{login}" LOGIN'))
    yield make_url(db_url).set(username=login, password=None).render_as_string()
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :u"),
            {"u": login},
        )
        conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
    admin.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_login_without_the_privileges_is_not_permitted(
    cli: Invoke, login_without_grants: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTREG_DB", login_without_grants)
    login = make_url(login_without_grants).username
    one_error_line(
        cli("unit", "list"),
        8,
        f"the database login {login} is not permitted to do this (permission denied for table",
        "nothing was written",
    )


@pytest.mark.parametrize("args", [("db", "check"), ("db", "current"), ("unit", "list")])
def test_a_missing_register_is_said_so_and_no_empty_file_is_left(
    server_env: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    database = tmp_path / "home" / "consentreg.db"
    one_error_line(server_env(*args), 2, f"no register at {database}: run `consentreg init`")
    assert not database.exists()
