"""Rows staged for insertion together: one bulk write per table and chunk (COPY on PostgreSQL,
one executemany INSERT on SQLite: consentreg.db.bulk), tables in foreign-key dependency order.
The single commands and the CSV imports build the very same rows and audit events; only the
batch size differs."""

from __future__ import annotations

from typing import Any

from consentreg.db.base import Base
from consentreg.db.bulk import insert_rows
from consentreg.db.models import AuditEvent
from consentreg.services import audit_log
from consentreg.services.context import Context

CHUNK = 5000


class RowBatch:
    def __init__(self, ctx: Context, *, chunk: int = CHUNK) -> None:
        self.ctx, self.chunk = ctx, chunk
        self._rows: dict[type[Base], list[dict[str, Any]]] = {}
        self._count = 0

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self._rows.setdefault(model, []).append(row)
        self._count += 1

    def audit(
        self, action: str, *, ids: dict[str, Any], payload: dict[str, Any] | None = None
    ) -> None:
        self.add(AuditEvent, audit_log.event_row(self.ctx, action, ids=ids, payload=payload))

    def maybe_flush(self) -> None:
        if self._count >= self.chunk:
            self.flush()

    def flush(self) -> None:
        order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}  # foreign keys
        session = self.ctx.session
        session.flush()  # rows the session holds go first: staged rows may refer to them
        for model in sorted(self._rows, key=lambda m: order[m.__tablename__]):
            table = Base.metadata.tables[model.__tablename__]
            insert_rows(session.connection(), table, self._rows[model])
        self._rows = {}
        self._count = 0
