"""Text a user gives the register, checked the same way on every database engine.

PostgreSQL refuses a NUL character in a text column and a value longer than its VARCHAR(n);
SQLite stores both without a word. So the services check every user-supplied text here before
it reaches the database, and both engines answer alike: InvalidInputError (exit 2) naming the
field and the limit, never echoing the value (it may be a child's name).

- A one-line field (a name, a title, a code, a reference) may hold no control character at all:
  C0 (U+0000-U+001F, so no tab or newline either), DEL and C1 (U+007F-U+009F).
- A multi-line field (a notice text, a reason, a note, a caption) may also hold tab, line feed
  and carriage return (a notice file written on Windows ends its lines with CR LF).
- Neither may hold a lone surrogate (U+D800-U+DFFF): bytes that were not UTF-8, which Python
  smuggles through as such; no database can store them.

The limits are the columns' lengths in consentreg.db.models where the value is stored as is, and
a generous bound where it is stored encrypted (the database sees only ciphertext there, but a
megabyte of "name" is a mistake, not a name).
"""

from __future__ import annotations

import re

from consentreg.errors import InvalidInputError
from consentreg.i18n import msg

# models.py: units.code, purposes.code String(64); units.name, purposes.title String(200);
# photo_subjects.region String(64)
CODE = 64
TITLE = 200
NAME = 200
REGION = 64
# stored encrypted: bounds of our own
REF = 64
PHOTOGRAPHER = 200
REASON = 2000
NOTE = 2000
CAPTION = 2000
NOTICE = 100_000  # notice_versions.text is TEXT; a notice is a page or two

_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _problem(found: str) -> str:
    if found == "\x00":
        return "contains a NUL character"
    if "\ud800" <= found <= "\udfff":
        return "is not valid UTF-8 text"
    return f"contains a control character (U+{ord(found):04X})"


def _check(value: str, pattern: re.Pattern[str], *, field: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidInputError(
            msg("{field} is longer than {limit} characters", field=field, limit=limit)
        )
    # a printable text, the common case, needs no regular expression
    found = None if value.isprintable() else pattern.search(value)
    if found is not None:
        raise InvalidInputError(msg("{field} {value}", field=field, value=_problem(found.group())))
    return value


def check_line(value: str, *, field: str, limit: int) -> str:
    """A one-line text: at most `limit` characters, no control character; returned unchanged."""
    return _check(value, _ONE_LINE, field=field, limit=limit)


def check_text(value: str, *, field: str, limit: int) -> str:
    """A multi-line text: at most `limit` characters, no control character but tab, line feed and
    carriage return; returned unchanged."""
    return _check(value, _MULTI_LINE, field=field, limit=limit)


def line_problem(value: str, *, limit: int) -> str | None:
    """What is wrong with a one-line text, as a phrase ("is longer than 64 characters"), or None:
    for reports that name the field themselves (a CSV import's line and column)."""
    try:
        check_line(value, field="", limit=limit)
    except InvalidInputError as exc:
        return str(exc).strip()
    return None


def is_utf8(value: str) -> bool:
    """Whether a text can be encoded as UTF-8 (holds no lone surrogate): a look-up by a blind
    index or a value to encrypt must be."""
    return value.isprintable() or not _SURROGATE.search(value)


def file_name(name: str) -> str:
    """A file name as the operating system gave it, as text that can be stored: bytes that were
    not UTF-8 (an old camera's Latin-1 name) become U+FFFD instead of failing the command."""
    if is_utf8(name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def is_key(value: str, *, limit: int = CODE) -> bool:
    """Whether a text could be a stored key (an ID, a code): no longer than `limit`, no control
    character. A look-up with anything else finds nothing on either engine, without asking
    (PostgreSQL would refuse a NUL even in a WHERE clause)."""
    return len(value) <= limit and (value.isprintable() or not _ONE_LINE.search(value))
