"""Units: kindergartens, schools and their groups or classes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from consentreg.db.models import Unit
from consentreg.domain import text
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.unit_of_work import Context, new_id

_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class UnitView:
    id: str
    code: str
    name: str
    parent: str | None


def check_code(code: str, *, what: str) -> str:
    if not _CODE.fullmatch(code):  # `match` with `$` let a trailing newline through
        raise InvalidInputError(
            msg(
                "{what} code {code!r} is not valid: use lower-case letters, digits, '.', '_' or '-'",
                what=msg(what),
                code=code,
            )
        )
    return code


def unit_by_code(ctx: Context, code: str) -> Unit:
    unit = ctx.session.scalar(select(Unit).where(Unit.code == code)) if text.is_key(code) else None
    if unit is None:
        raise InvalidInputError(msg("unknown unit {code!r}: see `consentreg unit list`", code=code))
    return unit


def add_unit(ctx: Context, *, code: str, name: str, parent: str | None = None) -> str:
    """Register a unit; its code is what people and photos refer to."""
    require(ctx, "unit.add")
    check_code(code, what="unit")
    if not name.strip():
        raise InvalidInputError("unit name is empty")
    text.check_line(name.strip(), field="--name", limit=text.NAME)
    if ctx.session.scalar(select(Unit.id).where(Unit.code == code)):
        raise InvalidInputError(msg("unit {code!r} already exists", code=code))
    parent_id = unit_by_code(ctx, parent).id if parent else None
    unit = Unit(
        id=new_id(),
        code=code,
        name=name.strip(),
        parent_id=parent_id,
        created_at=ctx.now,
        created_by=ctx.actor,
    )
    ctx.session.add(unit)
    ctx.session.flush()
    audit_log.record(ctx, "unit.add", {"units": unit})
    return unit.id


def list_units(ctx: Context) -> list[UnitView]:
    require(ctx, "read.register")
    units = ctx.session.scalars(select(Unit).order_by(Unit.code)).all()
    codes = {u.id: u.code for u in units}
    return [UnitView(u.id, u.code, u.name, codes.get(u.parent_id or "")) for u in units]
