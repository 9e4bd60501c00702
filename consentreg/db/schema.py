"""Alembic plumbing: where the migrations are, upgrade, current revision, head check."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from consentreg.errors import SchemaOutOfDateError


def migrations_dir() -> Path:
    """The shipped `consentreg_migrations` package, else the repository's migrations/ folder."""
    spec = importlib.util.find_spec("consentreg_migrations")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def require_head(engine: Engine) -> None:
    """Raise SchemaOutOfDateError unless the database is at the newest migration."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        raise SchemaOutOfDateError(
            f"database schema is at {current or 'nothing'}, this consentreg needs {head}:"
            " run `consentreg db upgrade`"
        )
