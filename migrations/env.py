"""Alembic environment: runs on the engine or connection consentreg (or pytest-alembic) passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from consentreg.db import models  # noqa: F401 - registers the tables on the metadata
from consentreg.db.base import Base
from consentreg.db.engine import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {len(problems)} rows")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = config.attributes.get("engine")
    url = (
        engine.url.render_as_string(hide_password=False)
        if engine
        else config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("no database given to the migrations")
    # Batch mode recreates tables on SQLite: foreign keys are off while migrating, checked after.
    migration_engine = make_engine(url, enforce_fks=False)
    try:
        with migration_engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        migration_engine.dispose()


run_migrations_online()
