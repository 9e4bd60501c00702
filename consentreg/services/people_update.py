"""`import people --update`: a corrected file of people imported as corrections.

Each row names a registered person by `ref`; the fields that differ from the person's values
now (name, birth date, unit) are corrected through `correct_person` (consentreg.services.
corrections), one `person.correct` event per person, the replaced values kept as for `person
correct`. Rows equal to the register are left alone. An empty `unit` or `kind` cell leaves that
field as it is; the kind cannot be corrected. Like every import it is all or nothing: every row
is checked first, and any problem (a ref no person has, a date in neither format, a unit no one
has) aborts the whole file with one message naming each line and column, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from consentreg.db.models import Person, Unit
from consentreg.domain.text import NAME, REF
from consentreg.errors import ConsentRegError
from consentreg.services.access import require
from consentreg.services.corrections import FIELDS, changes, correct_person
from consentreg.services.imports import (
    KINDS,
    PEOPLE_COLUMNS,
    Row,
    _check_duplicates,
    _date,
    _Problems,
    _read_rows,
    _row_error,
    _text_problem,
)
from consentreg.services.people import person_ids_by_ref
from consentreg.services.unit_of_work import Context


@dataclass(frozen=True)
class RowChange:
    """A row that corrects its person: the line, the ref, the person and the fields corrected
    (never the values: the answer may be kept in a shared log)."""

    line: int
    ref: str
    person_id: str
    fields: list[str]


@dataclass(frozen=True)
class PeopleUpdate:
    rows: int  # rows in the file
    changed: list[RowChange]  # in the file's order

    @property
    def unchanged(self) -> int:
        return self.rows - len(self.changed)


def update_people(ctx: Context, path: Path) -> PeopleUpdate:
    """Correct the registered people a file names by `ref` (columns as `import people`): all
    rows checked first, then one correction per person whose values differ."""
    rows = _read_rows(path, PEOPLE_COLUMNS[:3], PEOPLE_COLUMNS[3:])
    problems = _Problems(path.name)
    ids = person_ids_by_ref(ctx, sorted({r["ref"] for r in rows if r["ref"]}))
    people = _people(ctx, sorted(set(ids.values())))
    units = {u.code: u.id for u in ctx.session.scalars(select(Unit))}
    require(
        ctx,
        "person.correct",
        units=[p.unit_id for p in people.values()] + [units.get(r["unit"]) for r in rows],
    )
    planned: list[tuple[Row, Person, dict[str, Any]]] = []
    for row in rows:
        person = _person_of(problems, row, ids, people)
        fields = _checked_fields(problems, row, units)
        if person is None or fields is None:
            continue
        if row["kind"] and row["kind"] != person.kind:
            problems.add(row, "kind", f"cannot be corrected (person {person.id} is {person.kind})")
            continue
        try:
            changed = changes(ctx, person, ref=None, **fields)
        except ConsentRegError as exc:
            _row_error(problems, row, exc)
            continue
        if changed:
            planned.append((row, person, fields))
    _check_duplicates(problems, rows, "ref")
    problems.raise_if_any()
    found = [_correct(ctx, row, person, fields) for row, person, fields in planned]
    return PeopleUpdate(len(rows), found)


def _people(ctx: Context, person_ids: list[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for start in range(0, len(person_ids), 1000):
        chunk = person_ids[start : start + 1000]
        found.update(
            (p.id, p) for p in ctx.session.scalars(select(Person).where(Person.id.in_(chunk)))
        )
    return found


def _person_of(
    problems: _Problems, row: Row, ids: dict[str, str], people: dict[str, Person]
) -> Person | None:
    ref = row["ref"]
    problem = "is empty" if not ref else _text_problem(ref, REF)
    if problem is None and ref not in ids:
        problem = "no person has this ref (--update corrects registered people only)"
    if problem:
        problems.add(row, "ref", problem)
        return None
    return people[ids[ref]]


def _checked_fields(problems: _Problems, row: Row, units: dict[str, str]) -> dict[str, Any] | None:
    """The row's values as `correct_person` takes them, or None when one is unusable (each
    problem reported)."""
    born: date | None = _date(problems, row, "born", required=True)
    name_problem = "is empty" if not row["name"] else _text_problem(row["name"], NAME)
    if name_problem:
        problems.add(row, "name", name_problem)
    if row["unit"] and row["unit"] not in units:
        problems.add(row, "unit", "no unit has this code")
    kind_problem = row["kind"] not in KINDS
    if kind_problem:
        problems.add(row, "kind", "must be child, adult or staff")
    if born is None or name_problem or kind_problem or (row["unit"] and row["unit"] not in units):
        return None
    return {"name": row["name"], "born": born, "unit": row["unit"] or None}


def _correct(ctx: Context, row: Row, person: Person, fields: dict[str, Any]) -> RowChange:
    done = correct_person(ctx, person.id, **fields)
    return RowChange(row.line, row["ref"], person.id, [f for f in FIELDS if f in done.fields])
