"""The audit chain itself on SQLite and PostgreSQL: events changed, deleted, swapped, rewritten
with their own hash recomputed, or cut from the tail; and the replay that verification compares
the tables with (every table covered, every column but the known gaps)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from consentreg.crypto import Signer, create_signing_key_file
from consentreg.db.base import Base
from consentreg.db.models import AuditEvent, Unit
from consentreg.domain.audit_chain import chain_hash, leaf_hash
from consentreg.services import access, accounts, register_identity, rounds
from consentreg.services.audit.events import LoggedEvent, read_log
from consentreg.services.audit.replay import (
    CHECKED_BY_HASH,
    DERIVED_FROM_LOG,
    NOT_LOGGED,
    TABLES,
    replay,
)
from consentreg.services.audit.verify import create_checkpoint, failure_message
from consentreg.services.unit_of_work import Context
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import (
    NAMES,
    Register,
    build_register,
    last_seq,
    seq_of,
    tamper,
    verify,
)


@pytest.fixture
def register(unit_of_work: ContextFactory) -> Register:
    return build_register(unit_of_work)


def test_a_changed_audit_event_is_found_at_its_seq(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    k = seq_of(engine, "consent.grant", register["grant_mother"])
    tamper(
        engine,
        "UPDATE audit_events SET payload = replace(payload, '2027-07-31', '2027-12-31')"
        " WHERE seq = :k",
        k=k,
    )
    first = verify(unit_of_work).findings[0]
    assert (first.kind, first.seq) == ("content_changed", k)


def test_a_deleted_audit_event_leaves_a_gap_at_its_seq(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    k = seq_of(engine, "consent.refusal", register["refusal"])
    tamper(engine, "DELETE FROM audit_events WHERE seq = :k", k=k)
    findings = verify(unit_of_work).findings
    chain = [(f.kind, f.seq) for f in findings if f.table is None]
    assert chain[:2] == [("gap", k), ("link_broken", k + 1)]
    assert ("row_extra", "consent_events", register["refusal"]) in {
        (f.kind, f.table, f.row) for f in findings
    }
    # the refusal named its pupil and guardian: their history no longer has an event k
    assert {(f.kind, f.seq) for f in findings if f.table == "audit_mentions"} == {
        ("index_extra", k)
    }


def test_two_swapped_audit_events_are_found_at_the_first_of_them(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    a = seq_of(engine, "guardian.add", register["link_father"])
    b = seq_of(engine, "consent.refusal", register["refusal"])
    tamper(
        engine,
        "UPDATE audit_events SET seq = -1 WHERE seq = :a",
        "UPDATE audit_events SET seq = :a WHERE seq = :b",
        "UPDATE audit_events SET seq = :b WHERE seq = -1",
        a=a,
        b=b,
    )
    findings = verify(unit_of_work).findings
    kinds = {(f.kind, f.seq) for f in findings}
    assert findings[0].seq == a
    assert {("link_broken", a), ("content_changed", a), ("content_changed", b)} <= kinds


def _rewrite_event(engine: Engine, seq: int, old: str, new: str) -> None:
    """Change an event's payload AND recompute its own hash, as a careful attacker would."""
    with Session(engine) as session:
        row = session.get_one(AuditEvent, seq)
    payload = row.payload.replace(old, new)
    assert payload != row.payload
    leaf = leaf_hash(
        seq=seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_ids=row.object_ids,
        payload=payload,
    )
    tamper(
        engine,
        "UPDATE audit_events SET payload = :p, hash = :h WHERE seq = :k",
        p=payload,
        h=chain_hash(row.prev_hash, leaf),
        k=seq,
    )


def test_an_event_rewritten_with_its_hash_recomputed_breaks_the_next_link(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    k = seq_of(engine, "consent.grant", register["grant_mother"])
    _rewrite_event(engine, k, "2027-07-31", "2027-12-31")
    findings = verify(unit_of_work).findings
    kinds = {(f.kind, f.seq) for f in findings}
    assert (findings[0].kind, findings[0].table, findings[0].seq) == (
        "field_changed",
        "consent_events",
        k,
    )
    assert ("link_broken", k + 1) in kinds
    assert ("content_changed", k) not in kinds


def test_truncating_state_events_is_found_but_a_truncated_tail_of_queries_is_not(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    """The weaker guarantee, made visible: without a checkpoint, dropping trailing events that
    changed nothing in the tables goes unnoticed (see test_audit_checkpoint)."""
    from consentreg.services.audit.events import record_query

    with unit_of_work() as ctx:
        record_query(ctx, "log", ids={})
        record_query(ctx, "log", ids={})
    n = last_seq(engine)
    tamper(engine, "DELETE FROM audit_events WHERE seq > :k", k=n - 2)
    assert verify(unit_of_work).ok
    k = seq_of(engine, "guardian.remove", register["link_step"])
    tamper(engine, "DELETE FROM audit_events WHERE seq >= :k", k=k)
    first = verify(unit_of_work).findings[0]
    assert (first.kind, first.table, first.column) == (
        "field_changed",
        "guardianships",
        "removed_at",
    )


def test_verify_output_never_names_anyone(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    tamper(
        engine,
        "UPDATE people SET name_ct = (SELECT name_ct FROM people WHERE id = :mother)"
        " WHERE id = :child",
        "DELETE FROM restriction_events",
        "UPDATE audit_events SET payload = replace(payload, 'paper', 'email')",
        **register,
    )
    report = verify(unit_of_work)
    text_out = failure_message(report, limit=1000) + repr(report)
    assert len(report.findings) > 5
    for secret in NAMES:
        assert secret not in text_out


def test_every_table_but_the_log_itself_is_replayed_from_the_events() -> None:
    """(The evidence chunks are checked by decrypting and hashing them instead.)"""
    assert set(Base.metadata.tables) == set(TABLES) | {
        "audit_events",
        *CHECKED_BY_HASH,
        *NOT_LOGGED,
        *DERIVED_FROM_LOG,
    }


def unit_code(ctx: Context) -> str:
    return str(ctx.session.scalar(select(Unit.code).limit(1)))


def test_every_column_of_every_table_is_compared(
    unit_of_work: ContextFactory, register: Register, tmp_path: Path
) -> None:
    create_signing_key_file(tmp_path / "signing.key")
    with unit_of_work() as ctx:
        register_identity.claim(ctx, ctx.keys)
        access.add_user(ctx, login="tester", role="admin")
        access.add_user(ctx, login="kari", role="registrar", units=[unit_code(ctx)])
        accounts.set_password(ctx, login="tester", password="ett-langt-passord")
        accounts.set_password(ctx, login="tester", password="et-annet-langt-passord")
        accounts.end_sessions(ctx, login="tester")
        started = rounds.start_round(ctx, unit=unit_code(ctx), purposes=["facebook"])
        issued = rounds.issue_links(ctx, round_id=started.id)
        rounds.revoke_link(ctx, link_id=issued.links[0].link_id)
        rounds.close_round(ctx, round_id=started.id)
        create_checkpoint(ctx, signer=Signer.load(tmp_path / "signing.key"))
        state = replay(read_log(ctx))
    unchecked = {
        (table, column.name)
        for table in TABLES
        for column in Base.metadata.tables[table].columns
        for row in state.rows(table).values()
        if column.name not in row.values
    }
    assert [t for t in TABLES if not state.rows(t)] == []  # the register has rows in every table
    assert unchecked == set()


def test_digests_that_newer_events_carry_are_compared_too() -> None:
    """Events may carry the closing fields for the known gaps; replay then checks them."""
    at = NOW
    person = LoggedEvent(
        1,
        at,
        "t",
        "person.add",
        {"person": "p1", "unit": None},
        {"kind": "child", "name_ct_sha256": "a", "born_ct_sha256": "b", "ref_bidx": "r"}
        | {"name_tokens": [], "ref_ct_sha256": "c"},
    )
    photo = LoggedEvent(
        2,
        at,
        "t",
        "photo.add",
        {"photo": "f1", "unit": None},
        {"sha256": "s", "format": "JPEG", "width": 1, "height": 1, "complete": False}
        | {"photographer_ct_sha256": "p", "original_name_ct_sha256": "o", "byte_size": 7},
    )
    state = replay([person, photo])
    assert state.problems == []
    assert state.rows("people")["p1"].values["ref_ct"] == "c"
    assert state.rows("photos")["f1"].values["byte_size"] == 7


def test_an_unknown_action_cannot_be_replayed_and_is_reported() -> None:
    event = LoggedEvent(1, NOW, "t", "person.teleport", {"person": "p1"}, {})
    (problem,) = replay([event]).problems
    assert (problem.kind, problem.seq) == ("unknown_action", 1)
