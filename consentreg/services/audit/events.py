"""The audit log read back: events with their parsed IDs and payloads, their RFC 6962 leaf
hashes and Merkle roots, and the one way auditor queries are themselves recorded.

Shared by verification (audit_verify), checkpoints (audit_checkpoint), the auditor views
(audit_views), the subject export (export) and the coverage report (coverage).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from consentreg.db.models import AuditEvent, AuditMention
from consentreg.domain.audit_chain import leaf_hash
from consentreg.errors import AuditVerificationError
from consentreg.i18n import msg
from consentreg.services.audit import log as audit_log
from consentreg.services.unit_of_work import Context, RecordedView

QUERY_ACTION = "audit.query"


class LoggedEvent(NamedTuple):
    """One audit event as stored, with its IDs and payload parsed (a named tuple: verification
    builds one per event, and a frozen dataclass costs several times as much to create)."""

    seq: int
    at: datetime
    actor: str
    action: str
    ids: dict[str, Any]
    payload: dict[str, Any]

    def mentions(self, object_id: str) -> bool:
        """True when the ID is one of the event's object IDs (or in one of its ID lists)."""
        return any(
            value == object_id or (isinstance(value, list) and object_id in value)
            for value in self.ids.values()
        )


class StoredEvent(NamedTuple):
    """One audit_events row as stored, as plain values (verification reads a million)."""

    seq: int
    at: datetime
    actor: str
    action: str
    object_ids: str
    payload: str
    prev_hash: str
    hash: str


_STORED_COLUMNS = [getattr(AuditEvent, f) for f in StoredEvent._fields]


def stream_event_rows(
    ctx: Context,
    *,
    until: datetime | None = None,
    through: int | None = None,
    actions: Sequence[str] | None = None,
    batch: int = 20_000,
) -> Iterator[StoredEvent]:
    """The stored audit events in seq order, optionally only those at or before `until`, those
    up to seq `through`, or those with one of `actions`, read in batches (a server-side cursor on
    PostgreSQL): the whole log is never in memory at once."""
    query = select(*_STORED_COLUMNS).order_by(AuditEvent.seq)
    if until is not None:
        query = query.where(AuditEvent.at <= until)
    if through is not None:
        query = query.where(AuditEvent.seq <= through)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(actions))
    stored = StoredEvent._make
    for row in ctx.session.execute(query.execution_options(yield_per=batch)):
        yield stored(row)


def events_mentioning(ctx: Context, person_id: str) -> list[LoggedEvent]:
    """The events that name the person (as `LoggedEvent.mentions` says), in seq order, found
    through the index of events by the people they name (consentreg.services.audit.mentions),
    not by reading the log."""
    query = (
        select(*_STORED_COLUMNS)
        .join(AuditMention, AuditMention.seq == AuditEvent.seq)
        .where(AuditMention.object_id == person_id)
        .order_by(AuditEvent.seq)
    )
    found = (parse_event(StoredEvent._make(row)) for row in ctx.session.execute(query))
    return [e for e in found if e.mentions(person_id)]


def event_rows(ctx: Context, *, until: datetime | None = None) -> list[StoredEvent]:
    """The stored audit events in seq order, optionally only those at or before `until`."""
    return list(stream_event_rows(ctx, until=until))


def _json_object(text: str, *, seq: int, column: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise AuditVerificationError(
            msg(
                "audit event seq {seq}: {column} is not a JSON object; run `consentreg audit verify`",
                seq=seq,
                column=column,
            )
        )
    return value


def parse_event(row: StoredEvent) -> LoggedEvent:
    """Parse one stored event; a payload that is not a JSON object fails verification (exit 7)."""
    return LoggedEvent(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        ids=_json_object(row.object_ids, seq=row.seq, column="object_ids"),
        payload=_json_object(row.payload, seq=row.seq, column="payload"),
    )


def read_log(ctx: Context, *, until: datetime | None = None) -> list[LoggedEvent]:
    """Every event (up to `until`), parsed, in seq order."""
    return [parse_event(row) for row in event_rows(ctx, until=until)]


def leaf_of(row: StoredEvent) -> bytes:
    """The RFC 6962 leaf hash of a stored event, recomputed from its content."""
    return leaf_hash(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_ids=row.object_ids,
        payload=row.payload,
    )


EMPTY_ROOT = hashlib.sha256(b"").digest()


def merkle_roots(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """RFC 6962 Merkle tree hashes of the first `size` leaf hashes, for each size wanted, in one
    pass: a stack of perfect subtrees, folded from the right whenever a wanted size is reached.
    Sizes larger than the number of leaves are left out."""
    wanted = {s for s in sizes if 0 <= s <= len(leaves)}
    roots = {0: EMPTY_ROOT} if 0 in wanted else {}
    stack: list[tuple[int, bytes]] = []  # (height, subtree hash), heights decreasing
    for size, leaf in enumerate(leaves, 1):
        height, node = 0, leaf
        while stack and stack[-1][0] == height:
            node = _interior(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
        if size in wanted:
            roots[size] = _fold(stack)
    return roots


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over all the leaf hashes (empty tree: SHA-256 of nothing)."""
    return merkle_roots(leaves, [len(leaves)])[len(leaves)]


def _interior(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _fold(stack: list[tuple[int, bytes]]) -> bytes:
    node = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        node = _interior(left, node)
    return node


def record_query(
    ctx: Context, view: str, *, ids: dict[str, Any], payload: dict[str, Any] | None = None
) -> None:
    """Record that someone looked: which view, whose data (IDs only), with which filters. In a
    read-only view's transaction (`ctx.views`) it is kept for `record_views`."""
    if ctx.views is not None:
        ctx.views.append(RecordedView(view, ids, payload))
        return
    audit_log.append(ctx, QUERY_ACTION, ids=ids, payload={"view": view, **(payload or {})})


def record_views(ctx: Context, views: Sequence[RecordedView]) -> None:
    """Record the views a read-only transaction kept (`ctx.views`), in this writer one."""
    for view, ids, payload in views:
        record_query(ctx, view, ids=ids, payload=payload)
