"""Appends hash-chained audit events in the caller's transaction (never commits).

Writers are serialised (BEGIN IMMEDIATE on SQLite, the writer advisory lock on PostgreSQL), so
the chain's head is read once per transaction and advanced in memory: seq stays gapless and
bulk imports do not pay a query per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select

from consentreg.db.base import Base
from consentreg.db.bulk import insert_rows as bulk_insert
from consentreg.db.models import AuditEvent
from consentreg.domain.audit_chain import GENESIS, canonical_json, chain_hash, leaf_hash
from consentreg.services.audit.derive import event_of
from consentreg.services.audit.mentions import mention_rows
from consentreg.services.unit_of_work import AuditHead, Context

_MENTIONS = Base.metadata.tables["audit_mentions"]


def _head(ctx: Context) -> AuditHead:
    if ctx.audit_head is None:
        last = ctx.session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        ctx.audit_head = AuditHead(last[0], last[1]) if last else AuditHead(0, GENESIS)
    return ctx.audit_head


def event_row(
    ctx: Context, action: str, *, ids: dict[str, Any], payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The next event as a row (advancing the head); the caller inserts it in this transaction.
    IDs, codes, dates and digests only, never plaintext personal data. Never in a read-only
    view's transaction (`ctx.views`): it holds no writer lock, so the chain could fork."""
    if ctx.views is not None:
        raise RuntimeError(f"{action}: a change inside a read-only view")
    head = _head(ctx)
    seq = head.seq + 1
    object_ids, body = canonical_json(ids), canonical_json(payload or {})
    leaf = leaf_hash(
        seq=seq, at=ctx.now, actor=ctx.actor, action=action, object_ids=object_ids, payload=body
    )
    digest = chain_hash(head.hash, leaf)
    ctx.audit_head = AuditHead(seq, digest)
    return {
        "seq": seq,
        "at": ctx.now,
        "actor": ctx.actor,
        "action": action,
        "object_ids": object_ids,
        "payload": body,
        "prev_hash": head.hash,
        "hash": digest,
    }


def record(
    ctx: Context,
    action: str,
    rows: Mapping[str, Any],
    *,
    ids: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Log the change `action` made by writing `rows` (by table: an ORM object, a row as a dict,
    a list of them, or None), its IDs and payload derived from them as its description says
    (consentreg.services.audit.kinds); returns its seq. The rows are already in the session."""
    event_ids, event_payload = event_of(action, as_rows(rows), ids=ids, payload=payload)
    return append(ctx, action, ids=event_ids, payload=event_payload)


def as_rows(rows: Mapping[str, Any]) -> dict[str, Any]:
    """ORM objects as rows of column values (dicts and None as they are)."""
    return {table: _as_row(value) for table, value in rows.items()}


def _as_row(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, list):
        return [_as_row(v) for v in value]
    return {c.name: getattr(value, c.name) for c in value.__table__.columns}


def insert_rows(ctx: Context, rows: list[dict[str, Any]]) -> None:
    if rows:
        ctx.session.execute(insert(AuditEvent), rows)


def append(
    ctx: Context, action: str, *, ids: dict[str, Any], payload: dict[str, Any] | None = None
) -> int:
    """Record one state change now (and index it by the people it names); returns its seq."""
    row = event_row(ctx, action, ids=ids, payload=payload)
    seq = int(row["seq"])
    insert_rows(ctx, [row])
    # a view of a whole municipality names a hundred thousand people: the bulk writer (COPY
    # on PostgreSQL, one executemany on SQLite), not the ORM's per-row parameter handling
    bulk_insert(ctx.session.connection(), _MENTIONS, mention_rows(seq, ids))
    return seq
