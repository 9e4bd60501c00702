"""`backup` and `restore` through the library, on SQLite and PostgreSQL and across them: a
populated register comes back row for row and verifies; a backup is one snapshot although others
commit while it runs; every refusal leaves the target as it was; memory stays bounded.

The register is `build_register`'s (every kind of event) plus a sub-unit and a signed checkpoint.
"""

from __future__ import annotations

import stat
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from consentreg.config import Settings
from consentreg.crypto import ERASED, Keyring, Signer, create_signing_key_file, seal_person_keys
from consentreg.db.base import Base
from consentreg.db.engine import make_engine
from consentreg.db.schema import HEAD_REVISION, current_revision
from consentreg.errors import (
    BackupDamagedError,
    BackupKeyError,
    BackupTooNewError,
    NotABackupError,
    RegisterNotEmptyError,
)
from consentreg.services import people, units
from consentreg.services.audit.checkpoint import verifier_key
from consentreg.services.audit.verify import create_checkpoint, failure_message, verify_log
from consentreg.services.backup.dump import BackupSummary, write_backup
from consentreg.services.backup.load import restore_backup
from consentreg.services.backup.sealed import KEY_MISMATCH, MAGIC
from consentreg.services.erasure import erase
from consentreg.services.unit_of_work import Register
from tests import builders
from tests.conftest import ENGINES, NOW, PG_URL, ContextFactory, _pg_admin, _require_pg
from tests.services.test_audit_verify import build_register

CHILD_NAME, CHILD_BORN = "Kari Nordmann", "2021-03-14"


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    path = tmp_path / "signing.key"
    create_signing_key_file(path)
    return Signer.load(path)


@pytest.fixture
def populated(unit_of_work: ContextFactory, signer: Signer) -> dict[str, str]:
    ids = build_register(unit_of_work)
    with unit_of_work(now=NOW + timedelta(hours=3)) as ctx:
        ids["sub_unit"] = units.add_unit(ctx, code="avd-a", name="Avdeling A", parent="bhg")
        create_checkpoint(ctx, signer=signer)
    return ids


@contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a register that does not exist yet: a new SQLite file, or a new, empty
    PostgreSQL database (created like the fixtures' databases)."""
    home = tmp_path / f"target-{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        yield Settings(home, f"sqlite:///{home / 'consentreg.db'}", home / "unused.key")
        return
    _require_pg()
    assert PG_URL
    name = f"consentreg_r_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin(PG_URL)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        yield Settings(home, url, home / "unused.key")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def back_up(open_register: Register, target: Path, **options: Any) -> BackupSummary:
    """A backup, and the person keys file beside it (`key_file_of`)."""
    options.setdefault("key_file", key_file_of(target))
    with open_register.work(writer=False, now=NOW) as ctx:
        return write_backup(ctx, target, **options)


def key_file_of(backup: Path) -> Path:
    return backup.parent / "person-keys.crkeys"


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in primary-key order, as the ORM types read them."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in Base.metadata.sorted_tables
        }


@contextmanager
def opened(settings: Settings, keys: Keyring) -> Iterator[Register]:
    engine = make_engine(settings.db_url)
    try:
        yield Register(settings, engine, keys, actor="tester")
    finally:
        engine.dispose()


def verifies(register: Register, signer: Signer) -> None:
    with register.work(writer=False, now=NOW) as ctx:
        report = verify_log(ctx, keys=[verifier_key(signer.public_key_bytes())])
    assert report.ok, failure_message(report)
    assert report.checkpoints, "the restored checkpoint was checked"
    assert all(c.ok for c in report.checkpoints)


@pytest.mark.parametrize("target", ENGINES)
def test_a_register_comes_back_row_for_row_on_either_engine_and_verifies(
    target: str,
    populated: dict[str, str],
    open_register: Register,
    engine: Engine,
    keys: Keyring,
    signer: Signer,
    tmp_path: Path,
) -> None:
    summary = back_up(open_register, tmp_path / "register.backup")
    assert summary.revision == HEAD_REVISION
    assert summary.rows > 40
    assert stat.S_IMODE(summary.path.stat().st_mode) == 0o600
    with empty_database(target, tmp_path) as settings:
        restored = restore_backup(
            settings, summary.path, keys=keys, key_file=key_file_of(summary.path)
        )
        assert restored.rows == summary.rows
        with opened(settings, keys) as register:
            assert current_revision(register.engine) == HEAD_REVISION
            assert every_row(register.engine) == every_row(engine)
            verifies(register, signer)


def test_the_backup_file_holds_no_personal_data_in_clear(
    populated: dict[str, str], open_register: Register, tmp_path: Path
) -> None:
    data = back_up(open_register, tmp_path / "register.backup").path.read_bytes()
    assert data.startswith(MAGIC)
    for secret in (CHILD_NAME, CHILD_BORN, "Nordmann", "K001", "skjema"):
        assert secret.encode() not in data
        assert secret.encode("utf-16-le") not in data


def test_a_consent_committed_after_the_snapshot_began_is_not_in_the_backup(
    populated: dict[str, str],
    open_register: Register,
    unit_of_work: ContextFactory,
    engine: Engine,
    keys: Keyring,
    signer: Signer,
    tmp_path: Path,
) -> None:
    committed: list[str] = []

    def meanwhile() -> None:  # another session commits while the backup reads its snapshot
        with unit_of_work(now=NOW + timedelta(hours=4)) as ctx:
            committed.append(builders.grant(ctx, populated["child"], populated["mother"]))

    summary = back_up(open_register, tmp_path / "register.backup", on_snapshot=meanwhile)
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM consent_events WHERE id = :i"), {"i": committed[0]}
            ).scalar_one()
            == 1
        )
    with empty_database("sqlite", tmp_path) as settings:
        restore_backup(settings, summary.path, keys=keys, key_file=key_file_of(summary.path))
        with opened(settings, keys) as register:
            rows = every_row(register.engine)
            assert committed[0] not in {r[0] for r in rows["consent_events"]}
            verifies(register, signer)


def test_a_backup_restores_into_a_migrated_register_that_holds_no_rows(
    populated: dict[str, str],
    open_register: Register,
    engine: Engine,
    keys: Keyring,
    tmp_path: Path,
    sqlite_template: Path,
) -> None:
    summary = back_up(open_register, tmp_path / "register.backup")
    with empty_database("sqlite", tmp_path) as settings:
        assert settings.sqlite_file is not None
        settings.home.mkdir()
        settings.sqlite_file.write_bytes(sqlite_template.read_bytes())  # as `init` leaves it
        restore_backup(settings, summary.path, keys=keys, key_file=key_file_of(summary.path))
        with opened(settings, keys) as register:
            assert every_row(register.engine) == every_row(engine)


# --- refusals: nothing is written -----------------------------------------------------------------


@pytest.fixture
def backup_file(populated: dict[str, str], open_register: Register, tmp_path: Path) -> Path:
    return back_up(open_register, tmp_path / "register.backup").path


def nothing_written(settings: Settings) -> None:
    assert settings.sqlite_file is not None
    assert not settings.sqlite_file.exists()


def test_a_register_that_holds_rows_is_refused_and_named(
    backup_file: Path, open_register: Register, engine: Engine, keys: Keyring
) -> None:
    before = every_row(engine)
    with pytest.raises(RegisterNotEmptyError, match=r"table \w+ has rows"):
        restore_backup(
            open_register.settings, backup_file, keys=keys, key_file=key_file_of(backup_file)
        )
    assert every_row(engine) == before


def test_a_backup_read_with_another_registers_key_is_refused(
    backup_file: Path, tmp_path: Path
) -> None:
    other = Keyring.from_master(bytes(range(1, 33)))
    with empty_database("sqlite", tmp_path) as settings:
        with pytest.raises(BackupKeyError) as caught:
            restore_backup(settings, backup_file, keys=other, key_file=key_file_of(backup_file))
        assert str(caught.value) == KEY_MISMATCH
        assert caught.value.exit_code == 7
        nothing_written(settings)


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "a byte changed":
        data[len(data) // 2] ^= 0x01
    elif how == "cut short":
        del data[-100:]
    elif how == "a byte added":
        data += b"\x00"
    elif how == "its revision changed":
        start = len(MAGIC) + 2  # another revision this program knows: the chunks then fail
        data[start : start + 4] = b"0005"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how", ["a byte changed", "cut short", "a byte added", "its revision changed"]
)
def test_a_damaged_backup_is_refused(
    how: str, backup_file: Path, keys: Keyring, tmp_path: Path
) -> None:
    _damage(backup_file, how)
    with empty_database("sqlite", tmp_path) as settings:
        with pytest.raises(BackupDamagedError) as caught:
            restore_backup(settings, backup_file, keys=keys, key_file=key_file_of(backup_file))
        assert caught.value.exit_code == 7
        nothing_written(settings)


def test_a_file_that_is_no_backup_is_refused(keys: Keyring, tmp_path: Path) -> None:
    other = tmp_path / "photo.jpg"
    other.write_bytes(b"\xff\xd8\xff\xe0 not a backup at all")
    with empty_database("sqlite", tmp_path) as settings:
        with pytest.raises(NotABackupError) as caught:
            restore_backup(settings, other, keys=keys, key_file=key_file_of(other))
        assert caught.value.exit_code == 2
        nothing_written(settings)


def test_a_backup_of_a_newer_schema_is_refused(
    backup_file: Path, keys: Keyring, tmp_path: Path
) -> None:
    data = bytearray(backup_file.read_bytes())
    start = len(MAGIC) + 2
    data[start : start + len(HEAD_REVISION)] = b"9" * len(HEAD_REVISION)
    backup_file.write_bytes(bytes(data))
    with empty_database("sqlite", tmp_path) as settings:
        with pytest.raises(BackupTooNewError) as caught:
            restore_backup(settings, backup_file, keys=keys, key_file=key_file_of(backup_file))
        assert caught.value.exit_code == 6
        nothing_written(settings)


# --- bounded memory ---------------------------------------------------------------------------------

ROWS, ROW_BYTES = 64, 1 << 20


def test_a_register_of_large_rows_is_backed_up_and_restored_in_bounded_memory(
    unit_of_work: ContextFactory,
    open_register: Register,
    engine: Engine,
    keys: Keyring,
    tmp_path: Path,
) -> None:
    """Evidence is not in the database in this branch: large rows of an existing table (notice
    texts of 1 MiB, written directly) stand in for it."""
    with unit_of_work() as ctx:
        purpose_id = builders.purpose(ctx)
    with engine.begin() as conn:
        for version in range(2, ROWS + 2):
            conn.execute(
                text(
                    "INSERT INTO notice_versions (id, purpose_id, version, text, sha256,"
                    " requires_new_consent, created_at, created_by) VALUES (:id, :p, :v, :t,"
                    " :s, false, :at, 'tester')"
                ),
                {
                    "id": uuid.uuid4().hex,
                    "p": purpose_id,
                    "v": version,
                    "t": chr(ord("a") + version % 26) * ROW_BYTES,
                    "s": "0" * 64,
                    "at": NOW.replace(tzinfo=None),
                },
            )
    data_size = ROWS * ROW_BYTES
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        summary = back_up(open_register, tmp_path / "large.backup")
        backup_peak = tracemalloc.get_traced_memory()[1] - start
        with empty_database("sqlite", tmp_path) as settings:
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            restore_backup(settings, summary.path, keys=keys, key_file=key_file_of(summary.path))
            restore_peak = tracemalloc.get_traced_memory()[1] - start
            tracemalloc.stop()
            with opened(settings, keys) as register:
                assert (
                    every_row(register.engine)["notice_versions"]
                    == every_row(engine)["notice_versions"]
                )
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
    assert summary.size > data_size // 2
    assert backup_peak < data_size // 5, backup_peak
    assert restore_peak < data_size // 5, restore_peak


@pytest.mark.parametrize("target", ENGINES)
def test_a_person_erased_after_a_backup_cannot_be_read_from_it(
    target: str,
    populated: dict[str, str],
    open_register: Register,
    keys: Keyring,
    signer: Signer,
    tmp_path: Path,
) -> None:
    """Backup, erase (which rewrites the key file beside the backups), restore the OLD backup
    with the key file as it is now: the erased person is unreadable (and erased in the restored
    register, by an event), everyone else readable, and the log verifies."""
    target_path = tmp_path / "before.backup"
    back_up(open_register, target_path)
    settings = replace(open_register.settings, backup_keys=key_file_of(target_path))
    erased, kept = populated["child"], populated["mother"]
    with opened(settings, keys) as register:
        done = erase(register, erased, now=NOW + timedelta(hours=4))
    assert done.key_file == key_file_of(target_path)
    with empty_database(target, tmp_path) as restore_to:
        restore_backup(restore_to, target_path, keys=keys, key_file=key_file_of(target_path))
        with opened(restore_to, keys) as register:
            with register.work(writer=False, now=NOW + timedelta(hours=5)) as ctx:
                assert people.show_person(ctx, erased).name == ERASED
                assert people.show_person(ctx, kept).name != ERASED
            verifies(register, signer)


def test_a_person_keys_file_of_another_register_is_refused_and_nothing_written(
    populated: dict[str, str],  # noqa: ARG001 - people with keys of their own
    open_register: Register,
    keys: Keyring,
    tmp_path: Path,
) -> None:
    backup_file = tmp_path / "register.backup"
    back_up(open_register, backup_file)
    other = Keyring.from_master(bytes(range(1, 33)))
    key_file_of(backup_file).write_bytes(
        seal_person_keys(other, b'{"format": 1, "keys": {}}', register_id="x" * 32)
    )
    with empty_database("sqlite", tmp_path) as settings:
        with pytest.raises(BackupKeyError, match="person keys file belongs to another register"):
            restore_backup(settings, backup_file, keys=keys, key_file=key_file_of(backup_file))
        assert settings.sqlite_file is not None
        assert not settings.sqlite_file.exists()
