"""The staff web application's use cases: what each page shows, one call per page, with the
same checks and the same audit records as the command line (docs/architecture.md, "The web
application").

Every page that shows a person's data records it as an `audit.query` event (the view's name, the
IDs of the people shown), as `report coverage` and the auditor's views do, so these run in a
writer unit of work. A registrar sees only their units' people; asking for another unit's
person or unit by ID is refused (NotPermittedError) before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from consentreg.db.models import Person
from consentreg.domain.model import EventKind
from consentreg.errors import InvalidInputError, NotPermittedError
from consentreg.i18n import msg
from consentreg.memory import gc_paused
from consentreg.services import consents
from consentreg.services.access import acting_roles, registrar_scope, require, require_in_scope
from consentreg.services.audit.events import record_query
from consentreg.services.audit.standing import Standing, register_at, standings
from consentreg.services.consents import ConsentRecord
from consentreg.services.evidence import read_evidence
from consentreg.services.names import names_by_id
from consentreg.services.people import PersonView, resolve_person, show_person
from consentreg.services.person_version import check_version, person_version
from consentreg.services.purposes import PurposeView, list_purposes
from consentreg.services.round_progress import RoundProgress, open_rounds_over
from consentreg.services.unit_of_work import Context
from consentreg.services.units import UnitView, list_units, unit_by_code

# what may be uploaded as evidence from a browser: scans and PDFs, told by their first bytes
EVIDENCE_SIGNATURES = {
    b"%PDF-": "PDF",
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class StartPage:
    login: str
    roles: list[str]
    units: list[UnitView]  # the units whose people this user may see


@dataclass(frozen=True)
class Row:
    """One person's line of a unit's overview: their name and their standing per purpose (in
    the order of the overview's purposes)."""

    person_id: str
    name: str
    kind: str
    standings: list[Standing]


@dataclass(frozen=True)
class UnitOverview:
    unit: UnitView
    purposes: list[tuple[str, str]]  # (code, title)
    rows: list[Row]  # this page's people, by name
    allowed: int  # of this page's person-purpose pairs
    pairs: int
    page: int = 1
    pages: int = 1
    people: int = 0  # in the unit, on every page
    # the rounds open for the unit or one above it, with the progress of this page's children
    rounds: list[RoundProgress] = field(default_factory=list)


# a unit's overview shows this many people a page: a school's thousand pupils stay readable and
# the page fast (BENCHMARKS.md, "The staff web application")
OVERVIEW_PAGE = 100


@dataclass(frozen=True)
class Named:
    id: str
    name: str
    role: str  # "self", "guardian", "guardian without parental responsibility"


@dataclass(frozen=True)
class PersonPage:
    person: PersonView
    guardians: list[Named]
    standings: list[Standing]
    consents: list[ConsentRecord]
    names: dict[str, str]  # every person named on the page, by ID
    may_record: bool
    version: str  # the person's version now: the forms on the page carry it (StaleFormError)
    may: frozenset[str] = frozenset()  # what to offer: "correct", "leave", "restrict", ...
    withdrawable: frozenset[str] = frozenset()  # grants in force: IDs of consents to withdraw


@dataclass(frozen=True)
class ConsentForm:
    person: PersonView
    consenters: list[Named]
    purposes: list[PurposeView]
    version: str


def start_page(ctx: Context) -> StartPage:
    """The acting user's roles and the units they may see (a registrar: their own)."""
    units = list_units(ctx)
    scope = registrar_scope(ctx)
    if scope is not None:
        units = [u for u in units if u.id in scope]
    return StartPage(ctx.actor, acting_roles(ctx) or [], units)


def _unit_view(ctx: Context, code: str) -> UnitView:
    unit = unit_by_code(ctx, code)
    return next(u for u in list_units(ctx) if u.id == unit.id)


def unit_overview(ctx: Context, *, unit: str, page: int = 1) -> UnitOverview:
    """Who of a unit may be published for which purpose today, and why not: the coverage
    matrix, with names, OVERVIEW_PAGE people a page in the order of their names, and how far each
    round open over the unit has come for them. Recorded as an `audit.query` (view
    `unit_overview`) naming the people shown."""
    require(ctx, "read.register")
    view = _unit_view(ctx, unit)
    require_in_scope(ctx, view.id)
    everyone = list(
        ctx.session.scalars(
            select(Person.id).where(Person.unit_id == view.id, Person.created_at <= ctx.now)
        )
    )
    names = names_by_id(ctx, everyone)  # every name, to order the pages; shown: this page's only
    ordered = sorted(everyone, key=lambda p: (names[p].casefold(), p))
    pages = max(1, -(-len(ordered) // OVERVIEW_PAGE))
    if not 1 <= page <= pages:
        raise InvalidInputError(msg("page must be from 1 to {pages}", pages=pages))
    shown = ordered[(page - 1) * OVERVIEW_PAGE : page * OVERVIEW_PAGE]
    with gc_paused():
        found = register_at(ctx, ctx.now, unit_id=view.id, only=shown)
        judged = standings(found)
    by_person: dict[str, list[Standing]] = {}
    for one in judged:
        by_person.setdefault(one.subject_id, []).append(one)
    rows = [
        Row(pid, names[pid], found.people[pid].kind, by_person.get(pid, []))
        for pid in shown
        if pid in found.people
    ]
    progress = open_rounds_over(ctx, unit_id=view.id, people=[r.person_id for r in rows])
    record_query(
        ctx,
        "unit_overview",
        ids={"unit": view.id, "subjects": [r.person_id for r in rows]},
        payload={
            "purposes": [p.code for p in found.purposes],
            "page": page,
            "rounds": [r.round_id for r in progress],
        },
    )
    return UnitOverview(
        view,
        [(p.code, p.title) for p in found.purposes],
        rows,
        sum(s.allowed for s in judged),
        len(judged),
        page,
        pages,
        len(ordered),
        progress,
    )


def _consenters(ctx: Context, person: PersonView) -> list[Named]:
    names = names_by_id(ctx, [person.id, *(g.person_id for g in person.guardians)])
    found = [Named(person.id, names[person.id], "self")]
    for g in person.guardians:
        role = "guardian" if g.parental_responsibility else "guardian without responsibility"
        found.append(Named(g.person_id, names[g.person_id], role))
    return found


def person_page(ctx: Context, *, person: str) -> PersonPage:
    """A person's standing per purpose today, their guardians and their consents. Recorded
    as an `audit.query` (view `person`) naming the person and the guardians shown."""
    view = show_person(ctx, person)  # read.register, and a registrar's units
    guardians = _consenters(ctx, view)[1:]
    with gc_paused():
        found = register_at(ctx, ctx.now, ids=(view.id, view.id + "0"))  # this one person
        judged = [s for s in standings(found) if s.subject_id == view.id]
    records = consents.list_consents(ctx, subject=view.id)
    named = {view.id} | {g.id for g in guardians} | {c.consenter_id for c in records}
    names = names_by_id(ctx, sorted(named))
    record_query(
        ctx,
        "person",
        ids={"subject": view.id, "people": sorted(named - {view.id})},
    )
    may_record = _may(ctx, "consent.grant", view.unit)
    offered = frozenset(name for name, action in OFFERS.items() if _may(ctx, action, view.unit))
    withdrawn = {c.withdraws for c in records if c.withdraws}
    grants = frozenset(c.id for c in records if c.kind == "grant" and c.id not in withdrawn)
    return PersonPage(
        view,
        guardians,
        judged,
        records,
        names,
        may_record,
        person_version(ctx, view.id),
        offered,
        grants if "withdraw" in offered else frozenset(),
    )


# what the person page offers, by the action each needs
OFFERS = {
    "correct": "person.correct",
    "leave": "person.leave",
    "restrict": "person.restrict",
    "unrestrict": "person.unrestrict",
    "withdraw": "consent.withdrawal",
    "evidence": "evidence.read",
    "history": "audit.read",
}


def _may(ctx: Context, action: str, unit_code: str | None) -> bool:
    unit_id = unit_by_code(ctx, unit_code).id if unit_code else None
    try:
        require(ctx, action, units=[unit_id])
    except NotPermittedError:  # only whether to offer the form
        return False
    return True


def consent_form(ctx: Context, *, person: str) -> ConsentForm:
    """What the form that records a consent offers: the subject, who may consent (the person,
    their guardians) and the purposes. Refused unless the user may record consents for the
    person's unit. Recorded as an `audit.query` (view `consent_form`)."""
    view = show_person(ctx, person)
    unit_id = unit_by_code(ctx, view.unit).id if view.unit else None
    require(ctx, "consent.grant", units=[unit_id])
    consenters = _consenters(ctx, view)
    record_query(
        ctx,
        "consent_form",
        ids={"subject": view.id, "people": sorted(c.id for c in consenters[1:])},
    )
    return ConsentForm(view, consenters, list_purposes(ctx), person_version(ctx, view.id))


def evidence_kind(head: bytes) -> str | None:
    """The kind of an uploaded evidence file by its first bytes, None when not accepted."""
    return next((kind for sig, kind in EVIDENCE_SIGNATURES.items() if head.startswith(sig)), None)


def record_consents(
    ctx: Context,
    *,
    subject: str,
    version: str,
    purposes: list[str],
    by: list[str],
    kind: str,
    method: str,
    given: date | None = None,
    evidence: Path | None = None,
) -> list[str]:
    """Record the grants or refusals of one paper form (consents.record_decisions: each purpose
    by each consenter, all or none), with an uploaded evidence file (a PDF, JPEG or PNG of at
    most 10 MB) already saved at `evidence` and stored once. `version` is the person's version
    the form was rendered with: a person changed since is StaleFormError, nothing written."""
    if kind not in (EventKind.GRANT.value, EventKind.REFUSAL.value):
        raise InvalidInputError("the decision must be grant or refusal")
    if not purposes:
        raise InvalidInputError("choose at least one purpose")
    if not by:
        raise InvalidInputError("choose at least one person who decided")
    person = resolve_person(ctx, subject)
    require(ctx, f"consent.{kind}", units=[person.unit_id])
    check_version(ctx, person, version)
    checked = None
    if evidence is not None:
        with evidence.open("rb") as fh:
            head = fh.read(16)
        if evidence_kind(head) is None:
            raise InvalidInputError("evidence must be a PDF, JPEG or PNG file")
        if evidence.stat().st_size > MAX_UPLOAD_BYTES:
            raise InvalidInputError("evidence is larger than 10 MB, the limit for uploads")
        checked = read_evidence(evidence)
    return consents.record_decisions(
        ctx,
        subject=person.id,
        purposes=purposes,
        consenters=by,
        kind=EventKind(kind),
        method=method,
        given=given,
        evidence=checked,
    )
