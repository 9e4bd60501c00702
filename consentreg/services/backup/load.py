"""`consentreg restore FILE`: a backup into an empty register, on either engine.

Everything that can refuse is checked before anything is written: the file is a backup (exit 2),
of this register's key (7), of a schema revision this program knows (6), whole and unchanged
(7: a first pass authenticates every chunk), and the target register is empty (2). Then Alembic
builds the schema at the backup's revision, every row goes in within ONE transaction (foreign
keys checked at its end, so the order of rows within a table does not matter), and Alembic
upgrades the register to head if the backup is older. The rows are inserted as they are: no
audit event is added, so the restored register verifies exactly as the one backed up.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Connection, Engine, inspect, text

from consentreg.config import Settings, ensure_home
from consentreg.crypto import Keyring
from consentreg.db.engine import make_engine, session_scope
from consentreg.db.schema import (
    HEAD_REVISION,
    current_revision,
    known_revision,
    migrate_to,
    upgrade,
)
from consentreg.errors import (
    BackupDamagedError,
    BackupTooNewError,
    ConfigError,
    InvalidInputError,
    RegisterNotEmptyError,
)
from consentreg.i18n import msg
from consentreg.services.backup.dump import Progress, _no_progress
from consentreg.services.backup.key_file import read_key_file
from consentreg.services.backup.rows import STREAM_FORMAT, decoder, insertable, known_tag
from consentreg.services.backup.sealed import Header, check_key, lines, opened_chunks, read_header

if TYPE_CHECKING:
    from sqlalchemy.engine import Inspector

BATCH_ROWS, BATCH_BYTES = 1000, 1 << 20
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class RestoreSummary:
    revision: str  # the backup's
    upgraded_to: str
    tables: int
    rows: int


@dataclass(frozen=True)
class _Batch:
    table: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]


def restore_backup(
    settings: Settings,
    source: Path,
    *,
    keys: Keyring | None = None,
    key_file: Path | None = None,
    progress: Progress = _no_progress,
) -> RestoreSummary:
    """Restore `source` into the empty register of `settings` (with the register's key file, or
    `keys`), the person keys from `key_file` (default: the settings' person keys file). Nothing
    is written when anything is refused. A person whose key the key file does not hold was
    erased after the backup was taken: they are erased in the restored register too (one
    `person.erase` event each), so they stay unreadable."""
    keys = keys or _register_keys(settings)
    with _opened(source) as fh:
        header = read_header(fh)
        check_key(header, keys)
        engine = make_engine(settings.db_url)
        try:
            if not known_revision(engine, header.revision):
                raise BackupTooNewError(
                    msg(
                        "the backup was made at schema revision {header_revision}, which this consentreg does not know (it knows up to {HEAD_REVISION}): restore it with a newer consentreg; nothing was written",
                        header_revision=header.revision,
                        HEAD_REVISION=HEAD_REVISION,
                    )
                )
            counts = _check_whole(fh, keys, header)
            key_path = key_file or settings.backup_keys_file
            return _restore_into(settings, engine, fh, keys, header, counts, progress, key_path)
        finally:
            engine.dispose()


def _register_keys(settings: Settings) -> Keyring:
    if not settings.key_file.exists():
        raise ConfigError(
            msg(
                "key file {settings_key_file} does not exist: copy the register's key files (master.key and signing.key) there before restoring; a new key cannot read a backup",
                settings_key_file=settings.key_file,
            )
        )
    return Keyring.load(settings.key_file)


@contextlib.contextmanager
def _opened(source: Path) -> Iterator[BinaryIO]:
    try:
        fh = source.open("rb")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInputError(
            msg("cannot read the backup {source} ({reason})", source=source, reason=reason)
        ) from None
    with fh:
        yield fh


def _check_whole(fh: BinaryIO, keys: Keyring, header: Header) -> dict[str, int]:
    """Read the whole stream once, authenticating each chunk: the rows per table."""
    counts: dict[str, int] = {}
    for batch in _batches(fh, keys, header):
        counts[batch.table] = counts.get(batch.table, 0) + len(batch.rows)
    return counts


def _restore_into(
    settings: Settings,
    engine: Engine,
    fh: BinaryIO,
    keys: Keyring,
    header: Header,
    counts: dict[str, int],
    progress: Progress,
    key_file: Path,
) -> RestoreSummary:
    new_file = settings.sqlite_file is not None and not settings.sqlite_file.exists()
    if (
        new_file
        and settings.sqlite_file is not None
        and settings.sqlite_file.parent == settings.home
    ):
        ensure_home(settings)
    if not new_file:
        _require_empty(engine)
    person_keys = read_key_file(keys, key_file) if counts.get("person_keys", 0) else {}
    try:
        migrate_to(engine, header.revision)
        fh.seek(0)
        read_header(fh)
        with progress("restore", sum(counts.values())) as advance:
            batches = _with_person_keys(_batches(fh, keys, header), person_keys)
            _insert_all(engine, batches, advance)
    except BaseException:
        if new_file and settings.sqlite_file is not None:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(str(settings.sqlite_file) + suffix).unlink(missing_ok=True)
        raise
    if header.revision != HEAD_REVISION:
        upgrade(engine)
    _restorer_administers(settings, engine, keys)
    _erase_keyless(settings, engine, keys)
    return RestoreSummary(header.revision, HEAD_REVISION, len(counts), sum(counts.values()))


def _restorer_administers(settings: Settings, engine: Engine, keys: Keyring) -> None:
    """The login that restores is an admin of the restored register (recorded in its log): on
    another engine the logins differ (OS logins on SQLite, database logins on PostgreSQL), and
    whoever holds the key and the backup holds the register anyway."""
    from consentreg.services.access import ensure_admin
    from consentreg.services.unit_of_work import Register

    with Register(settings, engine, keys).work() as ctx:
        ensure_admin(ctx)


def _with_person_keys(batches: Iterator[_Batch], found: dict[str, bytes]) -> Iterator[_Batch]:
    """The batches, each person's data key put back from the key file into `person_keys`."""
    for batch in batches:
        if batch.table == "person_keys" and batch.rows:
            names = [c for c, _ in batch.columns]
            who, key, erased = (names.index(n) for n in ("person_id", "wrapped_key", "erased_at"))
            for row in batch.rows:
                row[key] = found.get(row[who]) if row[erased] is None else None
        yield batch


def _erase_keyless(settings: Settings, engine: Engine, keys: Keyring) -> None:
    """Erase, with an event each, the people the backup holds a key row for that the key file
    has no key for: they were erased after the backup was taken."""
    from sqlalchemy import select

    from consentreg.db.models import PersonKey
    from consentreg.services.erasure import erase_key
    from consentreg.services.unit_of_work import Register

    with Register(settings, engine, keys).work() as ctx:
        keyless = ctx.session.scalars(
            select(PersonKey.person_id)
            .where(PersonKey.wrapped_key.is_(None), PersonKey.erased_at.is_(None))
            .order_by(PersonKey.person_id)
        ).all()
        for pid in keyless:
            erase_key(ctx, pid)


def _require_empty(engine: Engine) -> None:
    """RegisterNotEmptyError naming a table with rows; SchemaTooNewError (via `current_revision`
    and `migrate_to`) for a register of a newer consentreg."""
    with engine.connect() as conn:
        _check_empty(conn, inspect(conn))
    current = current_revision(engine)
    if current is not None and not known_revision(engine, current):
        from consentreg.db.schema import require_head

        require_head(engine)  # raises SchemaTooNewError


def _check_empty(conn: Connection, inspector: Inspector) -> None:
    names = [n for n in inspector.get_table_names() if n != VERSION_TABLE]
    if names and not inspector.has_table(VERSION_TABLE):
        raise RegisterNotEmptyError(
            msg(
                "the target database holds tables that are not a consentreg register's ({names_item}, ...): restore only into an empty database; nothing was written",
                names_item=names[0],
            )
        )
    quote = conn.dialect.identifier_preparer.quote
    for name in sorted(names):
        if conn.execute(text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first() is not None:  # noqa: S608 - a table name the database gave
            raise RegisterNotEmptyError(
                msg(
                    "the target register is not empty: table {name} has rows; restore only into an empty register; nothing was written",
                    name=name,
                )
            )


def _insert_all(engine: Engine, batches: Iterator[_Batch], advance: Callable[[int], None]) -> None:
    """Every row in one transaction; foreign keys are checked when it ends."""
    with session_scope(engine, writer=True) as session:
        conn = session.connection()
        inspector = inspect(conn)
        _check_empty(conn, inspector)
        deferred = _defer_foreign_keys(conn, inspector)
        checked: set[str] = set()
        for batch in batches:
            if batch.table not in checked:
                _check_columns(inspector, batch)
                checked.add(batch.table)
            if batch.rows:
                names = [c for c, _ in batch.columns]
                rows = [dict(zip(names, row, strict=True)) for row in batch.rows]
                conn.execute(insertable(batch.table, batch.columns).insert(), rows)
                advance(len(rows))
        _check_foreign_keys(conn, deferred)


def _check_columns(inspector: Inspector, batch: _Batch) -> None:
    known = (
        {c["name"] for c in inspector.get_columns(batch.table)}
        if inspector.has_table(batch.table)
        else set()
    )
    if known != {c for c, _ in batch.columns}:
        raise BackupDamagedError(
            msg(
                "table {batch_table} of the backup does not match the schema at its revision; nothing was written",
                batch_table=batch.table,
            )
        )


def _defer_foreign_keys(conn: Connection, inspector: Inspector) -> list[tuple[str, str]]:
    """Foreign keys checked at the end of the transaction, not row by row: a unit's parent or
    a withdrawal's grant may come later in the backup. SQLite has a switch for that; on
    PostgreSQL the constraints are made deferrable for this transaction and put back after."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        return []
    quote = conn.dialect.identifier_preparer.quote
    found = [
        (table, fk["name"])
        for table in inspector.get_table_names()
        for fk in inspector.get_foreign_keys(table)
        if fk["name"]
    ]
    for table, name in found:
        conn.exec_driver_sql(
            f"ALTER TABLE {quote(table)} ALTER CONSTRAINT {quote(name)} DEFERRABLE INITIALLY DEFERRED"
        )
    return found


def _check_foreign_keys(conn: Connection, deferred: list[tuple[str, str]]) -> None:
    if conn.dialect.name == "sqlite":
        return  # SQLite checks them at COMMIT
    conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")  # checks them now
    quote = conn.dialect.identifier_preparer.quote
    for table, name in deferred:
        conn.exec_driver_sql(
            f"ALTER TABLE {quote(table)} ALTER CONSTRAINT {quote(name)} NOT DEFERRABLE"
        )


# --- the stream -----------------------------------------------------------------------------------


def _damaged(what: str) -> BackupDamagedError:
    return BackupDamagedError(
        msg("the backup file is damaged ({what}); nothing was written", what=what)
    )


def _record(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise _damaged("a line is not JSON") from None


def _batches(fh: BinaryIO, keys: Keyring, header: Header) -> Iterator[_Batch]:
    """The rows of each table in batches (one, perhaps empty, for a table without rows), checked
    against the preamble, the tables' end lines and the end of the backup."""
    stream = lines(opened_chunks(fh, keys, header))
    preamble = _record(next(stream, b"{}"))
    if not isinstance(preamble, dict) or preamble.get("format") != STREAM_FORMAT:
        raise _damaged("its contents are not a backup stream")
    if preamble.get("revision") != header.revision or not isinstance(preamble.get("tables"), dict):
        raise _damaged("its contents do not match its header")
    expected: dict[str, int] = preamble["tables"]
    seen: list[str] = []
    for line in stream:
        record = _record(line)
        if isinstance(record, dict) and record.get("end_of_backup") is True:
            if next(stream, None) is not None or sorted(seen) != sorted(expected):
                raise _damaged("its tables do not match its preamble")
            return
        if not isinstance(record, dict) or not isinstance(record.get("table"), str):
            raise _damaged("a table's rows come without the table")
        table = record["table"]
        yield from _table_batches(table, _columns(record), stream, expected.get(table, -1))
        seen.append(table)
    raise _damaged("it ends before its end")


def _columns(record: dict[str, Any]) -> list[tuple[str, str]]:
    columns = record.get("columns")
    if not isinstance(columns, list) or not all(
        isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) and known_tag(c[1])
        for c in columns
    ):
        raise _damaged(f"table {record['table']} has no valid column list")
    return [(str(c[0]), str(c[1])) for c in columns]


def _table_batches(
    table: str, columns: list[tuple[str, str]], stream: Iterator[bytes], expected: int
) -> Iterator[_Batch]:
    decode = decoder([tag for _, tag in columns])
    rows: list[list[Any]] = []
    size = count = 0
    given_once = False
    for line in stream:
        if line.startswith(b"["):
            rows.append(decode(_record(line)))
            size, count = size + len(line), count + 1
            if len(rows) >= BATCH_ROWS or size >= BATCH_BYTES:
                yield _Batch(table, columns, rows)
                rows, size, given_once = [], 0, True
            continue
        end = _record(line)
        if (
            not isinstance(end, dict)
            or end.get("end") != table
            or end.get("rows") != count
            or count != expected
        ):
            raise _damaged(f"table {table} does not end as it should")
        if rows or not given_once:
            yield _Batch(table, columns, rows)
        return
    raise _damaged(f"it ends inside table {table}")
