"""The web application's actions on one person (docs/web.md): register them (a child with the
guardians on the same form), correct, mark as left, restrict, read their history, download a consent's scan, withdraw a consent and see the take-down list it
produced. Each is one call over the library's own use case (corrections, people, consents,
audit views, evidence_copy), with the same checks and the same events; each change is refused
on a stale form (consentreg.services.person_version), and each page that shows a person's data
is recorded as an `audit.query` as the other pages are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from consentreg.db.models import ConsentEvent, Person, Purpose
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import registrar_scope, require
from consentreg.services.audit import views
from consentreg.services.audit.events import record_query
from consentreg.services.consents import Withdrawal, withdraw_consent
from consentreg.services.corrections import Correction, Departure, correct_person, leave_person
from consentreg.services.duplicates import likely_duplicates
from consentreg.services.evidence_copy import evidence_bytes
from consentreg.services.lookup import by_id
from consentreg.services.names import names_by_id
from consentreg.services.people import (
    PersonView,
    add_guardian,
    add_person,
    resolve_person,
    set_protected,
    show_person,
)
from consentreg.services.person_version import check_version, person_version
from consentreg.services.publishing.takedown import TakedownItem, takedown_for_consent
from consentreg.services.staff import evidence_kind
from consentreg.services.unit_of_work import Context
from consentreg.services.units import UnitView, list_units, unit_by_code

# how a downloaded scan is labelled, by the kind its first bytes tell
CONTENT_TYPES = {"PDF": "application/pdf", "JPEG": "image/jpeg", "PNG": "image/png"}
SUFFIXES = {"PDF": "pdf", "JPEG": "jpg", "PNG": "png"}


@dataclass(frozen=True)
class EditForm:
    person: PersonView
    units: list[UnitView]  # the units the person may be moved to by this user
    version: str


@dataclass(frozen=True)
class History:
    person: PersonView
    view: views.SubjectView


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ConsentChoice:
    """A grant offered for withdrawal: whose, for what, given by whom and when."""

    id: str
    purpose: str
    consenter: str
    given_on: date


@dataclass(frozen=True)
class WithdrawForm:
    person: PersonView
    consent: ConsentChoice
    version: str


@dataclass(frozen=True)
class WithdrawalPage:
    person: PersonView
    consent: ConsentChoice
    takedown: list[TakedownItem]
    names: dict[str, str]


def visible(ctx: Context, ids: set[str]) -> list[str]:
    """Of `ids`, the people this user may see by name (a registrar: their units' and those of
    no unit); the others are shown by ID only."""
    scope = registrar_scope(ctx)
    rows = ctx.session.execute(select(Person.id, Person.unit_id).where(Person.id.in_(ids))).all()
    return sorted(pid for pid, unit in rows if scope is None or unit is None or unit in scope)


def _unit_id(ctx: Context, code: str | None) -> str | None:
    return unit_by_code(ctx, code).id if code else None


def edit_form(ctx: Context, *, person: str) -> EditForm:
    """What the correction form shows: the person's values now, and the units to move them to
    (a registrar: their own). Recorded as an `audit.query` (view `person_edit`)."""
    view = show_person(ctx, person)
    require(ctx, "person.correct", units=[_unit_id(ctx, view.unit)])
    if view.erased:
        from consentreg.errors import PersonErasedError

        raise PersonErasedError(f"person {view.id} is erased: there is nothing to correct")
    units = [u for u in list_units(ctx) if _may_move(ctx, u.id)]
    record_query(ctx, "person_edit", ids={"subject": view.id})
    return EditForm(view, units, person_version(ctx, view.id))


def _may_move(ctx: Context, unit_id: str) -> bool:
    from consentreg.errors import NotPermittedError

    try:
        require(ctx, "person.correct", units=[unit_id])
    except NotPermittedError:
        return False
    return True


def correct(
    ctx: Context,
    *,
    person: str,
    version: str,
    name: str | None = None,
    born: date | None = None,
    ref: str | None = None,
    unit: str | None = None,
) -> Correction:
    """`person correct` from the form: the fields that differ from the person's values."""
    found = resolve_person(ctx, person)
    require(ctx, "person.correct", units=[found.unit_id])
    check_version(ctx, found, version)
    return correct_person(ctx, found.id, name=name, born=born, ref=ref, unit=unit)


def leave(ctx: Context, *, person: str, version: str) -> Departure:
    """`person leave` from the person page: the person has left, now."""
    found = resolve_person(ctx, person)
    require(ctx, "person.leave", units=[found.unit_id])
    check_version(ctx, found, version)
    return leave_person(ctx, found.id)


def restrict(ctx: Context, *, person: str, version: str, protected: bool, reason: str) -> str:
    """`person restrict` / `person unrestrict` from the person page, with the reason."""
    found = resolve_person(ctx, person)
    action = "person.restrict" if protected else "person.unrestrict"
    require(ctx, action, units=[found.unit_id])
    check_version(ctx, found, version)
    return set_protected(ctx, found.id, protected=protected, reason=reason)


def history(ctx: Context, *, person: str) -> History:
    """What the audit log records about a person (`audit subject`, for the roles that may read
    the log), recorded as that view is."""
    require(ctx, "audit.read")
    view = show_person(ctx, person)
    return History(view, views.subject(ctx, view.id))


def evidence(ctx: Context, *, consent: str) -> Download:
    """A consent's stored scan as a download, recorded as an `evidence.read` event. The file's
    name says whose consent it is by ID only; its type is told by its first bytes, anything
    else is sent as bytes (application/octet-stream)."""
    require(ctx, "evidence.read")
    found = evidence_bytes(ctx, consent_id=consent)
    kind = evidence_kind(found.content[:16])
    content_type = CONTENT_TYPES.get(kind or "", "application/octet-stream")
    name = f"samtykke-{found.consent_id[:12]}.{SUFFIXES.get(kind or '', 'bin')}"
    return Download(name, content_type, found.content)


def _choice(ctx: Context, grant: ConsentEvent) -> ConsentChoice:
    code = ctx.session.scalar(select(Purpose.code).where(Purpose.id == grant.purpose_id))
    names = names_by_id(ctx, [grant.consenter_id])
    return ConsentChoice(grant.id, str(code), names[grant.consenter_id], grant.given_on)


def _grant(ctx: Context, consent: str) -> tuple[ConsentEvent, PersonView]:
    grant = by_id(ctx, ConsentEvent, consent, what="consent")
    view = show_person(ctx, grant.subject_id)
    require(ctx, "consent.withdrawal", units=[_unit_id(ctx, view.unit)])
    if grant.kind != "grant":
        raise InvalidInputError(
            msg(
                "consent {grant_id} is a {grant_kind}: only a grant is withdrawn",
                grant_id=grant.id,
                grant_kind=grant.kind,
            )
        )
    return grant, view


def withdraw_form(ctx: Context, *, consent: str) -> WithdrawForm:
    """The form that withdraws a grant: whose consent, for what, by whom. Recorded as an
    `audit.query` (view `withdraw_form`)."""
    grant, view = _grant(ctx, consent)
    choice = _choice(ctx, grant)
    record_query(ctx, "withdraw_form", ids={"subject": view.id, "consent": grant.id})
    return WithdrawForm(view, choice, person_version(ctx, view.id))


def withdraw(ctx: Context, *, consent: str, version: str, reason: str | None = None) -> Withdrawal:
    """Withdraw a grant now (`consent withdraw`): returns the withdrawal and its take-down list."""
    grant, _view = _grant(ctx, consent)
    check_version(ctx, resolve_person(ctx, grant.subject_id), version)
    return withdraw_consent(ctx, consent_id=grant.id, reason=reason)


def withdrawal_page(ctx: Context, *, withdrawal: str) -> WithdrawalPage:
    """A recorded withdrawal and the releases still out there that relied on the consent it
    ended (the take-down list it produced), with the names of the people they show. Recorded
    as an `audit.query` (view `withdrawal`)."""
    event = by_id(ctx, ConsentEvent, withdrawal, what="withdrawal")
    if event.withdraws_id is None:
        raise InvalidInputError(msg("consent {event_id} is not a withdrawal", event_id=event.id))
    view = show_person(ctx, event.subject_id)
    grant = by_id(ctx, ConsentEvent, event.withdraws_id, what="consent")
    items = takedown_for_consent(ctx, consent_id=grant.id)
    shown = visible(ctx, {pid for item in items for pid in item.subject_ids} | {view.id})
    names = names_by_id(ctx, shown)
    record_query(ctx, "withdrawal", ids={"subject": view.id, "consent": grant.id, "people": shown})
    return WithdrawalPage(view, _choice(ctx, grant), items, names)


@dataclass(frozen=True)
class NewGuardian:
    """A guardian entered on the registration form: a new adult (name and birth date)."""

    name: str
    born: date | None
    parental_responsibility: bool = True


@dataclass(frozen=True)
class RegisterForm:
    unit: UnitView


def register_form(ctx: Context, *, unit: str) -> RegisterForm:
    """The form to register a child or staff member in a unit this user may record for."""
    view = unit_by_code(ctx, unit)
    require(ctx, "person.add", units=[view.id])
    [shown] = [u for u in list_units(ctx) if u.id == view.id]
    return RegisterForm(shown)


def register(
    ctx: Context,
    *,
    unit: str,
    name: str,
    born: date | None,
    kind: str,
    ref: str | None,
    guardians: list[NewGuardian],
    allow_duplicate: bool = False,
) -> str:
    """Register a person in a unit and, for a child, the guardians written on the same form:
    one transaction (people.add_person and people.add_guardian, their checks and events), so a
    refused guardian leaves the child unregistered too. A guardian already registered as an
    adult with the same name and birth date (a sibling's parent) is linked, not registered
    again. Returns the new person's ID."""
    if born is None:
        raise InvalidInputError(msg("born is required"))
    if kind != "child" and guardians:
        raise InvalidInputError(msg("guardians are registered for a child only"))
    adults: list[tuple[str, date, bool]] = []
    for guardian in guardians:
        if not guardian.name.strip() or guardian.born is None:
            raise InvalidInputError(msg("a guardian needs a name and a birth date"))
        adults.append((guardian.name, guardian.born, guardian.parental_responsibility))
    pid = add_person(
        ctx,
        name=name,
        born=born,
        kind=kind,
        unit=unit,
        ref=ref,
        allow_duplicate=allow_duplicate,
    )
    known = likely_duplicates(ctx, [(n, b) for n, b, _ in adults])
    for i, (adult_name, adult_born, responsible) in enumerate(adults):
        adult = known.get(i)  # a sibling's parent is registered already: linked, not doubled
        if adult is None or by_id(ctx, Person, adult, what="person").kind != "adult":
            adult = add_person(
                ctx, name=adult_name, born=adult_born, kind="adult", allow_duplicate=True
            )
        add_guardian(ctx, child=pid, guardian=adult, parental_responsibility=responsible)
    return pid
