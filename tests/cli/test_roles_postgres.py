"""Roles on PostgreSQL with a real login per role: `consentreg db grants --apply` gives each login
only what its role needs, the service layer refuses what the role does not allow (exit 8, naming
user, role and what is needed), and the database itself refuses an auditor's writes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from tests.cli.conftest import Invoke, Result, born_years_ago

NOTICE = "Vi publiserer bilder på nettsiden.\n"


pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: no logins


@pytest.fixture
def logins(db_url: str) -> Iterator[dict[str, str]]:
    """Four logins on the server, one per role, and one the register does not know."""
    suffix = uuid.uuid4().hex[:8]
    names = {r: f"{r}_{suffix}" for r in ("registrar", "publisher", "auditor", "stranger")}
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    yield names
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


@pytest.fixture
def as_login(cli: Invoke, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    def run(login: str, *args: object) -> Result:
        url = make_url(db_url).set(username=login).render_as_string(hide_password=False)
        with monkeypatch.context() as m:
            m.setenv("CONSENTREG_DB", url)
            return cli(*args)

    return run


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_each_role_has_its_own_login_and_only_what_it_needs(
    cli: Invoke,
    as_login: Callable[..., Result],
    logins: dict[str, str],
    db_url: str,
    tmp_path: Path,
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE)
    _ok(cli("unit", "add", "sol", "--name", "Solsikken"))
    _ok(cli("purpose", "add", "web", "--title", "Nettsiden", "--notice-file", notice))
    _ok(cli("user", "add", logins["registrar"], "--role", "registrar", "--unit", "sol"))
    _ok(cli("user", "add", logins["publisher"], "--role", "publisher"))
    _ok(cli("user", "add", logins["auditor"], "--role", "auditor"))
    grants = cli("db", "grants", "--apply")
    assert grants.exit_code == 0, grants.stderr
    assert f'GRANT "consentreg_auditor" TO "{logins["auditor"]}";' in grants.stdout

    child = _ok(
        as_login(
            logins["registrar"],
            "person",
            "add",
            "--name",
            "Emma Sæther",
            "--born",
            born_years_ago(5),
            "--unit",
            "sol",
        )
    )
    refused = as_login(
        logins["publisher"], "person", "add", "--name", "X Y", "--born", born_years_ago(5)
    )
    assert refused.exit_code == 8
    assert f"user {logins['publisher']} (role publisher) may not do person.add" in refused.stderr
    assert "registrar or admin" in refused.stderr
    assert "Emma" not in refused.stderr

    # the auditor reads, verifies and is recorded reading; it cannot change anything
    assert child in _ok(as_login(logins["auditor"], "audit", "consents", "--format", "csv"))
    _ok(as_login(logins["auditor"], "audit", "verify"))
    denied = as_login(logins["auditor"], "unit", "add", "mane", "--name", "Månen")
    assert denied.exit_code == 8
    auditor_db = create_engine(make_url(db_url).set(username=logins["auditor"]))
    try:
        for statement in (
            "INSERT INTO units (id, code, name, created_at, created_by)"
            " VALUES ('x', 'x', 'x', now(), 'x')",
            "UPDATE people SET protected = true",
            "DELETE FROM publications",
        ):
            with (
                pytest.raises(ProgrammingError, match="permission denied"),
                auditor_db.begin() as conn,
            ):
                conn.execute(text(statement))
    finally:
        auditor_db.dispose()

    # a login the register does not know gets a clear refusal, not an internal error
    stranger = as_login(logins["stranger"], "person", "list")
    assert stranger.exit_code in (2, 8), stranger.stderr
    assert "internal error" not in stranger.stderr
    assert logins["stranger"] in stranger.stderr

    # a removed user loses the database's grants after the next `db grants --apply`
    _ok(cli("user", "remove", logins["publisher"]))
    _ok(cli("db", "grants", "--apply"))
    gone = as_login(logins["publisher"], "person", "list")
    assert gone.exit_code in (2, 8)
