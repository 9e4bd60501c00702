"""All-or-nothing CSV imports of people, guardianships and consents.

Every row is validated first; any problem aborts the whole import with one message that names
each bad line and column (never the value: it may be personal data). Rows then go through the
same use cases as the single commands, in the caller's one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from consentreg.db.models import Person, Purpose, Unit
from consentreg.domain.calendar import start_of_day
from consentreg.domain.caption import normalise_name
from consentreg.domain.model import EventKind, Method, PersonKind
from consentreg.domain.text import NAME, REF, line_problem
from consentreg.errors import ConsentRegError, InvalidInputError
from consentreg.i18n import Message, joined, msg
from consentreg.services import csv_input
from consentreg.services.access import require
from consentreg.services.consents import (
    NewEvent,
    check_consenter,
    check_decision,
    next_seq,
    stage_event,
)
from consentreg.services.duplicates import likely_duplicates
from consentreg.services.evidence import EvidenceFile, evidence_or_problem
from consentreg.services.people import (
    active_pairs,
    check_guardianship,
    check_person,
    person_ids_by_ref,
    ref_taken,
    stage_guardianship,
    stage_person,
)
from consentreg.services.purposes import notice_timeline, version_at
from consentreg.services.row_batch import RowBatch
from consentreg.services.unit_of_work import Context

PEOPLE_COLUMNS = ("ref", "name", "born", "kind", "unit")
GUARDIAN_COLUMNS = ("child_ref", "guardian_ref", "parental_responsibility")
CONSENT_COLUMNS = (
    "subject_ref",
    "purpose",
    "by_ref",
    "decision",
    "method",
    "given",
    "until",
    "evidence",
)
MAX_REPORTED = 25
KINDS = {"", *(k.value for k in PersonKind)}
YES, NO = {"yes", "y", "true", "1", "ja"}, {"no", "n", "false", "0", "nei"}


class Row(dict[str, str]):
    """One CSV line: every column the import knows, stripped of surrounding blanks when read
    ("" for an optional column the file leaves out), and its line number. A dict itself, so
    `row[column]` is the dict's own look-up: an import of a million lines makes tens of
    millions of them."""

    __slots__ = ("line",)

    def __init__(self, line: int, values: dict[str, str]) -> None:
        super().__init__(values)
        self.line = line


class _Problems:
    def __init__(self, name: str) -> None:
        self.name, self.items = name, list[str]()

    def add(self, row: Row, column: str, problem: str) -> None:
        problem = problem if isinstance(problem, Message) else msg(problem)
        self.items.append(
            msg(
                "line {line}, column {column}: {problem}",
                line=row.line,
                column=column,
                problem=problem,
            )
        )

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_REPORTED]
        more = len(self.items) - len(shown)
        items = [*shown, msg("... and {more} more", more=more)] if more else shown
        raise InvalidInputError(
            msg(
                "{name}: nothing imported, {count} problem(s):\n  {problems}",
                name=self.name,
                count=len(self.items),
                problems=joined("\n  ", items),
            )
        )


# bokmål values a spreadsheet may hold -> the import's own
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "kind": {"barn": "child", "elev": "child", "voksen": "adult", "ansatt": "staff"},
    "decision": {
        "samtykke": "grant",
        "ja": "grant",
        "nei": "refusal",
        "reservasjon": "refusal",
        "nekter": "refusal",
        "avslag": "refusal",
    },
    "method": {
        "papir": "paper",
        "skjema": "paper",
        "e-post": "email",
        "epost": "email",
        "digitalt": "digital",
        "personlig": "in-person",
        "muntlig": "in-person",
    },
}


def template_headings(kind: str) -> list[str]:
    """The bokmål column headings of an import (`import template`)."""
    if kind not in csv_input.TEMPLATE_HEADINGS:
        raise InvalidInputError(
            msg("template must be people, guardians or consents, not {kind!r}", kind=kind)
        )
    return list(csv_input.TEMPLATE_HEADINGS[kind])


def _read_rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Row]:
    """The file's rows by the import's column names (csv_input: Excel's separators, encodings
    and bokmål headings are read too)."""
    text = csv_input.read_text(path)
    lines = _Lines(io.StringIO(text, newline=""))
    reader = csv.DictReader(lines, delimiter=csv_input.dialect_for(text))
    written = [h.strip() for h in reader.fieldnames or []]
    header = [
        csv_input.ALIASES.get(csv_input.column_key(h), csv_input.column_key(h)) for h in written
    ]
    missing = [c for c in required if c not in header]
    unknown = [w for w, c in zip(written, header, strict=True) if c not in required + optional]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or repeated:
        said: list[str] = [
            msg(
                "{file}, line 1: expected columns {columns}",
                file=path.name,
                columns=",".join(required + optional),
            )
        ]
        said += [msg("missing {columns}", columns=",".join(missing))] if missing else []
        said += [msg("unknown {columns}", columns=",".join(unknown))] if unknown else []
        said += [msg("repeated {columns}", columns=",".join(repeated))] if repeated else []
        raise InvalidInputError(joined("; ", said))
    reader.fieldnames = header
    absent = dict.fromkeys(required + optional, "")
    aliases = {c: VALUE_ALIASES[c] for c in header if c in VALUE_ALIASES}
    rows = []
    try:
        for values in reader:
            if None in values:
                raise InvalidInputError(
                    msg(
                        "{path_name}, line {reader_line_num}: too many fields",
                        path_name=path.name,
                        reader_line_num=reader.line_num,
                    )
                )
            found = {k: (v or "").strip() for k, v in values.items()}
            for column, table in aliases.items():
                found[column] = table.get(found[column].casefold(), found[column])
            rows.append(Row(reader.line_num, {**absent, **found}))
    except csv.Error as exc:
        # the line the parser was reading: its own line_num still counts the record before
        raise InvalidInputError(
            msg(
                "{path_name}, line {lines_read}: {exc}",
                path_name=path.name,
                lines_read=lines.read,
                exc=exc,
            )
        ) from None
    return rows


class _Lines:
    """The file's lines as the CSV parser takes them, counted: when the parser fails inside a
    line, `read` is that line's number."""

    def __init__(self, source: io.StringIO) -> None:
        self.source, self.read = source, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.source)
        self.read += 1
        return line


def _text_problem(value: str, limit: int) -> str | None:
    """What is wrong with a one-line text column (white space folded, as stored), or None."""
    if len(value) <= limit and value.isprintable():  # nearly every value: nothing to fold
        return None
    return line_problem(" ".join(value.split()), limit=limit)


def _date(problems: _Problems, row: Row, column: str, *, required: bool) -> date | None:
    text = row[column]
    if not text:
        if required:
            problems.add(row, column, "is empty")
        return None
    try:
        return csv_input.parse_date(text)
    except ValueError:
        problems.add(row, column, "is not a date YYYY-MM-DD or dd.mm.yyyy")
        return None


def _check_duplicates(problems: _Problems, rows: list[Row], column: str) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        key = row[column]
        if key and key in seen:
            problems.add(row, column, msg("repeats line {line}", line=seen[key]))
        seen.setdefault(key, row.line)


def _row_error(problems: _Problems, row: Row, exc: ConsentRegError) -> None:
    """A use case's own check refused this row."""
    problems.items.append(
        msg("line {line}: {problem}", line=row.line, problem=exc.args[0] if exc.args else str(exc))
    )


def import_people(ctx: Context, path: Path, *, allow_duplicates: bool = False) -> int:
    """Columns ref,name,born,kind,unit; `ref` is required and unique. A row with the same name
    and birth date as a registered person, or as an earlier row, is a likely duplicate: a
    problem of its own unless `allow_duplicates`."""
    rows = _read_rows(path, PEOPLE_COLUMNS[:3], PEOPLE_COLUMNS[3:])
    problems = _Problems(path.name)
    units = {u.code: u.id for u in ctx.session.scalars(select(Unit))}
    require(ctx, "person.add", units=[units.get(r["unit"]) for r in rows])
    taken = ref_taken(ctx, [r["ref"] for r in rows if r["ref"]])
    checked: list[tuple[Row, str, date]] = []
    for row in rows:
        born = _date(problems, row, "born", required=True)
        for column, limit in (("ref", REF), ("name", NAME)):
            problem = "is empty" if not row[column] else _text_problem(row[column], limit)
            if problem:
                problems.add(row, column, problem)
                row[column] = ""  # reported once: the checks below skip it
        if row["ref"] and row["ref"] in taken:
            problems.add(row, "ref", "is already used by another person")
        if row["unit"] and row["unit"] not in units:
            problems.add(row, "unit", "no unit has this code")
        if row["kind"] not in KINDS:
            problems.add(row, "kind", "must be child, adult or staff")
            continue
        if born is None or not row["name"]:
            continue
        try:
            name = check_person(ctx, name=row["name"], born=born, kind=row["kind"] or "child")
        except ConsentRegError as exc:
            _row_error(problems, row, exc)
            continue
        checked.append((row, name, born))
    _check_duplicates(problems, rows, "ref")
    if not allow_duplicates:
        _check_same_people(ctx, problems, checked)
    problems.raise_if_any()
    with RowBatch(ctx, overlapped=True) as batch:
        for row, name, born in checked:
            stage_person(
                ctx,
                batch,
                name=name,
                born=born,
                kind=row["kind"] or "child",
                unit_id=units.get(row["unit"]),
                ref=row["ref"],
            )
            batch.maybe_flush()
    return len(rows)


def _check_same_people(
    ctx: Context, problems: _Problems, checked: list[tuple[Row, str, date]]
) -> None:
    """Rows with the same name and birth date as a registered person or an earlier row."""
    registered = likely_duplicates(ctx, [(name, born) for _, name, born in checked])
    seen: dict[tuple[str, date], int] = {}
    for i, (row, name, born) in enumerate(checked):
        key = (normalise_name(name), born)
        if i in registered:
            problems.add(
                row,
                "name",
                msg("same name and birth date as person {id} (a duplicate?)", id=registered[i]),
            )
        elif key in seen:
            problems.add(
                row,
                "name",
                msg("same name and birth date as line {line} (a duplicate?)", line=seen[key]),
            )
        seen.setdefault(key, row.line)


def _resolve_refs(
    ctx: Context, problems: _Problems, rows: list[Row], columns: tuple[str, ...]
) -> dict[str, str]:
    refs = sorted({r[c] for r in rows for c in columns if r[c]})
    ids = person_ids_by_ref(ctx, refs)
    for row in rows:
        for column in columns:
            if not row[column]:
                problems.add(row, column, "is empty")
            elif row[column] not in ids:
                problems.add(row, column, "no person has this ref")
    return ids


def _units_of(ctx: Context, person_ids: Iterable[str]) -> set[str | None]:
    """The units of these people (for a registrar's scope)."""
    wanted = sorted(set(person_ids))
    found: set[str | None] = set()
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        found |= set(ctx.session.scalars(select(Person.unit_id).where(Person.id.in_(chunk))))
    return found


def import_guardians(ctx: Context, path: Path) -> int:
    """Columns child_ref,guardian_ref,parental_responsibility (yes|no, default yes)."""
    rows = _read_rows(path, GUARDIAN_COLUMNS[:2], GUARDIAN_COLUMNS[2:])
    problems = _Problems(path.name)
    ids = _resolve_refs(ctx, problems, rows, ("child_ref", "guardian_ref"))
    require(ctx, "guardian.add", units=_units_of(ctx, ids.values()))
    pairs = active_pairs(ctx, sorted(set(ids.values())))
    links: list[tuple[str, str, bool]] = []
    for row in rows:
        responsibility = row["parental_responsibility"].lower()
        if responsibility not in YES | NO | {""}:
            problems.add(row, "parental_responsibility", "must be yes or no")
        child, guardian = ids.get(row["child_ref"]), ids.get(row["guardian_ref"])
        if not (child and guardian):
            continue
        try:
            check_guardianship(child, guardian, pairs)
        except ConsentRegError as exc:
            _row_error(problems, row, exc)
            continue
        pairs.add((child, guardian))  # a repeated line is a duplicate, too
        links.append((child, guardian, responsibility not in NO))
    problems.raise_if_any()
    with RowBatch(ctx, overlapped=True) as batch:
        for child, guardian, responsible in links:
            stage_guardianship(
                ctx,
                batch,
                child_id=child,
                guardian_id=guardian,
                parental_responsibility=responsible,
            )
            batch.maybe_flush()
    return len(rows)


def _evidence(problems: _Problems, row: Row, base: Path) -> EvidenceFile | None:
    if not row["evidence"]:
        return None
    found = evidence_or_problem(base / row["evidence"])
    if isinstance(found, str):
        problems.add(row, "evidence", msg("file {problem}", problem=found))
        return None
    return found


def _guardians_of(ctx: Context, subject_ids: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for child, guardian in active_pairs(ctx, subject_ids):
        found.setdefault(child, set()).add(guardian)
    return found


class _Consents:
    """Everything one consents import looks up once: purposes, guardians, notice versions."""

    def __init__(self, ctx: Context, rows: list[Row], ids: dict[str, str]) -> None:
        self.ctx = ctx
        self.purposes = {p.code: p for p in ctx.session.scalars(select(Purpose))}
        subjects = sorted({ids[r["subject_ref"]] for r in rows if r["subject_ref"] in ids})
        self.guardians = _guardians_of(ctx, subjects)
        self.timelines = {p.id: notice_timeline(ctx, p.id) for p in self.purposes.values()}
        self._versions: dict[tuple[str, datetime], int] = {}

    def _version_at(self, purpose_id: str, at: datetime) -> int:
        """The notice version in force, found once per purpose and instant (rows share them)."""
        key = (purpose_id, at)
        if key not in self._versions:
            self._versions[key] = version_at(self.timelines[purpose_id], at)
        return self._versions[key]

    def check(
        self, row: Row, subject: str, consenter: str, evidence: EvidenceFile | None
    ) -> NewEvent:
        purpose = self.purposes.get(row["purpose"])
        if purpose is None:
            raise InvalidInputError("column purpose: no purpose has this code")
        kind = EventKind(row["decision"])
        given, valid_from, valid_until = check_decision(
            self.ctx,
            purpose,
            kind=kind,
            method=row["method"] or "paper",
            given=_iso(row["given"]),
            until=_iso(row["until"]),
        )
        check_consenter(subject, consenter, self.guardians.get(subject, set()))
        # a form's day: its start in Oslo; no day given: the instant it is recorded
        effective_at = start_of_day(given) if row["given"] else self.ctx.now
        return NewEvent(
            subject_id=subject,
            purpose_id=purpose.id,
            consenter_id=consenter,
            kind=kind,
            method=row["method"] or "paper",
            given=given,
            effective_at=effective_at,
            notice_version=self._version_at(purpose.id, self.ctx.now),  # in force when recorded
            valid_from=valid_from,
            valid_until=valid_until,
            evidence=evidence,
        )


@lru_cache(maxsize=4096)  # one date object per text: a million rows share a few hundred dates
def _iso(text: str) -> date | None:
    return csv_input.parse_date(text) if text else None


def import_consents(ctx: Context, path: Path) -> int:
    """Columns subject_ref,purpose,by_ref,decision,method,given,until,evidence (grant|refusal;
    evidence is a path relative to the CSV file's folder)."""
    rows = _read_rows(path, CONSENT_COLUMNS[:4], CONSENT_COLUMNS[4:])
    problems = _Problems(path.name)
    ids = _resolve_refs(ctx, problems, rows, ("subject_ref", "by_ref"))
    require(ctx, "consent.grant", units=_units_of(ctx, ids.values()))
    lookups = _Consents(ctx, rows, ids)
    methods, folder = {m.value for m in Method}, path.parent
    events: list[NewEvent] = []
    for row in rows:
        if row["decision"] not in ("grant", "refusal"):
            problems.add(row, "decision", "must be grant or refusal")
        if row["method"] and row["method"] not in methods:
            problems.add(row, "method", "must be paper, email, digital or in-person")
        dates_ok = all(
            _date(problems, row, c, required=False) or not row[c] for c in ("given", "until")
        )
        evidence = _evidence(problems, row, folder)
        subject, consenter = ids.get(row["subject_ref"]), ids.get(row["by_ref"])
        if not (subject and consenter and dates_ok) or row["decision"] not in (
            "grant",
            "refusal",
        ):
            continue
        try:
            events.append(lookups.check(row, subject, consenter, evidence))
        except ConsentRegError as exc:
            _row_error(problems, row, exc)
    problems.raise_if_any()
    # the whole import holds the writer lock: no publication can interleave with it
    seq = next_seq(ctx)
    with RowBatch(ctx, overlapped=True) as batch:
        for offset, event in enumerate(events):
            stage_event(ctx, batch, event, seq=seq + offset)
            batch.maybe_flush()
    return len(rows)
