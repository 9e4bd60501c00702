"""All-or-nothing CSV imports of people, guardianships and consents.

Every row is validated first; any problem aborts the whole import with one message that names
each bad line and column (never the value: it may be personal data). Rows then go through the
same use cases as the single commands, in the caller's one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from consentreg.domain.model import EventKind, Method, PersonKind
from consentreg.errors import ConsentRegError, InvalidInputError
from consentreg.services.consents import EvidenceFile, read_evidence, record_decision
from consentreg.services.context import Context
from consentreg.services.people import add_guardian, add_person, person_ids_by_ref

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
YES, NO = {"yes", "y", "true", "1", "ja"}, {"no", "n", "false", "0", "nei"}


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


class _Problems:
    def __init__(self, name: str) -> None:
        self.name, self.items = name, list[str]()

    def add(self, row: Row, column: str, problem: str) -> None:
        self.items.append(f"line {row.line}, column {column}: {problem}")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_REPORTED]
        more = len(self.items) - len(shown)
        raise InvalidInputError(
            f"{self.name}: nothing imported, {len(self.items)} problem(s):\n  "
            + "\n  ".join(shown)
            + (f"\n  ... and {more} more" if more else "")
        )


def _read_rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise InvalidInputError(f"{path.name} cannot be read as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        raise InvalidInputError(
            f"{path.name}, line 1: expected columns {','.join(required + optional)}"
            + (f"; missing {','.join(missing)}" if missing else "")
            + (f"; unknown {','.join(unknown)}" if unknown else "")
        )
    reader.fieldnames = header
    rows = []
    try:
        for values in reader:
            if None in values:
                raise InvalidInputError(f"{path.name}, line {reader.line_num}: too many fields")
            rows.append(Row(reader.line_num, {k: v or "" for k, v in values.items()}))
    except csv.Error as exc:
        raise InvalidInputError(f"{path.name}, line {reader.line_num}: {exc}") from None
    return rows


def _date(problems: _Problems, row: Row, column: str, *, required: bool) -> date | None:
    text = row.get(column)
    if not text:
        if required:
            problems.add(row, column, "is empty")
        return None
    try:
        if len(text) != 10:  # fromisoformat also takes 20210314; the contract says YYYY-MM-DD
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        problems.add(row, column, "is not a date YYYY-MM-DD")
        return None


def _apply(problems: _Problems, rows: list[Row], action: Callable[[Row], object]) -> int:
    for row in rows:
        try:
            action(row)
        except ConsentRegError as exc:
            problems.items.append(f"line {row.line}: {exc}")
            problems.raise_if_any()
    return len(rows)


def _check_duplicates(problems: _Problems, rows: list[Row], column: str) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        key = row.get(column)
        if key and key in seen:
            problems.add(row, column, f"repeats line {seen[key]}")
        seen.setdefault(key, row.line)


def import_people(ctx: Context, path: Path) -> int:
    """Columns ref,name,born,kind,unit; `ref` is required and unique."""
    rows = _read_rows(path, PEOPLE_COLUMNS[:3], PEOPLE_COLUMNS[3:])
    problems = _Problems(path.name)
    kinds = {k.value for k in PersonKind}
    for row in rows:
        for column in ("ref", "name"):
            if not row.get(column):
                problems.add(row, column, "is empty")
        _date(problems, row, "born", required=True)
        if row.get("kind") and row.get("kind") not in kinds:
            problems.add(row, "kind", "must be child, adult or staff")
    _check_duplicates(problems, rows, "ref")
    problems.raise_if_any()
    return _apply(
        problems,
        rows,
        lambda r: add_person(
            ctx,
            name=r.get("name"),
            born=date.fromisoformat(r.get("born")),
            kind=r.get("kind") or "child",
            unit=r.get("unit") or None,
            ref=r.get("ref"),
        ),
    )


def _resolve_refs(
    ctx: Context, problems: _Problems, rows: list[Row], columns: tuple[str, ...]
) -> dict[str, str]:
    refs = sorted({r.get(c) for r in rows for c in columns if r.get(c)})
    ids = person_ids_by_ref(ctx, refs)
    for row in rows:
        for column in columns:
            if not row.get(column):
                problems.add(row, column, "is empty")
            elif row.get(column) not in ids:
                problems.add(row, column, "no person has this ref")
    return ids


def import_guardians(ctx: Context, path: Path) -> int:
    """Columns child_ref,guardian_ref,parental_responsibility (yes|no, default yes)."""
    rows = _read_rows(path, GUARDIAN_COLUMNS[:2], GUARDIAN_COLUMNS[2:])
    problems = _Problems(path.name)
    ids = _resolve_refs(ctx, problems, rows, ("child_ref", "guardian_ref"))
    for row in rows:
        if row.get("parental_responsibility").lower() not in YES | NO | {""}:
            problems.add(row, "parental_responsibility", "must be yes or no")
    problems.raise_if_any()
    return _apply(
        problems,
        rows,
        lambda r: add_guardian(
            ctx,
            child=ids[r.get("child_ref")],
            guardian=ids[r.get("guardian_ref")],
            parental_responsibility=r.get("parental_responsibility").lower() not in NO,
        ),
    )


def _evidence(problems: _Problems, row: Row, base: Path) -> EvidenceFile | None:
    if not row.get("evidence"):
        return None
    try:
        return read_evidence(base / row.get("evidence"))
    except InvalidInputError:
        problems.add(row, "evidence", "file does not exist or cannot be read")
        return None


def import_consents(ctx: Context, path: Path) -> int:
    """Columns subject_ref,purpose,by_ref,decision,method,given,until,evidence (grant|refusal;
    evidence is a path relative to the CSV file's folder)."""
    rows = _read_rows(path, CONSENT_COLUMNS[:4], CONSENT_COLUMNS[4:])
    problems = _Problems(path.name)
    ids = _resolve_refs(ctx, problems, rows, ("subject_ref", "by_ref"))
    methods = {m.value for m in Method}
    evidence: dict[int, EvidenceFile | None] = {}
    for row in rows:
        if row.get("decision") not in ("grant", "refusal"):
            problems.add(row, "decision", "must be grant or refusal")
        if row.get("method") and row.get("method") not in methods:
            problems.add(row, "method", "must be paper, email, digital or in-person")
        _date(problems, row, "given", required=False)
        _date(problems, row, "until", required=False)
        evidence[row.line] = _evidence(problems, row, path.parent)
    problems.raise_if_any()

    def record(r: Row) -> str:
        return record_decision(
            ctx,
            subject=ids[r.get("subject_ref")],
            purpose=r.get("purpose"),
            by=ids[r.get("by_ref")],
            kind=EventKind(r.get("decision")),
            method=r.get("method") or "paper",
            given=date.fromisoformat(r.get("given")) if r.get("given") else None,
            until=date.fromisoformat(r.get("until")) if r.get("until") else None,
            evidence=evidence[r.line],
        )

    return _apply(problems, rows, record)
