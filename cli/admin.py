"""init, db upgrade|current|check, demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .output import emit, message
from .runtime import settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_app = typer.Typer(
    help="Database schema: upgrade, show or check the migration revision.", no_args_is_help=True
)


def install(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")


def init() -> None:
    """Create the home folder, the key files (mode 0600) and the schema; safe to run again.

    Example:

        CONSENTREG_HOME=/srv/consentreg consentreg init
    """
    from consentreg.config import ensure_home
    from consentreg.crypto import Keyring, create_key_file, create_signing_key_file
    from consentreg.db.engine import make_engine
    from consentreg.db.schema import current_revision, upgrade

    s = settings()
    ensure_home(s)
    created_key = create_key_file(s.key_file)
    created_signing = create_signing_key_file(s.signing_key_file)
    Keyring.load(s.key_file)  # refuses a key file others can read
    engine = make_engine(s.db_url)
    try:
        upgrade(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    _adopt_evidence_files()
    if created_key:
        message(
            f"created key file {s.key_file}: back it up; without it the register cannot be read"
        )
    emit(
        {
            "home": str(s.home),
            "key_file": str(s.key_file),
            "created_key": created_key,
            "created_signing_key": created_signing,
            "revision": revision,
        },
        [f"register ready at {s.home} (schema {revision})"],
    )


def _db_engine(*, create: bool = False) -> Engine:
    """The register's engine. Only `db upgrade` may create a missing SQLite file (as it always
    has); `db current` and `db check` say there is no register instead of leaving an empty file."""
    from consentreg.db.engine import make_engine
    from consentreg.errors import ConfigError

    s = settings()
    if not create and s.sqlite_file is not None and not s.sqlite_file.exists():
        raise ConfigError(f"no register at {s.sqlite_file}: run `consentreg init` first")
    return make_engine(s.db_url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database schema to the newest revision.

    Example:

        consentreg --db postgresql+psycopg://consentreg@db/consentreg db upgrade
    """
    from consentreg.db.schema import current_revision, upgrade

    engine = _db_engine(create=True)
    try:
        upgrade(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    _adopt_evidence_files()
    emit({"revision": revision}, [f"at {revision}"])


def _adopt_evidence_files() -> None:
    """Evidence files an older release kept in this PC's home folder, moved into the register."""
    from consentreg.services.evidence_files import adopt_evidence_files

    done = adopt_evidence_files(settings())
    if done.adopted:
        message(f"moved {done.adopted} evidence file(s) from {done.folder} into the register")
    for kept in done.kept:
        message(f"warning: evidence file left in {done.folder}: {kept}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one this version knows.

    Example:

        consentreg db current
    """
    from consentreg.db.schema import current_revision, head_revision

    engine = _db_engine()
    try:
        cur, head = current_revision(engine), head_revision(engine)
        emit({"current": cur, "head": head}, [f"current {cur or 'none'}, head {head}"])
    finally:
        engine.dispose()


@db_app.command("check")
def db_check(
    integrity: Annotated[
        bool,
        typer.Option(
            "--integrity",
            help="Also read every page of a SQLite register (PRAGMA quick_check; about 1.4 s a"
            " gigabyte): exit 7 when the file is damaged.",
        ),
    ] = False,
) -> None:
    """Exit 0 when the schema is at head, 6 when `consentreg db upgrade` is needed (or, for a
    schema newer than this program, an upgrade of consentreg itself); with --integrity, 7 when
    the database file is damaged.

    Example:

        consentreg db check --integrity && echo up to date
    """
    from consentreg.db.schema import head_revision, require_head, require_intact

    engine = _db_engine()
    try:
        require_head(engine)
        if integrity:
            require_intact(engine)
        lines = ["schema is at head" + (", database file intact" if integrity else "")]
        emit({"ok": True, "revision": head_revision(engine), "integrity": integrity}, lines)
    finally:
        engine.dispose()


def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Where the demo register and its releases go (default: a new temporary folder).",
        ),
    ] = None,
) -> None:
    """Run the whole scenario on samples/ with an embedded SQLite register: register, publish,
    refuse, withdraw, take down.

    Example:

        consentreg demo --dir /tmp/consentreg-demo
    """
    from .demo import run_demo

    run_demo(directory)
