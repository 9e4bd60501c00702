"""The only place that writes to the terminal: data to stdout, messages to stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from consentreg.display import aligned, clean, padded, table, to_json, widths

__all__ = ["OPTIONS", "aligned", "clean", "emit", "emit_id", "message", "padded", "table"]
__all__ += ["to_json", "widths", "write_cleaned"]


class Options:
    """Global flags, set once by the app callback."""

    json = False
    debug = False
    db: str | None = None


OPTIONS = Options()


def emit(document: Any, lines: Iterable[str] = ()) -> None:
    """Print one JSON document with --json, else the human-readable lines."""
    if OPTIONS.json:
        sys.stdout.write(to_json(document) + "\n")
        return
    for line in lines:
        sys.stdout.write(clean(line) + "\n")


def write_cleaned(text: str) -> None:
    """Print a whole rendered answer at once, one that went through `clean` already (in the
    processes that rendered it, in parallel: cleaning 50 MB here would take a fifth of a
    second)."""
    sys.stdout.write(text)


def emit_id(new_id: str) -> None:
    emit({"id": new_id}, [new_id])


def message(text: str) -> None:
    sys.stderr.write(clean(text) + "\n")
