"""Corrections and leaving, each a new audit event; and the retention report.

A correction (`person correct`) writes the person's new values into `people` and keeps the values
it replaced in an append-only `person_corrections` row, numbered per person. The values at an
instant are therefore those the first correction after it replaced, or the row's own when none
came after: the as-of views (consentreg.services.audit.standing) read them so, and `audit verify`
replays both. The name's blind index words are replaced with the name, so the name search finds
the new name only; a corrected reference is unique like a new one. The gate reads the people
row, so it judges on the current values (a corrected birth date moves the 15th birthday).

Leaving (`person leave`) records the instant in `people.left_at`. It withdraws nothing: the
person's consents, refusals and releases stay, and publishing a photo of them goes through the
gate as before. `person list` leaves them out unless asked; the retention report lists those who
left long ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select

from consentreg.db.models import Person, PersonCorrection, PersonNameToken, Unit
from consentreg.domain.calendar import oslo_day
from consentreg.domain.caption import NAME_KEYS_VERSION
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import registrar_scope, require
from consentreg.services.audit import log as audit_log
from consentreg.services.caption_index import replace_caption_keys
from consentreg.services.people import (
    check_born,
    check_name,
    check_ref,
    decrypt_born,
    decrypt_name,
    name_tokens,
    owner_key,
    person_ids_by_ref,
    ref_index,
    resolve_person,
)
from consentreg.services.unit_of_work import Context, new_id
from consentreg.services.units import unit_by_code

# what `person correct` corrects, in the order `fields` lists them
FIELDS = ("born", "name", "ref", "unit")
DEFAULT_RETENTION_YEARS = 2
MAX_RETENTION_YEARS = 100


@dataclass(frozen=True)
class Correction:
    id: str
    person_id: str
    version: int
    fields: list[str]


@dataclass(frozen=True)
class Departure:
    person_id: str
    left_at: datetime


@dataclass(frozen=True)
class Leaver:
    """A line of the retention report."""

    id: str
    kind: str
    unit: str | None
    left_on: date
    name: str


def _current_ref(ctx: Context, person: Person) -> str | None:
    if person.ref_ct is None:
        return None
    return ctx.keys.decrypt(person.ref_ct, table="people", column="ref", row_id=person.id)


def changes(
    ctx: Context,
    person: Person,
    *,
    name: str | None,
    born: date | None,
    ref: str | None,
    unit: str | None,
) -> dict[str, Any]:
    """The new value of each field given that differs from the person's value now (the unit
    by ID); a value that cannot be stored is refused before anything is compared."""
    name = check_name(name) if name is not None else None
    born = check_born(ctx, born) if born is not None else None
    new_ref = check_ref(ref) if ref is not None else None
    if ref is not None and new_ref is None:
        raise InvalidInputError("--ref is empty")
    unit_id = unit_by_code(ctx, unit).id if unit is not None else None
    changed: dict[str, Any] = {}
    if name is not None and name != decrypt_name(ctx, person):
        changed["name"] = name
    if born is not None and born != decrypt_born(ctx, person):
        changed["born"] = born
    if new_ref is not None and new_ref != _current_ref(ctx, person):
        if person_ids_by_ref(ctx, [new_ref]):
            raise InvalidInputError("--ref is already used by another person")
        changed["ref"] = new_ref
    if unit_id is not None and unit_id != person.unit_id:
        changed["unit"] = unit_id
    return changed


def correct_person(
    ctx: Context,
    key: str,
    *,
    name: str | None = None,
    born: date | None = None,
    ref: str | None = None,
    unit: str | None = None,
) -> Correction:
    """Correct a person's name, birth date, external reference and/or unit, as one event that
    keeps the values replaced. Values equal to the person's own are not corrections; nothing
    left to correct is InvalidInputError."""
    if name is None and born is None and ref is None and unit is None:
        raise InvalidInputError("nothing to correct: give --name, --born, --ref or --unit")
    person = resolve_person(ctx, key)
    moved_to = unit_by_code(ctx, unit).id if unit is not None else None
    require(ctx, "person.correct", units=[person.unit_id, moved_to])
    changed = changes(ctx, person, name=name, born=born, ref=ref, unit=unit)
    if not changed:
        raise InvalidInputError(
            msg(
                "nothing to correct: person {person_id} already has these values",
                person_id=person.id,
            )
        )
    fields = [f for f in FIELDS if f in changed]
    version = 1 + (
        ctx.session.scalar(
            select(func.max(PersonCorrection.version)).where(
                PersonCorrection.person_id == person.id
            )
        )
        or 0
    )
    correction = PersonCorrection(
        id=new_id(),
        person_id=person.id,
        version=version,
        fields=",".join(fields),
        name_ct=person.name_ct if "name" in changed else None,
        born_ct=person.born_ct if "born" in changed else None,
        ref_ct=person.ref_ct if "ref" in changed else None,
        unit_id=person.unit_id if "unit" in changed else None,
        at=ctx.now,
        actor=ctx.actor,
    )
    ctx.session.add(correction)
    removed, added = _apply(ctx, person, changed)
    keys_removed: list[dict[str, str]] = []
    keys_added: list[dict[str, str]] = []
    if "name" in changed:  # the caption index follows the name (R11)
        keys_removed, keys_added = replace_caption_keys(ctx, person.id, changed["name"])
        person.caption_index = NAME_KEYS_VERSION
    ctx.session.flush()
    audit_log.record(
        ctx,
        "person.correct",
        {
            "person_corrections": correction,
            "people": person,
            "old_name_tokens": removed,
            "person_name_tokens": added,
            "old_caption_keys": keys_removed,
            "person_caption_keys": keys_added,
        },
    )
    return Correction(correction.id, person.id, version, fields)


def _apply(
    ctx: Context, person: Person, changed: dict[str, Any]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Write the new values into the person's row (encrypted as `person add` does) and replace
    the name's index words; returns the index rows removed and added."""
    pid = person.id
    owner = owner_key(ctx, pid)  # under the person's own key (refused once erased)

    def enc(value: str, *, table: str, column: str, row_id: str) -> bytes:
        return ctx.keys.encrypt(value, table=table, column=column, row_id=row_id, person=owner)

    if "born" in changed:
        person.born_ct = enc(changed["born"].isoformat(), table="people", column="born", row_id=pid)
    if "ref" in changed:
        person.ref_ct = enc(changed["ref"], table="people", column="ref", row_id=pid)
        person.ref_bidx = ref_index(ctx, changed["ref"])
    if "unit" in changed:
        person.unit_id = changed["unit"]
    if "name" not in changed:
        return [], []
    person.name_ct = enc(changed["name"], table="people", column="name", row_id=pid)
    old = set(
        ctx.session.scalars(
            select(PersonNameToken.token_bidx).where(PersonNameToken.person_id == pid)
        )
    )
    new = set(name_tokens(ctx, changed["name"]))
    removed = [{"person_id": pid, "token_bidx": t} for t in sorted(old - new)]
    added = [{"person_id": pid, "token_bidx": t} for t in sorted(new - old)]
    if removed:
        ctx.session.execute(
            delete(PersonNameToken).where(
                PersonNameToken.person_id == pid,
                PersonNameToken.token_bidx.in_(sorted(old - new)),
            )
        )
    if added:
        ctx.session.execute(insert(PersonNameToken), added)
    return removed, added


def leave_person(ctx: Context, key: str, *, at: datetime | None = None) -> Departure:
    """Record that a person has left, at `at` (default now; never in the future). Nothing is
    withdrawn: consents and releases stay, and the gate judges photos of them as before."""
    person = resolve_person(ctx, key)
    require(ctx, "person.leave", units=[person.unit_id])
    when = at or ctx.now
    if when > ctx.now:
        raise InvalidInputError("--at is in the future")
    if person.left_at is not None:
        raise InvalidInputError(msg("person {person_id} has already left", person_id=person.id))
    person.left_at = when
    ctx.session.flush()
    audit_log.record(ctx, "person.leave", {"people": person})
    return Departure(person.id, when)


def _years_before(instant: datetime, years: int) -> datetime:
    try:
        return instant.replace(year=instant.year - years)
    except ValueError:  # 29 February
        return instant.replace(year=instant.year - years, day=28)


def retention(ctx: Context, *, years: int = DEFAULT_RETENTION_YEARS) -> list[Leaver]:
    """People who left more than `years` years ago, longest gone first."""
    require(ctx, "read.register")
    if not 0 <= years <= MAX_RETENTION_YEARS:
        raise InvalidInputError(
            msg(
                "--years must be between 0 and {MAX_RETENTION_YEARS}",
                MAX_RETENTION_YEARS=MAX_RETENTION_YEARS,
            )
        )
    cutoff = _years_before(ctx.now, years)
    units: dict[str, str] = dict(ctx.session.execute(select(Unit.id, Unit.code)).all())
    query = (
        select(Person)
        .where(Person.left_at.is_not(None), Person.left_at < cutoff)
        .order_by(Person.left_at, Person.id)
    )
    scope = registrar_scope(ctx)
    if scope is not None:
        query = query.where(or_(Person.unit_id.is_(None), Person.unit_id.in_(scope)))
    return [
        Leaver(
            p.id,
            p.kind,
            units.get(p.unit_id) if p.unit_id else None,
            oslo_day(p.left_at),
            decrypt_name(ctx, p),
        )
        for p in ctx.session.scalars(query)
        if p.left_at is not None
    ]
