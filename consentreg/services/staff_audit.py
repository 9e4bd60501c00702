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

from consentreg.services.access import require
from consentreg.services.audit import views
from consentreg.services.audit.run import verify_in
from consentreg.services.audit.standing import Standing
from consentreg.services.audit.verify import VerifyReport
from consentreg.services.names import display_names
from consentreg.services.purposes import PurposeView, list_purposes
from consentreg.services.unit_of_work import Context
from consentreg.services.units import UnitView, list_units


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


def consents_page(ctx: Context, *, unit: str, purpose: str | None, as_of: datetime) -> ConsentsPage:
    """`audit consents --unit U [--purpose P] --as-of T` with the names of the people it shows
    beside their IDs: each person of the unit, per purpose, each consenter's latest decision and
    whether publishing was allowed at the instant, rebuilt from the audit log."""
    found = choices(ctx)
    view = views.consents(ctx, purpose=purpose, unit=unit, as_of=as_of)
    people = {s.subject_id for s in view.standings}
    people |= {d.consenter_id for s in view.standings for d in s.decisions}
    return ConsentsPage(
        found, unit, purpose, view.as_of, view.standings, display_names(ctx, people)
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
