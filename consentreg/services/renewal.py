"""The renewal list (issue #21) as a page of the staff web application: the consents in force
that end by a day (services/rounds.py `renewal_report`, as `consentreg renewal` lists them), with
the names of whom each is about and who gave it, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from consentreg.db.models import Unit
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import registrar_scope
from consentreg.services.audit.events import record_query
from consentreg.services.names import names_by_id
from consentreg.services.rounds import renewal_report
from consentreg.services.unit_of_work import Context

# a renewal list shows this many consents a page
RENEWAL_PAGE = 100


@dataclass(frozen=True)
class RenewalLine:
    """One consent of the renewal list, with the names of whom it is about and who gave it."""

    consent_id: str
    subject_id: str
    subject_name: str
    purpose: str
    consenter_id: str
    consenter_name: str
    valid_until: date


@dataclass(frozen=True)
class RenewalPage:
    """The renewal report as a page: the consents in force that end by `before`, by the name
    of whom they are about, RENEWAL_PAGE a page; the units it may be narrowed to."""

    unit: str | None  # code; None: every unit the user may see
    before: date
    lines: list[RenewalLine]
    total: int  # on every page
    page: int
    pages: int
    units: list[tuple[str, str]]  # (code, name) the user may see


def renewal_page(
    ctx: Context, *, unit: str | None = None, before: date | None = None, page: int = 1
) -> RenewalPage:
    """The renewal report (renewal_report) with names, a page at a time, for a unit (sub-units
    included) or every unit the user may see. Recorded as an `audit.query` (view `renewal`)
    naming the people shown."""
    used, ending = renewal_report(ctx, unit=unit, before=before)
    subjects = names_by_id(ctx, sorted({e.subject_id for e in ending}))
    ending.sort(key=lambda e: (subjects[e.subject_id].casefold(), e.subject_id, e.purpose))
    pages = max(1, -(-len(ending) // RENEWAL_PAGE))
    if not 1 <= page <= pages:
        raise InvalidInputError(msg("page must be from 1 to {pages}", pages=pages))
    shown = ending[(page - 1) * RENEWAL_PAGE : page * RENEWAL_PAGE]
    consenters = names_by_id(ctx, sorted({e.consenter_id for e in shown}))
    lines = [
        RenewalLine(
            e.consent_id,
            e.subject_id,
            subjects[e.subject_id],
            e.purpose,
            e.consenter_id,
            consenters[e.consenter_id],
            e.valid_until,
        )
        for e in shown
    ]
    record_query(
        ctx,
        "renewal",
        ids={
            "subjects": sorted({e.subject_id for e in shown}),
            "people": sorted(set(consenters) - {e.subject_id for e in shown}),
        },
        payload={"unit": unit, "before": used.isoformat(), "page": page},
    )
    return RenewalPage(unit, used, lines, len(ending), page, pages, _visible_units(ctx))


def _visible_units(ctx: Context) -> list[tuple[str, str]]:
    scope = registrar_scope(ctx)
    rows = ctx.session.execute(select(Unit.id, Unit.code, Unit.name).order_by(Unit.code)).all()
    return [(code, name) for uid, code, name in rows if scope is None or uid in scope]
