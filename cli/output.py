"""The only place that writes to the terminal: data to stdout, messages to stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from consentreg import display
from consentreg.display import aligned, clean, instant, padded, to_json, widths
from consentreg.i18n import Message, gettext, localize, msg

if TYPE_CHECKING:
    from consentreg.errors import ConsentRegError

__all__ = ["OPTIONS", "aligned", "clean", "emit", "emit_id", "message", "padded", "table"]
__all__ += ["instant", "to_json", "widths", "write_cleaned"]


class Options:
    """Global flags, set once by the app callback."""

    json = False
    debug = False
    db: str | None = None


OPTIONS = Options()


def emit(document: Any, lines: Iterable[str] = ()) -> None:
    """Print one JSON document with --json, else the human-readable lines (a `msg` among them
    in the chosen language)."""
    if OPTIONS.json:
        _write(to_json(document) + "\n")
        return
    _write(
        "".join(
            clean(localize(line) if isinstance(line, Message) else line) + "\n" for line in lines
        )
    )


def write_cleaned(text: str) -> None:
    """Print a whole rendered answer at once, one that went through `clean` already (in the
    processes that rendered it, in parallel: cleaning 50 MB here would take a fifth of a
    second)."""
    _write(text)


def _write(text: str) -> None:
    """Data to stdout; a stdout that cannot take it (a full disk behind `> file`) is an error the
    user sees, not a traceback. A reader that went away (`| head`) is left to the caller."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise output_failure(exc) from None


def output_failure(exc: OSError) -> ConsentRegError:
    from consentreg.errors import StorageError

    reason = exc.strerror or type(exc).__name__
    return StorageError(msg("the output could not be written to stdout ({reason})", reason=reason))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A table for people; its headings are msgids (scripts/cli_messages.py collects the
    upper-case literals of cli/), shown in the chosen language."""
    return display.table([gettext(h) for h in headers], rows)


def emit_id(new_id: str) -> None:
    emit({"id": new_id}, [new_id])


def message(text: str) -> None:
    """A message to stderr in the chosen language (a `msg` or a msgid); its own line breaks (a
    list of problems) kept, each line cleaned."""
    text = localize(text)
    sys.stderr.write("\n".join(map(clean, text.split("\n"))) + "\n")
