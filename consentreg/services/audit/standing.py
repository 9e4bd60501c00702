"""Where each person stands, per purpose, at an instant: the latest decision of each consenter and
whether publishing is allowed, judged by the gate's own rules (consentreg.domain.rules.evaluate
on a photo showing only that person).

The register at the instant is read from its event records: restriction events (`at`),
people, purposes and notice versions (`created_at`), and the corrections of people (`at`): a
person's unit and birth date are read as they are now, with the values corrected since the
instant put back from the corrections that replaced them. Consent, refusal and withdrawal events
and guardianships are read as the gate reads them (docs/rules.md, "What `--at T` asks"): every
decision recorded so far, judged by its effective instant, so a paper form typed in after the
instant counts at it; guardianships (services/guardianships.py) in force at the instant from
their start to their removal, whenever they were entered. These tables are append-only, and `audit verify` proves
that they are exactly what the hash-chained audit log says; a test holds this reading to a
replay of the log at many instants. Reading them with a few indexed queries is what lets `audit
consents` answer for a whole municipality in seconds, where replaying a million events cannot.

Used by `audit consents` (IDs) and `report coverage` (names).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import QueryableAttribute

from consentreg.crypto import ERASED, person_ids_of
from consentreg.db.bulk import read_columns
from consentreg.db.models import (
    ConsentEvent,
    Evidence,
    Guardianship,
    NoticeVersion,
    Person,
    PersonCorrection,
    Purpose,
    Unit,
)
from consentreg.domain import model
from consentreg.domain.calendar import oslo_day
from consentreg.domain.rules import judge_subject, latest_decisions  # R6, R2-R11 as the gate
from consentreg.services.guardianships import guardians_at
from consentreg.services.people import restricted_at
from consentreg.services.unit_of_work import Context

T = TypeVar("T", bound=tuple[Any, ...])


class DecisionView(NamedTuple):
    """One consenter's latest decision in force; `role`: self, guardian, guardian without
    parental responsibility, or other (no longer a guardian)."""

    consent_id: str
    consenter_id: str
    role: str
    kind: str
    effective_at: datetime
    valid_from: date | None
    valid_until: date | None
    notice_version: int
    evidence_sha256: str | None


class Standing(NamedTuple):
    """Named tuples, not frozen dataclasses: a municipality's answer holds a hundred thousand
    standings and twice as many decisions (see consentreg.domain.model)."""

    subject_id: str
    kind: str
    unit: str | None
    purpose: str
    allowed: bool
    reasons: list[str]
    decisions: list[DecisionView]


class PersonAt(NamedTuple):
    """A person as the register knew them at the instant (no name: callers that show names
    decrypt them themselves)."""

    id: str
    kind: str
    unit: str | None  # the unit's code
    protected: bool
    born: date


@dataclass(frozen=True, slots=True)
class PurposeAt:
    id: str
    code: str
    title: str
    rules: model.Purpose  # as the rules see it at the instant


@dataclass(slots=True)
class RegisterAt:
    """The register as it stood at `at`, grouped for look-ups: people by id (sorted), purposes
    (sorted by code), guardianships in force per child, consent events per subject and purpose,
    and each consent event's evidence digest."""

    at: datetime
    people: dict[str, PersonAt]
    purposes: list[PurposeAt]
    guardians: dict[str, tuple[model.Guardian, ...]] = field(default_factory=dict)
    events: dict[tuple[str, str], list[model.ConsentEvent]] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)  # only events that have evidence


IdSlice = tuple[str | None, str | None]  # ids from (inclusive) .. to (exclusive); None: open


def id_slice(part: int, parts: int) -> IdSlice:
    """Slice `part` of `parts` of the people by id. Ids are random hex, so equal ranges of the
    first eight hex digits hold about equal numbers of people; the first and last slices are open
    ended, so together the slices hold every id whatever its form, each exactly once, and in the
    database's own order (slice 0 first)."""
    if not 0 <= part < parts:
        raise ValueError(f"part {part} of {parts}")
    bound = [None] + [f"{(k << 32) // parts:08x}" for k in range(1, parts)] + [None]
    return bound[part], bound[part + 1]


def _in_slice(column: QueryableAttribute[str], ids: IdSlice) -> list[ColumnElement[bool]]:
    low, high = ids
    return ([column >= low] if low is not None else []) + (
        [column < high] if high is not None else []
    )


def register_at(
    ctx: Context,
    at: datetime,
    *,
    unit_id: str | None = None,
    purpose_id: str | None = None,
    ids: IdSlice = (None, None),
    only: Sequence[str] | None = None,
) -> RegisterAt:
    """Everyone in the unit (or everyone), in the slice of ids (or, with `only`, those of these
    people), and every purpose (or one) as of `at`, with what standings are judged on."""
    scope = [Person.created_at <= at, *_in_slice(Person.id, ids)]
    if only is not None:
        scope.append(Person.id.in_(list(only)))
    later = _corrections_after(ctx, at, ids)
    if unit_id is not None:
        here: ColumnElement[bool] = Person.unit_id == unit_id
        if any(c.unit_moved for c in later):
            # in the unit then, elsewhere now: corrected since (filtered by `_people`)
            moved = select(PersonCorrection.person_id).where(
                PersonCorrection.at > at, PersonCorrection.fields.contains("unit")
            )
            here = or_(here, Person.id.in_(moved))
        scope.append(here)
    in_scope = select(Person.id).where(*scope)
    people = _people(ctx, at, scope, later, unit_id)
    purposes = _purposes(ctx, at, purpose_id)
    found = RegisterAt(at, people, purposes)
    # the gate's own reading of guardianships (services/guardianships.py): in force at the
    # instant, whenever they were entered
    if unit_id is not None:
        found.guardians = guardians_at(ctx, at, Guardianship.child_id.in_(in_scope))
    else:
        found.guardians = guardians_at(ctx, at, *_in_slice(Guardianship.child_id, ids))
    _load_events(ctx, found, in_scope if unit_id is not None else None, ids)
    return found


def _columns(ctx: Context, query: Select[*tuple[Any, ...]]) -> list[Sequence[Any]]:
    """Every row at once, column by column, through the session's connection: the values are
    built a column at a time (`map`, `zip`) instead of a row at a time, which costs several times
    more for a hundred thousand rows whose dates and instants repeat; the ORM's result layer is
    built for entities."""
    return read_columns(ctx.session.connection(), query)


# a named tuple from a tuple of its fields, without the Python-level `__new__` that calling the
# class runs: a register's answer builds a few hundred thousand of them
_new = tuple.__new__


def _made(kind: type[T], *columns: Iterable[Any]) -> Iterator[T]:
    """Named tuples of `kind` from its fields' columns, in order, built without a Python call per
    row (so without the class's own check of how many fields it was given: checked here)."""
    fields = getattr(kind, "_fields", ())
    if len(columns) != len(fields):
        raise TypeError(f"{kind.__name__} has {len(fields)} fields, not {len(columns)}")
    return map(_new, repeat(kind), zip(*columns, strict=True))


class LaterCorrection(NamedTuple):
    """A correction recorded after the instant: the values it replaced were those at the
    instant (unless an earlier correction after it replaced them first)."""

    person_id: str
    version: int
    fields: str
    unit_id: str | None
    born_ct: bytes | None

    @property
    def unit_moved(self) -> bool:
        return "unit" in self.fields.split(",")


def _corrections_after(ctx: Context, at: datetime, ids: IdSlice) -> list[LaterCorrection]:
    """Corrections after `at` of the people in the slice, each person's latest first: applied
    in this order, each field ends with the value the first correction after `at` replaced.
    None at all when nothing was corrected since (the usual case: an answer as of now)."""
    query = (
        select(
            PersonCorrection.person_id,
            PersonCorrection.version,
            PersonCorrection.fields,
            PersonCorrection.unit_id,
            PersonCorrection.born_ct,
        )
        .where(PersonCorrection.at > at, *_in_slice(PersonCorrection.person_id, ids))
        .order_by(PersonCorrection.person_id, PersonCorrection.version.desc())
    )
    return [LaterCorrection(*row) for row in ctx.session.execute(query)]


def _people(
    ctx: Context,
    at: datetime,
    scope: list[ColumnElement[bool]],
    later: list[LaterCorrection],
    unit_id: str | None,
) -> dict[str, PersonAt]:
    """Everyone in scope as they were at `at`: the values read now, those corrected since put
    back; with `unit_id`, only those in that unit then."""
    units: dict[str, str] = dict(ctx.session.execute(select(Unit.id, Unit.code)).all())
    restricted = restricted_at(ctx, at)  # as the gate reads it
    ids, kinds, unit_ids, born_cts = _columns(
        ctx,
        select(Person.id, Person.kind, Person.unit_id, Person.born_ct)
        .where(*scope)
        .order_by(Person.id),
    )
    if later:
        ids, kinds, unit_ids, born_cts = _as_they_were(
            later, unit_id, ids, kinds, unit_ids, born_cts
        )
    born = ctx.keys.field_decryptor(table="people", column="born")
    if ctx.keys.persons is not None:  # the people's own keys, fetched a few thousand at a time
        owned = [pid for pid, ct in zip(ids, born_cts, strict=True) if person_ids_of(ct)]
        ctx.keys.persons.prefetch(owned)
    days = map(birth_day, map(born, born_cts, ids))
    unit_codes = map(units.get, unit_ids)  # None: no unit
    people = _made(PersonAt, ids, kinds, unit_codes, map(restricted.__contains__, ids), days)
    return dict(zip(ids, people, strict=True))


def birth_day(text: str) -> date:
    """A decrypted birth date; an erased person's reads as the earliest day (an adult)."""
    return date.min if text == ERASED else date.fromisoformat(text)


def _as_they_were(
    later: list[LaterCorrection],
    unit_id: str | None,
    *columns: Sequence[Any],
) -> list[list[Any]]:
    """The people's columns (id, kind, unit, birth date) with the values corrected after the
    instant put back, and with `unit_id` only the rows in that unit then."""
    ids, kinds, unit_ids, born_cts = (list(c) for c in columns)
    row = {pid: i for i, pid in enumerate(ids)}
    for c in later:
        i = row.get(c.person_id)
        if i is None:
            continue
        fields = c.fields.split(",")
        if "unit" in fields:
            unit_ids[i] = c.unit_id
        if "born" in fields:
            born_cts[i] = c.born_ct
    keep = [i for i in range(len(ids)) if unit_id is None or unit_ids[i] == unit_id]
    return [[column[i] for i in keep] for column in (ids, kinds, unit_ids, born_cts)]


def _purposes(ctx: Context, at: datetime, purpose_id: str | None) -> list[PurposeAt]:
    query = select(Purpose.id, Purpose.code, Purpose.title, Purpose.guardian_policy).where(
        Purpose.created_at <= at
    )
    if purpose_id is not None:
        query = query.where(Purpose.id == purpose_id)
    required: dict[str, int] = {}
    notices = select(NoticeVersion.purpose_id, NoticeVersion.version).where(
        NoticeVersion.requires_new_consent.is_(True), NoticeVersion.created_at <= at
    )
    for pid, version in ctx.session.execute(notices):
        required[pid] = max(required.get(pid, 1), version)
    return [
        PurposeAt(
            pid,
            code,
            title,
            model.Purpose(
                code=code,
                guardian_policy=model.GuardianPolicy(policy),
                min_notice_version=required.get(pid, 1),  # the oldest version still sufficient
            ),
        )
        for pid, code, title, policy in ctx.session.execute(query.order_by(Purpose.code))
    ]


# model.ConsentEvent's fields, in order, as the columns they are read from
_EVENT_FIELDS = {
    "id": ConsentEvent.id,
    "seq": ConsentEvent.seq,
    "subject_id": ConsentEvent.subject_id,
    "purpose": ConsentEvent.purpose_id,  # read as the id, made the code
    "kind": ConsentEvent.kind,  # read as the text, made the EventKind
    "consenter_id": ConsentEvent.consenter_id,
    "effective_at": ConsentEvent.effective_at,
    "notice_version": ConsentEvent.notice_version,
    "valid_from": ConsentEvent.valid_from,
    "valid_until": ConsentEvent.valid_until,
    "withdraws": ConsentEvent.withdraws_id,
}
if tuple(_EVENT_FIELDS) != model.ConsentEvent._fields:  # pragma: no cover - a model change
    raise ImportError("audit_standing reads consent events in another order than their fields")


def _load_events(
    ctx: Context, found: RegisterAt, in_scope: Select[str] | None, ids: IdSlice
) -> None:
    codes = {p.id: p.code for p in found.purposes}
    query = (
        select(*_EVENT_FIELDS.values(), Evidence.sha256)
        .outerjoin(Evidence, Evidence.id == ConsentEvent.evidence_id)
        .where(ConsentEvent.purpose_id.in_(list(codes)))
    )
    if in_scope is not None:
        query = query.where(ConsentEvent.subject_id.in_(in_scope))
    else:
        query = query.where(*_in_slice(ConsentEvent.subject_id, ids))
    *fields, shas = _columns(ctx, query)
    cids, subjects, purpose_ids = fields[0], fields[2], fields[3]
    fields[3] = list(map(codes.__getitem__, purpose_ids))
    fields[4] = list(map(_KINDS.__getitem__, fields[4]))
    events = found.events
    # in no particular order: latest_decisions orders them
    made = _made(model.ConsentEvent, *fields)
    for key, event in zip(zip(subjects, purpose_ids, strict=True), made, strict=True):
        events.setdefault(key, []).append(event)
    found.evidence.update(
        (cid, sha) for cid, sha in zip(cids, shas, strict=True) if sha is not None
    )


_KINDS = {kind.value: kind for kind in model.EventKind}


def _roles(subject: model.Subject) -> dict[str, str]:
    """Each consenter's role towards the subject; anyone else is "other" (no longer a guardian)."""
    roles = {
        g.person_id: "guardian" if g.parental_responsibility else _NOT_RESPONSIBLE
        for g in subject.guardians
    }
    roles[subject.id] = "self"
    return roles


_NOT_RESPONSIBLE = "guardian without parental responsibility"


_KIND_TEXT = {kind: kind.value for kind in model.EventKind}
_CODE_TEXT = {code: code.value for code in model.ReasonCode}


def standings(found: RegisterAt) -> list[Standing]:
    """For each person (by id) and purpose (by code): allowed or not at the instant, why not,
    and who decided what. Each is judged by the gate's rules for a photo showing only them
    (registered, completely tagged, photographer recorded, no caption)."""
    result: list[Standing] = []
    add = result.append
    guardians, events, evidence = found.guardians.get, found.events.get, found.evidence.get
    at, day = found.at, oslo_day(found.at)
    purposes = [(p.id, p.code, p.rules) for p in found.purposes]
    for person in found.people.values():
        pid = person.id
        # no full name: no caption is judged here
        # a Subject from its five fields (id, born, full name, protected, guardians)
        subject = _new(model.Subject, (pid, person.born, "", person.protected, guardians(pid, ())))
        roles: dict[str, str] | None = None  # made for the first decision shown
        for purpose_id, code, rules in purposes:
            latest = latest_decisions(events((pid, purpose_id), ()), code, at)
            blocking, _ = judge_subject(subject, purpose=rules, latest=latest, day=day)
            decisions = []
            if latest:
                role = (roles := roles or _roles(subject)).get
                decisions = [
                    _new(  # a DecisionView
                        DecisionView,
                        (
                            e.id,
                            e.consenter_id,
                            role(e.consenter_id, "other"),
                            _KIND_TEXT[e.kind],
                            e.effective_at,
                            e.valid_from,
                            e.valid_until,
                            e.notice_version,
                            evidence(e.id),
                        ),
                    )
                    # by consenter: the keys are (subject, consenter)
                    for _, e in (sorted(latest.items()) if len(latest) > 1 else latest.items())
                ]
            reasons = (
                list(dict.fromkeys([_CODE_TEXT[r.code] for r in blocking])) if blocking else []
            )
            fields = (pid, person.kind, person.unit, code, not reasons, reasons, decisions)
            add(_new(Standing, fields))
    return result
