"""`audit verify` and `audit checkpoint`.

Verification recomputes the hash chain, replays the events into the state they describe and
compares it with every table, column by column (ciphertext by digest), decrypts and hashes every
stored evidence blob against the SHA-256 its events carry, and re-checks the signed
checkpoints: those stored in the register and the copies an auditor kept (`--checkpoint`), which
alone can reveal a log that was truncated, rolled back, forked or rewritten wholesale. Findings
name seqs, tables, columns and row IDs, never values. A checkpoint is signed only for a log that
verifies.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import LargeBinary, func, select

from consentreg.crypto import Signer, sha256_hex
from consentreg.db.base import Base
from consentreg.db.models import AuditCheckpoint, AuditEvent
from consentreg.domain.audit_chain import GENESIS, canonical_json, chain_hash, format_instant
from consentreg.errors import AuditVerificationError, ConfigError
from consentreg.memory import gc_paused
from consentreg.services.audit import log as audit_log
from consentreg.services.audit import mentions
from consentreg.services.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    format_body,
    parse_checkpoint,
    sign_note,
)
from consentreg.services.audit.events import (
    LoggedEvent,
    StoredEvent,
    leaf_of,
    merkle_roots,
    parse_event,
    stream_event_rows,
)
from consentreg.services.audit.replay import PRIMARY_KEYS, TABLES, State, replay
from consentreg.services.evidence import evidence_problems
from consentreg.services.unit_of_work import Context, new_id

MAX_LISTED = 25
_DIGESTED = {
    ("notice_versions", "text"),
    ("audit_checkpoints", "note"),
    ("user_credentials", "password_hash"),
}


@dataclass(frozen=True)
class Finding:
    """One place where the log or the register breaks; `seq` None: after the last event."""

    kind: str
    seq: int | None
    message: str
    table: str | None = None
    row: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class CheckpointResult:
    source: str
    size: int | None
    ok: bool


@dataclass(frozen=True)
class ExternalCheckpoint:
    """A checkpoint file an auditor kept: a label for messages (its path) and its bytes."""

    label: str
    data: bytes


@dataclass(frozen=True)
class VerifyReport:
    size: int
    root: str
    head: str
    rows_compared: int
    checkpoints: list[CheckpointResult]
    anchored: int
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def unanchored(self) -> int:
        """Events after the newest checkpoint that verified: truncating them goes unnoticed."""
        return self.size - self.anchored


@dataclass(frozen=True)
class CheckpointView:
    id: str
    size: int
    root: str
    head: str
    origin: str
    note: str
    witnessed: str | None = None  # the copy's path in the witness folder


@dataclass
class _Log:
    """What verification keeps of the events after its one pass over them: each event's
    recomputed leaf hash and stored chain hash, and the Merkle roots computed so far."""

    leaves: list[bytes] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.leaves)

    def head(self, size: int) -> str:
        return self.heads[size - 1] if size else GENESIS

    def root(self, size: int) -> bytes:
        if size not in self.roots:
            self.prefetch([size])
        return self.roots[size]

    def prefetch(self, sizes: Iterable[int]) -> None:
        """Many roots in one pass over the leaves (one per stored checkpoint)."""
        self.roots.update(merkle_roots(self.leaves, sizes))


def _hash_matches(row: StoredEvent, leaf: bytes) -> bool:
    try:
        return chain_hash(row.prev_hash, leaf) == row.hash
    except ValueError:  # a prev_hash that is not hex
        return False


def _parsed(rows: Iterable[StoredEvent], malformed: list[Finding]) -> Iterator[LoggedEvent]:
    """Each stored event parsed for the replay; a malformed one is a finding, and skipped."""
    for row in rows:
        try:
            yield parse_event(row)
        except AuditVerificationError as exc:
            malformed.append(Finding("malformed_event", row.seq, str(exc)))


@dataclass
class _Walk:
    """One pass over the stored events in seq order: each leaf recomputed and each link
    checked (chain findings), and each event not of an action in `skip` parsed for the replay
    (malformed ones are findings)."""

    skip: frozenset[str] = frozenset()
    log: _Log = field(default_factory=_Log)
    chain: list[Finding] = field(default_factory=list)
    malformed: list[Finding] = field(default_factory=list)
    prev: str = GENESIS
    expected: int = 1

    def events(self, rows: Iterable[StoredEvent]) -> Iterator[LoggedEvent]:
        return _parsed(self._linked(rows), self.malformed)

    def _linked(self, rows: Iterable[StoredEvent]) -> Iterator[StoredEvent]:
        skip = self.skip
        for row in rows:
            self._link(row)
            if row.action not in skip:
                yield row

    def _link(self, row: StoredEvent) -> None:
        leaf = leaf_of(row)
        self.log.leaves.append(leaf)
        self.log.heads.append(row.hash)
        found, expected = self.chain, self.expected
        if row.seq > expected:
            through = f" through {row.seq - 1}" if row.seq - 1 > expected else ""
            found.append(Finding("gap", expected, f"seq {expected}{through} missing"))
        elif row.seq < expected:
            found.append(Finding("order", row.seq, f"seq {row.seq} is out of order"))
        if row.prev_hash != self.prev:
            message = f"seq {row.seq} does not link to the event before it"
            found.append(Finding("link_broken", row.seq, message))
        if not _hash_matches(row, leaf):
            message = f"seq {row.seq}: the event does not match its hash (changed after writing)"
            found.append(Finding("content_changed", row.seq, message))
        self.prev, self.expected = row.hash, row.seq + 1


Convert = Callable[[Any], Any]


def _bytes_digest(value: Any) -> Any:
    return sha256_hex(bytes(value)) if isinstance(value, bytes | memoryview) else value


def _text_digest(value: Any) -> Any:
    return sha256_hex(value.encode()) if isinstance(value, str) else value


def _canonical_reasons(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return canonical_json(json.loads(value))
    except ValueError:
        return value


@dataclass(frozen=True)
class _TableShape:
    """How one table's rows are read for the comparison: the column names in result order, the
    primary key's positions, and the columns whose stored value is converted to what the events
    hold (ciphertext and the texts the events only hash become digests; reasons canonical JSON).
    Other values compare as they are: the events replay to the same Python types (aware
    datetimes, dates, booleans) the column types return."""

    table: str
    columns: tuple[str, ...]
    key: tuple[int, ...]
    convert: dict[str, Convert]

    @classmethod
    def of(cls, table: str, columns: Sequence[str]) -> _TableShape:
        types = Base.metadata.tables[table].columns
        convert: dict[str, Convert] = {}
        for name in columns:
            if (table, name) in _DIGESTED:
                convert[name] = _text_digest
            elif (table, name) == ("publications", "reasons"):
                convert[name] = _canonical_reasons
            elif isinstance(types[name].type, LargeBinary):
                convert[name] = _bytes_digest
        key = tuple(columns.index(c) for c in PRIMARY_KEYS[table])
        return cls(table, tuple(columns), key, convert)

    def row_key(self, row: Sequence[Any]) -> str:
        if len(self.key) == 1:
            return str(row[self.key[0]])
        return "/".join(str(row[i]) for i in self.key)

    def stored(self, row: Sequence[Any], column: str) -> Any:
        value = row[self.columns.index(column)]
        convert = self.convert.get(column)
        return convert(value) if convert is not None else value


class _RowComparer:
    """Compares rows against their expected values, fast: for each set of columns the events
    describe (a few per table) one itemgetter pulls those values out of a stored row, so a row
    that matches costs two tuple builds and one comparison in C. Only a row that differs is
    compared column by column, to name the columns."""

    def __init__(self, shape: _TableShape) -> None:
        self.shape = shape
        self._plans: dict[tuple[str, ...], tuple[Callable[[Any], Any], list[tuple[int, Convert]]]]
        self._plans = {}

    def _plan(
        self, names: tuple[str, ...]
    ) -> tuple[Callable[[Any], Any], list[tuple[int, Convert]]]:
        plan = self._plans.get(names)
        if plan is None:
            positions = [self.shape.columns.index(n) for n in names]
            getter: Callable[[Any], Any] = (
                itemgetter(*positions) if len(positions) > 1 else lambda row: (row[positions[0]],)
            )
            convert = [
                (j, self.shape.convert[n]) for j, n in enumerate(names) if n in self.shape.convert
            ]
            plan = self._plans[names] = (getter, convert)
        return plan

    def same(self, expected: dict[str, Any], row: Sequence[Any]) -> bool:
        getter, convert = self._plan(tuple(expected))
        stored = getter(row)
        if not convert:
            return bool(stored == tuple(expected.values()))
        values = list(stored)
        for j, fn in convert:
            values[j] = fn(values[j])
        return values == list(expected.values())

    def differing(self, expected: dict[str, Any], row: Sequence[Any]) -> list[str]:
        return [c for c, v in expected.items() if self.shape.stored(row, c) != v]


def _compare_table(ctx: Context, state: State, table: str) -> tuple[int, list[Finding]]:
    result = ctx.session.execute(
        select(Base.metadata.tables[table]).execution_options(yield_per=20_000)
    )
    shape = _TableShape.of(table, list(result.keys()))
    rows = _RowComparer(shape)
    remaining = dict(state.rows(table))
    count, found = 0, []
    for row in result:
        count += 1
        key = shape.row_key(row)
        expected = remaining.pop(key, None)
        if expected is None:
            message = f"{table} row {key} has no audit event (inserted behind the tool's back)"
            found.append(Finding("row_extra", None, message, table, key))
        elif not rows.same(expected.values, row):
            found += [
                Finding(
                    "field_changed",
                    expected.seq_of(column),
                    f"{table}.{column} of row {key} differs from the audit log",
                    table,
                    key,
                    column,
                )
                for column in rows.differing(expected.values, row)
            ]
    for key, expected in remaining.items():
        message = f"{table} row {key} is missing (deleted behind the tool's back)"
        found.append(Finding("row_missing", expected.last_seq, message, table, key))
    return count, found


def _check_note(
    log: _Log, data: bytes, keys: Sequence[VerifierKey], label: str
) -> tuple[Checkpoint | None, list[Finding]]:
    try:
        cp = parse_checkpoint(data, keys=keys)
    except CheckpointError as exc:
        return None, [Finding("checkpoint_invalid", None, f"{label}: {exc}")]
    size = log.size
    if cp.size > size:
        message = f"{label} covers {cp.size} events, the log has {size}: truncated or rolled back"
        return cp, [Finding("checkpoint_truncation", size + 1, message)]
    if log.root(cp.size) != cp.root:
        message = f"{label}: the root at size {cp.size} differs: rewritten, or a fork of the log"
        return cp, [Finding("checkpoint_root_mismatch", cp.size, message)]
    if cp.head is not None and log.head(cp.size) != cp.head:
        message = f"{label}: the head hash at size {cp.size} differs"
        return cp, [Finding("checkpoint_head_mismatch", cp.size, message)]
    return cp, []


def _check_stored(
    ctx: Context, log: _Log, keys: Sequence[VerifierKey]
) -> tuple[list[CheckpointResult], list[Finding]]:
    rows = ctx.session.scalars(
        select(AuditCheckpoint).order_by(
            AuditCheckpoint.created_at, AuditCheckpoint.size, AuditCheckpoint.id
        )
    )
    results, found, previous = [], [], None
    for row in rows:
        label = f"stored checkpoint {row.id}"
        cp, problems = _check_note(log, row.note.encode(), keys, label)
        if cp is not None and (cp.size, cp.root.hex(), cp.head) != (row.size, row.root, row.head):
            problems.append(
                Finding("checkpoint_invalid", row.size, f"{label}: note and row differ")
            )
        if previous is not None and row.size < previous.size:
            problems.append(
                Finding("checkpoint_order", row.size, f"{label} is smaller than the one before")
            )
        results.append(CheckpointResult(label, row.size, not problems))
        found += problems
        previous = row
    return results, found


def _check_external(
    log: _Log, keys: Sequence[VerifierKey], files: Sequence[ExternalCheckpoint]
) -> tuple[list[CheckpointResult], list[Finding]]:
    results, found = [], []
    for item in files:
        cp, problems = _check_note(log, item.data, keys, f"checkpoint file {item.label}")
        results.append(
            CheckpointResult(f"file {item.label}", cp.size if cp else None, not problems)
        )
        found += problems
    return results, found


def _order(finding: Finding) -> float:
    """First break first; findings with no seq (rows no event created) last. The sort is
    stable, so at one seq the chain's findings come before the tables'."""
    return finding.seq if finding.seq is not None else math.inf


def _check_checkpoints(
    ctx: Context,
    log: _Log,
    keys: Sequence[VerifierKey] | None,
    external: Sequence[ExternalCheckpoint],
) -> tuple[list[CheckpointResult], list[Finding]]:
    """Every stored checkpoint and every file against `keys` (an auditor's pinned key), by
    default the signing keys the register trusts (one per PC: any PC verifies any other's)."""
    if keys is None:
        from consentreg.services.register_identity import trusted_keys

        keys = trusted_keys(ctx)
    if not keys:
        if external or ctx.session.scalar(select(AuditCheckpoint.id).limit(1)):
            raise ConfigError("no public key to check the checkpoints: give --pubkey FILE")
        return [], []
    stored, stored_findings = _check_stored(ctx, log, keys)
    files, file_findings = _check_external(log, keys, external)
    return stored + files, stored_findings + file_findings


CONSENT_ACTIONS = ("consent.grant", "consent.refusal", "consent.withdrawal", "evidence.adopt")
"""Replayed and compared apart from the rest of the log, in a helper process when the command has
one: three in four events of a municipality's log. They create rows in CONSENT_TABLES only, and
no other event touches those tables, so the two parts are independent."""
CONSENT_TABLES = ("evidence_blobs", "evidence", "consent_events")


@dataclass(frozen=True)
class PartResult:
    """The consent events' part of the replay and comparison: rows compared, findings."""

    compared: int
    findings: list[Finding]


ConsentsPart = Callable[[int], Callable[[], PartResult | None]]
"""Starts the consent part for the log up to a seq (elsewhere) and returns the call that waits
for its answer; None from that call: do the part here."""


def log_size(ctx: Context) -> int:
    """The log's highest seq. Read first: on SQLite the first read fixes the snapshot."""
    return int(ctx.session.scalar(select(func.max(AuditEvent.seq))) or 0)


def verify_consent_events(ctx: Context, *, through: int) -> PartResult | None:
    """The consent events up to seq `through` replayed and compared with CONSENT_TABLES, in this
    transaction (a helper's). None when its snapshot holds another log than the one `through`
    was read from (a writer committed in between; every write appends an event): the command
    then does this part in its own snapshot."""
    if log_size(ctx) != through:
        return None
    return _consent_part(ctx, through)


def _consent_part(ctx: Context, through: int) -> PartResult:
    malformed: list[Finding] = []
    with gc_paused():
        rows = stream_event_rows(ctx, through=through, actions=CONSENT_ACTIONS)
        compared, found = _replay_and_compare(ctx, _parsed(rows, malformed), CONSENT_TABLES)
    return PartResult(compared, malformed + found)


def _replay_and_compare(
    ctx: Context, events: Iterable[LoggedEvent], tables: Sequence[str]
) -> tuple[int, list[Finding]]:
    """Replay the events, then compare these tables with the result: rows compared, what the
    replay could not make sense of and every difference."""
    state = replay(events)
    findings = [Finding(p.kind, p.seq, p.message) for p in state.problems]
    compared = 0
    for table in tables:
        count, found = _compare_table(ctx, state, table)
        compared, findings = compared + count, findings + found
    return compared, findings


def _check_evidence(ctx: Context) -> list[Finding]:
    """Every evidence row has its bytes stored, and every stored blob decrypts, chunk after
    chunk in its place, to bytes of its size and SHA-256 (which the events carry): a blob
    deleted, altered, cut short or swapped is a finding."""
    return [
        Finding(
            "evidence_missing" if p.table == "evidence" else "evidence_damaged",
            None,
            p.message,
            p.table,
            p.row,
        )
        for p in evidence_problems(ctx)
    ]


MENTIONS_LISTED = 1000


def _check_mentions(ctx: Context, through: int) -> list[Finding]:
    """The index of events by the people they name against the log (rebuilt in SQL from every
    event's object IDs): a row deleted would hide an event from a person's history and access
    report, a row added would show them one that is not theirs. At most MENTIONS_LISTED."""
    found = []
    for person, seq, missing in mentions.differences(
        ctx.session.connection(), through=through, limit=MENTIONS_LISTED
    ):
        if missing:
            kind = "index_missing"
            message = f"seq {seq} names person {person}; the index of events by person does not"
        else:
            kind = "index_extra"
            message = (
                f"the index of events by person lists seq {seq} for {person};"
                " the event does not name them"
            )
        found.append(Finding(kind, seq, message, "audit_mentions", f"{person}/{seq}"))
    return found


def _check_state(ctx: Context, walk: _Walk, through: int) -> tuple[int, list[Finding]]:
    """Replay the events as the walk reads them (all but the consent events), then compare every
    table but the consent events' with the result."""
    tables = [t for t in TABLES if t not in CONSENT_TABLES]
    return _replay_and_compare(ctx, walk.events(stream_event_rows(ctx, through=through)), tables)


def verify_log(
    ctx: Context,
    *,
    keys: Sequence[VerifierKey] | None = None,
    external: Sequence[ExternalCheckpoint] = (),
    consents: ConsentsPart | None = None,
) -> VerifyReport:
    """Check the chain, the tables against the events, and every checkpoint; never raises for a
    finding (the report lists them, first break first). The consent events' part runs through
    `consents` (a helper process) while this one walks the chain and replays the rest, else
    here after it."""
    through = log_size(ctx)
    waiting = consents(through) if consents is not None else None
    walk = _Walk(skip=frozenset(CONSENT_ACTIONS))
    with gc_paused():
        compared, state_findings = _check_state(ctx, walk, through)
        log = walk.log
        log.prefetch([log.size, *ctx.session.scalars(select(AuditCheckpoint.size))])
        index_findings = _check_mentions(ctx, through)
    part = waiting() if waiting is not None else None
    if part is None:
        part = _consent_part(ctx, through)
    results, checkpoint_findings = _check_checkpoints(ctx, log, keys, external)
    findings = sorted(
        walk.chain
        + walk.malformed
        + state_findings
        + index_findings
        + part.findings
        + _check_evidence(ctx)
        + checkpoint_findings,
        key=_order,
    )
    anchored = max((r.size or 0 for r in results if r.ok), default=0)
    size = log.size
    return VerifyReport(
        size,
        log.root(size).hex(),
        log.head(size),
        compared + part.compared,
        results,
        anchored,
        findings,
    )


def failure_message(report: VerifyReport, *, limit: int = MAX_LISTED) -> str:
    """The first break, then every finding (up to `limit`), one per line."""
    first = report.findings[0]
    where = f"seq {first.seq}" if first.seq is not None else "after the last event"
    shown = report.findings[:limit]
    more = len(report.findings) - len(shown)
    return (
        f"audit verification failed at {where} ({first.kind}); {len(report.findings)} problem(s):\n  "
        + "\n  ".join(f"[{f.kind}] {f.message}" for f in shown)
        + (f"\n  ... and {more} more" if more else "")
    )


def _store(ctx: Context, key: VerifierKey, report: VerifyReport, note: str) -> AuditCheckpoint:
    row = AuditCheckpoint(
        id=new_id(),
        size=report.size,
        root=report.root,
        head=report.head,
        key_id=key.key_id,
        note=note,
        created_at=ctx.now,
        created_by=ctx.actor,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit_log.record(ctx, "audit.checkpoint", {"audit_checkpoints": row})
    return row


def create_checkpoint(
    ctx: Context, *, signer: Signer, consents: ConsentsPart | None = None
) -> CheckpointView:
    """Sign the log's size, root and head, store the note and record it; refuses (exit 7) to sign
    a log that does not verify, so tampering is never laundered into a checkpoint. The signing
    key joins the register's trusted keys if it is not among them (this PC holds the register's
    key, so it may)."""
    from consentreg.services.access import require
    from consentreg.services.register_identity import trust_key, trusted_keys

    require(ctx, "audit.checkpoint")
    key = trust_key(ctx, signer.public_key_bytes())  # covered by the checkpoint it signs
    report = verify_log(ctx, keys=trusted_keys(ctx), consents=consents)
    if not report.ok:
        raise AuditVerificationError("refusing to sign: " + failure_message(report))
    body = format_body(
        origin=key.name,
        size=report.size,
        root=bytes.fromhex(report.root),
        head=report.head,
        time=format_instant(ctx.now),
    )
    row = _store(ctx, key, report, sign_note(body, signer))
    return CheckpointView(row.id, row.size, row.root, row.head, key.name, row.note)
