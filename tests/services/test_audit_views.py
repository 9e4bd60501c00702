"""Auditor views on SQLite and PostgreSQL: as-of answers rebuilt from the recorded events up to
the instant (and held to a replay of the audit log), judged by the gate's own rules, IDs only,
and every look recorded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from consentreg.domain.calendar import oslo_day
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.services.audit import views as audit_views
from consentreg.services.audit.events import read_log
from consentreg.services.audit.replay import State, replay
from consentreg.services.audit.standing import RegisterAt, Standing, register_at
from consentreg.services.publishing import gate as publishing
from consentreg.services.unit_of_work import Context
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import NAMES, Register, build_register, jpeg

LATER = NOW + timedelta(hours=3)


@pytest.fixture
def register(unit_of_work: ContextFactory) -> Register:
    return build_register(unit_of_work)


def standing(found: list[Standing], subject: str, purpose: str) -> Standing:
    (match,) = [s for s in found if (s.subject_id, s.purpose) == (subject, purpose)]
    return match


def last_event(engine: Engine) -> tuple[str, dict[str, object], dict[str, object]]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT action, object_ids, payload FROM audit_events ORDER BY seq DESC")
        ).first()
    assert row is not None
    return row[0], json.loads(row[1]), json.loads(row[2])


def test_consents_as_of_an_earlier_instant_show_what_the_register_said_then(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        before = audit_views.consents(ctx, as_of=NOW + timedelta(minutes=30))
        now = audit_views.consents(ctx)
    child_then = standing(before.standings, register["child"], "facebook")
    assert child_then.allowed
    assert {(d.role, d.consenter_id, d.kind) for d in child_then.decisions} == {
        ("guardian", register["mother"], "grant"),
        ("guardian", register["father"], "grant"),
    }
    child_now = standing(now.standings, register["child"], "facebook")
    assert not child_now.allowed
    assert set(child_now.reasons) == {"consent_withdrawn", "consent_outdated_notice"}
    assert standing(now.standings, register["staff"], "yearbook").reasons == ["consent_refused"]


def test_the_evidence_digest_of_each_decision_is_shown(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        view = audit_views.consents(ctx, purpose="facebook")
    (mother,) = [
        d
        for d in standing(view.standings, register["child"], "facebook").decisions
        if d.consenter_id == register["mother"]
    ]
    assert mother.evidence_sha256 == hashlib.sha256(b"%PDF skjema Kari Nordmann").hexdigest()
    assert {s.purpose for s in view.standings} == {"facebook"}


def test_a_person_registered_after_the_instant_is_not_in_the_answer(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        view = audit_views.consents(ctx, unit="bhg", as_of=NOW - timedelta(days=1))
    assert view.standings == []


def test_consents_filtered_by_unit_list_only_that_units_people(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        view = audit_views.consents(ctx, unit="bhg")
    assert {s.subject_id for s in view.standings} == {register["child"], register["staff"]}
    assert {s.unit for s in view.standings} == {"bhg"}


def _replayed(state: State, now: State, at: datetime) -> dict[str, object]:
    """The facts standings are judged on, as a replay of the audit log up to `at` has them;
    guardianships as the whole log (`now`) has them, in force at `at` from their start to their
    removal, whenever they were entered (what `--at` asks, as the gate reads them)."""
    values = {t: [r.values for r in state.rows(t).values()] for t in state.tables}
    links = [r.values for r in now.rows("guardianships").values()]
    units = {u["id"]: u["code"] for u in values["units"]}
    required: dict[str, int] = {}
    for n in values["notice_versions"]:
        if n["requires_new_consent"]:
            required[n["purpose_id"]] = max(required.get(n["purpose_id"], 1), n["version"])
    return {
        "people": {
            p["id"]: (p["kind"], units.get(p["unit_id"]), p["protected"]) for p in values["people"]
        },
        "purposes": {p["code"]: required.get(p["id"], 1) for p in values["purposes"]},
        "guardians": sorted(
            (g["child_id"], g["guardian_id"], g["parental_responsibility"])
            for g in links
            if (g["removed_at"] is None or g["removed_at"] > at)
            and (g["starts_on"] is None or g["starts_on"] <= oslo_day(at))
        ),
        "events": sorted(
            (c["id"], c["kind"], c["subject_id"], c["consenter_id"], c["effective_at"])
            for c in (r.values for r in now.rows("consent_events").values())
            if c["purpose_id"] in {p["id"] for p in values["purposes"]}
        ),
    }


def _read(found: RegisterAt) -> dict[str, object]:
    """The same facts as register_at reads them from the register's event records."""
    return {
        "people": {p.id: (p.kind, p.unit, p.protected) for p in found.people.values()},
        "purposes": {p.code: p.rules.min_notice_version for p in found.purposes},
        "guardians": sorted(
            (child, g.person_id, g.parental_responsibility)
            for child, links in found.guardians.items()
            for g in links
        ),
        "events": sorted(
            (e.id, e.kind.value, e.subject_id, e.consenter_id, e.effective_at)
            for events in found.events.values()
            for e in events
        ),
    }


def test_the_register_read_at_each_instant_is_the_audit_log_replayed_to_it(
    unit_of_work: ContextFactory, register: Register
) -> None:
    """register_at reads the event tables for speed; at every instant in the history (each
    event's, and between them) it must say what a replay of the hash-chained log says."""
    with unit_of_work(now=LATER) as ctx:
        instants = sorted({e.at for e in read_log(ctx)})
        probes = [instants[0] - timedelta(seconds=1), *instants, LATER]
        probes += [a + (b - a) / 2 for a, b in zip(instants, instants[1:], strict=False)]
        assert len(instants) >= 3  # the fixture's history spans several instants
        now = replay(read_log(ctx))
        for at in sorted(probes):
            expected = _replayed(replay(read_log(ctx, until=at)), now, at)
            assert _read(register_at(ctx, at)) == expected, at


def test_the_answer_agrees_with_the_gate_for_the_same_instant(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        view = audit_views.consents(ctx, purpose="facebook")
        gate = publishing.check(
            ctx, input_sha256=hashlib.sha256(jpeg()).hexdigest(), purpose="facebook", at=LATER
        )
    by_subject: dict[str | None, list[str]] = {}
    for reason in gate.decision.reasons:
        by_subject.setdefault(reason.subject_id, []).append(reason.code.value)
    for subject in (register["child"], register["staff"]):
        assert sorted(standing(view.standings, subject, "facebook").reasons) == sorted(
            by_subject[subject]
        )


def test_the_answer_read_in_slices_is_the_answer_read_whole(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    """`audit consents` reads slices of the people in parallel and joins them in order: the
    joined slices must be the whole answer, nobody twice, nobody missing, in the same order,
    every reason listed in the same order (a slice is read with another query plan)."""
    with unit_of_work(now=LATER) as ctx:
        query = audit_views.consents_query(ctx)
        whole = audit_views.consents_part(ctx, query)
        for parts in (2, 3, 5):
            sliced = [
                s
                for part in range(parts)
                for s in audit_views.consents_part(ctx, query, part=part, parts=parts)
            ]
            assert sliced == whole, parts
        audit_views.record_consents(ctx, query, audit_views.subjects_of(whole))
        people = register_at(ctx, LATER).people
    assert audit_views.subjects_of(whole) == list(people)
    assert len(people) > 2
    assert last_event(engine)[1]["subjects"] == list(people)


def test_every_auditor_view_is_recorded_with_ids_and_never_names(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    views: dict[str, Callable[[Context], object]] = {
        "consents": lambda ctx: audit_views.consents(ctx, unit="bhg"),
        "subject": lambda ctx: audit_views.subject(ctx, "ref:K001"),
        "photo": lambda ctx: audit_views.photo(ctx, register["photo"]),
        "publications": lambda ctx: audit_views.publications(ctx),
        "log": lambda ctx: audit_views.log(ctx),
    }
    for name, view in views.items():
        with unit_of_work(now=LATER, actor="revisor") as ctx:
            view(ctx)
        action, ids, payload = last_event(engine)
        assert (action, payload["view"]) == ("audit.query", name)
        assert not any(secret in json.dumps([ids, payload]) for secret in NAMES)
    with unit_of_work(now=LATER) as ctx:
        audit_views.subject(ctx, register["child"])
    assert last_event(engine)[1] == {"subject": register["child"]}


def test_a_subjects_history_lists_every_event_naming_them_by_id(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        view = audit_views.subject(ctx, register["child"])
    assert "name_ct" not in view.person
    assert view.person["unit"] == "bhg"
    assert [r["action"] for r in view.restrictions] == ["restrict", "unrestrict"]
    assert {c.kind for c in view.consents} == {"grant", "withdrawal"}
    assert [p.id for p in view.publications] == [register["release"], register["refused"]]
    actions = [e.action for e in view.events]
    assert actions[0] == "person.add"
    assert {"guardian.remove", "photo.tag", "publication.released"} <= set(actions)
    assert not any(secret in repr(view) for secret in NAMES)


def test_a_photos_history_shows_its_tags_and_every_decision(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        view = audit_views.photo(ctx, register["photo"])
    assert {t["person_id"] for t in view.tags} == {register["child"], register["staff"]}
    assert [(p.decision, p.purpose) for p in view.publications] == [
        ("released", "facebook"),
        ("refused", "yearbook"),
    ]
    assert view.publications[0].taken_down_at is not None
    assert [e.action for e in view.events if e.action in ("photo.tag", "photo.untag")][-2:] == [
        "photo.tag",
        "photo.untag",
    ]
    assert "photographer_ct" not in view.photo


def test_publications_are_filtered_by_instant_and_purpose(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        everything = audit_views.publications(ctx)
        yearbook = audit_views.publications(ctx, purpose="yearbook")
        later = audit_views.publications(ctx, since=NOW + timedelta(hours=2))
    assert [p.id for p in everything] == [register["release"], register["refused"]]
    assert everything[0].consents == sorted(
        [register["grant_mother"], register["grant_father"], register["grant_staff"]]
    )
    assert [p.id for p in yearbook] == [register["refused"]]
    assert later == []


def test_the_log_view_lists_events_since_an_instant(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        since = audit_views.log(ctx, since=NOW + timedelta(hours=2))
    assert [e.action for e in since][:2] == ["person.unrestrict", "consent.withdrawal"]
    assert all(e.at >= NOW + timedelta(hours=2) for e in since)


def test_unknown_people_photos_and_codes_are_refused(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with pytest.raises(NotFoundError), unit_of_work() as ctx:
        audit_views.subject(ctx, "0" * 32)
    with pytest.raises(NotFoundError), unit_of_work() as ctx:
        audit_views.photo(ctx, "0" * 32)
    with pytest.raises(InvalidInputError), unit_of_work() as ctx:
        audit_views.consents(ctx, purpose="instagram")
