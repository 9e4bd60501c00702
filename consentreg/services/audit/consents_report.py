"""`audit consents` as one library call: the answer read in slices of the people (by id) in
parallel, each slice rendered where it was read (table rows, CSV rows or a JSON fragment), joined
here in order. The joined text is exactly what one process reading everything would produce, and
has been cleaned of control characters (consentreg.display) where it was rendered."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from consentreg.display import clean, clean_text, padded, to_json, widths
from consentreg.i18n import N_, gettext
from consentreg.parallel import forked
from consentreg.services.unit_of_work import import_database_stack, unit_of_work

if TYPE_CHECKING:
    from collections.abc import Generator
    from datetime import datetime

    from consentreg.config import Settings
    from consentreg.services.audit.standing import Standing
    from consentreg.services.audit.views import ConsentsQuery
    from consentreg.services.unit_of_work import Context

HEADERS = (N_("SUBJECT"), N_("PURPOSE"), N_("ALLOWED"), N_("REASONS"), N_("DECISIONS"))
# a consenter's role and decision in the table, for people (machine values in CSV and JSON)
ROLES = (N_("self"), N_("guardian"), N_("guardian without parental responsibility"), N_("other"))
STANDING_COLUMNS = ("as_of", "subject", "kind", "unit", "purpose", "allowed", "reasons")
DECISION_COLUMNS = ("consenter", "role", "decision", "consent", "effective_at", "valid_from")
MORE_COLUMNS = ("valid_until", "notice_version", "evidence_sha256")
_JSON_OPEN = '{\n  "standings": [\n'
_JSON_CLOSE = "\n  ]\n}"


def consents_text(
    settings: Settings,
    *,
    purpose: str | None,
    unit: str | None,
    as_of: datetime | None,
    fmt: str,
    jobs: int,
    start_method: str | None = None,
) -> str:
    """The whole answer in `fmt` (table, csv, json), read by `jobs` processes, cleaned of
    control characters.

    Each slice is read and rendered where it is read. A table's columns are as wide as their
    widest cell in any slice, so each helper first answers with the people its slice is about
    and its cells' widths, is told the table's widths, and then answers with its lines; this
    process formats its own lines and records the query meanwhile."""
    from consentreg.memory import gc_paused

    # the collector stays off throughout, here and in the helpers forked here: each process
    # holds hundreds of thousands of objects (standings, rows, answers), and each collection
    # would walk them all. Off from before the services (and SQLAlchemy) are imported, whose
    # import alone would run about 150 collections; back on only once `_answer` has returned
    # and its objects are freed, or the collector's first pass would walk them all.
    with gc_paused():
        return _answer(
            settings, purpose, unit, as_of, fmt, parts=max(1, jobs), start_method=start_method
        )


def _answer(
    settings: Settings,
    purpose: str | None,
    unit: str | None,
    as_of: datetime | None,
    fmt: str,
    *,
    parts: int,
    start_method: str | None,
) -> str:
    from consentreg.services.audit.views import consents_query, record_consents

    if parts > 1:
        import_database_stack(settings)  # once, here, not again in each forked helper
    helpers_at = forked(parts - 1, _helper, start_method=start_method)
    with helpers_at as helpers, unit_of_work(settings) as ctx:
        query = consents_query(ctx, purpose=purpose, unit=unit, as_of=as_of)
        firsts = helpers.run([(settings, query, part, parts, fmt) for part in range(1, parts)])
        subjects, rendered = _part(ctx, query, 0, parts, fmt)
        theirs = firsts()
        table = _widest([_widths(fmt, rendered), *(w for _, w in theirs)])
        lasts = helpers.reply([table] * len(theirs))
        mine = _text(rendered, table)
        record_consents(ctx, query, subjects + [pid for found, _ in theirs for pid in found])
        texts = [mine, *lasts()]
    return _join(fmt, query, table, texts)


def _helper(
    task: tuple[Settings, ConsentsQuery, int, int, str],
) -> Generator[tuple[list[str], list[int] | None], list[int] | None, str]:
    """A slice read and rendered: first the people it is about and its cells' widths; told the
    table's widths, its text."""
    settings, query, part, parts, fmt = task
    with unit_of_work(settings, writer=False) as ctx:
        subjects, rendered = _part(ctx, query, part, parts, fmt)
    table = yield subjects, _widths(fmt, rendered)
    return _text(rendered, table)


def _part(
    ctx: Context, query: ConsentsQuery, part: int, parts: int, fmt: str
) -> tuple[list[str], Any]:
    """One slice read and rendered: the people it is about, and the rendering (the garbage
    collector is off: `consents_text` pauses it before the helpers are forked)."""
    from consentreg.services.audit.views import consents_part, subjects_of

    found = consents_part(ctx, query, part=part, parts=parts)
    return subjects_of(found), _render(fmt, query, found)


def _widths(fmt: str, rendered: Any) -> list[int] | None:
    """A table slice's column widths (headers included); None for CSV and JSON."""
    return widths(_headers(), rendered) if fmt == "table" else None


def _headers() -> tuple[str, ...]:
    """The table's headings in the chosen language."""
    return tuple(gettext(h) for h in HEADERS)


def _widest(found: list[list[int] | None]) -> list[int] | None:
    """The table's widths: the widest of each column's in every slice."""
    return None if found[0] is None else [max(column) for column in zip(*found, strict=True)]


def _text(rendered: Any, table: list[int] | None) -> str:
    """A slice's text: its table lines (padded to the table's widths), or its CSV or JSON."""
    if table is None:
        return str(rendered)
    return "\n".join(padded(table, rendered))


def _render(fmt: str, query: ConsentsQuery, found: list[Standing]) -> Any:
    if fmt == "csv":
        return clean_text(_csv(query.at.isoformat(), found))
    if fmt == "json":
        text = to_json({"standings": [_as_object(s) for s in found]})
        return clean_text(text[len(_JSON_OPEN) : -len(_JSON_CLOSE)]) if found else ""
    return [_clean_row(_row(s)) for s in found]


def _as_object(s: Standing) -> dict[str, Any]:
    """A standing as a JSON object (named tuples would print as arrays)."""
    return {**s._asdict(), "decisions": [d._asdict() for d in s.decisions]}


def _join(fmt: str, query: ConsentsQuery, table: list[int] | None, answers: list[str]) -> str:
    """The slices' texts joined; each was cleaned (control characters) where it was rendered."""
    if fmt == "csv":
        return (
            ",".join(STANDING_COLUMNS + DECISION_COLUMNS + MORE_COLUMNS) + "\n" + "".join(answers)
        )
    if fmt == "json":
        empty = clean_text(
            to_json({"as_of": query.at, "standings": []})
        )  # ends '"standings": []\n}'
        body = ",\n".join(a for a in answers if a)
        return (empty[: -len("[]\n}")] + "[\n" + body + _JSON_CLOSE if body else empty) + "\n"
    if table is None:
        raise ValueError("a table's slices gave no widths")
    return "\n".join([*padded(table, [_headers()]), *(a for a in answers if a)]) + "\n"


def _clean_row(row: tuple[str, ...]) -> tuple[str, ...]:
    """The row's cells cleaned of control characters; one test for a row that has none (ids,
    codes and roles: the common case)."""
    return row if "".join(row).isprintable() else tuple(map(clean, row))


def _row(s: Standing) -> tuple[str, ...]:
    decisions = "; ".join(
        [f"{gettext(d.role)} {d.consenter_id} {gettext(d.kind)}" for d in s.decisions]
    )
    reasons = ",".join(s.reasons) or "-"
    allowed = gettext("yes") if s.allowed else gettext("no")
    return (s.subject_id, s.purpose, allowed, reasons, decisions)


def _csv(as_of: str, found: list[Standing]) -> str:
    """CSV rows, one per consenter's decision (a person nobody decided for gets one row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    undecided = ("",) * (len(DECISION_COLUMNS) + len(MORE_COLUMNS))
    for s in found:
        base = (as_of, s.subject_id, s.kind, s.unit, s.purpose, s.allowed, " ".join(s.reasons))
        if not s.decisions:
            writer.writerow(base + undecided)
        for d in s.decisions:
            writer.writerow(
                (*base, d.consenter_id, d.role, d.kind, d.consent_id, d.effective_at.isoformat())
                + (d.valid_from, d.valid_until, d.notice_version, d.evidence_sha256)
            )
    return buffer.getvalue()
