"""Auditor views: who consented to what as of an instant, one subject's or one photo's history,
the publication log and the audit log itself.

Answers are rebuilt from the audit log (as of an instant: the events up to it), never from
names: every view shows IDs, codes, dates and digests. Each view is itself recorded as an
`audit.query` event saying which view was asked, whose data it showed (IDs) and with which
filters, so the caller runs it in a writer unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consentreg.domain.audit_chain import format_instant
from consentreg.errors import AuditVerificationError, NotFoundError
from consentreg.i18n import msg
from consentreg.memory import gc_paused
from consentreg.services.access import require
from consentreg.services.audit.events import (
    LoggedEvent,
    events_mentioning,
    parse_event,
    read_log,
    record_query,
    stream_event_rows,
)
from consentreg.services.audit.kinds import BY_ACTION
from consentreg.services.audit.replay import State, replay
from consentreg.services.audit.standing import (
    Standing,
    id_slice,
    register_at,
    standings,
)
from consentreg.services.consents import ConsentRecord
from consentreg.services.people import resolve_person
from consentreg.services.photos import photo_by_id
from consentreg.services.purposes import purpose_by_code
from consentreg.services.unit_of_work import Context
from consentreg.services.units import unit_by_code


@dataclass(frozen=True)
class ConsentsView:
    as_of: datetime
    standings: list[Standing]


@dataclass(frozen=True)
class EventRef:
    seq: int
    at: datetime
    actor: str
    action: str


@dataclass(frozen=True)
class PublicationRecord:
    id: str
    decided_at: datetime
    actor: str
    purpose: str
    photo_id: str | None
    decision: str
    reasons: list[str]
    subjects: list[str]
    consents: list[str]
    output_sha256: str | None
    taken_down_at: datetime | None
    taken_down_by: str | None
    delivery: str | None  # a release's file: pending, delivered or failed (void)


@dataclass(frozen=True)
class SubjectView:
    person: dict[str, Any]
    corrections: list[dict[str, Any]]
    guardianships: list[dict[str, Any]]
    restrictions: list[dict[str, Any]]
    consents: list[ConsentRecord]
    photos: list[dict[str, Any]]
    publications: list[PublicationRecord]
    events: list[EventRef]


@dataclass(frozen=True)
class PhotoHistory:
    photo: dict[str, Any]
    tags: list[dict[str, Any]]
    publications: list[PublicationRecord]
    events: list[EventRef]


def _values(state: State, table: str) -> list[dict[str, Any]]:
    """A table's expected rows in the order the events created them."""
    return [row.values for row in state.rows(table).values()]


def _code(state: State, table: str, row_id: str | None) -> str | None:
    row = state.get(table, row_id) if row_id else None
    return row["code"] if row else None


def _refs(events: list[LoggedEvent], object_id: str) -> list[EventRef]:
    return [EventRef(e.seq, e.at, e.actor, e.action) for e in events if e.mentions(object_id)]


def _consent_record(state: State, e: dict[str, Any]) -> ConsentRecord:
    evidence = state.get("evidence", e["evidence_id"]) if e["evidence_id"] else None
    return ConsentRecord(
        id=e["id"],
        seq=e["seq"],
        kind=e["kind"],
        subject_id=e["subject_id"],
        purpose=_code(state, "purposes", e["purpose_id"]) or e["purpose_id"],
        consenter_id=e["consenter_id"],
        method=e["method"],
        given_on=e["given_on"],
        effective_at=e["effective_at"],
        valid_from=e["valid_from"],
        valid_until=e["valid_until"],
        notice_version=e["notice_version"],
        withdraws=e["withdraws_id"],
        evidence_sha256=evidence["sha256"] if evidence else None,
        recorded_at=e["recorded_at"],
        recorded_by=e["recorded_by"],
    )


def _by_publication(state: State, table: str, column: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in _values(state, table):
        grouped.setdefault(row["publication_id"], []).append(row[column])
    return {key: sorted(ids) for key, ids in grouped.items()}


def _publication_record(
    state: State, p: dict[str, Any], links: dict[str, dict[str, list[str]]]
) -> PublicationRecord:
    return PublicationRecord(
        id=p["id"],
        decided_at=p["decided_at"],
        actor=p["actor"],
        purpose=_code(state, "purposes", p["purpose_id"]) or p["purpose_id"],
        photo_id=p["photo_id"],
        decision=p["decision"],
        reasons=list(dict.fromkeys(r["code"] for r in json.loads(p["reasons"]))),
        subjects=links["subjects"].get(p["id"], []),
        consents=links["consents"].get(p["id"], []),
        output_sha256=p["output_sha256"],
        taken_down_at=p["taken_down_at"],
        taken_down_by=p["taken_down_by"],
        delivery=p.get("delivery"),
    )


@dataclass(frozen=True)
class ConsentsQuery:
    """What `audit consents` was asked, resolved: the instant, the purpose and unit by id."""

    at: datetime
    purpose_id: str | None
    unit_id: str | None


def consents_query(
    ctx: Context,
    *,
    purpose: str | None = None,
    unit: str | None = None,
    as_of: datetime | None = None,
) -> ConsentsQuery:
    """The question resolved: the instant (default now), the purpose and unit by id (an unknown
    code is NotFoundError)."""
    require(ctx, "audit.read")
    at = as_of or ctx.now
    purpose_id = purpose_by_code(ctx, purpose).id if purpose else None
    unit_id = unit_by_code(ctx, unit).id if unit else None
    return ConsentsQuery(at, purpose_id, unit_id)


def record_consents(ctx: Context, query: ConsentsQuery, subjects: list[str]) -> None:
    """Record that an auditor was shown these people's standings (IDs), for this purpose and
    unit, at this instant."""
    record_query(
        ctx,
        "consents",
        ids={"purpose": query.purpose_id, "unit": query.unit_id, "subjects": subjects},
        payload={"as_of": format_instant(query.at)},
    )


def subjects_of(found: list[Standing]) -> list[str]:
    """The people a list of standings is about, in order, each once."""
    return list(dict.fromkeys(s.subject_id for s in found))


def consents_part(
    ctx: Context,
    query: ConsentsQuery,
    *,
    part: int = 0,
    parts: int = 1,
    only: Sequence[str] | None = None,
) -> list[Standing]:
    """The answer for one of `parts` disjoint slices of the people, by id (part 0 first): the
    slices can be read in parallel, each in its own session, and joined in order; with `only`,
    for those of these people in scope (a page of them)."""
    with gc_paused():  # hundreds of thousands of rows held at once
        found = register_at(
            ctx,
            query.at,
            unit_id=query.unit_id,
            purpose_id=query.purpose_id,
            ids=id_slice(part, parts),
            only=only,
        )
        return standings(found)


def consents(
    ctx: Context,
    *,
    purpose: str | None = None,
    unit: str | None = None,
    as_of: datetime | None = None,
) -> ConsentsView:
    """For each person (in the unit) and purpose: the latest decision per consenter and whether
    publishing was allowed at the instant, as the register recorded it by then."""
    query = consents_query(ctx, purpose=purpose, unit=unit, as_of=as_of)
    found = consents_part(ctx, query)
    record_consents(ctx, query, subjects_of(found))
    return ConsentsView(query.at, found)


def _known(state: State, table: str, row_id: str) -> dict[str, Any]:
    row = state.get(table, row_id)
    if row is None:
        raise AuditVerificationError(
            msg(
                "{table} row {row_id} has no audit event: run `consentreg audit verify`",
                table=table,
                row_id=row_id,
            )
        )
    return row


def _corrections(state: State, pid: str) -> list[dict[str, Any]]:
    """A person's corrections in order: what each corrected, and the unit it moved them from
    (names, birth dates and references are shown by no view: only which of them changed)."""
    found = sorted(
        (c for c in _values(state, "person_corrections") if c["person_id"] == pid),
        key=lambda c: c["version"],
    )
    return [
        {
            "id": c["id"],
            "version": c["version"],
            "at": c["at"],
            "actor": c["actor"],
            "fields": c["fields"].split(","),
            "old_unit": _code(state, "units", c["unit_id"]),
        }
        for c in found
    ]


def subject(ctx: Context, key: str, *, as_of: datetime | None = None) -> SubjectView:
    """Everything the log records about one person, by ID (or `ref:EXTERNAL_ID`); with `as_of`,
    as the log recorded it by that instant (the unit, corrections and leaving as they were)."""
    require(ctx, "audit.read")
    pid = resolve_person(ctx, key).id
    events = _subject_events(ctx, pid)
    if as_of is not None:
        events = [e for e in events if e.at <= as_of]
    state = replay(events)
    if as_of is not None and state.get("people", pid) is None:
        raise NotFoundError(
            msg("person {pid} was not registered by {value}", pid=pid, value=format_instant(as_of))
        )
    person = dict(_known(state, "people", pid))
    person["unit"] = _code(state, "units", person.pop("unit_id"))
    for column in ("name_ct", "born_ct", "ref_ct", "ref_bidx"):
        person.pop(column, None)
    payload = {"as_of": format_instant(as_of)} if as_of is not None else None
    record_query(ctx, "subject", ids={"subject": pid}, payload=payload)
    return SubjectView(
        person=person,
        corrections=_corrections(state, pid),
        guardianships=[
            g for g in _values(state, "guardianships") if pid in (g["child_id"], g["guardian_id"])
        ],
        restrictions=[
            {k: r[k] for k in ("id", "action", "at", "actor")}
            for r in _values(state, "restriction_events")
            if r["person_id"] == pid
        ],
        consents=[
            _consent_record(state, e)
            for e in sorted(_values(state, "consent_events"), key=lambda e: e["seq"])
            if pid in (e["subject_id"], e["consenter_id"])
        ],
        photos=[t for t in _values(state, "photo_subjects") if t["person_id"] == pid],
        publications=_publications(state, lambda p: pid in p.subjects),
        events=_refs(events, pid),
    )


# the actions whose rows give codes to IDs (units, purposes): few events in any register
_CODE_ACTIONS = tuple(a for a in BY_ACTION if a.startswith(("unit.", "purpose.")))
_PUBLICATION_ACTIONS = tuple(a for a in BY_ACTION if a.startswith("publication."))
_PUBLICATION_CHANGES = ("publication.takedown", "publication.delivery")


def _events(ctx: Context, actions: Sequence[str]) -> list[LoggedEvent]:
    return [parse_event(row) for row in stream_event_rows(ctx, actions=actions)]


def _subject_events(ctx: Context, pid: str) -> list[LoggedEvent]:
    """The events `subject` answers from, in seq order: those naming the person, the take-downs
    and deliveries of the publications they are in, and the units' and purposes' events (their
    codes). Every row `subject` shows is created and changed only by these (kinds.py), so their
    replay shows the person as the whole log's would, without replaying a municipality's log:
    its rows about other people are simply absent."""
    mine = events_mentioning(ctx, pid)
    shown = {e.ids.get("publication") for e in mine if e.action in _PUBLICATION_ACTIONS}
    theirs = [e for e in _events(ctx, _PUBLICATION_CHANGES) if e.ids.get("publication") in shown]
    found = {e.seq: e for e in [*mine, *theirs, *_events(ctx, _CODE_ACTIONS)]}
    return [found[seq] for seq in sorted(found)]


def photo(ctx: Context, photo_id: str) -> PhotoHistory:
    """One photo: its register entry (no names), who is tagged, every decision about it."""
    require(ctx, "audit.read")
    pid = photo_by_id(ctx, photo_id).id
    events = read_log(ctx)
    state = replay(events)
    facts = dict(_known(state, "photos", pid))
    facts["unit"] = _code(state, "units", facts.pop("unit_id"))
    for column in ("photographer_ct", "original_name_ct"):
        facts.pop(column, None)
    tags = [t for t in _values(state, "photo_subjects") if t["photo_id"] == pid]
    record_query(ctx, "photo", ids={"photo": pid, "subjects": sorted(t["person_id"] for t in tags)})
    return PhotoHistory(
        facts, tags, _publications(state, lambda p: p.photo_id == pid), _refs(events, pid)
    )


def _publications(
    state: State, keep: Callable[[PublicationRecord], bool]
) -> list[PublicationRecord]:
    """In the order they were recorded (rows replay in seq order)."""
    links = {
        "subjects": _by_publication(state, "publication_subjects", "person_id"),
        "consents": _by_publication(state, "publication_consents", "consent_event_id"),
    }
    records = [_publication_record(state, p, links) for p in _values(state, "publications")]
    return [r for r in records if keep(r)]


def publications(
    ctx: Context, *, since: datetime | None = None, purpose: str | None = None
) -> list[PublicationRecord]:
    """Every release and refusal (since an instant, for a purpose), with what it relied on."""
    require(ctx, "audit.read")
    code = purpose_by_code(ctx, purpose).code if purpose else None
    # only the publications' own events and the codes' (kinds.py: no other action writes them)
    state = replay(_events(ctx, _PUBLICATION_ACTIONS + _CODE_ACTIONS))
    found = _publications(
        state,
        lambda r: (since is None or r.decided_at >= since) and code in (None, r.purpose),
    )
    record_query(
        ctx,
        "publications",
        ids={"subjects": sorted({s for r in found for s in r.subjects})},
        payload={"since": format_instant(since) if since else None, "purpose": code},
    )
    return found


def log(ctx: Context, *, since: datetime | None = None) -> list[LoggedEvent]:
    """The audit events themselves (since an instant): IDs, codes and digests."""
    require(ctx, "audit.read")
    found = [e for e in read_log(ctx) if since is None or e.at >= since]
    payload = {"since": format_instant(since) if since else None, "events": len(found)}
    record_query(ctx, "log", ids={}, payload=payload)
    return found
