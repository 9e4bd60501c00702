"""Rows staged for insertion together: one bulk write per table and chunk (COPY on PostgreSQL,
one executemany INSERT on SQLite: consentreg.db.bulk), tables in foreign-key dependency order.
The single commands and the CSV imports build the very same rows and audit events; only the
batch size differs.

The CSV imports stage a million rows: on PostgreSQL their batch is `overlapped`, so each full
chunk is copied by a thread while the import stages the next one, and the server indexes rows
while Python builds more (both cores busy instead of taking turns). Chunks are still written
one at a time and in order; a failed chunk raises at the next flush. An overlapped batch is a
context manager: leaving the block writes the rest, or after an error waits for the chunk in
flight (the unit of work then rolls everything back).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from functools import cache
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Table

from consentreg.db.base import Base
from consentreg.db.bulk import insert_rows
from consentreg.db.models import AuditEvent, AuditMention
from consentreg.services.audit import log as audit_log
from consentreg.services.audit.derive import event_of
from consentreg.services.audit.mentions import mention_rows
from consentreg.services.unit_of_work import Context

CHUNK = 5000
_MODELS = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}

_Chunk = list[tuple[Table, list[dict[str, Any]]]]


class RowBatch:
    def __init__(self, ctx: Context, *, chunk: int = CHUNK, overlapped: bool = False) -> None:
        self.ctx, self.chunk = ctx, chunk
        self._rows: dict[type[Base], list[dict[str, Any]]] = {}
        self._count = 0
        in_thread = overlapped and ctx.session.get_bind().dialect.name == "postgresql"
        self._writer = ThreadPoolExecutor(1, "consentreg-copy") if in_thread else None
        self._pending: Future[None] | None = None

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self._rows.setdefault(model, []).append(row)
        self._count += 1

    def record(
        self,
        action: str,
        rows: dict[str, dict[str, Any] | list[dict[str, Any]] | None],
        *,
        ids: dict[str, Any] | None = None,
        payload: dict[str, Any] | None = None,
        written: tuple[str, ...] = (),
    ) -> None:
        """Stage the rows a new change inserts (by table) and its audit event, derived from them
        as the action's description says (consentreg.services.audit.kinds). The rows of the
        tables in `written` are in the database already (an evidence blob): they only shape
        the event."""
        for table, given in rows.items():
            if table in written:
                continue
            for row in given if isinstance(given, list) else [given] if given else []:
                self.add(_MODELS[table], row)
        event_ids, event_payload = event_of(action, rows, ids=ids, payload=payload)
        event = audit_log.event_row(self.ctx, action, ids=event_ids, payload=event_payload)
        self.add(AuditEvent, event)
        for mention in mention_rows(event["seq"], event_ids):
            self.add(AuditMention, mention)

    def maybe_flush(self) -> None:
        if self._count < self.chunk:
            return
        if self._writer is None:
            self.flush()
            return
        self._wait()
        connection, chunk = self._take()
        self._pending = self._writer.submit(_write, connection, chunk)

    def settle(self) -> None:
        """Wait for the chunk in flight, if any: the session's connection is free for the
        caller's own statements afterwards."""
        self._wait()

    def flush(self) -> None:
        """Everything staged written before this returns (a chunk in flight first)."""
        self._wait()
        _write(*self._take())

    def __enter__(self) -> RowBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.flush()
            else:
                with suppress(Exception):  # the error that is already leaving matters more
                    self._wait()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # a failed write raises here

    def _take(self) -> tuple[Connection, _Chunk]:
        """The staged rows, table by table in foreign-key order, and the connection to write
        them on; the batch starts empty again."""
        order = _table_order()
        session = self.ctx.session
        session.flush()  # rows the session holds go first: staged rows may refer to them
        chunk = [
            (Base.metadata.tables[model.__tablename__], self._rows[model])
            for model in sorted(self._rows, key=lambda m: order[m.__tablename__])
        ]
        self._rows = {}
        self._count = 0
        return session.connection(), chunk


@cache
def _table_order() -> dict[str, int]:
    """Each table's place in foreign-key dependency order (sorting the metadata every flush
    would repeat the same work)."""
    return {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}


def _write(connection: Connection, chunk: _Chunk) -> None:
    for table, rows in chunk:
        insert_rows(connection, table, rows)
