"""The register as the audit log says it should be: every event replayed, in seq order.

Each handler turns one event into the rows it created, changed or removed, keyed like the
tables and holding the values the tables hold: aware datetimes, dates, booleans, and for
ciphertext (`*_ct`), notice texts and checkpoint notes the SHA-256 digests the events carry.
`audit verify` compares this with the tables; the auditor views answer from it, as of an
instant by replaying only the events up to that instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from consentreg.db.base import Base
from consentreg.services.audit.derive import Builder, plan
from consentreg.services.audit.events import QUERY_ACTION, LoggedEvent
from consentreg.services.audit.kinds import BY_ACTION, Part

# every table the log describes; audit_events is the log itself
TABLES = (
    "units",
    "purposes",
    "notice_versions",
    "people",
    "person_name_tokens",
    "person_caption_keys",
    "person_keys",
    "person_corrections",
    "restriction_events",
    "guardianships",
    "evidence_blobs",
    "evidence",
    "consent_events",
    "photos",
    "photo_subjects",
    "publications",
    "publication_consents",
    "publication_subjects",
    "audit_checkpoints",
    "register_identity",
    "trusted_keys",
    "users",
    "user_units",
    "user_credentials",
    "rounds",
    "round_links",
)
# the encrypted chunks of evidence blobs are not replayed: `audit verify` decrypts them and checks
# each blob's bytes against the SHA-256 its event carries (consentreg.services.evidence)
CHECKED_BY_HASH = ("evidence_chunks",)
# not register data: recent failed logins of the web application, which throttle guessing
# (consentreg.services.accounts), and the web forms already posted, which answer a second post
# of the same form (consentreg.services.form_posts); written without an event, never replayed
NOT_LOGGED = ("login_failures", "form_posts")
# derived from the log, not described by it: the index of events by the people they name, which
# `audit verify` rebuilds from the events' object IDs and compares (consentreg.services.audit.mentions)
DERIVED_FROM_LOG = ("audit_mentions",)
PRIMARY_KEYS = {t: tuple(c.name for c in Base.metadata.tables[t].primary_key) for t in TABLES}


def row_key(table: str, values: dict[str, Any]) -> str:
    """A row's primary key as one string; composite keys are joined with '/'."""
    columns = PRIMARY_KEYS[table]
    if len(columns) == 1:
        return str(values[columns[0]])
    return "/".join(str(values[c]) for c in columns)


@dataclass(slots=True)
class ExpectedRow:
    """A row's expected values, the seq of the event that created it and, for columns a later
    event changed, the seq of that event (most rows are never changed: no dict per row)."""

    values: dict[str, Any]
    created: int
    changed: dict[str, int] | None = None

    def set(self, seq: int, values: dict[str, Any]) -> None:
        self.values.update(values)
        if self.changed is None:
            self.changed = {}
        self.changed.update(dict.fromkeys(values, seq))

    def seq_of(self, column: str) -> int:
        """The seq of the event that last set the column."""
        return self.changed.get(column, self.created) if self.changed else self.created

    @property
    def last_seq(self) -> int:
        return max(self.created, *self.changed.values()) if self.changed else self.created


@dataclass(frozen=True)
class ReplayProblem:
    seq: int
    kind: str
    message: str


@dataclass
class State:
    tables: dict[str, dict[str, ExpectedRow]] = field(
        default_factory=lambda: {t: {} for t in TABLES}
    )
    problems: list[ReplayProblem] = field(default_factory=list)

    def rows(self, table: str) -> dict[str, ExpectedRow]:
        return self.tables[table]

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        row = self.tables[table].get(key)
        return row.values if row is not None else None

    def insert(self, table: str, seq: int, values: dict[str, Any]) -> None:
        key = row_key(table, values)
        if key in self.tables[table]:
            self.problem(seq, "duplicate_row", f"event creates {table} row {key} a second time")
        self.tables[table][key] = ExpectedRow(values, seq)

    def update(self, table: str, key: str, seq: int, values: dict[str, Any]) -> None:
        row = self.tables[table].get(key)
        if row is None:
            self.problem(seq, "unknown_row", f"event changes {table} row {key}, never created")
            return
        row.set(seq, values)

    def delete(self, table: str, key: str, seq: int) -> None:
        if self.tables[table].pop(key, None) is None:
            self.problem(seq, "unknown_row", f"event removes {table} row {key}, never created")

    def problem(self, seq: int, kind: str, message: str) -> None:
        self.problems.append(ReplayProblem(seq, kind, message))


Handler = Callable[[State, LoggedEvent], None]


def _handler(action: str) -> Handler:
    """The replay of one described action (consentreg.services.audit.kinds): its rows inserted,
    changed or removed as the description derives them from the event."""
    steps = [_step(part, build) for part, build in plan(action)]
    if len(steps) == 1:
        return steps[0]

    def apply(s: State, e: LoggedEvent) -> None:
        for step in steps:
            step(s, e)

    return apply


def _step(part: Part, build: Builder) -> Handler:
    table, key = part.table, part.key

    def write(s: State, e: LoggedEvent, values: dict[str, Any]) -> None:
        if part.op == "insert":
            s.insert(table, e.seq, values)
            return
        row = "/".join(str(values[c]) for c in key)
        if part.op == "delete":
            s.delete(table, row, e.seq)
        else:
            s.update(table, row, e.seq, {c: v for c, v in values.items() if c not in key})

    if part.each is not None:
        where, name = part.each.split(":")

        def each(s: State, e: LoggedEvent) -> None:
            carried = e.ids if where == "ids" else e.payload
            for item in carried.get(name, ()) if part.since_later else carried[name]:
                write(s, e, build(e, item))

        return each
    if part.present is not None:
        present = part.present

        def maybe(s: State, e: LoggedEvent) -> None:
            if e.ids.get(present) is not None:
                write(s, e, build(e, None))

        return maybe
    if part.op == "insert":
        return lambda s, e: s.insert(table, e.seq, build(e, None))
    return lambda s, e: write(s, e, build(e, None))


def _no_state(s: State, e: LoggedEvent) -> None:  # noqa: ARG001 - a read leaves no rows
    return


HANDLERS: dict[str, Handler] = {QUERY_ACTION: _no_state}  # the others built on first use


def replay(events: Iterable[LoggedEvent]) -> State:
    """The expected state after the events; what cannot be replayed is listed in `problems`."""
    state = State()
    for event in events:
        handler = HANDLERS.get(event.action)
        if handler is None and event.action in BY_ACTION:
            handler = HANDLERS[event.action] = _handler(event.action)
        if handler is None:
            state.problem(event.seq, "unknown_action", f"action {event.action!r} is not known")
            continue
        try:
            handler(state, event)
        except (KeyError, TypeError, ValueError, AttributeError):
            state.problem(event.seq, "malformed_event", "the event lacks a field its action needs")
    return state
