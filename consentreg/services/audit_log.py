"""Appends hash-chained audit events in the caller's transaction (never commits).

Writers are serialised (BEGIN IMMEDIATE on SQLite, the writer advisory lock on PostgreSQL), so
the chain's head is read once per transaction and advanced in memory: seq stays gapless and
bulk imports do not pay a query per event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from consentreg.db.models import AuditEvent
from consentreg.domain.audit_chain import GENESIS, canonical_json, chain_hash, leaf_hash
from consentreg.services.context import AuditHead, Context


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
    IDs, codes, dates and digests only, never plaintext personal data."""
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


def insert_rows(ctx: Context, rows: list[dict[str, Any]]) -> None:
    if rows:
        ctx.session.execute(insert(AuditEvent), rows)


def append(
    ctx: Context, action: str, *, ids: dict[str, Any], payload: dict[str, Any] | None = None
) -> int:
    """Record one state change now; returns its seq."""
    row = event_row(ctx, action, ids=ids, payload=payload)
    insert_rows(ctx, [row])
    return int(row["seq"])
