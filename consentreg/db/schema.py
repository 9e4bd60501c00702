"""Alembic plumbing: where the migrations are, upgrade, current revision, head check.

Every command checks the schema; that check reads `alembic_version` with plain SQL against
HEAD_REVISION, so ordinary commands never import Alembic or parse the migration scripts.
tests/migrations keeps HEAD_REVISION equal to the scripts' head.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from consentreg.errors import DatabaseCorruptError, SchemaOutOfDateError, SchemaTooNewError
from consentreg.i18n import msg

if TYPE_CHECKING:
    from alembic.config import Config

HEAD_REVISION = "0017"


def migrations_dir() -> Path:
    """The shipped `consentreg_migrations` package, else the repository's migrations/ folder."""
    spec = importlib.util.find_spec("consentreg_migrations")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    """The newest revision of the shipped migration scripts (parses them)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def known_revision(engine: Engine, revision: str) -> bool:
    """Whether this program's migration scripts know the revision (parses them)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return (
            ScriptDirectory.from_config(alembic_config(engine)).get_revision(revision) is not None
        )
    except CommandError:  # "Can't locate revision identified by ..."
        return False


def _newer_schema(current: str) -> SchemaTooNewError:
    from consentreg import __version__

    return SchemaTooNewError(
        msg(
            "database schema is at {current}, a revision this consentreg ({__version__}) does not know (it knows up to {HEAD_REVISION}): a newer consentreg has migrated the register; upgrade consentreg itself (`consentreg db upgrade` cannot go back)",
            current=current,
            __version__=__version__,
            HEAD_REVISION=HEAD_REVISION,
        )
    )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`; SchemaTooNewError when the database is at a revision this program
    does not know (Alembic would fail with "Can't locate revision")."""
    from alembic import command

    current = current_revision(engine)
    if current is not None and not known_revision(engine, current):
        raise _newer_schema(current)
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def require_head(engine: Engine) -> None:
    """Raise SchemaOutOfDateError unless the database is at the newest migration (its subclass
    SchemaTooNewError when it is at one this program does not know)."""
    current, head = current_revision(engine), HEAD_REVISION
    if current != head:
        if current is not None and not known_revision(engine, current):
            raise _newer_schema(current)
        raise SchemaOutOfDateError(
            msg(
                "database schema is at {value}, this consentreg needs {head}: run `consentreg db upgrade`",
                value=current or "nothing",
                head=head,
            )
        )


def integrity_problems(engine: Engine, *, limit: int = 10) -> list[str]:
    """SQLite's own check of every page and index of the register (`PRAGMA quick_check`): the
    damage it finds, at most `limit` lines; [] when none. It reads the whole file (about 1.4 s a
    gigabyte, warm), so it is asked for, never run on open. PostgreSQL checks its own pages as it
    reads them (and `data_checksums`): nothing to do here."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"PRAGMA quick_check({int(limit)})").scalars().all()
    if rows == ["ok"]:
        return []
    # one line each, without the "*** in database main ***" heading SQLite puts before the first
    return [" ".join(str(r).replace("*** in database main ***", "").split()) for r in rows]


def require_intact(engine: Engine) -> None:
    """Raise DatabaseCorruptError (exit 7) when `integrity_problems` finds damage."""
    problems = integrity_problems(engine)
    if problems:
        from consentreg.db.engine import database_place

        where = database_place(engine).path or "the database"
        raise DatabaseCorruptError(
            msg(
                "the register's database file {where} is damaged (SQLite's quick_check found {n_problems} problem(s), the first: {first}): restore it from a backup",
                where=where,
                n_problems=len(problems),
                first=problems[0][:120],
            )
        )


def migrate_to(engine: Engine, revision: str) -> None:
    """Bring the schema to exactly `revision`, up or down (`restore` builds an empty register at
    the revision of its backup). Downgrading is only for an empty register: a downgrade may drop
    columns."""
    from alembic.script import ScriptDirectory

    current = current_revision(engine)
    if current == revision:
        return
    newest_first = [
        r.revision for r in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()
    ]
    if current is not None and newest_first.index(revision) > newest_first.index(current):
        downgrade(engine, revision)
    else:
        upgrade(engine, revision)
