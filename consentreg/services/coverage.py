"""`report coverage`: one self-contained HTML page for a unit's leader, showing for each person
and purpose whether publishing is allowed today and, if not, why (reason codes explained).

It uses names: it is the leader's own working view, not something to share. Every text is
escaped with html.escape after `display.clean` (control and bidi characters shown as escapes); the page has inline CSS only and a Content-Security-Policy that
forbids loading anything, so opening it makes no network request. Answers come from the audit
register as it stands now, judged by the gate's rules (audit_standing); the report is itself recorded
as an `audit.query` event (view `coverage`) with the IDs of the people it showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as _html_escape

from sqlalchemy import select

from consentreg.db.models import Person
from consentreg.display import clean
from consentreg.domain.calendar import OSLO
from consentreg.i18n import msg
from consentreg.memory import gc_paused
from consentreg.services.access import require
from consentreg.services.audit.events import record_query
from consentreg.services.audit.standing import RegisterAt, Standing, register_at, standings
from consentreg.services.people import decrypt_name
from consentreg.services.unit_of_work import Context
from consentreg.services.units import unit_by_code

EXPLAINED = {
    "no_consent": msg("nobody has consented yet, or the consent starts later"),
    "guardian_consent_missing": msg("a guardian with parental responsibility has not consented"),
    "self_consent_required": msg("15 or older: the person must consent themself"),
    "consent_refused": msg("refused (the child's own no counts too)"),
    "consent_withdrawn": msg("consent withdrawn"),
    "consent_expired": msg("consent expired: ask for a new one"),
    "consent_outdated_notice": msg("consent was to an older notice text: ask again"),
    "protected_identity": msg("protected identity: never published"),
}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border: 1px solid #bbb; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #eee; }
td.ok { background: #e3f4e1; color: #1d5e1a; }
td.no { background: #fbe4e2; color: #8a1c12; }
small { color: #555; font-weight: normal; }
dt { font-family: monospace; margin-top: 0.4em; }
"""


@dataclass(frozen=True)
class CoverageReport:
    html: str
    people: int
    purposes: int
    allowed: int


def _cell(standing: Standing) -> str:
    if standing.allowed:
        return '<td class="ok">&#10003; allowed</td>'
    codes = "<br>".join(escape(code) for code in standing.reasons)
    return f'<td class="no">&#10007; {codes}</td>'


def _rows(names: dict[str, str], found: RegisterAt, standing: list[Standing]) -> list[str]:
    by_person: dict[str, list[Standing]] = {}
    for one in standing:
        by_person.setdefault(one.subject_id, []).append(one)
    rows = []
    for pid in sorted(by_person, key=lambda p: (names[p].casefold(), p)):
        kind = found.people[pid].kind
        cells = "".join(_cell(s) for s in by_person[pid])
        rows.append(
            f'<tr><th scope="row">{escape(names[pid])}</th><td>{escape(kind)}</td>{cells}</tr>'
        )
    return rows


def _page(title: str, meta: str, header: str, rows: list[str]) -> str:
    legend = "".join(
        f"<dt>{escape(code)}</dt><dd>{escape(text)}</dd>" for code, text in EXPLAINED.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="no">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<h1>{escape(title)}</h1>\n<p class="meta">{escape(meta)}</p>\n'
        f"<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + f"\n</tbody>\n</table>\n<h2>Reason codes</h2>\n<dl>{legend}</dl>\n</body>\n</html>\n"
    )


def _header(found: RegisterAt) -> str:
    columns = "".join(
        f"<th>{escape(p.code)}<br><small>{escape(p.title)}</small></th>" for p in found.purposes
    )
    return f"<th>Person</th><th>Kind</th>{columns}"


def escape(value: object) -> str:
    """HTML-escaped, hidden characters first shown as their escapes (an RLO, ESC or CR never
    reaches the page raw)."""
    return _html_escape(clean(value))


def coverage_report(ctx: Context, *, unit: str | None = None) -> CoverageReport:
    """Who may be published where today, for everyone in the unit (or everyone)."""
    require(ctx, "audit.read")
    unit_row = unit_by_code(ctx, unit) if unit else None
    with gc_paused():
        found = register_at(ctx, ctx.now, unit_id=unit_row.id if unit_row else None)
        standing = standings(found)
    people = list(found.people)
    rows = {p.id: p for p in ctx.session.scalars(select(Person).where(Person.id.in_(people)))}
    names = {pid: decrypt_name(ctx, rows[pid]) for pid in people}
    allowed = sum(s.allowed for s in standing)
    title = f"Publishing coverage: {unit_row.name if unit_row else 'all units'}"
    meta = (
        f"As of {ctx.now.astimezone(OSLO):%Y-%m-%d %H:%M} (Europe/Oslo): "
        f"{allowed} of {len(standing)} person-purpose pairs may be published."
    )
    html = _page(title, meta, _header(found), _rows(names, found, standing))
    record_query(
        ctx,
        "coverage",
        ids={"unit": unit_row.id if unit_row else None, "subjects": people},
        payload={"purposes": [p.code for p in found.purposes]},
    )
    return CoverageReport(html, len(people), len(found.purposes), allowed)
