"""`report coverage`: one printable, self-contained page in bokmål for a unit's leader, showing
for each subject in the unit and its sub-units (each unit a heading of its own) and each
purpose whether publishing is allowed now and, if not, why, in words
(consentreg.domain.reason_texts, the texts the web application shows too).

Rows are subjects only: children, pupils, staff and other people registered in a unit; a guardian
is never a row (an adult who is someone's guardian, unless registered as staff). With the whole
register, subjects registered without a unit come last under a heading of their own.

It uses names: it is the leader's own working view, not something to share. Every text is
escaped with html.escape after `display.clean` (control and bidi characters shown as escapes);
the page has inline CSS only (print rules for A4 included) and a Content-Security-Policy that
forbids loading anything, so opening it makes no network request. Answers come from the register
as it stands now, judged by the gate's rules (audit/standing.py); the report is itself recorded
as an `audit.query` event (view `coverage`) with the IDs of the people it showed. The same answer
is given to machines with reason codes and IDs, never names (`CoverageReport.document`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape as _html_escape
from typing import Any

from sqlalchemy import select

from consentreg.db.models import Guardianship, Unit
from consentreg.display import clean
from consentreg.domain.calendar import OSLO
from consentreg.domain.reason_texts import REASONS, reason_text
from consentreg.memory import gc_paused
from consentreg.services.access import require
from consentreg.services.access_report import KIND
from consentreg.services.audit.events import record_query
from consentreg.services.audit.standing import PurposeAt, Standing, register_at, standings
from consentreg.services.guardianships import in_force_at
from consentreg.services.names import names_by_id
from consentreg.services.unit_of_work import Context
from consentreg.services.units import unit_by_code

# English, for `person show` (the command line's own language)
EXPLAINED = {code: text.en for code, text in REASONS.items()}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #1a1a1a; line-height: 1.35; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.3em; border-bottom: 1px solid #999; }
p.meta { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin-top: 0.4em; }
th, td { border: 1px solid #aaa; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
thead th { background: #eee; }
td.ok { background: #e3f4e1; color: #1d5e1a; }
td.no { background: #fbe4e2; color: #8a1c12; }
td ul { margin: 0.2em 0 0 1.1em; padding: 0; }
small { color: #444; font-weight: normal; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  td.ok, td.no, thead th { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""

NO_UNIT = "Uten enhet"


@dataclass(frozen=True)
class SubjectRow:
    person_id: str
    name: str
    kind: str
    standings: list[Standing]  # one per purpose, in the purposes' order


@dataclass(frozen=True)
class UnitSection:
    code: str | None  # None: subjects registered without a unit
    title: str  # the unit's name with its parents' ("Solsikken › Blå gruppe")
    rows: list[SubjectRow]


@dataclass(frozen=True)
class CoverageReport:
    html: str
    people: int
    purposes: int
    allowed: int
    at: datetime
    sections: list[UnitSection]
    purpose_codes: list[str]

    def document(self) -> dict[str, Any]:
        """The answer for machines: IDs and reason codes, no names."""
        return {
            "at": self.at.isoformat(),
            "purpose_codes": self.purpose_codes,
            "units": [
                {
                    "unit": section.code,
                    "subjects": [
                        {
                            "id": row.person_id,
                            "kind": row.kind,
                            "standing": [
                                {"purpose": s.purpose, "allowed": s.allowed, "reasons": s.reasons}
                                for s in row.standings
                            ],
                        }
                        for row in section.rows
                    ],
                }
                for section in self.sections
            ],
        }


def escape(value: object) -> str:
    """HTML-escaped, hidden characters first shown as their escapes (an RLO, ESC or CR never
    reaches the page raw)."""
    return _html_escape(clean(value))


def coverage_report(ctx: Context, *, unit: str | None = None) -> CoverageReport:
    """Who may be published where now, for every subject in the unit and its sub-units (or in
    the whole register), unit by unit."""
    require(ctx, "audit.read")
    unit_row = unit_by_code(ctx, unit) if unit else None
    tree = _units(ctx, unit_row)
    guardians = set(
        ctx.session.scalars(select(Guardianship.guardian_id).where(in_force_at(ctx.now)))
    )
    with gc_paused():
        if unit_row is None:
            found = register_at(ctx, ctx.now)
            people, purposes = found.people, found.purposes
            judged = standings(found)
        else:
            people, judged = {}, []
            for uid, _code, _title in tree:
                part = register_at(ctx, ctx.now, unit_id=uid)
                people.update(part.people)
                judged += standings(part)
                purposes = part.purposes
    subjects = {
        pid: p
        for pid, p in people.items()
        if (p.kind != "adult" or pid not in guardians) and (p.unit or p.kind != "adult")
    }
    by_person: dict[str, list[Standing]] = {}
    for one in judged:
        if one.subject_id in subjects:
            by_person.setdefault(one.subject_id, []).append(one)
    names = names_by_id(ctx, sorted(subjects))
    sections = [
        UnitSection(code, title, _rows(subjects, by_person, names, code))
        for _uid, code, title in tree
    ]
    if unit_row is None:
        sections.append(UnitSection(None, NO_UNIT, _rows(subjects, by_person, names, None)))
        sections = [s for s in sections if s.rows or s.code is not None]
    allowed = sum(s.allowed for row in by_person.values() for s in row)
    shown = [row.person_id for section in sections for row in section.rows]
    heading = unit_row.name if unit_row else "alle enheter"
    html = _page(heading, ctx.now, purposes, sections, allowed, sum(map(len, by_person.values())))
    record_query(
        ctx,
        "coverage",
        ids={"unit": unit_row.id if unit_row else None, "subjects": sorted(shown)},
        payload={"purposes": [p.code for p in purposes]},
    )
    return CoverageReport(
        html, len(shown), len(purposes), allowed, ctx.now, sections, [p.code for p in purposes]
    )


def _units(ctx: Context, top: Unit | None) -> list[tuple[str, str, str]]:
    """(id, code, title) of the unit and its sub-units (or of every unit), parents first,
    siblings by code; a title names the unit's parents too."""
    rows = ctx.session.execute(select(Unit.id, Unit.code, Unit.name, Unit.parent_id)).all()
    children: dict[str | None, list[tuple[str, str, str]]] = {}
    for uid, code, name, parent in sorted(rows, key=lambda r: r[1]):
        children.setdefault(parent, []).append((uid, code, name))
    ordered: list[tuple[str, str, str]] = []

    def walk(parent: str | None, prefix: str) -> None:
        for uid, code, name in children.get(parent, []):
            title = f"{prefix} › {name}" if prefix else name
            ordered.append((uid, code, title))
            walk(uid, title)

    if top is None:
        walk(None, "")
    else:
        ordered.append((top.id, top.code, top.name))
        walk(top.id, top.name)
    return ordered


def _rows(
    subjects: dict[str, Any],
    by_person: dict[str, list[Standing]],
    names: dict[str, str],
    code: str | None,
) -> list[SubjectRow]:
    here = [pid for pid, p in subjects.items() if p.unit == code]
    return [
        SubjectRow(pid, names[pid], subjects[pid].kind, by_person.get(pid, []))
        for pid in sorted(here, key=lambda p: (names[p].casefold(), p))
    ]


def _cell(standing: Standing) -> str:
    if standing.allowed:
        return '<td class="ok">&#10003; Kan publiseres</td>'
    reasons = "".join(
        f'<li data-code="{escape(code)}">{escape(reason_text(code))}</li>'
        for code in standing.reasons
    )
    return f'<td class="no">&#10007; Kan ikke publiseres<ul>{reasons}</ul></td>'


def _section(section: UnitSection, header: str) -> str:
    code = f" <small>({escape(section.code)})</small>" if section.code else ""
    title = f"<h2>{escape(section.title)}{code}</h2>"
    if not section.rows:
        return f"<section>{title}<p>Ingen er registrert i denne enheten.</p></section>"
    rows = "\n".join(
        f'<tr><th scope="row">{escape(row.name)}</th>'
        f"<td>{escape(KIND.get(row.kind, row.kind))}</td>"
        + "".join(_cell(s) for s in row.standings)
        + "</tr>"
        for row in section.rows
    )
    return (
        f"<section>{title}\n<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{rows}\n"
        "</tbody>\n</table></section>"
    )


def _page(
    heading: str,
    at: datetime,
    purposes: list[PurposeAt],
    sections: list[UnitSection],
    allowed: int,
    pairs: int,
) -> str:
    title = f"Publiseringsoversikt: {heading}"
    when = at.astimezone(OSLO)
    meta = (
        f"Per {when:%d.%m.%Y} kl. {when:%H:%M} (norsk tid): {allowed} av {pairs} kombinasjoner "
        "av person og formål kan publiseres. Foresatte er ikke med som rader. Siden viser navn: "
        "den er til bruk i enheten og skal ikke deles."
    )
    columns = "".join(
        f"<th>{escape(p.title)}<br><small>{escape(p.code)}</small></th>" for p in purposes
    )
    header = f'<th scope="col">Navn</th><th scope="col">Type</th>{columns}'
    body = "\n".join(_section(s, header) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<h1>{escape(title)}</h1>\n<p class="meta">{escape(meta)}</p>\n{body}\n</body>\n</html>\n'
    )
