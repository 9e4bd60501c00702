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

from consentreg.errors import SchemaOutOfDateError

if TYPE_CHECKING:
    from alembic.config import Config

HEAD_REVISION = "0006"


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


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def require_head(engine: Engine) -> None:
    """Raise SchemaOutOfDateError unless the database is at the newest migration."""
    current, head = current_revision(engine), HEAD_REVISION
    if current != head:
        raise SchemaOutOfDateError(
            f"database schema is at {current or 'nothing'}, this consentreg needs {head}:"
            " run `consentreg db upgrade`"
        )
