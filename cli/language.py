"""The command line in the user's language (consentreg.i18n chooses it; docs/cli.md, "Language").

Three kinds of text reach a person, each translated from the same `consentreg` catalog:
- our own messages, wrapped in `_()` where they are printed (and library errors and refusal
  reasons rendered by `localize`);
- the help texts (Typer's `help=` strings and the commands' docstrings): Typer reads them when
  the modules are imported, before the language is known, so they stay English in the source
  and the Click command tree built for each run is translated here, once the language is
  chosen; `help_texts` walks the same tree for the catalog (scripts/cli_messages.py);
- Click's and Typer's own words ("Usage:", "Missing option", "No such command"): both call
  the standard library's `gettext.gettext` under the names `_` and `ngettext` they imported;
  `speak` points those names in their modules at the chosen catalog, which holds their msgids
  too (extracted from the installed click and typer, so a new Click release that adds one
  fails the catalog test until it is translated).
"""

from __future__ import annotations

import gettext as stdlib_gettext
import sys
from collections.abc import Iterator, Sequence

import click
import typer
import typer.main

from consentreg import i18n

OPTION = "--lang"


def explicit(argv: Sequence[str]) -> str | None:
    """The value of the global `--lang` option in `argv`, read before Click parses anything
    (the help texts must be translated before they are shown)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == OPTION and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(OPTION + "="):
            return arg.partition("=")[2]
    return None


def speak(argv: Sequence[str]) -> str:
    """Choose the language for this run and make Click and Typer speak it too."""
    language = i18n.choose(explicit(argv))
    i18n.use(language)
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("click", "typer")):
            continue
        if getattr(module, "_", None) in (stdlib_gettext.gettext, i18n.gettext):
            module._ = i18n.gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) in (stdlib_gettext.ngettext, i18n.ngettext):
            module.ngettext = i18n.ngettext  # type: ignore[attr-defined]
    return language


def command(app: typer.Typer) -> click.Command:
    """The Click command of `app` with every help text in the chosen language."""
    root = typer.main.get_command(app)
    if i18n.language() != i18n.LANGUAGES[0]:
        for holder, attribute, text in _texts(root):
            setattr(holder, attribute, i18n.gettext(text))
    return root


def help_texts(app: typer.Typer) -> list[str]:
    """Every help text of the command tree, as msgids for the catalog."""
    return [text for _holder, _attribute, text in _texts(typer.main.get_command(app))]


def _texts(cmd: click.Command) -> Iterator[tuple[object, str, str]]:
    for attribute in ("help", "short_help", "epilog"):
        text = getattr(cmd, attribute, None)
        if text:
            yield cmd, attribute, text
    for param in cmd.params:
        text = getattr(param, "help", None)
        if text:
            yield param, "help", text
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            yield from _texts(sub)


# Values shown as words in text output (machine values in --json): kinds of people and of
# decisions, yes/no.
WORDS = {
    True: i18n.N_("yes"),
    False: "",
    "child": i18n.N_("child"),
    "adult": i18n.N_("adult"),
    "staff": i18n.N_("staff"),
    "grant": i18n.N_("grant"),
    "refusal": i18n.N_("refusal"),
    "withdrawal": i18n.N_("withdrawal"),
    "allowed": i18n.N_("allowed"),
    "refused": i18n.N_("refused"),
    "error": i18n.N_("error"),
    "released": i18n.N_("released"),
    "people": i18n.N_("people"),
    "guardians": i18n.N_("guardians"),
    "consents": i18n.N_("consents"),
}


def word(value: object) -> str:
    """A value of a column for people: its word in the chosen language."""
    found = WORDS.get(value) if isinstance(value, (str, bool)) else None
    if found is None:
        return "" if value is None else str(value)
    return i18n.gettext(found) if found else ""
