"""The register's identity on both engines: a register from before it (data, no identity) gets one
from `init` on a PC whose key opens its data, never from another key; a register without one,
or opened with another register's key, is refused before anything is read or written."""

from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from consentreg.config import Settings
from consentreg.crypto import write_key_file
from consentreg.errors import ConfigError, WrongKeyError
from consentreg.services import people
from consentreg.services.register_identity import initialise
from consentreg.services.unit_of_work import open_register
from tests.conftest import TEST_MASTER_KEY, ContextFactory


def _settings(tmp_path: Path, db_url: str, master: bytes | None) -> Settings:
    home = tmp_path / "pc"
    home.mkdir(mode=0o700, exist_ok=True)
    key_file = home / "master.key"
    if master is not None:
        write_key_file(key_file, master)
    return Settings(home=home, db_url=db_url, key_file=key_file)


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


@pytest.fixture
def legacy(unit_of_work: ContextFactory) -> str:
    """A register with data and no identity, as revision 0007 finds one."""
    with unit_of_work() as ctx:
        return people.add_person(ctx, name="Ola Nordmann", born=date(2020, 5, 1))


def test_a_register_from_before_identities_gets_one_from_its_own_key(
    legacy: str, tmp_path: Path, db_url: str, engine: Engine
) -> None:
    settings = _settings(tmp_path, db_url, TEST_MASTER_KEY)
    with pytest.raises(ConfigError, match="no identity yet"), open_register(settings):
        pass
    report = initialise(settings)
    assert report.created_register
    assert not report.created_key
    with open_register(settings) as register, register.work(writer=False) as ctx:
        assert people.show_person(ctx, legacy).name == "Ola Nordmann"
    assert initialise(settings).register_id == report.register_id  # safe to run again
    assert _count(engine, "register_identity") == 1


def test_another_key_never_claims_a_register_with_data(
    legacy: str, tmp_path: Path, db_url: str, engine: Engine
) -> None:
    before = _count(engine, "audit_events")
    wrong = _settings(tmp_path, db_url, os.urandom(32))
    with pytest.raises(WrongKeyError, match="does not open the register"):
        initialise(wrong)
    wrong.key_file.unlink()
    with pytest.raises(ConfigError, match="already holds a register"):
        initialise(wrong)
    assert not wrong.key_file.exists()  # no key was made for it
    assert (_count(engine, "audit_events"), _count(engine, "register_identity")) == (before, 0)


def test_a_key_of_another_register_is_refused_before_reading(
    legacy: str, tmp_path: Path, db_url: str, engine: Engine
) -> None:
    initialise(_settings(tmp_path, db_url, TEST_MASTER_KEY))
    other = tmp_path / "other.key"
    other.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    other.chmod(0o600)
    settings = Settings(home=tmp_path / "pc", db_url=db_url, key_file=other)
    before = _count(engine, "audit_events")
    with (
        pytest.raises(WrongKeyError, match="does not belong to register"),
        open_register(settings),
    ):
        pass
    with pytest.raises(WrongKeyError):
        initialise(settings)
    assert _count(engine, "audit_events") == before
