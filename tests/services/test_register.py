"""The consent register through its services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from consentreg.crypto import TamperedDataError
from consentreg.db.models import AuditEvent, Person
from consentreg.domain.audit_chain import GENESIS
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.services import consents, people, purposes
from tests import builders
from tests.conftest import NOW, ContextFactory


def test_names_birth_dates_and_refs_are_stored_only_as_ciphertext(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        builders.person(ctx, "Åse Bjørnstad", "2020-02-29", ref="K777")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM people")).mappings().one()
    dump = repr(dict(row)).encode()
    for secret in (b"se Bj", b"Bj\\xc3\\xb8rn", b"2020-02-29", b"K777"):
        assert secret not in dump


def test_person_search_matches_whole_words_in_any_case_and_without_diacritics(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        aase = builders.person(ctx, "Åse Bjørnstad", "2020-01-01")
        builders.person(ctx, "Ola Nordmann", "2020-01-01")
    with unit_of_work(writer=False) as ctx:
        assert [p.id for p in people.list_people(ctx, name="bjornstad")] == [aase]
        assert [p.id for p in people.list_people(ctx, name="ÅSE")] == [aase]
        assert people.list_people(ctx, name="Bjørn") == []
        assert len(people.list_people(ctx)) == 2


def test_a_name_copied_into_another_row_does_not_decrypt(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        a = builders.person(ctx, "Ola Nordmann", "2020-01-01")
        b = builders.person(ctx, "Kari Nordmann", "2020-01-01")
    with engine.begin() as conn:
        name_ct = conn.execute(
            text("SELECT name_ct FROM people WHERE id = :a"), {"a": a}
        ).scalar_one()
        conn.execute(text("UPDATE people SET name_ct = :ct WHERE id = :b"), {"ct": name_ct, "b": b})
    with unit_of_work(writer=False) as ctx, pytest.raises(TamperedDataError):
        people.show_person(ctx, b)


def test_a_person_is_found_by_external_reference(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        pid = builders.person(ctx, "Ola Nordmann", "2020-01-01", ref="K001")
    with unit_of_work(writer=False) as ctx:
        assert people.show_person(ctx, "ref:K001").id == pid
        with pytest.raises(NotFoundError):
            people.show_person(ctx, "ref:K002")


def test_a_duplicate_external_reference_is_refused(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        builders.person(ctx, "Ola Nordmann", "2020-01-01", ref="K001")
    with pytest.raises(InvalidInputError), unit_of_work() as ctx:
        builders.person(ctx, "Kari Nordmann", "2020-01-01", ref="K001")


def test_a_person_cannot_be_their_own_guardian_or_be_linked_twice(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        child, (mother, _) = builders.family(ctx)
    with pytest.raises(InvalidInputError, match="own guardian"), unit_of_work() as ctx:
        people.add_guardian(ctx, child=child, guardian=child)
    with pytest.raises(InvalidInputError, match="already a guardian"), unit_of_work() as ctx:
        people.add_guardian(ctx, child=child, guardian=mother)


def test_only_the_subject_or_a_guardian_can_express_consent(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, _ = builders.family(ctx)
        stranger = builders.person(ctx, "Per Hansen", "1970-01-01", kind="adult")
    with pytest.raises(InvalidInputError, match="neither the subject nor"), unit_of_work() as ctx:
        builders.grant(ctx, child, stranger)


@pytest.mark.parametrize(
    ("given", "until", "message"),
    [
        ("2026-11-23", None, "in the future"),
        ("2026-09-01", "2026-08-31", "before --given"),
    ],
)
def test_impossible_consent_dates_are_refused(
    unit_of_work: ContextFactory, given: str, until: str | None, message: str
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx)
    with pytest.raises(InvalidInputError, match=message), unit_of_work() as ctx:
        builders.grant(ctx, child, mother, given=given, until=until)


def test_a_consent_lasts_until_the_coming_31_july_by_default(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        builders.purpose(ctx, "yearbook", valid_days=365)
        child, (mother, _) = builders.family(ctx)
        builders.grant(ctx, child, mother, given="2026-09-01")
        builders.grant(ctx, child, mother, purpose_code="yearbook", given="2026-09-01")
    with unit_of_work(writer=False) as ctx:
        until = {c.purpose: c.valid_until for c in consents.list_consents(ctx)}
    assert until == {"facebook": date(2027, 7, 31), "yearbook": date(2027, 8, 31)}


def test_an_unknown_purpose_is_invalid_input_and_an_unknown_person_is_not_found(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx)
    with pytest.raises(InvalidInputError, match="unknown purpose"), unit_of_work() as ctx:
        builders.grant(ctx, child, mother, purpose_code="instagram")
    with pytest.raises(NotFoundError), unit_of_work() as ctx:
        builders.grant(ctx, "0" * 32, mother)


def test_a_withdrawal_is_a_new_event_and_leaves_the_grant_untouched(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx)
        grant = builders.grant(ctx, child, mother)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT * FROM consent_events")).mappings().one()
    with unit_of_work(now=NOW + timedelta(hours=1)) as ctx:
        withdrawal = consents.withdraw(ctx, consent_id=grant, reason="e-post")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM consent_events ORDER BY seq")).mappings().all()
    assert dict(rows[0]) == dict(before)
    assert rows[1]["id"] == withdrawal
    assert rows[1]["withdraws_id"] == grant
    assert rows[1]["kind"] == "withdrawal"
    assert rows[1]["reason_ct"] is not None
    with pytest.raises(InvalidInputError, match="already withdrawn"), unit_of_work() as ctx:
        consents.withdraw(ctx, consent_id=grant)


def test_consent_events_cannot_be_updated_or_deleted(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx)
        builders.grant(ctx, child, mother)
    for statement in (
        "UPDATE consent_events SET kind = 'refusal'",
        "DELETE FROM consent_events",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_every_change_appends_a_chained_audit_event_without_plaintext_names(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx)
        grant = builders.grant(ctx, child, mother)
        people.set_protected(ctx, child, protected=True, reason="sperret adresse")
    with unit_of_work(now=NOW + timedelta(minutes=5)) as ctx:
        consents.withdraw(ctx, consent_id=grant)
    with Session(engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert session.scalar(select(func.count()).select_from(Person)) == 3
    actions = [e.action for e in events]
    assert actions == [
        "unit.add",
        "purpose.add",
        "purpose.notice",
        "person.add",
        "person.add",
        "person.add",
        "guardian.add",
        "guardian.add",
        "consent.grant",
        "person.restrict",
        "consent.withdrawal",
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    text_of_log = " ".join(e.object_ids + e.payload for e in events)
    for secret in ("Emma", "Nordmann", "2021-03-14", "sperret"):
        assert secret not in text_of_log


def test_a_revision_requiring_new_consent_is_versioned_with_its_hash(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
    with unit_of_work(now=NOW + timedelta(days=1)) as ctx:
        version = purposes.revise_purpose(
            ctx, code="facebook", notice_text="Ny tekst.\n", requires_new_consent=True
        )
        (view,) = purposes.list_purposes(ctx)
        purpose = purposes.domain_purpose(
            ctx, purposes.purpose_by_code(ctx, "facebook"), at=ctx.now
        )
        before = purposes.domain_purpose(ctx, purposes.purpose_by_code(ctx, "facebook"), at=NOW)
    assert version == 2
    assert view.notice_version == 2
    import hashlib

    assert view.notice_sha256 == hashlib.sha256(b"Ny tekst.\n").hexdigest()
    assert (purpose.min_notice_version, before.min_notice_version) == (2, 1)


def test_a_reader_sees_one_state_and_never_holds_up_a_writer(
    unit_of_work: ContextFactory,
) -> None:
    """What `audit verify` relies on: a reader's every statement sees the register as it was at
    its first read, while registrars go on writing (neither waits for the other)."""
    people_now = select(func.count()).select_from(Person)
    with unit_of_work() as ctx:
        builders.person(ctx, "Ola Nordmann", "2020-01-01")
    with unit_of_work(writer=False) as reader:
        assert reader.session.scalar(people_now) == 1
        with unit_of_work() as writer:  # commits while the reader is still open
            builders.person(writer, "Kari Nordmann", "2020-02-02")
        assert reader.session.scalar(people_now) == 1  # the same state to the end
    with unit_of_work(writer=False) as later:
        assert later.session.scalar(people_now) == 2
