"""Signed checkpoints against a real register on SQLite and PostgreSQL: what only an outside
copy of a checkpoint can reveal (a truncated tail, a rollback to a backup, a fork, a log rewritten
and rehashed wholesale), and stored checkpoints that were changed or replayed out of order."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from consentreg.crypto import Keyring, Signer, create_signing_key_file
from consentreg.db.engine import make_engine, session_scope
from consentreg.db.models import AuditEvent
from consentreg.domain.audit_chain import chain_hash, leaf_hash
from consentreg.errors import AuditVerificationError, ConfigError
from consentreg.services import units
from consentreg.services.audit.checkpoint import parse_checkpoint, verifier_key
from consentreg.services.audit.events import record_query
from consentreg.services.audit.verify import (
    ExternalCheckpoint,
    VerifyReport,
    create_checkpoint,
    verify_log,
)
from consentreg.services.register_identity import trust_key
from consentreg.services.unit_of_work import Context
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import Register, build_register, last_seq, seq_of, tamper


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    path = tmp_path / "signing.key"
    create_signing_key_file(path)
    return Signer.load(path)


@pytest.fixture
def other_signer(tmp_path: Path) -> Signer:
    path = tmp_path / "other-signing.key"
    create_signing_key_file(path)
    return Signer.load(path)


def _verify(
    unit_of_work: ContextFactory, signer: Signer, *files: ExternalCheckpoint
) -> VerifyReport:
    with unit_of_work() as ctx:
        return verify_log(ctx, keys=[verifier_key(signer.public_key_bytes())], external=files)


def _checkpoint(unit_of_work: ContextFactory, signer: Signer) -> ExternalCheckpoint:
    with unit_of_work() as ctx:
        view = create_checkpoint(ctx, signer=signer)
    return ExternalCheckpoint("kept.checkpoint", view.note.encode())


def _trust(unit_of_work: ContextFactory, signer: Signer) -> None:
    """List the signer as trusted first, so that the events a test counts are its own."""
    with unit_of_work() as ctx:
        trust_key(ctx, signer.public_key_bytes())


@pytest.fixture
def register(unit_of_work: ContextFactory) -> Register:
    return build_register(unit_of_work)


def test_a_checkpoint_of_a_clean_log_is_stored_recorded_and_verifies(
    unit_of_work: ContextFactory, signer: Signer, register: Register, engine: Engine
) -> None:
    size = last_seq(engine)
    kept = _checkpoint(unit_of_work, signer)
    report = _verify(unit_of_work, signer, kept)
    assert report.ok
    # the first checkpoint on a PC covers the event that lists its key as trusted
    assert [c.size for c in report.checkpoints] == [size + 1, size + 1]
    assert (report.size, report.unanchored) == (size + 2, 1)  # the checkpoint's own event
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_checkpoints")).scalar_one() == 1


def test_a_tampered_log_is_never_signed(
    unit_of_work: ContextFactory, signer: Signer, register: Register, engine: Engine
) -> None:
    tamper(engine, "UPDATE units SET name = 'Annen' WHERE id = :unit", **register)
    with pytest.raises(AuditVerificationError, match="refusing to sign"), unit_of_work() as ctx:
        create_checkpoint(ctx, signer=signer)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_checkpoints")).scalar_one() == 0


def test_a_truncated_tail_passes_alone_but_not_against_a_kept_checkpoint(
    unit_of_work: ContextFactory, signer: Signer, register: Register, engine: Engine
) -> None:
    _trust(unit_of_work, signer)
    with unit_of_work() as ctx:
        for _ in range(3):
            record_query(ctx, "log", ids={})
    kept = _checkpoint(unit_of_work, signer)
    n = last_seq(engine)
    tamper(
        engine,
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_events WHERE seq > :k",
        k=n - 4,
    )
    assert _verify(unit_of_work, signer).ok  # the weaker guarantee, visibly
    first = _verify(unit_of_work, signer, kept).findings[0]
    assert (first.kind, first.seq) == ("checkpoint_truncation", n - 3)
    assert f"covers {n - 1} events, the log has {n - 4}" in first.message


def _rehash_from(engine: Engine, start: int) -> None:
    """Recompute every chain hash from `start` on, as an attacker without the signing key can."""
    with Session(engine) as session:
        prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == start - 1))
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq >= start).order_by(AuditEvent.seq)
        ).all()
    assert prev is not None
    for row in rows:
        leaf = leaf_hash(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            object_ids=row.object_ids,
            payload=row.payload,
        )
        new = chain_hash(prev, leaf)
        tamper(
            engine,
            "UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :k",
            p=prev,
            h=new,
            k=row.seq,
        )
        prev = new


def test_a_log_rewritten_and_rehashed_from_an_event_on_fails_every_checkpoint_after_it(
    unit_of_work: ContextFactory, signer: Signer, register: Register, engine: Engine
) -> None:
    kept = _checkpoint(unit_of_work, signer)
    k = seq_of(engine, "consent.grant", register["grant_mother"])
    tamper(
        engine,
        "UPDATE audit_events SET payload = replace(payload, '2027-07-31', '2027-12-31')"
        " WHERE seq = :k",
        "UPDATE consent_events SET valid_until = '2027-12-31' WHERE id = :grant_mother",
        k=k,
        **register,
    )
    _rehash_from(engine, k)
    report = _verify(unit_of_work, signer, kept)
    assert {(f.kind, f.message.split(":")[0]) for f in report.findings} == {
        ("checkpoint_root_mismatch", f"stored checkpoint {_stored_ids(engine)[0]}"),
        ("checkpoint_root_mismatch", "checkpoint file kept.checkpoint"),
    }
    tamper(
        engine,
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_events WHERE action = 'audit.checkpoint'",
    )
    assert _verify(unit_of_work, signer).ok  # without an outside copy, nothing shows
    (finding,) = _verify(unit_of_work, signer, kept).findings
    assert (finding.kind, finding.seq) == ("checkpoint_root_mismatch", kept_size(kept, signer))


def _stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM audit_checkpoints ORDER BY size")).scalars())


def kept_size(kept: ExternalCheckpoint, signer: Signer) -> int:
    return parse_checkpoint(kept.data, keys=verifier_key(signer.public_key_bytes())).size


@contextmanager
def backup_of(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A copy of the database as it is now, as a backup would hold it; yields its URL."""
    engine.dispose()
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / f"backup-{uuid.uuid4().hex}.db"
        shutil.copyfile(str(url.database), copy)
        yield f"sqlite:///{copy}"
        return
    name = f"consentreg_b_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def work_on(url: str, keys: Keyring) -> Iterator[Context]:
    """One committed unit of work on another copy of the register."""
    other = make_engine(url)
    try:
        with session_scope(other, writer=True) as session:
            yield Context(session, keys, "tester", NOW)
    finally:
        other.dispose()


def test_a_register_restored_from_an_older_backup_fails_a_kept_checkpoint(
    unit_of_work: ContextFactory,
    signer: Signer,
    register: Register,
    engine: Engine,
    db_url: str,
    keys: Keyring,
    tmp_path: Path,
) -> None:
    with backup_of(db_url, engine, tmp_path) as backup:
        with unit_of_work() as ctx:
            units.add_unit(ctx, code="skole", name="Skolen")
        kept = _checkpoint(unit_of_work, signer)
        with work_on(backup, keys) as ctx:
            restored = verify_log(
                ctx, keys=[verifier_key(signer.public_key_bytes())], external=[kept]
            )
    assert [f.kind for f in restored.findings] == ["checkpoint_truncation"]


def test_a_fork_of_the_log_fails_the_other_branchs_checkpoint(
    unit_of_work: ContextFactory,
    signer: Signer,
    register: Register,
    engine: Engine,
    db_url: str,
    keys: Keyring,
    tmp_path: Path,
) -> None:
    key = verifier_key(signer.public_key_bytes())
    with backup_of(db_url, engine, tmp_path) as fork:
        with unit_of_work() as ctx:
            units.add_unit(ctx, code="skole", name="Skolen")
        kept = _checkpoint(unit_of_work, signer)
        with work_on(fork, keys) as ctx:
            units.add_unit(ctx, code="annen", name="Annen skole")
            units.add_unit(ctx, code="tredje", name="Tredje skole")
        with work_on(fork, keys) as ctx:
            alone = verify_log(ctx, keys=[key])
            against = verify_log(ctx, keys=[key], external=[kept])
    assert alone.ok
    (finding,) = against.findings
    assert (finding.kind, finding.seq) == ("checkpoint_root_mismatch", kept_size(kept, signer))


def test_a_stored_checkpoint_changed_or_replayed_out_of_order_is_found(
    unit_of_work: ContextFactory, signer: Signer, register: Register, engine: Engine
) -> None:
    _checkpoint(unit_of_work, signer)
    with unit_of_work() as ctx:
        units.add_unit(ctx, code="skole", name="Skolen")
    _checkpoint(unit_of_work, signer)
    first, second = _stored_ids(engine)
    tamper(
        engine,
        "INSERT INTO audit_checkpoints (id, size, root, head, key_id, note, created_at, created_by)"
        " SELECT 'replayed', size, root, head, key_id, note, :later, created_by"
        " FROM audit_checkpoints WHERE id = :first",
        "UPDATE audit_checkpoints SET head = :fake WHERE id = :second",
        later=NOW + timedelta(days=1),
        first=first,
        second=second,
    )
    kinds = {(f.kind, f.table) for f in _verify(unit_of_work, signer).findings}
    assert kinds == {
        ("checkpoint_order", None),
        ("row_extra", "audit_checkpoints"),
        ("field_changed", "audit_checkpoints"),
        ("checkpoint_invalid", None),
    }


def test_a_checkpoint_signed_on_one_pc_verifies_on_another_by_the_registers_trusted_keys(
    unit_of_work: ContextFactory, signer: Signer, other_signer: Signer, register: Register
) -> None:
    _checkpoint(unit_of_work, signer)  # PC A signs: its key joins the trusted keys
    _checkpoint(unit_of_work, other_signer)  # PC B signs: so does its key
    with unit_of_work() as ctx:  # any PC verifies both without pinning a key
        report = verify_log(ctx)
    assert report.ok, report.findings
    assert [c.ok for c in report.checkpoints] == [True, True]
    assert report.unanchored == 1  # the second checkpoint's own event


def test_a_key_the_register_does_not_trust_does_not_vouch_for_a_checkpoint(
    unit_of_work: ContextFactory, signer: Signer, other_signer: Signer, register: Register
) -> None:
    kept = _checkpoint(unit_of_work, signer)
    with unit_of_work() as ctx:  # an auditor pins another key than the one that signed
        report = verify_log(ctx, keys=[verifier_key(other_signer.public_key_bytes())])
        against_file = verify_log(ctx, external=[kept])
    assert [f.kind for f in report.findings] == ["checkpoint_invalid"]
    assert "no signature by a trusted key" in report.findings[0].message
    assert against_file.ok


def test_checkpoints_cannot_be_checked_when_the_register_trusts_no_key(
    unit_of_work: ContextFactory, signer: Signer, register: Register
) -> None:
    kept = _checkpoint(unit_of_work, signer)
    with pytest.raises(ConfigError, match="--pubkey"), unit_of_work() as ctx:
        verify_log(ctx, keys=[], external=[kept])
