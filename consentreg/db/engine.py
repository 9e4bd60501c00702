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

Errors: this is where the database's own failures are met, and every engine made here turns the
ones a user can meet into consentreg.errors (`translate`): a damaged file, a busy
register, a full disk, a read-only or unreachable register. Anything else (a constraint broken, a
statement the program got wrong) stays SQLAlchemy's: a bug, exit 1.

A register on a read-only file system (a backup on read-only media, a read-only mount) is opened
read-only and immutable, so that it can be read although SQLite cannot create its -wal and -shm
files there; see `_read_only_snapshot`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session

from consentreg.errors import (
    ConfigError,
    ConsentRegError,
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    DriverMissingError,
    ReadOnlyRegisterError,
    StorageError,
)
from consentreg.i18n import msg

WRITER = "consentreg_writer"
_PG_WRITER_LOCK = 0x636F6E73  # "cons"
BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, enforce_fks: bool = True) -> Engine:
    """An engine for the register; never echoes, never shows bound parameters in errors, and
    raises consentreg.errors for the faults a user can meet (`translate`)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        opened = _read_only_snapshot(parsed, path) if path is not None else parsed
        engine = create_engine(opened, hide_parameters=True)
        _configure_sqlite(engine, enforce_fks=enforce_fks)
        place = Place.sqlite(path)
    else:
        engine = _create_server_engine(parsed)
        place = Place.server_of(parsed)
    _translate_errors(engine, place)
    return engine


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        # the URL may hold a password: say where it came from, not what it is
        raise ConfigError(
            "the database URL (--db or CONSENTREG_DB) is not a URL such as"
            " sqlite:///path/consentreg.db or postgresql+psycopg://user@host/db"
        ) from None


def _create_server_engine(url: URL) -> Engine:
    try:
        return create_engine(url, hide_parameters=True, pool_pre_ping=True)
    except NoSuchModuleError:
        raise ConfigError(
            msg(
                "the database URL names {url_drivername!r}, which consentreg does not know: use sqlite:/// or postgresql+psycopg://",
                url_drivername=url.drivername,
            )
        ) from None
    except ImportError:
        hint = (
            ' pip install "consentreg[postgres]"'
            if url.get_backend_name() == "postgresql"
            else " install it"
        )
        raise DriverMissingError(
            msg(
                "the database driver for {url_drivername} is not installed:{hint}",
                url_drivername=url.drivername,
                hint=hint,
            )
        ) from None


def sqlite_path(url: URL) -> Path | None:
    """The database file of a file-based SQLite URL (absolute), else None."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).absolute()


def _read_only_snapshot(url: URL, path: Path) -> URL:
    """Open a register that sits on a read-only file system as an immutable, read-only database.

    SQLite keeps a WAL database's -wal and -shm files beside it and must create them even to
    read; on a read-only file system it cannot, and every command, reads too, would fail. There
    nothing can change the file through this mount, so SQLite may read it as immutable (no locks,
    no -shm) -- provided no -wal file holds changes that are not in the database file yet (a
    register copied after a crash): then it is opened as usual and fails with a message that says
    so. Writes fail as read-only (ReadOnlyRegisterError). Anything else is opened as given."""
    if not (path.is_file() and read_only_file_system(path.parent)):
        return url
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return url
    query = {"uri": "true", "mode": "ro", "immutable": "1"}
    return url.set(database="file:" + quote(str(path)), query=query)


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


def _translate_errors(engine: Engine, place: Place) -> None:
    """Every statement and every connection attempt of this engine: a driver error a user can
    meet is raised as its consentreg error instead (the connection is cleaned up first)."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # the pool tests a connection and replaces it quietly
            return
        found = translate(context.original_exception, place, connecting=context.connection is None)
        if found is not None:
            raise found


def database_place(engine: Engine) -> Place:
    """Where an engine's database is, for messages (never with a password)."""
    if engine.dialect.name == "sqlite":
        return Place.sqlite(_real_sqlite_path(engine.url))
    return Place.server_of(engine.url)


def _real_sqlite_path(url: URL) -> Path | None:
    database = url.database or ""
    if database.startswith("file:") and url.query.get("immutable") == "1":
        return Path(unquote(database[len("file:") :]))
    return sqlite_path(url)


@contextmanager
def session_scope(engine: Engine, *, writer: bool) -> Iterator[Session]:
    """One unit of work: commits when the block returns, rolls back on any exception. A driver
    error that did not pass through the engine's own translation (bulk COPY on PostgreSQL) is
    translated here."""
    bind = engine.execution_options(**{WRITER: writer})
    try:
        with Session(bind=bind, expire_on_commit=False) as session, session.begin():
            _begin(session, engine, writer=writer)
            yield session
    except DBAPIError as exc:
        found = translate(exc.orig, database_place(engine), connecting=False)
        if found is None:
            raise
        raise found from None


def _begin(session: Session, engine: Engine, *, writer: bool) -> None:
    """Begin the transaction now, not at the first query, so a writer holds the writer lock from
    the start of its unit of work on both engines; a PostgreSQL reader asks for one snapshot,
    read only. A writer waits for the lock (and, on PostgreSQL, for any row lock) at most
    BUSY_TIMEOUT_MS, on both engines."""
    if engine.dialect.name != "postgresql":
        session.connection()  # BEGIN IMMEDIATE for a writer, BEGIN for a reader
    elif writer:
        # wait for the writer lock as long as SQLite's busy timeout, then give up: busy (exit 9)
        session.execute(text(f"SET LOCAL lock_timeout = {int(BUSY_TIMEOUT_MS)}"))
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITER_LOCK})
    else:
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


# --- the faults a user can meet, as consentreg errors -------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a database is, as messages may say it: a SQLite file's path, or a PostgreSQL server's
    host, port, database and login (never a password)."""

    path: Path | None = None
    server: str = ""
    login: str = ""

    @classmethod
    def sqlite(cls, path: Path | None) -> Place:
        return cls(path=path)

    @classmethod
    def server_of(cls, url: URL) -> Place:
        where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
        return cls(server=where, login=url.username or "")

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path is not None else None


def read_only_file_system(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False


def _file_system_full(folder: Path) -> bool:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def translate(
    error: BaseException | None, place: Place, *, connecting: bool
) -> ConsentRegError | None:
    """The consentreg error for a driver's error, or None when it is not one a user can meet
    (then it is a bug, and stays as it is)."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _sqlite_fault(code, str(getattr(error, "sqlite_errorname", "")), place)
    if type(error).__module__.split(".")[0] == "psycopg":
        return _postgresql_fault(error, place, connecting=connecting)
    return None


_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_SQLITE_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13
_SQLITE_CANTOPEN = {3, 14, 23}  # SQLITE_PERM, SQLITE_CANTOPEN, SQLITE_AUTH


def _sqlite_fault(code: int, name: str, place: Place) -> ConsentRegError | None:
    primary, path = code & 0xFF, place.path
    if primary in _SQLITE_BUSY:
        return DatabaseBusyError()
    if primary in _SQLITE_DAMAGED:
        return DatabaseCorruptError(
            msg(
                "the register's database file {path} is damaged or not a consentreg register (SQLite: {name}); nothing was written: restore it from a backup",
                path=path,
                name=name,
            )
        )
    if path is None:
        return None
    if primary == _SQLITE_FULL or (primary == _SQLITE_IOERR and _file_system_full(path.parent)):
        return StorageError(
            msg(
                "the file system holding {path_parent} is full; nothing was written: free some space and try again",
                path_parent=path.parent,
            )
        )
    if primary == _SQLITE_IOERR:
        return StorageError(
            msg(
                "disk I/O error on the register at {path} (SQLite: {name}); nothing was written",
                path=path,
                name=name,
            )
        )
    if primary == _SQLITE_READONLY:
        return ReadOnlyRegisterError(_read_only_message(path))
    if primary in _SQLITE_CANTOPEN:
        return DatabaseUnavailableError(_cannot_open_message(path))
    return None


def _read_only_message(path: Path) -> str:
    folder = path.parent
    if read_only_file_system(folder):
        return (
            f"the register at {path} is on a read-only file system: it can be read here,"
            " not changed; nothing was written"
        )
    if not os.access(folder, os.W_OK):  # SQLITE_READONLY_DIRECTORY, even for a read
        return (
            f"cannot use the register at {path}: this user may not create files in {folder},"
            f" and SQLite keeps {path.name}-wal and {path.name}-shm there, even to read;"
            " nothing was written: give this user write permission on the folder"
        )
    return (
        f"cannot change the register at {path}: the file is read-only for this user;"
        " nothing was written"
    )


def _cannot_open_message(path: Path) -> str:
    folder, journal = path.parent, f"{path.name}-wal and {path.name}-shm"
    if not path.exists():
        return f"no register at {path}: run `consentreg init` first"
    if not path.is_file():
        return f"{path} is not a register file"
    if not os.access(path, os.R_OK):
        return f"cannot open the register at {path}: this user may not read it"
    if read_only_file_system(folder):
        return (
            f"cannot open the register at {path}: it is on a read-only file system and its"
            f" journal {path.name}-wal holds changes not yet in the database file; open it once"
            " where it is writable"
        )
    if not os.access(folder, os.W_OK):
        return (
            f"cannot open the register at {path}: this user may not write in {folder}, and"
            f" SQLite must create {journal} there, even to read; give write permission on the"
            " folder (or read a copy)"
        )
    return f"cannot open the register at {path}"


# SQLSTATE classes and codes (PostgreSQL, Appendix A)
_PG_BUSY = {"40001", "40P01", "55P03", "53300"}  # serialization, deadlock, lock, connections
_PG_DAMAGED = {"XX001", "XX002"}  # data_corrupted, index_corrupted
_PG_GONE = {"57P01", "57P02", "57P03"}  # shut down, crash, starting up


def _postgresql_fault(
    error: BaseException | None, place: Place, *, connecting: bool
) -> ConsentRegError | None:
    state = getattr(error, "sqlstate", None) or ""
    at = f"the PostgreSQL register at {place.server}"
    if state in _PG_BUSY:
        return DatabaseBusyError()
    if state in _PG_DAMAGED:
        return DatabaseCorruptError(
            msg(
                "{at} reports damaged data ({state}); nothing was written: ask its administrator",
                at=at,
                state=state,
            )
        )
    if state == "42501":
        return DatabasePermissionError(_permission_message(error, place))
    if state == "53100":
        return StorageError(
            msg("the disk of {at} is full ({state}); nothing was written", at=at, state=state)
        )
    if state == "58030":
        return StorageError(
            msg("disk I/O error at {at} ({state}); nothing was written", at=at, state=state)
        )
    if connecting and not state:
        return DatabaseUnavailableError(_connect_message(error, place))
    if state.startswith("08") or state in _PG_GONE:
        return DatabaseUnavailableError(
            msg(
                "lost the connection to {at} ({state}): if this was a change, check whether it was recorded before trying again",
                at=at,
                state=state,
            )
        )
    return None


def _connect_message(error: BaseException | None, place: Place) -> str:
    text = str(error)
    login = f" as {place.login}" if place.login else ""
    if "FATAL:" in text:  # the server answered, and refused
        reason = " ".join(text.split("FATAL:", 1)[1].split())[:200]
        return f"the PostgreSQL server at {place.server} refused the connection{login}: {reason}"
    return (
        f"cannot reach the PostgreSQL server at {place.server}: is it running, and are the host"
        " and port right?"
    )


def _permission_message(error: BaseException | None, place: Place) -> str:
    diag = getattr(error, "diag", None)
    what = getattr(diag, "message_primary", None) or "permission denied"
    login = place.login or "this login"
    return (
        f"the database login {login} is not permitted to do this ({what}); nothing was written:"
        " ask the register's administrator for the grant it needs"
    )
