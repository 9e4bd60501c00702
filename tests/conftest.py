"""Shared fixtures: registers built by Alembic migrations on SQLite (a migrated template file
copied per test) and, when CONSENTREG_TEST_PG_URL is set, on PostgreSQL (a migrated template
database cloned per test). `make test` sets it and CONSENTREG_REQUIRE_PG=1, so CI never skips it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from consentreg.config import Settings
from consentreg.crypto import Keyring
from consentreg.db.engine import make_engine
from consentreg.db.schema import upgrade
from consentreg.services.unit_of_work import Context, Register

PG_URL = os.environ.get("CONSENTREG_TEST_PG_URL")
ENGINES = ["sqlite", "postgresql"]
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TEST_MASTER_KEY = bytes(range(32))

ContextFactory = Callable[..., AbstractContextManager[Context]]


def _require_pg() -> str:
    if PG_URL:
        return PG_URL
    if os.environ.get("CONSENTREG_REQUIRE_PG") == "1":
        pytest.fail("CONSENTREG_TEST_PG_URL is not set but PostgreSQL is required")
    pytest.skip("PostgreSQL not configured (make test starts one)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _pg_admin(url: str) -> Engine:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    url = _require_pg()
    name = f"consentreg_tpl_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def _pg_clone(template: str) -> Iterator[str]:
    assert PG_URL
    name = f"consentreg_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin(PG_URL)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh, migrated register database on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "home" / "consentreg.db"  # the CLI tests' CONSENTREG_HOME
        path.parent.mkdir()
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    with _pg_clone(template) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def keys() -> Keyring:
    return Keyring.from_master(TEST_MASTER_KEY)


@pytest.fixture
def open_register(engine: Engine, keys: Keyring, db_url: str, tmp_path: Path) -> Register:
    """The library's open register on this test's database, acting as "tester"."""
    settings = Settings(home=tmp_path / "home", db_url=db_url, key_file=tmp_path / "unused.key")
    return Register(settings, engine, keys, actor="tester")


@pytest.fixture
def unit_of_work(open_register: Register) -> ContextFactory:
    """`with unit_of_work(now=...) as ctx:` one committed transaction: the library's own unit of
    work (consentreg.services.unit_of_work), as every entry point uses it."""

    @contextmanager
    def factory(
        *, now: datetime = NOW, actor: str = "tester", writer: bool = True
    ) -> Iterator[Context]:
        acting = replace(open_register, actor=actor)
        with acting.work(writer=writer, now=now) as ctx:
            yield ctx

    return factory


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line speaks the locale's language (consentreg.i18n): the tests run with no
    Norwegian locale, whatever the developer's, unless a test sets one itself."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "CONSENTREG_LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
