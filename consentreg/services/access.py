"""Roles in the service layer: who acts (the context's actor: the database login on PostgreSQL,
the OS login on SQLite), what their roles allow (consentreg.domain.roles), and the use cases that
add and remove users. Every use case calls `require` before it reads or writes.

A register with no user at all is not guarded: that is a register between its creation and the
end of `init`, which records its first admin in the same transaction as its identity (and the
library's own tests, which build registers without `init`). Once it has a user, every action
needs a role that allows it.

`grants_sql` writes the PostgreSQL GRANTs that give each role's login only the tables its actions
write, derived from the same role table and the audit log's event descriptions
(consentreg.services.audit.kinds), so the database refuses what the tool would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from consentreg.db.models import Unit, User, UserUnit
from consentreg.domain.roles import (
    LINK_ROLE,
    ROLE_TITLES,
    ROLES,
    UNIT_SCOPED,
    allows,
    roles_allowing,
)
from consentreg.errors import InvalidInputError, NotFoundError, NotPermittedError
from consentreg.i18n import Message, msg
from consentreg.services.audit import log as audit_log
from consentreg.services.unit_of_work import Context, new_id


@dataclass(frozen=True)
class Acting:
    """The acting login's active roles, and for a registrar the units they work for (their
    sub-units included)."""

    login: str
    roles: frozenset[str]
    units: frozenset[str]  # unit IDs a registrar's changes may touch

    def describe(self) -> Message:
        if not self.roles:
            return msg("user {login} (no role in this register)", login=self.login)
        return msg(
            "user {login} (role {roles})", login=self.login, roles=", ".join(sorted(self.roles))
        )


@dataclass(frozen=True)
class UserView:
    id: str
    login: str
    role: str
    units: list[str]  # unit codes
    added_at: datetime
    added_by: str


def _acting(ctx: Context) -> Acting | None:
    """None when the register has no user yet (not guarded)."""
    cached = ctx.cache.get("acting", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    active = ctx.session.execute(
        select(User.id, User.login, User.role).where(User.removed_at.is_(None))
    ).all()
    found: Acting | None = None
    if active:
        mine = [(uid, role) for uid, login, role in active if login == ctx.actor]
        roles = frozenset(role for _, role in mine)
        units: frozenset[str] = frozenset()
        registrar_ids = [uid for uid, role in mine if role in UNIT_SCOPED]
        if registrar_ids:
            own = ctx.session.scalars(
                select(UserUnit.unit_id).where(UserUnit.user_id.in_(registrar_ids))
            ).all()
            units = frozenset(_with_sub_units(ctx, own))
        found = Acting(ctx.actor, roles, units)
    ctx.cache["acting"] = found
    return found


def _with_sub_units(ctx: Context, unit_ids: Iterable[str]) -> set[str]:
    children: dict[str, list[str]] = {}
    for uid, parent in ctx.session.execute(select(Unit.id, Unit.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(uid)
    found, todo = set(), list(unit_ids)
    while todo:
        uid = todo.pop()
        if uid not in found:
            found.add(uid)
            todo += children.get(uid, [])
    return found


def require(
    ctx: Context, action: str, *, units: Iterable[str | None] = (), no_unit_is_outside: bool = False
) -> None:
    """Raise NotPermittedError (exit 8) unless the acting user's roles allow `action`; for a
    unit-scoped role (a registrar) also every unit in `units` (a person's unit; None: a person
    of no unit, such as a guardian, whom any registrar may record; with `no_unit_is_outside`,
    as for photos, None is nobody's unit and refused to a registrar)."""
    who = _acting(ctx)
    if who is None:
        return
    if "admin" in who.roles:
        return
    allowing = [r for r in who.roles if allows(r, action)]
    if not allowing:
        raise NotPermittedError(
            msg(
                "{who} may not do {action}: {value}",
                who=who.describe(),
                action=action,
                value=_needs(action),
            )
        )
    if any(r not in UNIT_SCOPED for r in allowing):
        return
    units = list(units)
    if no_unit_is_outside and None in units:
        raise NotPermittedError(
            f"{who.describe()} may not do {action} without a unit: a registrar works within"
            " their units (name one, e.g. --unit), else it needs a publisher or an admin"
        )
    outside = sorted({u for u in units if u is not None and u not in who.units})
    if outside:
        codes = ctx.session.scalars(select(Unit.code).where(Unit.id.in_(outside))).all()
        raise NotPermittedError(
            msg(
                "{who} may not do {action} for unit {units}: it needs a registrar for that unit (or one above it) or an admin",
                who=who.describe(),
                action=action,
                units=", ".join(sorted(codes)),
            )
        )


def act_through_link(ctx: Context, *, link_id: str, unit_id: str | None) -> None:
    """From here on in this transaction, the one acting is a guardian's personal link (issue
    #21), not a login: it may record decisions for its one child's unit and nothing else, and
    what it writes is recorded as by `link:<ID>`."""
    ctx.actor = f"link:{link_id}"
    ctx.cache["acting"] = Acting(
        ctx.actor, frozenset({LINK_ROLE}), frozenset({unit_id} if unit_id else ())
    )


def acting_roles(ctx: Context) -> list[str] | None:
    """The acting user's roles (sorted; [] for none), None when the register has no user."""
    who = _acting(ctx)
    return None if who is None else sorted(who.roles)


def _needs(action: str) -> Message:
    roles = roles_allowing(action)
    if len(roles) == 1:
        return msg("it needs the role {role}", role=roles[0])
    return msg(
        "it needs one of the roles {roles} or {last}", roles=", ".join(roles[:-1]), last=roles[-1]
    )


def may(ctx: Context, action: str) -> bool:
    """Whether the acting user's roles allow `action` at all (for showing, not for guarding)."""
    who = _acting(ctx)
    return who is None or "admin" in who.roles or any(allows(r, action) for r in who.roles)


def registrar_scope(ctx: Context) -> frozenset[str] | None:
    """The units whose people this user may see when their only way in is as a registrar; None:
    every unit (any other role, or an unguarded register)."""
    who = _acting(ctx)
    if who is None or who.roles - set(UNIT_SCOPED) or not who.roles:
        return None
    return who.units


def require_in_scope(ctx: Context, unit_id: str | None) -> None:
    """A registrar reads only the people of their units (and those of no unit): another unit's
    person is refused (exit 8)."""
    scope = registrar_scope(ctx)
    if scope is not None and unit_id is not None and unit_id not in scope:
        who = _acting(ctx)
        code = ctx.session.scalar(select(Unit.code).where(Unit.id == unit_id))
        raise NotPermittedError(
            msg(
                "{value} may not see people of unit {code}: it needs a registrar for that unit (or one above it), an auditor or an admin",
                value=who.describe() if who else ctx.actor,
                code=code,
            )
        )


# --- users ------------------------------------------------------------------------------------


def _check_login(login: str) -> str:
    login = login.strip()
    if not login or len(login) > 128 or any(c.isspace() or not c.isprintable() for c in login):
        raise InvalidInputError("LOGIN must be a database or OS login: no spaces, at most 128")
    return login


def add_user(ctx: Context, *, login: str, role: str, units: list[str] | None = None) -> str:
    """Give a login a role (admin only); a registrar needs at least one unit."""
    from consentreg.services.units import unit_by_code

    require(ctx, "user.add")
    login = _check_login(login)
    if role not in ROLES:
        raise InvalidInputError(
            msg(
                "--role must be one of {roles}, not {role!r}",
                roles=", ".join(ROLES),
                role=role,
            )
        )
    codes = list(dict.fromkeys(units or []))
    if role in UNIT_SCOPED and not codes:
        raise InvalidInputError(
            msg("a {role} works for units: give --unit CODE (repeatable)", role=role)
        )
    if role not in UNIT_SCOPED and codes:
        raise InvalidInputError(
            msg("a {role} is not limited to units: leave out --unit", role=role)
        )
    unit_ids = sorted(unit_by_code(ctx, code).id for code in codes)
    taken = ctx.session.scalar(
        select(User.id).where(User.login == login, User.role == role, User.removed_at.is_(None))
    )
    if taken:
        raise InvalidInputError(msg("{login} already has the role {role}", login=login, role=role))
    return _record_user(ctx, login, role, unit_ids)


def _record_user(ctx: Context, login: str, role: str, unit_ids: list[str]) -> str:
    """Write a checked user row, its units and its `user.add` event; the acting user's roles
    are read again at the next check."""
    user = User(
        id=new_id(),
        login=login,
        role=role,
        added_at=ctx.now,
        added_by=ctx.actor,
        removed_at=None,
        removed_by=None,
    )
    ctx.session.add(user)
    ctx.session.flush()
    links = [{"user_id": user.id, "unit_id": uid} for uid in unit_ids]
    for link in links:
        ctx.session.add(UserUnit(**link))
    ctx.session.flush()
    audit_log.record(ctx, "user.add", {"users": user, "user_units": links})
    ctx.cache.pop("acting", None)
    return user.id


def remove_user(ctx: Context, *, login: str, role: str | None = None) -> list[str]:
    """Take a login's roles away (one, or all); the last admin cannot be removed."""
    require(ctx, "user.remove")
    rows = ctx.session.scalars(
        select(User).where(User.login == login.strip(), User.removed_at.is_(None))
    ).all()
    rows = [u for u in rows if role is None or u.role == role]
    if not rows:
        raise NotFoundError(
            msg(
                "{login} has no {value} here", login=login, value="role " + role if role else "role"
            )
        )
    admins = ctx.session.scalars(
        select(User.id).where(User.role == "admin", User.removed_at.is_(None))
    ).all()
    if {u.id for u in rows if u.role == "admin"} >= set(admins):
        raise InvalidInputError("the register's last admin cannot be removed: add another first")
    for user in rows:
        user.removed_at, user.removed_by = ctx.now, ctx.actor
        ctx.session.flush()
        audit_log.record(ctx, "user.remove", {"users": user})
    ctx.cache.pop("acting", None)
    return [u.id for u in rows]


def list_users(ctx: Context) -> list[UserView]:
    require(ctx, "read.register")
    codes = dict(ctx.session.execute(select(Unit.id, Unit.code)).all())
    links: dict[str, list[str]] = {}
    for uid, unit in ctx.session.execute(select(UserUnit.user_id, UserUnit.unit_id)):
        links.setdefault(uid, []).append(codes[unit])
    users = ctx.session.scalars(
        select(User).where(User.removed_at.is_(None)).order_by(User.login, User.role)
    )
    return [
        UserView(u.id, u.login, u.role, sorted(links.get(u.id, [])), u.added_at, u.added_by)
        for u in users
    ]


def ensure_admin(ctx: Context) -> str | None:
    """Make the acting login an admin of a restored register whose users are other logins (no
    role check: the restoring login holds the key and the backup). None when it is one already
    or the register has no users."""
    who = _acting(ctx)
    if who is None or "admin" in who.roles:
        return None
    return _record_user(ctx, ctx.actor, "admin", [])


def first_admin(ctx: Context) -> str | None:
    """Make the acting login the register's first admin, when it has no user yet (`init`)."""
    if ctx.session.scalar(select(User.id).limit(1)) is not None:
        return None
    return _record_user(ctx, ctx.actor, "admin", [])


# --- PostgreSQL grants ------------------------------------------------------------------------

GROUP_PREFIX = "consentreg_"


def _tables_written(role: str) -> dict[str, set[str]]:
    """table -> SQL privileges the role's actions need, from the events' descriptions."""
    from consentreg.services.audit.kinds import KINDS

    ops = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
    # every read is recorded, and indexed by the people it names
    found: dict[str, set[str]] = {"audit_events": {"INSERT"}, "audit_mentions": {"INSERT"}}
    for kind in KINDS:
        if any(allows(role, action) for action in kind.actions):
            for part in kind.parts:
                found.setdefault(part.table, set()).add(ops[part.op])
    return found


def grants_sql(ctx: Context, *, database: str) -> list[str]:
    """The statements that make one NOLOGIN group role per consentreg role, grant each only
    what its actions need, and make every user of the register a member of their roles' groups.
    Safe to run again. Admin only."""
    require(ctx, "user.add")
    quote = _quote_ident
    lines = [
        f"REVOKE ALL ON DATABASE {quote(database)} FROM PUBLIC",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC",
    ]
    for role in ROLES:
        group = quote(GROUP_PREFIX + role)
        lines += [
            "DO $$ BEGIN CREATE ROLE "
            + group
            + " NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
            f"GRANT CONNECT ON DATABASE {quote(database)} TO {group}",
            f"GRANT USAGE ON SCHEMA public TO {group}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {group}",
        ]
        for table, privileges in sorted(_tables_written(role).items()):
            if role != "admin":
                lines.append(f"GRANT {', '.join(sorted(privileges))} ON {table} TO {group}")
        if role == "admin":
            lines.append(f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {group}")
    active = {(user.login, user.role) for user in list_users(ctx)}
    every = {(login, role) for login, role in ctx.session.execute(select(User.login, User.role))}
    for login, role in sorted(active):
        lines.append(f"GRANT {quote(GROUP_PREFIX + role)} TO {quote(login)}")
    for login, role in sorted(every - active):  # removed: their login loses the group
        lines.append(f"REVOKE {quote(GROUP_PREFIX + role)} FROM {quote(login)}")
    return lines


def apply_grants(ctx: Context) -> list[str]:
    """Run `grants_sql` in this transaction (PostgreSQL; the login needs CREATEROLE and to own
    the tables); InvalidInputError on SQLite, which has no logins."""
    from sqlalchemy import text

    statements = grants_sql(ctx, database=database_name(ctx))
    for statement in statements:
        ctx.session.execute(text(statement))
    return statements


def database_name(ctx: Context) -> str:
    from sqlalchemy import text

    bind = ctx.session.get_bind()
    if bind.dialect.name != "postgresql":
        raise InvalidInputError(
            "SQLite has no database logins: roles are checked by consentreg alone there"
        )
    return str(ctx.session.scalar(text("SELECT current_database()")))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def role_titles() -> dict[str, str]:
    return dict(ROLE_TITLES)
