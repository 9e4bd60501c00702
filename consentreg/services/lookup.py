"""Rows by the IDs people type: a whole ID, or a unique prefix of at least six characters, as git
allows for commits. Several matches are a clear error naming how many, never a guess."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from sqlalchemy import select

from consentreg.db.base import Base
from consentreg.domain import text
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.i18n import N_, msg
from consentreg.services.unit_of_work import Context

# the names of what is looked up, shown in messages
NOUNS = (
    N_("person"),
    N_("photo"),
    N_("consent"),
    N_("withdrawal"),
    N_("publication"),
    N_("unit"),
    N_("purpose"),
)

MIN_PREFIX = 6
ID_LENGTH = 32
_PREFIX = re.compile(rf"[0-9a-f]{{{MIN_PREFIX},{ID_LENGTH - 1}}}")

Row = TypeVar("Row", bound=Base)


def by_id(ctx: Context, model: type[Row], key: str, *, what: str) -> Row:
    """The row of `model` whose ID is `key`, or starts with it; NotFoundError when none does,
    InvalidInputError when several do (the message says to give more characters)."""
    wanted = key.strip().lower()
    if len(wanted) == ID_LENGTH and text.is_key(wanted):
        found = ctx.session.get(model, wanted)
        if found is not None:
            return found
    elif _PREFIX.fullmatch(wanted):
        column: Any = model.id  # type: ignore[attr-defined]
        # a range of the primary key's index ('g' sorts after every hex digit), on both engines
        matches = list(
            ctx.session.scalars(
                select(model).where(column >= wanted, column < wanted + "g").limit(2)
            )
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InvalidInputError(
                msg(
                    "{what} {wanted!r} is ambiguous: several IDs start with it; give more characters",
                    what=msg(what),
                    wanted=wanted,
                )
            )
    raise NotFoundError(
        msg("unknown {what} {key!r}", what=msg(what), key=key)
        if text.is_key(key)
        else msg("unknown {what}", what=msg(what))
    )
