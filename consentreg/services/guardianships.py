"""Who is a child's guardian at an instant: the one reading of guardianships that the gate
(`check`, `publish`), the auditor's views (`audit consents --as-of`, `person show --at`) and the
coverage report share (docs/rules.md, "What --at asks").

A guardianship is in force at an instant T when it has started by T's day in Oslo (`starts_on`;
NULL: from the child's birth, which no instant asked about precedes) and was not removed at or
before T. When it was entered in the register plays no part: a guardianship recorded today that
began years ago counts for a back-dated check, as the consents it is judged with do.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby, islice, repeat
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from consentreg.db.bulk import read_columns
from consentreg.db.models import Guardianship
from consentreg.domain import model
from consentreg.domain.calendar import oslo_day
from consentreg.services.unit_of_work import Context


def in_force_at(at: datetime) -> ColumnElement[bool]:
    """The guardianships in force at `at`, as a condition on the table."""
    return and_(
        or_(Guardianship.starts_on.is_(None), Guardianship.starts_on <= oslo_day(at)),
        or_(Guardianship.removed_at.is_(None), Guardianship.removed_at > at),
    )


def guardians_at(
    ctx: Context, at: datetime, *children: ColumnElement[bool] | Any
) -> dict[str, tuple[model.Guardian, ...]]:
    """Each child's guardians in force at `at`, in the order the guardianships were added (the
    order the gate lists guardians' reasons in), for the children the conditions `children`
    select (on Guardianship.child_id). One query, read child by child from the index that holds
    every column it needs (migration 0014)."""
    query = (
        select(
            Guardianship.child_id, Guardianship.guardian_id, Guardianship.parental_responsibility
        )
        .where(in_force_at(at), *children)
        .order_by(Guardianship.child_id, Guardianship.added_at, Guardianship.id)
    )
    ids, guardians, responsible = read_columns(ctx.session.connection(), query)
    # named tuples built without a Python call per row: a municipality has 200,000 of them
    made = map(tuple.__new__, repeat(model.Guardian), zip(guardians, responsible, strict=True))
    # ordered by child: each child's guardians are one run of rows
    return {child: tuple(islice(made, len(list(run)))) for child, run in groupby(ids)}
