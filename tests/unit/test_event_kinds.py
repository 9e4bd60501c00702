"""The descriptions of the audit events (consentreg.services.audit.kinds) are the one place a
table's columns meet the log: every column of every logged table is described, and an event
derived from rows replays to exactly those rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from consentreg.crypto import sha256_hex
from consentreg.db.base import Base
from consentreg.services.audit.derive import event_of, expected_rows
from consentreg.services.audit.events import LoggedEvent
from consentreg.services.audit.kinds import BY_ACTION, CONSTANTS, KINDS
from consentreg.services.audit.replay import TABLES

AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("table", [t for t in TABLES if t != "audit_events"])
def test_every_column_of_a_logged_table_is_described_by_the_event_that_creates_its_rows(
    table: str,
) -> None:
    columns = {c.name for c in Base.metadata.tables[table].columns}
    described = {
        f.column
        for kind in KINDS
        for part in kind.parts
        if part.table == table and part.op == "insert"
        for f in part.fields
    }
    assert described == columns


def _value(table: str, column: str, where: str, name: str, action: str) -> Any:
    """A row value of the column's type (what the event implies where it implies one; the
    same for every column an event carries under one name)."""
    if where == "ids":
        return f"{name}-1"
    if where == "action":
        return action.rsplit(".", 1)[1]
    if where == "const":
        return CONSTANTS[(table, column)]
    if where == "at":
        return AT
    if where == "actor":
        return "kari"
    kind = Base.metadata.tables[table].columns[column].type
    if column == "reasons":
        return '[{"code":"no_consent","subject":null}]'
    if column == "faces":
        return "[[10,20,30,30,950]]"
    if column == "purpose_ids":
        return '["purpose-1","purpose-2"]'
    if column == "text" or column == "note":
        return "Vi publiserer bilder."
    if column == "sha256" and table == "notice_versions":
        return sha256_hex(b"Vi publiserer bilder.")
    samples = {bytes: b"\x00ciphertext", bool: True, int: 7, datetime: AT, date: date(2026, 9, 1)}
    python_type = getattr(kind, "impl_instance", kind).python_type
    return samples.get(python_type, f"{column}-1")


def _rows(action: str) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for part in BY_ACTION[action].parts:
        row = {f.column: _value(part.table, f.column, f.where, f.name, action) for f in part.fields}
        rows[part.source] = (
            [row, {**row, **{f.column: "x" for f in part.fields if f.where == "item"}}]
            if part.each
            else row
        )
    return rows


@pytest.mark.parametrize("action", sorted(BY_ACTION))
def test_an_event_derived_from_rows_replays_to_exactly_those_rows(action: str) -> None:
    rows = _rows(action)
    ids, payload = event_of(action, rows)
    event = LoggedEvent(1, AT, "kari", action, ids, payload)
    for part, replayed in expected_rows(event):
        given = rows[part.source] if part.each else [rows[part.source]]
        for want, got in zip(given, replayed, strict=True):
            expected = {c: _as_logged(part.table, c, v) for c, v in want.items()}
            assert got == expected


def _as_logged(table: str, column: str, value: Any) -> Any:
    """What verification compares: ciphertext and hashed texts by their digest, JSON canonical."""
    if isinstance(value, bytes):
        return sha256_hex(value)
    if (table, column) in {
        ("notice_versions", "text"),
        ("audit_checkpoints", "note"),
        ("user_credentials", "password_hash"),
    }:
        return sha256_hex(value.encode())
    if column == "reasons":
        return '[{"code":"no_consent","subject":null}]'
    return value


def test_a_row_that_disagrees_with_its_action_is_refused() -> None:
    rows = _rows("consent.grant")
    rows["consent_events"]["kind"] = "refusal"
    with pytest.raises(ValueError, match="disagrees"):
        event_of("consent.grant", rows)
