"""Engine and session factory.

SQLite: foreign keys on, WAL, a busy timeout, and writer transactions that begin IMMEDIATE when
the unit of work starts, so a check-then-act (gate check, then publication record) cannot
interleave with another writer.
PostgreSQL: writer transactions take one transaction-scoped advisory lock first, which keeps the
audit chain gapless and serialises writers the same way; the publishing service additionally
locks the subjects' rows it relies on.

Reader transactions see one state of the register from their first read to their end, and never
hold up a writer: on SQLite a deferred transaction (WAL keeps its snapshot), on PostgreSQL a
REPEATABLE READ, READ ONLY transaction (one snapshot for every statement, and no writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from consentreg.errors import DatabaseBusyError

WRITER = "consentreg_writer"
_PG_WRITER_LOCK = 0x636F6E73  # "cons"
BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, enforce_fks: bool = True) -> Engine:
    """An engine for the register; never echoes, never shows bound parameters in errors."""
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True)
        _configure_sqlite(engine, enforce_fks=enforce_fks)
        return engine
    return create_engine(url, hide_parameters=True, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, *, enforce_fks: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce_fks else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        writer = conn.get_execution_options().get(WRITER, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


@contextmanager
def session_scope(engine: Engine, *, writer: bool) -> Iterator[Session]:
    """One unit of work: commits when the block returns, rolls back on any exception."""
    bind = engine.execution_options(**{WRITER: writer})
    try:
        with Session(bind=bind, expire_on_commit=False) as session, session.begin():
            _begin(session, engine, writer=writer)
            yield session
    except OperationalError as exc:
        if "database is locked" in str(exc.orig) or "lock timeout" in str(exc.orig):
            raise DatabaseBusyError("the database is busy (another writer); try again") from None
        raise


def _begin(session: Session, engine: Engine, *, writer: bool) -> None:
    """Begin the transaction now, not at the first query, so a writer holds the writer lock from
    the start of its unit of work on both engines; a PostgreSQL reader asks for one snapshot,
    read only."""
    if engine.dialect.name != "postgresql":
        session.connection()  # BEGIN IMMEDIATE for a writer, BEGIN for a reader
    elif writer:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITER_LOCK})
    else:
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
