"""The web application's pages for auditors (docs/web.md, "Audit pages"): who had consented to
what as of an instant, the publication log, verification of the log and the access report for
a parent. Each is one call over the library's own use case (audit.views, audit.run,
access_report), with its checks (`audit.read`: auditors and admins) and its records: the views
are recorded as `audit.query` events as on the command line, and the names shown beside the IDs
are recorded as the `names` view (consentreg.services.names), as the command line records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select

from consentreg.db.models import Person, PersonCorrection
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import views
from consentreg.services.audit.run import verify_in
from consentreg.services.audit.standing import Standing
from consentreg.services.audit.verify import VerifyReport
from consentreg.services.names import display_names, names_by_id
from consentreg.services.purposes import PurposeView, list_purposes
from consentreg.services.unit_of_work import Context
from consentreg.services.units import UnitView, list_units

# people a page of the consents page: a unit of 2,500 stays quick to read and to answer
CONSENTS_PAGE = 100


@dataclass(frozen=True)
class Choices:
    """What the audit forms offer: the units and the purposes."""

    units: list[UnitView]
    purposes: list[PurposeView]


@dataclass(frozen=True)
class ConsentsPage:
    choices: Choices
    unit: str
    purpose: str | None
    as_of: datetime
    standings: list[Standing]
    names: dict[str, str]  # the people on the page (subjects and consenters), by ID
    page: int = 1
    pages: int = 1
    people: int = 0  # who may have been in the unit then, on every page


@dataclass(frozen=True)
class PublicationsPage:
    choices: Choices
    since: datetime | None
    purpose: str | None
    publications: list[views.PublicationRecord]
    names: dict[str, str]  # the people the releases show, by ID


def choices(ctx: Context) -> Choices:
    """The audit forms, before anything is asked (nothing personal: nothing recorded)."""
    require(ctx, "audit.read")
    return Choices(list_units(ctx), list_purposes(ctx))


def consents_page(
    ctx: Context, *, unit: str, purpose: str | None, as_of: datetime, page: int = 1
) -> ConsentsPage:
    """`audit consents --unit U [--purpose P] --as-of T` with the names of the people it shows
    beside their IDs, CONSENTS_PAGE people a page in the order of their names: each person of
    the unit then, per purpose, each consenter's latest decision and whether publishing was
    allowed at the instant. Recorded as the `consents` view of the page's people."""
    found = choices(ctx)
    query = views.consents_query(ctx, purpose=purpose, unit=unit, as_of=as_of)
    # who may have been in the unit then: its people now, and those moved out since
    moved = select(PersonCorrection.person_id).where(
        PersonCorrection.at > query.at, PersonCorrection.fields.contains("unit")
    )
    candidates = list(
        ctx.session.scalars(
            select(Person.id).where(
                Person.created_at <= query.at,
                or_(Person.unit_id == query.unit_id, Person.id.in_(moved)),
            )
        )
    )
    order = names_by_id(ctx, candidates)  # to order the pages; shown and recorded: the page's
    ordered = sorted(candidates, key=lambda p: (order[p].casefold(), p))
    pages = max(1, -(-len(ordered) // CONSENTS_PAGE))
    if not 1 <= page <= pages:
        raise InvalidInputError(msg("page must be from 1 to {pages}", pages=pages))
    shown = ordered[(page - 1) * CONSENTS_PAGE : page * CONSENTS_PAGE]
    standings = views.consents_part(ctx, query, only=shown)
    rank = {pid: i for i, pid in enumerate(shown)}
    standings.sort(key=lambda s: rank[s.subject_id])  # by name, as the pages are
    views.record_consents(ctx, query, views.subjects_of(standings))
    people = {s.subject_id for s in standings}
    people |= {d.consenter_id for s in standings for d in s.decisions}
    return ConsentsPage(
        found,
        unit,
        purpose,
        query.at,
        standings,
        display_names(ctx, people),
        page,
        pages,
        len(ordered),
    )


def publications_page(
    ctx: Context, *, since: datetime | None, purpose: str | None
) -> PublicationsPage:
    """`audit publications`: every release and refusal (since an instant, for a purpose), what
    it relied on and its take-down, with the names of the people the photos show."""
    found = choices(ctx)
    records = views.publications(ctx, since=since, purpose=purpose)
    people = {pid for r in records for pid in r.subjects}
    return PublicationsPage(found, since, purpose, records, display_names(ctx, people))


def verify(ctx: Context, *, witness_dir: Path | None) -> VerifyReport:
    """`audit verify` against the keys the register trusts and the newest witnessed checkpoint,
    in the caller's read-only unit of work (no checkpoint is written, as on the command line)."""
    return verify_in(ctx, witness_dir=witness_dir)
