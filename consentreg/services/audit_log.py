"""Appends one hash-chained audit event in the caller's transaction (never commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from consentreg.db.models import AuditEvent
from consentreg.domain.audit_chain import GENESIS, canonical_json, chain_hash, leaf_hash
from consentreg.services.context import Context


def append(
    ctx: Context, action: str, *, ids: dict[str, Any], payload: dict[str, Any] | None = None
) -> int:
    """Record a state change: IDs, codes, dates and digests only, never plaintext personal data.

    Writers are serialised (BEGIN IMMEDIATE / advisory lock), so max(seq)+1 is gapless.
    """
    last = ctx.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    object_ids, body = canonical_json(ids), canonical_json(payload or {})
    leaf = leaf_hash(
        seq=seq, at=ctx.now, actor=ctx.actor, action=action, object_ids=object_ids, payload=body
    )
    ctx.session.add(
        AuditEvent(
            seq=seq,
            at=ctx.now,
            actor=ctx.actor,
            action=action,
            object_ids=object_ids,
            payload=body,
            prev_hash=prev,
            hash=chain_hash(prev, leaf),
        )
    )
    ctx.session.flush()
    return seq
