"""The event descriptions (consentreg.services.audit.kinds) at work: each is compiled once into
a function that derives an event's IDs and payload from the rows a writer wrote (`event_of`),
and one that derives the rows the tables should hold from an event (`plan`, `expected_rows`).
Each builds its dicts as literals: an import derives a million consent events, and verification
replays as many."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from consentreg.services.audit.kinds import (
    BY_ACTION,
    CONSTANTS,
    PLAIN,
    SKIP,
    Field,
    Kind,
    Part,
    Row,
)

if TYPE_CHECKING:
    from consentreg.services.audit.events import LoggedEvent


def suffix(action: str) -> str:
    return action.rsplit(".", 1)[1]


# --- the writers' side: an event from the rows ------------------------------------------------


def event_of(
    action: str,
    rows: Mapping[str, Row | Sequence[Row] | None],
    *,
    ids: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The IDs and payload of `action` for the rows it writes (`rows[table]`: one row, the list
    for a list part, or None for a part that wrote nothing), checking that the columns an event
    implies (its action's suffix, the constants) agree with the rows. `ids` and `payload` add
    what the event carries beyond the rows (a removed guardianship's people, a reason code)."""
    return _EVENTS[action](action, rows, ids or {}, payload or {})


EventBuilder = Callable[
    [str, Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]],
    tuple[dict[str, Any], dict[str, Any]],
]


def _compile_event(kind: Kind) -> EventBuilder:
    """One function per kind building the event's two dicts as literals (an import derives a
    million consent events)."""
    env: dict[str, Any] = {"disagree": _disagree}
    lines = ["def event(action, rows, extra_ids, extra_payload):"]
    ids: list[str] = []
    payload: list[str] = []
    checks: list[str] = []
    for n, part in enumerate(kind.parts):
        row = f"r{n}"
        getter = "rows.get" if part.present or part.each else "rows.__getitem__"
        lines.append(f"    {row} = {getter}({part.source!r})")
        if part.each is not None:
            where, name = part.each.split(":")
            item = next(f for f in part.fields if f.where == "item")
            cell = f"{name!r}: [x[{item.column!r}] for x in ({row} or ())]"
            (ids if where == "ids" else payload).append(cell)
            continue
        for i, f in enumerate(part.fields):
            value = f"{row}[{f.column!r}]"
            if f.where in ("ids", "payload"):
                if f.form is not PLAIN:
                    env[f"to_event_{n}_{i}"] = f.form.to_event
                    value = f"to_event_{n}_{i}({value})"
                if part.present:
                    value = f"(None if {row} is None else {value})"
                (ids if f.where == "ids" else payload).append(f"{f.name!r}: {value}")
            elif f.where == "action":
                checks.append(f"{value} != action.rsplit('.', 1)[1]")
            elif f.where == "const":
                env[f"const_{n}_{i}"] = CONSTANTS[(part.table, f.column)]
                # a part that may write no row (`present`) is checked only when it wrote one
                guard = f"{row} is not None and " if part.present else ""
                checks.append(f"{guard}{value} != const_{n}_{i}")
    for check in checks:
        lines.append(f"    if {check}: disagree(action)")
    lines.append(
        f"    return {{**extra_ids, {', '.join(ids)}}}, {{**extra_payload, {', '.join(payload)}}}"
    )
    exec("\n".join(lines), env)  # noqa: S102 - source built here from the descriptions above
    builder: EventBuilder = env["event"]
    return builder


def _disagree(action: str) -> None:
    raise ValueError(f"{action}: a row disagrees with what the event implies")


# --- the replay's side: the rows from an event ------------------------------------------------


def plan(action: str) -> list[tuple[Part, Builder]]:
    """The parts of an action with the function that builds each part's expected row from an
    event (and, for a list part, one of its items)."""
    return _BUILDERS[action]


def expected_rows(
    event: LoggedEvent,
) -> list[tuple[Part, list[dict[str, Any]]]]:
    """Each part of the event with the rows (values by column) the tables should hold; raises
    KeyError, TypeError or ValueError for an event that lacks what its action needs."""
    found = []
    for part, build in _BUILDERS[event.action]:
        if part.present is not None and event.ids.get(part.present) is None:
            continue
        if part.each is not None:
            where, name = part.each.split(":")
            carried = event.ids if where == "ids" else event.payload
            items = carried.get(name, ()) if part.since_later else carried[name]
            found.append((part, [build(event, item) for item in items]))
        else:
            found.append((part, [build(event, None)]))
    return found


Builder = Callable[["LoggedEvent", Any], dict[str, Any]]


def _compile(part: Part) -> Builder:
    """The part's row builder as one function holding one dict literal, as fast as a handler
    written by hand: verification replays a million consent events."""
    env: dict[str, Any] = {"SKIP": SKIP}
    cells, may_skip = [], False
    for i, f in enumerate(part.fields):
        expression, skips = _expression(part, f, env, f"_{i}")
        cells.append(f"{f.column!r}: {expression}")
        may_skip = may_skip or skips
    lines = [
        "def build(e, item):",
        "    ids, p = e.ids, e.payload",
        f"    row = {{{', '.join(cells)}}}",
    ]
    if may_skip:
        lines.append("    row = {k: v for k, v in row.items() if v is not SKIP}")
    lines.append("    return row")
    exec("\n".join(lines), env)  # noqa: S102 - source built here from the descriptions above
    builder: Builder = env["build"]
    return builder


def _expression(part: Part, f: Field, env: dict[str, Any], tag: str) -> tuple[str, bool]:
    """Python source for one column's expected value, and whether it may be SKIP."""
    if f.where in ("at", "actor"):
        return f"e.{f.where}", False
    if f.where == "item":
        return "item", False
    if f.where == "action":
        return "e.action.rsplit('.', 1)[1]", False
    if f.where == "const":
        env["const" + tag] = CONSTANTS[(part.table, f.column)]
        return "const" + tag, False
    source = "ids" if f.where == "ids" else "p"
    value = f"{source}[{f.name!r}]"
    if f.form is not PLAIN and f.where == "payload":
        env["convert" + tag] = f.form.expected
        value = f"convert{tag}({value})"
    if f.absent is None:
        return value, False
    env["absent" + tag] = f.absent
    return f"({value} if {f.name!r} in {source} else absent{tag}(e))", True


class _Compiled(dict[str, Any]):
    """Each action's function compiled on first use: a command compiles only what it uses."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, action: str) -> Any:
        self[action] = made = self._make(action)
        return made


_EVENTS: dict[str, EventBuilder] = _Compiled(lambda action: _compile_event(BY_ACTION[action]))
_BUILDERS: dict[str, list[tuple[Part, Builder]]] = _Compiled(
    lambda action: [(part, _compile(part)) for part in BY_ACTION[action].parts]
)
