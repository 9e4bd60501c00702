"""`consentreg backup -o FILE`: every table of the register and its schema revision, read in one
snapshot (the unit of work's reader transaction: REPEATABLE READ, READ ONLY on PostgreSQL; one
read transaction on SQLite's WAL) while others keep writing, streamed a batch of rows at a time
into an encrypted file (`sealed`) that appears under its name only once it is whole and synced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, Table, cast, func, null, select, text

from consentreg import __version__
from consentreg.config import file_error
from consentreg.db import models  # noqa: F401 - registers every table on the metadata
from consentreg.db.base import Base
from consentreg.errors import OutputError
from consentreg.files import sync_folder
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.backup.key_file import write_key_file
from consentreg.services.backup.rows import STREAM_FORMAT, control, encoder, type_tag
from consentreg.services.backup.sealed import Header, SealedWriter
from consentreg.services.unit_of_work import Context

# the person keys are not in a data backup but in the key file beside it (`key_file`): erasing
# a person makes them unreadable in every backup taken before
LEFT_OUT = {("person_keys", "wrapped_key")}

# rows fetched at once: the first batch small, then as many as make about BATCH_BYTES
FIRST_BATCH_ROWS, MAX_BATCH_ROWS, BATCH_BYTES = 1, 2000, 1 << 20

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    tables: int
    rows: int
    size: int
    key_file: Path | None = None  # the person keys file rewritten with it
    person_keys: int = 0


def _no_progress(_label: str, _total: int) -> AbstractContextManager[Advance]:
    return nullcontext(lambda _n: None)


def write_backup(
    ctx: Context,
    target: Path,
    *,
    progress: Progress = _no_progress,
    on_snapshot: Callable[[], None] | None = None,
    key_file: Path | None = None,
) -> BackupSummary:
    """Back the register up into `target`, a new file (mode 0600) that must not exist. `ctx`
    must be a reader unit of work: its transaction is the snapshot. `on_snapshot` runs once the
    snapshot is taken (the tests commit a change there, which the backup must not hold). Admins
    only: a backup holds everything. The person keys are left out of it: `key_file`, the
    person keys file beside the backups, is rewritten from the same snapshot once the backup
    is whole."""
    require(ctx, "register.backup")
    conn = ctx.session.connection()
    revision = str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    if on_snapshot is not None:
        on_snapshot()
    tables = Base.metadata.sorted_tables  # parents before children
    counts = {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables
    }
    preamble = {
        "format": STREAM_FORMAT,
        "revision": revision,
        "consentreg": __version__,
        "created_at": ctx.now.isoformat(),
        "tables": counts,
    }
    with _new_file(target) as fh, progress("backup", sum(counts.values())) as advance:
        writer = SealedWriter(fh, ctx.keys, Header.new(ctx.keys, revision))
        writer.write(control(preamble))
        for t in tables:
            _write_table(conn, t, writer, advance)
        writer.write(control({"end_of_backup": True}))
        writer.close()
    written = write_key_file(ctx, key_file) if key_file is not None else 0
    return BackupSummary(
        target,
        revision,
        len(tables),
        sum(counts.values()),
        target.stat().st_size,
        key_file,
        written,
    )


def _write_table(conn: Connection, t: Table, writer: SealedWriter, advance: Advance) -> None:
    """The table's rows in primary-key order, fetched in batches of about BATCH_BYTES: the
    batch size follows the size of the rows seen so far, shrinking at once and growing by at
    most double (a people table: two thousand rows at a time; evidence chunks of a mebibyte:
    two). A long run of small rows followed by large ones is fetched in larger batches for a
    while."""
    columns = list(t.columns)
    tags = [type_tag(c) for c in columns]
    described = [[c.name, g] for c, g in zip(columns, tags, strict=True)]
    writer.write(control({"table": t.name, "columns": described}))
    encode = encoder(tags)
    selected = [
        cast(null(), c.type).label(c.name) if (t.name, c.name) in LEFT_OUT else c for c in columns
    ]
    query = select(*selected).order_by(*t.primary_key.columns)
    result = conn.execution_options(stream_results=True).execute(query)
    rows, batch = 0, FIRST_BATCH_ROWS
    while partition := result.fetchmany(batch):
        size = 0
        for row in partition:
            line = encode(row)
            writer.write(line)
            size += len(line)
        rows += len(partition)
        advance(len(partition))
        fitting = BATCH_BYTES * len(partition) // max(size, 1)
        batch = max(1, min(MAX_BATCH_ROWS, 2 * batch, fitting))
    writer.write(control({"end": t.name, "rows": rows}))


@contextmanager
def _new_file(target: Path) -> Iterator[BinaryIO]:
    """A temporary file (mode 0600) beside `target`, synced and given `target`'s name when the
    block returns; removed on any error. An existing `target` is never replaced."""
    folder = target.parent
    shown = str(target)
    if target.exists() or target.is_symlink():
        raise OutputError(
            msg("{shown} already exists; nothing was overwritten: choose a new name", shown=shown)
        )
    if not folder.is_dir():
        raise OutputError(msg("the folder of {shown} does not exist", shown=shown))
    tmp = folder / f".{target.name}.{os.getpid()}-{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as exc:
        raise file_error(exc, folder=folder, doing=f"create the backup {shown}") from None
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
            try:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:
                raise file_error(exc, folder=folder, doing=f"write the backup {shown}") from None
        _give_name(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    sync_folder(folder)


def _give_name(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)  # fails, rather than replacing, if the name was taken meanwhile
    except FileExistsError:
        raise OutputError(
            msg("{target} already exists; nothing was overwritten", target=target)
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise file_error(exc, folder=target.parent, doing=f"name the backup {target}") from None
        if target.exists():  # a file system without hard links: check, then rename
            raise OutputError(
                msg("{target} already exists; nothing was overwritten", target=target)
            ) from None
        os.replace(tmp, target)


def describe(summary: BackupSummary) -> dict[str, Any]:
    return {
        "path": str(summary.path),
        "revision": summary.revision,
        "tables": summary.tables,
        "rows": summary.rows,
        "bytes": summary.size,
        "key_file": str(summary.key_file) if summary.key_file else None,
        "person_keys": summary.person_keys,
    }
