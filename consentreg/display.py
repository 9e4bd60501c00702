"""Text made safe to show and laid out for reading: every entry point (the command line, the
reports, later the web pages) shows values through these, never raw.

`clean` shows control, format and bidirectional-override characters, which could break a line,
hide text or reverse how a name reads, as visible escapes; `to_json` escapes them inside strings;
`instant` prints a time in Europe/Oslo with its offset. The table helpers align whole columns at a time: `audit
consents` lays out 100,000 rows."""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

_OSLO = ZoneInfo("Europe/Oslo")
# what never reaches a reader raw: controls (C0, DEL, C1: a newline splits a row, ESC drives the
# terminal), format characters (bidirectional overrides that reverse how a name reads, zero-width
# characters, soft hyphens, the BOM), line and paragraph separators, surrogates, private-use and
# unassigned code points. Each is shown as its escape, visibly: "Ola\\nNordmann".
_HIDDEN = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# the same characters in a JSON document: escaped as \\uXXXX (still the same string to a parser)
_JSON_HIDDEN = re.compile(
    "[\x7f-\x9f\xad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000e0000-\U000e0fff]"
)


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def clean(text: object) -> str:
    """Anything user- or file-supplied, made safe to show: every control, format, separator or
    unassigned character replaced by its visible escape (a name keeps its letters and spaces)."""
    value = str(text)
    if value.isprintable():  # the common case: nothing hidden (isprintable rejects all of them)
        return value
    return "".join(_escape(c) if unicodedata.category(c) in _HIDDEN else c for c in value)


def clean_text(text: object) -> str:
    """`clean` for a text of several lines (a notice): its line breaks kept, each line cleaned."""
    return "\n".join(map(clean, str(text).replace("\r\n", "\n").split("\n")))


def instant(value: datetime, *, timespec: str = "seconds") -> str:
    """An instant as people here read it: Europe/Oslo, with its offset."""
    return value.astimezone(_OSLO).isoformat(timespec=timespec)


def _default(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return instant(value, timespec="auto")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # one level: the encoder comes back here for dataclasses nested inside
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(type(value).__name__)


def to_json(document: Any) -> str:
    """One JSON document; hidden characters inside strings are escaped (`\\u202e`), so the
    stream never carries them raw, while a parser reads the same strings."""
    text = json.dumps(document, default=_default, ensure_ascii=False, indent=2)
    return _JSON_HIDDEN.sub(
        lambda m: f"\\u{ord(m[0]):04x}" if ord(m[0]) < 0x10000 else _pair(m[0]), text
    )


def _pair(char: str) -> str:
    """A character beyond the BMP as a JSON surrogate pair."""
    code = ord(char) - 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


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
