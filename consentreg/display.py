"""Text made safe to show and laid out for reading: every entry point (the command line, the
reports, later the web pages) shows values through these, never raw.

`clean` replaces control and bidirectional-override characters, which could break a line, hide
text or reverse how a name reads. The table helpers align whole columns at a time: `audit
consents` lays out 100,000 rows."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """Strip control and bidi-override characters from anything user- or file-supplied."""
    value = str(text)
    # every character the pattern matches is one str.isprintable() rejects (Cc, Cf): a printable
    # text, the common case, needs no regular expression
    return value if value.isprintable() else _CONTROL.sub("?", value)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # one level: the encoder comes back here for dataclasses nested inside
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(type(value).__name__)


def to_json(document: Any) -> str:
    return json.dumps(document, default=_default, ensure_ascii=False, indent=2)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return aligned(headers, [[clean("" if c is None else c) for c in row] for row in rows])


def aligned(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; the cells went through `clean` already."""
    return padded(widths(headers, cells), [headers, *cells])


def widths(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> list[int]:
    """The width of each column but the last (which is never padded), headers included: the
    widths of several tables' cells are the widest of each column's (see `padded`)."""
    columns = list(zip(headers, *cells, strict=True))[:-1]
    return [max(map(len, column)) for column in columns]


def padded(widths: Sequence[int], rows: Sequence[Sequence[str]]) -> list[str]:
    """Each row a line, its cells padded to `widths` and two spaces apart, the line's end
    stripped."""
    line = "  ".join([*(f"%-{w}s" for w in widths), "%s"])  # the last column: no padding
    return list(map(str.rstrip, map(line.__mod__, map(tuple, rows))))
