"""user add|list|remove, db grants: who may do what (docs/shared-server.md, "Roles and grants")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentreg.i18n import _, msg

from .output import emit, instant, table
from .runtime import unit_of_work

user_app = typer.Typer(
    help="Users and their roles: admin, registrar (per unit), publisher, auditor.",
    no_args_is_help=True,
)


def install(app: typer.Typer, db_app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    db_app.command("grants")(db_grants)


@user_app.command("add")
def user_add(
    login: Annotated[str, typer.Argument(help="The database login (PostgreSQL) or OS login.")],
    role: Annotated[str, typer.Option("--role", help="admin, registrar, publisher or auditor.")],
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="A unit a registrar works for, sub-units included (repeat)."),
    ] = None,
) -> None:
    """Give a login a role (admin only). A registrar works for the units given and their
    sub-units; the other roles are not limited by unit.

    Example:

        consentreg user add kari --role registrar --unit solsikken
    """
    from consentreg.services.access import add_user

    with unit_of_work() as ctx:
        uid = add_user(ctx, login=login, role=role, units=unit or [])
    emit({"id": uid}, [uid])


@user_app.command("list")
def user_list() -> None:
    """List the users and their roles.

    Example:

        consentreg user list
    """
    from consentreg.services.access import list_users

    with unit_of_work(writer=False) as ctx:
        users = list_users(ctx)
    rows = [[u.login, u.role, ", ".join(u.units), instant(u.added_at), u.added_by] for u in users]
    emit({"users": users}, table(["LOGIN", "ROLE", "UNITS", "ADDED", "BY"], rows))


@user_app.command("password")
def user_password(
    login: Annotated[str, typer.Argument(help="The login whose web password to set.")],
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="Read the password from the first line of this file instead of asking twice.",
        ),
    ] = None,
) -> None:
    """Set or reset a login's password for the web application (admin only; the login must
    have a role). Asks for it twice without showing it. A reset logs the login out everywhere.
    The register keeps only an argon2id hash.

    Example:

        consentreg user password kari
    """
    from consentreg.services.accounts import set_password

    secret = _password(password_file)
    with unit_of_work() as ctx:
        epoch = set_password(ctx, login=login, password=secret)
    emit({"login": login, "session_epoch": epoch}, [msg("password set for {login}", login=login)])


def _password(path: Path | None) -> str:
    from consentreg.errors import InvalidInputError

    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            raise InvalidInputError(
                msg("--password-file {path} cannot be read as text", path=path)
            ) from None
        return lines[0] if lines else ""
    import getpass

    first = getpass.getpass(_("New password: "))
    if getpass.getpass(_("Again: ")) != first:
        raise InvalidInputError("the two passwords differ: nothing was changed")
    return first


@user_app.command("remove")
def user_remove(
    login: Annotated[str, typer.Argument(help="The login.")],
    role: Annotated[
        str | None, typer.Option("--role", help="Only this role (default: every role).")
    ] = None,
) -> None:
    """Take a login's roles away (admin only); the last admin stays. On PostgreSQL, run
    `consentreg db grants --apply` afterwards so that the login loses its grants too.

    Example:

        consentreg user remove kari
    """
    from consentreg.services.access import remove_user

    with unit_of_work() as ctx:
        removed = remove_user(ctx, login=login, role=role)
    emit({"removed": removed}, removed)


def db_grants(
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Run the statements now (a login with CREATEROLE that owns the tables).",
        ),
    ] = False,
) -> None:
    """Print (or apply) the PostgreSQL GRANTs that give each role's login only what it needs:
    one NOLOGIN group per role, each user's login a member of their roles' groups. An auditor's
    login can read everything and write nothing but the record of its own reads.

    Example:

        consentreg db grants --apply
    """
    from consentreg.services.access import apply_grants, database_name, grants_sql

    with unit_of_work(writer=apply) as ctx:
        statements = apply_grants(ctx) if apply else grants_sql(ctx, database=database_name(ctx))
    emit({"statements": statements, "applied": apply}, [f"{s};" for s in statements])
