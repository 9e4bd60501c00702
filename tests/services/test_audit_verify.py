"""`audit verify` on SQLite and PostgreSQL: a clean history verifies; each kind of tampering done
directly with SQL (append-only triggers dropped first, as an owner could) is found at the first
place it breaks, by seq, table, column and row ID, never by name.

`build_register` also serves the other audit test modules: one register with every kind of
event (units, purposes and notice revisions, people, guardianships, restrictions, evidence,
grants, refusals, withdrawals, photos, tags, publications, take-downs).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Connection, Engine, text

from consentreg.domain.model import EventKind
from consentreg.services import consents, people, photos, purposes
from consentreg.services.audit.verify import (
    PartResult,
    failure_message,
    verify_consent_events,
    verify_log,
)
from consentreg.services.corrections import correct_person
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate as publishing
from consentreg.services.publishing import takedown
from tests import builders
from tests.conftest import NOW, ContextFactory

NAMES = ("Kari", "Nordmann", "Åse", "Lærer", "2021-03-14", "sperret", "skjema")
APPEND_ONLY = (
    "audit_events",
    "consent_events",
    "restriction_events",
    "audit_checkpoints",
    "evidence_blobs",
    "evidence_chunks",
    "person_corrections",
    "audit_mentions",
)


def jpeg(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (seed % 256, 80, 160)).save(buf, "JPEG")
    return buf.getvalue()


Register = dict[str, str]


def _first_steps(ctx: Any, ids: dict[str, str]) -> None:
    ids["unit"] = builders.unit(ctx)
    ids["facebook"] = builders.purpose(ctx)
    ids["yearbook"] = builders.purpose(ctx, "yearbook")
    ids["child"] = builders.person(ctx, "Kari Nordmann", "2021-03-14", ref="K001", unit_code="bhg")
    ids["mother"] = builders.person(ctx, "Åse Nordmann", "1988-01-01", kind="adult")
    ids["father"] = builders.person(ctx, "Per Nordmann", "1987-01-01", kind="adult")
    ids["staff"] = builders.person(ctx, "Ola Lærer", "1980-01-01", kind="staff", unit_code="bhg")
    ids["step"] = builders.person(ctx, "Bo Nordmann", "1985-01-01", kind="adult")
    for guardian in ("mother", "father"):
        ids[f"link_{guardian}"] = people.add_guardian(
            ctx, child=ids["child"], guardian=ids[guardian]
        )
    ids["link_step"] = people.add_guardian(
        ctx, child=ids["child"], guardian=ids["step"], parental_responsibility=False
    )
    with builders.scan(b"%PDF skjema Kari Nordmann") as scan:
        ids["grant_mother"] = consents.record_decision(
            ctx,
            subject=ids["child"],
            purpose="facebook",
            by=ids["mother"],
            kind=EventKind.GRANT,
            given=date(2026, 9, 1),
            evidence=scan,
        )
    ids["grant_father"] = builders.grant(ctx, ids["child"], ids["father"])
    ids["grant_staff"] = builders.grant(ctx, ids["staff"], ids["staff"])
    ids["refusal"] = builders.refuse(ctx, ids["staff"], ids["staff"], purpose_code="yearbook")
    (ids["photo"],) = photos.add_photos(
        ctx,
        files=[PhotoInput("IMG_Kari.jpg", jpeg())],
        photographer="Ola Lærer",
        subjects=[ids["child"], ids["staff"]],
    )
    photos.tag_photo(ctx, photo_id=ids["photo"], subject=ids["mother"], region="1,2,3,4")
    photos.untag_photo(ctx, photo_id=ids["photo"], subject=ids["mother"])
    photos.complete_photo(ctx, photo_id=ids["photo"])


def build_register(unit_of_work: ContextFactory) -> Register:
    """Every kind of event, over three transactions an hour apart."""
    ids: dict[str, str] = {}
    with unit_of_work() as ctx:
        _first_steps(ctx, ids)
    photo_sha = hashlib.sha256(jpeg()).hexdigest()
    with unit_of_work(now=NOW + timedelta(hours=1)) as ctx:
        ids["release"] = publishing.record_decision(
            ctx, input_sha256=photo_sha, purpose="facebook", output_sha256="ab" * 32, output_size=99
        ).publication_id
        ids["refused"] = publishing.record_decision(
            ctx, input_sha256=photo_sha, purpose="yearbook"
        ).publication_id
        ids["restriction"] = people.set_protected(
            ctx, ids["child"], protected=True, reason="sperret adresse"
        )
    with unit_of_work(now=NOW + timedelta(hours=2)) as ctx:
        ids["unrestriction"] = people.set_protected(
            ctx, ids["child"], protected=False, reason="opphevet"
        )
        ids["withdrawal"] = consents.withdraw(ctx, consent_id=ids["grant_father"], reason="e-post")
        takedown.takedown_done(ctx, publication_id=ids["release"], note="slettet")
        purposes.revise_purpose(
            ctx, code="facebook", notice_text="Ny tekst.\n", requires_new_consent=True
        )
        ids["correction"] = correct_person(ctx, ids["step"], born=date(1985, 1, 2)).id
        people.remove_guardian(ctx, child=ids["child"], guardian=ids["step"])
    return ids


@pytest.fixture
def register(unit_of_work: ContextFactory) -> Register:
    return build_register(unit_of_work)


def drop_append_only_guards(conn: Connection, table: str) -> None:
    """What an attacker with owner rights does first."""
    if conn.dialect.name == "sqlite":
        for verb in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS trg_{table}_no_{verb}"))
    else:
        conn.execute(text(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}"))
        conn.execute(text(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}"))


def tamper(engine: Engine, *statements: str, **params: Any) -> None:
    """Run SQL as an owner would; :fake is a well-formed digest that matches nothing."""
    params.setdefault("fake", "cd" * 32)
    with engine.begin() as conn:
        for table in APPEND_ONLY:
            drop_append_only_guards(conn, table)
        for statement in statements:
            conn.execute(text(statement), params)


def seq_of(engine: Engine, action: str, object_id: str) -> int:
    """The seq of the first event with that action naming that ID."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, object_ids FROM audit_events WHERE action = :a ORDER BY seq"),
            {"a": action},
        ).all()
    return next(int(seq) for seq, ids in rows if object_id in ids)


def last_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one())


def verify(unit_of_work: ContextFactory) -> Any:
    with unit_of_work() as ctx:
        return verify_log(ctx)


def test_a_clean_history_verifies_with_every_table_compared(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    report = verify(unit_of_work)
    assert report.ok, failure_message(report)
    assert report.size == last_seq(engine)
    assert report.rows_compared > 30
    assert report.unanchored == report.size


@dataclass(frozen=True)
class Case:
    """One kind of tampering: SQL with :named IDs, then the first finding expected, and the
    event (action, ID name) whose seq it must name; None: after the last event."""

    statements: tuple[str, ...]
    kind: str
    table: str | None
    column: str | None
    event: tuple[str, str] | None


CASES = {
    "what a correction corrected": Case(
        ("UPDATE person_corrections SET fields = 'name' WHERE id = :correction",),
        "field_changed",
        "person_corrections",
        "fields",
        ("person.correct", "correction"),
    ),
    "a corrected birth date put back": Case(
        (
            "UPDATE people SET born_ct = (SELECT born_ct FROM person_corrections"
            " WHERE id = :correction) WHERE id = :step",
        ),
        "field_changed",
        "people",
        "born_ct",
        ("person.correct", "correction"),
    ),
    "a consent's kind": Case(
        ("UPDATE consent_events SET kind = 'refusal' WHERE id = :grant_father",),
        "field_changed",
        "consent_events",
        "kind",
        ("consent.grant", "grant_father"),
    ),
    "a consent's end date": Case(
        ("UPDATE consent_events SET valid_until = valid_from WHERE id = :grant_mother",),
        "field_changed",
        "consent_events",
        "valid_until",
        ("consent.grant", "grant_mother"),
    ),
    "a deleted refusal": Case(
        ("DELETE FROM consent_events WHERE id = :refusal",),
        "row_missing",
        "consent_events",
        None,
        ("consent.refusal", "refusal"),
    ),
    "a forged grant": Case(
        (
            "INSERT INTO consent_events (id, seq, subject_id, purpose_id, kind, consenter_id,"
            " method, notice_version, given_on, effective_at, recorded_at, recorded_by)"
            " SELECT 'f0f0', 999, subject_id, purpose_id, 'grant', consenter_id, 'paper', 1,"
            " given_on, effective_at, recorded_at, recorded_by FROM consent_events"
            " WHERE id = :refusal",
        ),
        "row_extra",
        "consent_events",
        None,
        None,
    ),
    "a withdrawal pointed at another grant": Case(
        ("UPDATE consent_events SET withdraws_id = :grant_mother WHERE id = :withdrawal",),
        "field_changed",
        "consent_events",
        "withdraws_id",
        ("consent.withdrawal", "withdrawal"),
    ),
    "an evidence digest": Case(
        ("UPDATE evidence SET sha256 = :fake",),
        "field_changed",
        "evidence",
        "sha256",
        ("consent.grant", "grant_mother"),
    ),
    "a name copied from another person": Case(
        (
            "UPDATE people SET name_ct = (SELECT name_ct FROM people WHERE id = :mother)"
            " WHERE id = :child",
        ),
        "field_changed",
        "people",
        "name_ct",
        ("person.add", "child"),
    ),
    "a protected-identity flag flipped": Case(
        ("UPDATE people SET protected = NOT protected WHERE id = :child",),
        "field_changed",
        "people",
        "protected",
        ("person.unrestrict", "child"),
    ),
    "a deleted restriction event": Case(
        ("DELETE FROM restriction_events WHERE id = :restriction",),
        "row_missing",
        "restriction_events",
        None,
        ("person.restrict", "restriction"),
    ),
    "a guardian given parental responsibility": Case(
        (
            "UPDATE guardianships SET parental_responsibility = NOT parental_responsibility"
            " WHERE id = :link_step",
        ),
        "field_changed",
        "guardianships",
        "parental_responsibility",
        ("guardian.add", "link_step"),
    ),
    "an ended guardianship reopened": Case(
        ("UPDATE guardianships SET removed_at = NULL, removed_by = NULL WHERE id = :link_step",),
        "field_changed",
        "guardianships",
        "removed_at",
        ("guardian.remove", "link_step"),
    ),
    "a deleted photo tag": Case(
        ("DELETE FROM photo_subjects WHERE person_id = :staff",),
        "row_missing",
        "photo_subjects",
        None,
        ("photo.tag", "staff"),
    ),
    "an added photo tag": Case(
        (
            "INSERT INTO photo_subjects (photo_id, person_id, identifiable, tagged_at, tagged_by)"
            " SELECT photo_id, :father, identifiable, tagged_at, tagged_by FROM photo_subjects"
            " WHERE person_id = :staff",
        ),
        "row_extra",
        "photo_subjects",
        None,
        None,
    ),
    "a photo's format": Case(
        ("UPDATE photos SET format = 'PNG' WHERE id = :photo",),
        "field_changed",
        "photos",
        "format",
        ("photo.add", "photo"),
    ),
    "a photo's tagging marked incomplete": Case(
        ("UPDATE photos SET complete = NOT complete WHERE id = :photo",),
        "field_changed",
        "photos",
        "complete",
        ("photo.complete", "photo"),
    ),
    "a release's output digest": Case(
        ("UPDATE publications SET output_sha256 = :fake WHERE id = :release",),
        "field_changed",
        "publications",
        "output_sha256",
        ("publication.released", "release"),
    ),
    "a refusal turned into a release": Case(
        ("UPDATE publications SET decision = 'released' WHERE id = :refused",),
        "field_changed",
        "publications",
        "decision",
        ("publication.refused", "refused"),
    ),
    "a take-down undone": Case(
        ("UPDATE publications SET taken_down_at = NULL WHERE id = :release",),
        "field_changed",
        "publications",
        "taken_down_at",
        ("publication.takedown", "release"),
    ),
    "a relied-on consent unlinked": Case(
        ("DELETE FROM publication_consents WHERE consent_event_id = :grant_staff",),
        "row_missing",
        "publication_consents",
        None,
        ("publication.released", "release"),
    ),
    "a unit renamed": Case(
        ("UPDATE units SET name = 'Annen barnehage' WHERE id = :unit",),
        "field_changed",
        "units",
        "name",
        ("unit.add", "unit"),
    ),
    "a notice text rewritten": Case(
        (
            "UPDATE notice_versions SET text = 'Noe annet.' WHERE version = 1"
            " AND purpose_id = (SELECT id FROM purposes WHERE code = 'facebook')",
        ),
        "field_changed",
        "notice_versions",
        "text",
        ("purpose.notice", "facebook"),
    ),
    "a purpose's size limit": Case(
        ("UPDATE purposes SET max_px = 4000 WHERE code = 'yearbook'",),
        "field_changed",
        "purposes",
        "max_px",
        ("purpose.add", "yearbook"),
    ),
    "an extra name token": Case(
        (
            "INSERT INTO person_name_tokens (person_id, token_bidx) VALUES (:child, 'ffffffffffffffff')",
        ),
        "row_extra",
        "person_name_tokens",
        None,
        None,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_kind_of_tampering_is_found_at_the_event_it_contradicts(
    unit_of_work: ContextFactory, register: Register, engine: Engine, name: str
) -> None:
    case = CASES[name]
    tamper(engine, *case.statements, **register)
    report = verify(unit_of_work)
    assert not report.ok
    first = report.findings[0]
    assert (first.kind, first.table, first.column) == (case.kind, case.table, case.column)
    expected_seq = seq_of(engine, case.event[0], register[case.event[1]]) if case.event else None
    assert first.seq == expected_seq
    if first.table is not None:
        assert first.row is not None
        assert first.row in first.message


def _split(unit_of_work: ContextFactory) -> Any:
    """`verify_log` with the consent events' part done in a transaction of its own, as the
    command does it in a helper process."""
    with unit_of_work(writer=False) as ctx, unit_of_work(writer=False) as other:

        def elsewhere(through: int) -> Any:
            part = verify_consent_events(other, through=through)
            return lambda: part

        return verify_log(ctx, consents=elsewhere)


@pytest.mark.parametrize("name", list(CASES))
def test_the_consent_part_in_its_own_transaction_finds_exactly_the_same(
    unit_of_work: ContextFactory, register: Register, engine: Engine, name: str
) -> None:
    tamper(engine, *CASES[name].statements, **register)
    inline, split = verify(unit_of_work), _split(unit_of_work)
    assert split.findings == inline.findings
    assert (split.size, split.rows_compared) == (inline.size, inline.rows_compared)


def test_a_clean_history_split_in_two_compares_every_row_once(
    unit_of_work: ContextFactory, register: Register
) -> None:
    inline, split = verify(unit_of_work), _split(unit_of_work)
    assert split.ok, failure_message(split)
    assert (split.size, split.rows_compared, split.head) == (
        inline.size,
        inline.rows_compared,
        inline.head,
    )


def test_a_helper_that_sees_another_log_gives_way_to_the_command_doing_it_all(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    """A writer that commits between the command's snapshot and the helper's makes the log
    longer in the helper's: its part is refused (None), and the command does it itself, so a
    consent recorded meanwhile is not reported as a row inserted behind the tool's back."""
    with unit_of_work(writer=False) as ctx:
        through = ctx.session.scalar(text("SELECT max(seq) FROM audit_events"))
        with unit_of_work() as writer:  # a registrar records a consent meanwhile
            builders.grant(writer, register["child"], register["mother"], purpose_code="yearbook")
        with unit_of_work(writer=False) as other:
            assert verify_consent_events(other, through=through) is None
            assert isinstance(verify_consent_events(other, through=through + 1), PartResult)

        def refused(asked: int) -> Any:
            assert asked == through  # the log as the command's snapshot holds it
            return lambda: None

        report = verify_log(ctx, consents=refused)
    assert report.ok, failure_message(report)
    assert report.size == through


def test_tampering_with_consents_is_found_by_the_helper_part(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    tamper(engine, CASES["a consent's kind"].statements[0], **register)
    with unit_of_work(writer=False) as other:
        part = verify_consent_events(other, through=last_seq(engine))
    assert part is not None
    assert [(f.kind, f.table, f.column) for f in part.findings] == [
        ("field_changed", "consent_events", "kind")
    ]
