"""Rows as JSON lines: a stable, typed encoding that reads the same on either engine.

Each table's rows are preceded by a line naming the table and its columns with their type tags,
and followed by a line with the number of rows. A row is a JSON array: text and integers as they
are, booleans as true/false, bytes as base64, dates as ISO dates, instants as ISO timestamps in
UTC with their offset. The first line of the stream describes the backup, the last ends it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    TableClause,
    column,
    table,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from consentreg.errors import BackupDamagedError

STREAM_FORMAT = "consentreg-backup-stream/1"

_ENGINE_TYPES: dict[str, TypeEngine[Any]] = {
    "str": String(),
    "int": Integer(),
    "float": Float(),
    "bool": Boolean(),
    "bytes": LargeBinary(),
    "date": Date(),
    "datetime": DateTime(),
}


_TAGS_BY_TYPE: tuple[tuple[str, type[Any]], ...] = (
    ("bool", bool),
    ("datetime", datetime),
    ("date", date),
    ("bytes", bytes),
    ("int", int),
    ("float", float),
    ("str", str),
)


def type_tag(col: Column[Any]) -> str:
    """The tag of a column of the register's metadata, by the Python type its values have."""
    engine_type = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
    python_type = engine_type.python_type
    for tag, kind in _TAGS_BY_TYPE:  # bool before int, datetime before date
        if issubclass(python_type, kind):
            return tag
    raise TypeError(f"column {col.table.name}.{col.name}: no backup encoding for {python_type}")


def _instant_out(value: datetime) -> str:
    if value.tzinfo is None:  # a plain DateTime column: naive UTC, as every instant is stored
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _instant_in(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "bytes": lambda v: base64.b64encode(v).decode("ascii"),
    "date": lambda v: v.isoformat(),
    "datetime": _instant_out,
}
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "bytes": lambda v: base64.b64decode(v, validate=True),
    "date": date.fromisoformat,
    "datetime": _instant_in,
}


def encoder(tags: Sequence[str]) -> Callable[[Sequence[Any]], bytes]:
    """A function from one row (values in column order) to its line, newline included."""
    steps = [_ENCODERS.get(tag) for tag in tags]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(row: Sequence[Any]) -> bytes:
        values = [v if f is None or v is None else f(v) for f, v in zip(steps, row, strict=True)]
        return dumps(values).encode() + b"\n"

    return encode


def decoder(tags: Sequence[str]) -> Callable[[list[Any]], list[Any]]:
    """The inverse of `encoder`, on a parsed line; BackupDamagedError for a value that does not
    fit its column."""
    steps = [_DECODERS.get(tag) for tag in tags]

    def decode(values: list[Any]) -> list[Any]:
        if not isinstance(values, list) or len(values) != len(steps):
            raise BackupDamagedError("the backup holds a row that does not fit its table")
        try:
            return [
                v if f is None or v is None else f(v) for f, v in zip(steps, values, strict=True)
            ]
        except (TypeError, ValueError, binascii.Error):
            raise BackupDamagedError(
                "the backup holds a value that does not fit its column"
            ) from None

    return decode


def insertable(name: str, columns: Sequence[tuple[str, str]]) -> TableClause:
    """A table to insert decoded rows into, with engine types by tag (no reflection needed)."""
    return table(name, *(column(col, _ENGINE_TYPES[tag]) for col, tag in columns))


def known_tag(tag: object) -> bool:
    return isinstance(tag, str) and tag in _ENGINE_TYPES


def control(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
