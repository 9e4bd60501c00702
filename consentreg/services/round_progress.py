"""How far consent rounds (issue #21) have come, child by child: who answers for each child
(DOMAIN.md R3, R4) and whether they have answered, read for many children in a few queries.

Used by the round's own status (services/rounds.py `round_status`) and by a unit's overview
(services/staff.py `unit_overview`), which shows the open rounds over its unit for the people on
its page only. Neither checks access itself: their callers have."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from consentreg.db.models import Guardianship, Person, Purpose, Round, RoundLink, Unit
from consentreg.domain import rounds as rules
from consentreg.domain.calendar import oslo_day
from consentreg.domain.model import PersonKind
from consentreg.services.people import decrypt_born
from consentreg.services.unit_of_work import Context

CHUNK = 5000  # IDs per IN (...) list


@dataclass(frozen=True)
class ChildProgress:
    state: str  # answered, partly answered, not answered (domain/rounds.py child_state)
    recipients: int
    answered: int


def recipients_by_child(ctx: Context, children: Sequence[Person]) -> dict[str, list[str]]:
    """Who answers for each child today: the pupil from 15, otherwise each guardian with
    parental responsibility, in the order added (DOMAIN.md R3, R4); nobody for an erased child."""
    pairs: dict[str, list[tuple[str, bool]]] = {c.id: [] for c in children}
    ids = list(pairs)
    for i in range(0, len(ids), CHUNK):
        rows = ctx.session.execute(
            select(
                Guardianship.child_id,
                Guardianship.guardian_id,
                Guardianship.parental_responsibility,
            )
            .where(Guardianship.removed_at.is_(None), Guardianship.child_id.in_(ids[i : i + CHUNK]))
            .order_by(Guardianship.added_at, Guardianship.id)
        )
        for child_id, guardian_id, responsible in rows:
            pairs[child_id].append((guardian_id, responsible))
    today = oslo_day(ctx.now)
    found: dict[str, list[str]] = {}
    for child in children:
        born = decrypt_born(ctx, child)
        found[child.id] = (
            []
            if born is None  # erased: nobody is asked about them
            else rules.who_answers(
                child_id=child.id, born=born, on=today, guardians=pairs[child.id]
            )
        )
    return found


def child_progress(
    ctx: Context, round_id: str, children: Sequence[Person]
) -> dict[str, ChildProgress]:
    """Each child's progress in a round, by child ID: whether each of its recipients today has
    answered through a link of the round."""
    ids = [c.id for c in children]
    answered: set[tuple[str, str]] = set()
    for i in range(0, len(ids), CHUNK):
        rows = ctx.session.execute(
            select(RoundLink.child_id, RoundLink.recipient_id).where(
                RoundLink.round_id == round_id,
                RoundLink.answered_at.is_not(None),
                RoundLink.child_id.in_(ids[i : i + CHUNK]),
            )
        )
        answered.update((child_id, recipient_id) for child_id, recipient_id in rows)
    found = {}
    for child_id, who in recipients_by_child(ctx, children).items():
        done = [(child_id, rid) in answered for rid in who]
        found[child_id] = ChildProgress(rules.child_state(done), len(who), sum(done))
    return found


@dataclass(frozen=True)
class RoundProgress:
    """An open round over a unit, as far as the people on one page of its overview go."""

    round_id: str
    unit: str  # the round's unit (this one or one above it): code and name
    unit_name: str
    purposes: list[str]  # codes
    ends_on: date
    children: dict[str, ChildProgress] = field(default_factory=dict)  # by person ID

    def count(self, state: str) -> int:
        return sum(1 for c in self.children.values() if c.state == state)


def units_above(ctx: Context, unit_id: str) -> list[str]:
    """The unit and every unit above it, nearest first."""
    parents = dict(ctx.session.execute(select(Unit.id, Unit.parent_id)).all())
    found = [unit_id]
    while (parent := parents.get(found[-1])) is not None and parent not in found:
        found.append(parent)
    return found


def open_rounds_over(ctx: Context, *, unit_id: str, people: Sequence[str]) -> list[RoundProgress]:
    """The rounds open today for a unit or a unit above it (rounds include sub-units), oldest
    first, each with the progress of those of `people` it asks about: the unit's children who
    have not left."""
    today = oslo_day(ctx.now)
    found = ctx.session.execute(
        select(Round, Unit.code, Unit.name)
        .join(Unit, Unit.id == Round.unit_id)
        .where(
            Round.unit_id.in_(units_above(ctx, unit_id)),
            Round.closed_at.is_(None),
            Round.ends_on >= today,
        )
        .order_by(Round.created_at, Round.id)
    ).all()
    if not found:
        return []
    children = list(
        ctx.session.scalars(
            select(Person).where(
                Person.id.in_(list(people)),
                Person.unit_id == unit_id,
                Person.kind == PersonKind.CHILD.value,
                Person.left_at.is_(None),
            )
        )
    )
    return [
        RoundProgress(
            round_.id,
            code,
            name,
            _purpose_codes(ctx, round_),
            round_.ends_on,
            child_progress(ctx, round_.id, children),
        )
        for round_, code, name in found
    ]


def _purpose_codes(ctx: Context, round_: Round) -> list[str]:
    ids: list[str] = json.loads(round_.purpose_ids)
    codes = dict(
        ctx.session.execute(select(Purpose.id, Purpose.code).where(Purpose.id.in_(ids))).all()
    )
    return [codes[i] for i in ids]
