"""People, guardianships and protected identities. Names, birth dates, external references and
restriction reasons are stored encrypted; names and references are found by keyed blind index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select

from consentreg.crypto import ERASED
from consentreg.db.models import Guardianship, Person, PersonNameToken, RestrictionEvent, Unit
from consentreg.domain import text
from consentreg.domain.calendar import oslo_day
from consentreg.domain.caption import NAME_KEYS_VERSION, normalise_name
from consentreg.domain.model import PersonKind
from consentreg.errors import (
    DuplicatePersonError,
    InvalidInputError,
    NotFoundError,
    PersonErasedError,
)
from consentreg.i18n import msg
from consentreg.services.access import registrar_scope, require, require_in_scope
from consentreg.services.audit import log as audit_log
from consentreg.services.caption_index import caption_keys, key_rows
from consentreg.services.duplicates import likely_duplicates
from consentreg.services.lookup import by_id
from consentreg.services.row_batch import RowBatch
from consentreg.services.unit_of_work import Context, new_id
from consentreg.services.units import unit_by_code

REF_PREFIX = "ref:"
MAX_NAME = text.NAME


@dataclass(frozen=True)
class GuardianLink:
    person_id: str
    parental_responsibility: bool


@dataclass(frozen=True)
class PersonView:
    id: str
    kind: str
    name: str  # ERASED ("(erased)") once the person is erased
    born: date | None  # None once the person is erased
    unit: str | None
    ref: str | None
    protected: bool
    guardians: list[GuardianLink] = field(default_factory=list)
    children: list[GuardianLink] = field(default_factory=list)
    left_at: datetime | None = None  # `person leave`: the person has left
    erased: bool = False  # `person erase`: name, birth date and reference are unreadable


def _bidx(ctx: Context, value: str, index: str) -> str:
    return ctx.keys.blind_index(value, index=index)


def ref_index(ctx: Context, ref: str) -> str:
    """The keyed blind index of an external reference (unique in `people.ref_bidx`)."""
    return _bidx(ctx, ref.strip(), "people.ref")


def resolve_person(ctx: Context, key: str, *, role: str = "person") -> Person:
    """A person by ID (or a unique prefix of at least six characters), or by external reference
    written `ref:EXTERNAL_ID`."""
    if not key.startswith(REF_PREFIX):
        return by_id(ctx, Person, key, what=role)
    person = (
        ctx.session.scalar(select(Person).where(Person.ref_bidx == ref_index(ctx, key[4:])))
        if text.is_utf8(key)
        else None
    )
    if person is None:
        raise NotFoundError(msg("unknown {role} {key!r}", role=role, key=key))
    return person


def person_ids_by_ref(ctx: Context, refs: list[str]) -> dict[str, str]:
    """Map external references to person IDs (refs that are unknown are left out)."""
    by_bidx = {ref_index(ctx, r): r for r in refs}
    keys, found = list(by_bidx), {}
    for i in range(0, len(keys), 5000):
        rows = ctx.session.execute(
            select(Person.ref_bidx, Person.id).where(Person.ref_bidx.in_(keys[i : i + 5000]))
        )
        found.update({by_bidx[b]: pid for b, pid in rows if b is not None})
    return found


def ref_taken(ctx: Context, refs: list[str]) -> set[str]:
    """Which of these external references already belong to someone."""
    return set(person_ids_by_ref(ctx, refs))


def decrypt_name(ctx: Context, person: Person) -> str:
    return ctx.keys.decrypt(person.name_ct, table="people", column="name", row_id=person.id)


def decrypt_born(ctx: Context, person: Person) -> date | None:
    """The birth date; None once the person is erased."""
    text = ctx.keys.decrypt(person.born_ct, table="people", column="born", row_id=person.id)
    return None if text == ERASED else date.fromisoformat(text)


def owner_key(ctx: Context, person_id: str) -> str | None:
    """The person whose data key a value about `person_id` goes under: the person, when they
    have a key of their own (registered since schema 0016), else None (the register's key).
    Refused for an erased person: nothing new is written about them."""
    state = ctx.keys.person_key_state(person_id)
    if state == "erased":
        raise PersonErasedError(f"person {person_id} is erased: nothing is recorded about them")
    return person_id if state == "own" else None


def check_name(name: str) -> str:
    """A name as stored: white space folded; refused when empty, too long or not one line."""
    name = " ".join(name.split())  # tabs and line breaks become single spaces
    if not name or len(name) > MAX_NAME:
        raise InvalidInputError("--name is empty or longer than 200 characters")
    text.check_line(name, field="--name", limit=MAX_NAME)
    return name


def check_born(ctx: Context, born: date) -> date:
    if born > oslo_day(ctx.now):
        raise InvalidInputError("--born is in the future")
    return born


def check_ref(ref: str | None) -> str | None:
    """An external reference as stored (stripped), None for none."""
    ref = ref.strip() if ref and ref.strip() else None
    if ref:
        text.check_line(ref, field="--ref", limit=text.REF)
    return ref


def check_person(ctx: Context, *, name: str, born: date, kind: str) -> str:
    """Validate a new person's fields; returns the name with white space folded."""
    name = check_name(name)
    if kind not in {k.value for k in PersonKind}:
        raise InvalidInputError(
            msg("--kind must be child, adult or staff, not {kind!r}", kind=kind)
        )
    check_born(ctx, born)
    return name


def name_tokens(ctx: Context, name: str) -> list[str]:
    """The blind index of each word of the name, as the name search looks them up."""
    return sorted({_bidx(ctx, t, "people.name") for t in normalise_name(name).split()})


def stage_person(
    ctx: Context,
    batch: RowBatch,
    *,
    name: str,
    born: date,
    kind: str,
    unit_id: str | None,
    ref: str | None,
) -> str:
    """Stage a checked person (see check_person), its name-word and caption indexes and its
    audit event."""
    pid = new_id()
    # the person's own data key (erasure destroys it): everything about them is under it
    wrapped = ctx.keys.new_person_key(pid)
    enc = ctx.keys.encrypt
    name_ct = enc(name, table="people", column="name", row_id=pid, person=pid)
    born_ct = enc(born.isoformat(), table="people", column="born", row_id=pid, person=pid)
    ref_bidx = ref_index(ctx, ref) if ref else None
    ref_ct = enc(ref, table="people", column="ref", row_id=pid, person=pid) if ref else None
    row = {
        "id": pid,
        "kind": kind,
        "unit_id": unit_id,
        "protected": False,
        "name_ct": name_ct,
        "born_ct": born_ct,
        "ref_ct": ref_ct,
        "ref_bidx": ref_bidx,
        "created_at": ctx.now,
        "created_by": ctx.actor,
        "left_at": None,
        "caption_index": NAME_KEYS_VERSION,
    }
    words = [{"person_id": pid, "token_bidx": token} for token in name_tokens(ctx, name)]
    keys = key_rows(pid, caption_keys(ctx, name))
    person_key = {
        "person_id": pid,
        "wrapped_key": wrapped,
        "created_at": ctx.now,
        "erased_at": None,
        "erased_by": None,
    }
    batch.record(
        "person.add",
        {
            "people": row,
            "person_name_tokens": words,
            "person_caption_keys": keys,
            "person_keys": person_key,
        },
    )
    return pid


def add_person(
    ctx: Context,
    *,
    name: str,
    born: date,
    kind: str = "child",
    unit: str | None = None,
    ref: str | None = None,
    allow_duplicate: bool = False,
) -> str:
    """Register a person; returns the new ID. A person already registered with the same name
    (as the name search compares names) and birth date is refused as a likely duplicate unless
    `allow_duplicate`: the error names that person's ID."""
    name = check_person(ctx, name=name, born=born, kind=kind)
    unit_id = unit_by_code(ctx, unit).id if unit else None
    require(ctx, "person.add", units=[unit_id])
    ref = check_ref(ref)
    if ref and ref_taken(ctx, [ref]):
        raise InvalidInputError("--ref is already used by another person")
    if not allow_duplicate:
        same = likely_duplicates(ctx, [(name, born)]).get(0)
        if same:
            raise DuplicatePersonError(
                msg(
                    "person {same} has the same name and birth date: likely the same person (give --allow-duplicate to register another)",
                    same=same,
                )
            )
    batch = RowBatch(ctx)
    pid = stage_person(ctx, batch, name=name, born=born, kind=kind, unit_id=unit_id, ref=ref)
    batch.flush()
    return pid


def list_people(
    ctx: Context, *, unit: str | None = None, name: str | None = None, include_left: bool = False
) -> list[PersonView]:
    """People, optionally in one unit and/or whose name contains every word of `name`; those
    who have left only with `include_left`. A registrar sees the people of their units and those
    of no unit (guardians)."""
    require(ctx, "read.register")
    query = select(Person)
    if not include_left:
        query = query.where(Person.left_at.is_(None))
    if unit:
        query = query.where(Person.unit_id == unit_by_code(ctx, unit).id)
    words = normalise_name(name).split() if name else []
    if words:
        tokens = {_bidx(ctx, w, "people.name") for w in words}
        matching = (
            select(PersonNameToken.person_id)
            .where(PersonNameToken.token_bidx.in_(tokens))
            .group_by(PersonNameToken.person_id)
            .having(func.count() == len(tokens))
        )
        query = query.where(Person.id.in_(matching))
    scope = registrar_scope(ctx)
    if scope is not None:
        query = query.where(or_(Person.unit_id.is_(None), Person.unit_id.in_(scope)))
    views = [_view(ctx, p) for p in ctx.session.scalars(query)]
    # a truncated blind index can collide: confirm every hit on the decrypted name
    views = [v for v in views if set(words) <= set(normalise_name(v.name).split())]
    return sorted(views, key=lambda v: (normalise_name(v.name), v.id))


def _view(ctx: Context, person: Person, *, links: bool = False) -> PersonView:
    unit = ctx.session.get(Unit, person.unit_id) if person.unit_id else None
    ref = (
        ctx.keys.decrypt(person.ref_ct, table="people", column="ref", row_id=person.id)
        if person.ref_ct
        else None
    )
    born = decrypt_born(ctx, person)
    view = PersonView(
        person.id,
        person.kind,
        decrypt_name(ctx, person),
        born,
        unit.code if unit else None,
        ref,
        person.protected,
        left_at=person.left_at,
        erased=born is None,
    )
    if links:
        for g in active_guardianships(ctx, child_id=person.id):
            view.guardians.append(GuardianLink(g.guardian_id, g.parental_responsibility))
        for g in active_guardianships(ctx, guardian_id=person.id):
            view.children.append(GuardianLink(g.child_id, g.parental_responsibility))
    return view


def show_person(ctx: Context, key: str) -> PersonView:
    require(ctx, "read.register")
    person = resolve_person(ctx, key)
    require_in_scope(ctx, person.unit_id)
    return _view(ctx, person, links=True)


def set_protected(ctx: Context, key: str, *, protected: bool, reason: str) -> str:
    """Restrict (never published) or unrestrict a person; the reason is kept encrypted."""
    if not reason.strip():
        raise InvalidInputError("--reason is empty")
    text.check_text(reason.strip(), field="--reason", limit=text.REASON)
    person = resolve_person(ctx, key)
    require(ctx, "person.restrict" if protected else "person.unrestrict", units=[person.unit_id])
    if person.protected == protected:
        state = "already restricted" if protected else "not restricted"
        raise InvalidInputError(
            msg("person {person_id} is {state}", person_id=person.id, state=state)
        )
    action = "restrict" if protected else "unrestrict"
    eid = new_id()
    event = RestrictionEvent(
        id=eid,
        person_id=person.id,
        action=action,
        at=ctx.now,
        actor=ctx.actor,
        reason_ct=ctx.keys.encrypt(
            reason.strip(),
            table="restriction_events",
            column="reason",
            row_id=eid,
            person=owner_key(ctx, person.id),
        ),
    )
    person.protected = protected
    ctx.session.add(event)
    ctx.session.flush()
    audit_log.record(
        ctx,
        f"person.{action}",
        {"restriction_events": event, "people": {"id": person.id, "protected": protected}},
    )
    return eid


def restricted_at(ctx: Context, at: datetime, *, ids: list[str] | None = None) -> set[str]:
    """Who (of `ids`, or of everyone) was restricted at the instant: each person's last
    restriction event by then says so (events of one instant in id order). The gate asks it for
    a photo's people, the as-of views for a whole register."""
    query = select(RestrictionEvent.person_id, RestrictionEvent.action).where(
        RestrictionEvent.at <= at
    )
    if ids is not None:
        query = query.where(RestrictionEvent.person_id.in_(ids))
    last: dict[str, str] = {}
    for person_id, action in ctx.session.execute(
        query.order_by(RestrictionEvent.at, RestrictionEvent.id)
    ):
        last[person_id] = action
    return {pid for pid, action in last.items() if action == "restrict"}


def active_guardianships(
    ctx: Context, *, child_id: str | None = None, guardian_id: str | None = None
) -> list[Guardianship]:
    query = select(Guardianship).where(Guardianship.removed_at.is_(None))
    if child_id:
        query = query.where(Guardianship.child_id == child_id)
    if guardian_id:
        query = query.where(Guardianship.guardian_id == guardian_id)
    return list(ctx.session.scalars(query.order_by(Guardianship.added_at, Guardianship.id)))


def stage_guardianship(
    ctx: Context,
    batch: RowBatch,
    *,
    child_id: str,
    guardian_id: str,
    parental_responsibility: bool,
    starts_on: date | None = None,
) -> str:
    """Stage a checked guardianship and its audit event."""
    gid = new_id()
    row = {
        "id": gid,
        "child_id": child_id,
        "guardian_id": guardian_id,
        "parental_responsibility": parental_responsibility,
        "added_at": ctx.now,
        "added_by": ctx.actor,
        "removed_at": None,
        "removed_by": None,
        "starts_on": starts_on,
    }
    batch.record("guardian.add", {"guardianships": row})
    return gid


def active_pairs(ctx: Context, person_ids: list[str]) -> set[tuple[str, str]]:
    """(child, guardian) pairs in force that involve any of these people."""
    pairs: set[tuple[str, str]] = set()
    for i in range(0, len(person_ids), 5000):
        chunk = person_ids[i : i + 5000]
        rows = ctx.session.execute(
            select(Guardianship.child_id, Guardianship.guardian_id).where(
                Guardianship.removed_at.is_(None),
                or_(Guardianship.child_id.in_(chunk), Guardianship.guardian_id.in_(chunk)),
            )
        )
        pairs |= {(c, g) for c, g in rows}
    return pairs


def check_guardianship(child_id: str, guardian_id: str, existing: set[tuple[str, str]]) -> None:
    if child_id == guardian_id:
        raise InvalidInputError("a person cannot be their own guardian")
    if (child_id, guardian_id) in existing:
        raise InvalidInputError(
            msg(
                "{guardian_id} is already a guardian of {child_id}",
                guardian_id=guardian_id,
                child_id=child_id,
            )
        )
    if (guardian_id, child_id) in existing:
        raise InvalidInputError(
            msg(
                "{child_id} is registered as a guardian of {guardian_id}",
                child_id=child_id,
                guardian_id=guardian_id,
            )
        )


def guardianship_start(ctx: Context, child: Person, starts_on: date | None) -> date | None:
    """The start to store: None (from birth) unless a later day is given; never before the
    birth. A start on the birth date itself is stored as None, so that the birth date, which is
    encrypted, never lands in clear in `guardianships.starts_on`."""
    if starts_on is None:
        return None
    born = decrypt_born(ctx, child)
    if born is None:
        raise PersonErasedError(f"person {child.id} is erased: nothing is recorded about them")
    if starts_on < born:
        raise InvalidInputError(f"--from is before the birth date of {child.id}")
    return None if starts_on == born else starts_on


def add_guardian(
    ctx: Context,
    *,
    child: str,
    guardian: str,
    parental_responsibility: bool = True,
    starts_on: date | None = None,
) -> str:
    """Link a guardian to a child, with or without parental responsibility, from the child's
    birth or from `starts_on` (a guardianship that began later: a foster placement, an
    adoption); in force until it is removed."""
    child_p = resolve_person(ctx, child, role="child")
    guardian_p = resolve_person(ctx, guardian, role="guardian")
    require(ctx, "guardian.add", units=[child_p.unit_id])
    for linked in (child_p, guardian_p):  # nothing new about an erased person
        owner_key(ctx, linked.id)
    check_guardianship(child_p.id, guardian_p.id, active_pairs(ctx, [child_p.id]))
    start = guardianship_start(ctx, child_p, starts_on)
    batch = RowBatch(ctx)
    gid = stage_guardianship(
        ctx,
        batch,
        child_id=child_p.id,
        guardian_id=guardian_p.id,
        parental_responsibility=parental_responsibility,
        starts_on=start,
    )
    batch.flush()
    return gid


def remove_guardian(ctx: Context, *, child: str, guardian: str) -> str:
    """End a guardianship (kept in history: checks at earlier instants still see it)."""
    child_p = resolve_person(ctx, child, role="child")
    guardian_p = resolve_person(ctx, guardian, role="guardian")
    require(ctx, "guardian.remove", units=[child_p.unit_id])
    links = active_guardianships(ctx, child_id=child_p.id, guardian_id=guardian_p.id)
    if not links:
        raise NotFoundError(
            msg(
                "{guardian_p_id} is not a guardian of {child_p_id}",
                guardian_p_id=guardian_p.id,
                child_p_id=child_p.id,
            )
        )
    link = links[0]
    link.removed_at, link.removed_by = ctx.now, ctx.actor
    ctx.session.flush()
    people = {"child": child_p.id, "guardian": guardian_p.id}
    audit_log.record(ctx, "guardian.remove", {"guardianships": link}, ids=people)
    return link.id
