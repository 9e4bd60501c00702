"""The command line's messages for the catalog `consentreg` (`make catalogs`; the catalog test
tests/unit/test_cli_catalog.py uses the same extraction):

- `_()`, `gettext()`, `ngettext()`, `N_()` and `msg()` in consentreg/ and cli/, and the literal
  message of every error raised (`raise InvalidInputError("...")`);
- the help texts of the command tree (cli/language.py `help_texts`);
- Click's and Typer's own messages, from the installed Typer (which carries its own Click).

Usage: python scripts/cli_messages.py OUT.pot
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KEYWORDS: dict[str, object] = {
    "_": None,
    "gettext": None,
    "N_": None,
    "msg": (1,),
    "ngettext": (1, 2),
    "message": None,  # cli/output.py: a message to stderr, localized there
    "add": (3,),  # the problems of an import: problems.add(row, column, "is empty")
}


def _error_classes() -> list[str]:
    import consentreg.errors as errors

    return [
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    ]


def _from_sources(folder: Path, keywords: dict[str, object]) -> Iterator[str | tuple[str, ...]]:
    found = extract_from_dir(
        str(folder), [("**.py", "python")], keywords=keywords, strip_comment_tags=True
    )
    for _file, _line, message, _comments, _context in found:
        yield message


HEADING = re.compile(r"^ *[A-Z][A-Z0-9_ ,./-]*$")


def _headings(folder: Path) -> Iterator[str]:
    """The literal headings of the tables in cli/ (lists of upper-case strings), which
    cli/output.py `table` translates."""
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.List) and node.elts:
                texts = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(texts) == len(node.elts) and all(
                    isinstance(t, str) and HEADING.match(t) for t in texts
                ):
                    yield from texts


def messages() -> list[str | tuple[str, ...]]:
    """Every msgid (a tuple for a singular and plural), sorted, without repeats."""
    import typer

    from cli.language import help_texts
    from cli.main import app

    ours = dict(KEYWORDS, **dict.fromkeys(_error_classes(), (1,)))
    found: dict[str | tuple[str, ...], None] = {}
    for folder in (ROOT / "consentreg", ROOT / "cli"):
        found.update(dict.fromkeys(_from_sources(folder, ours)))
    found.update(dict.fromkeys(_headings(ROOT / "cli")))
    found.update(dict.fromkeys(help_texts(app)))
    for package in (typer,):  # Typer carries its own copy of Click (typer._click)
        folder = Path(package.__file__ or "").parent
        theirs = {"_": None, "gettext": None, "ngettext": (1, 2)}
        found.update(dict.fromkeys(_from_sources(folder, theirs)))
    return sorted((m for m in found if m), key=lambda m: m if isinstance(m, str) else m[0])


def main(out: str) -> None:
    catalog = Catalog(project="consentreg", domain="consentreg", fuzzy=False)
    for message in messages():
        catalog.add(message)
    with open(out, "wb") as fh:
        write_po(fh, catalog, omit_header=True, no_location=True, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
