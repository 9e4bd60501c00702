"""The web application's pages for publishers and admins (docs/web.md): the take-down worklist
with "done" per release, and the administration of users (roles, units, passwords). Each is one
call over the library's own use case (publishing.takedown, access, accounts) with its checks and
events; the worklist names the people its releases show and is recorded as an `audit.query`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from consentreg.db.models import UserCredential
from consentreg.domain.roles import ROLES
from consentreg.errors import InvalidInputError
from consentreg.services import access, accounts
from consentreg.services.access import UserView, may, require
from consentreg.services.audit.events import record_query
from consentreg.services.names import names_by_id
from consentreg.services.publishing.takedown import TakedownItem, takedown_done, takedown_list
from consentreg.services.staff_person import visible
from consentreg.services.unit_of_work import Context
from consentreg.services.units import UnitView, list_units


@dataclass(frozen=True)
class TakedownPage:
    items: list[TakedownItem]
    names: dict[str, str]
    may_mark: bool  # whether to offer "done" (a publisher or an admin)


@dataclass(frozen=True)
class UsersPage:
    users: list[UserView]
    with_password: frozenset[str]  # logins that have a web password
    units: list[UnitView]
    roles: tuple[str, ...]


def takedown_page(ctx: Context) -> TakedownPage:
    """Releases still out there whose subject has since withdrawn or refused (`takedown list`),
    with the names of the people they show. Recorded as an `audit.query` (view `takedown`)."""
    items = takedown_list(ctx)  # takedown.list
    shown = visible(ctx, {pid for item in items for pid in item.subject_ids})
    record_query(ctx, "takedown", ids={"people": shown})
    return TakedownPage(items, names_by_id(ctx, shown), may(ctx, "publication.takedown"))


def mark_taken_down(ctx: Context, *, publication: str, note: str | None = None) -> str:
    """`takedown done`: the released copy has been taken down. Returns the publication's ID."""
    require(ctx, "publication.takedown")
    takedown_done(ctx, publication_id=publication, note=note or None)
    return publication


def users_page(ctx: Context) -> UsersPage:
    """Every login with a role, its units, and whether it has a web password (admin only)."""
    require(ctx, "user.add")
    logins = ctx.session.scalars(select(UserCredential.login)).all()
    return UsersPage(access.list_users(ctx), frozenset(logins), list_units(ctx), ROLES)


def add_role(ctx: Context, *, login: str, role: str, units: list[str]) -> str:
    """`user add`: give a login a role (a registrar: for units)."""
    require(ctx, "user.add")
    return access.add_user(ctx, login=login, role=role, units=units)


def remove_role(ctx: Context, *, login: str, role: str) -> list[str]:
    """`user remove --role`: take one role from a login."""
    require(ctx, "user.remove")
    if not role:
        raise InvalidInputError("choose the role to remove")
    return access.remove_user(ctx, login=login, role=role)


def set_password(ctx: Context, *, login: str, password: str, repeated: str) -> int:
    """`user password`: set or reset a login's web password, typed twice alike."""
    require(ctx, "user.password")
    if password != repeated:
        raise InvalidInputError("the two passwords are not the same")
    return accounts.set_password(ctx, login=login, password=password)
