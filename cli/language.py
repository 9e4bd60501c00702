"""The command line in the user's language (consentreg.i18n chooses it; docs/cli.md, "Language").

Three kinds of text reach a person, each translated from the same `consentreg` catalog:
- our own messages, wrapped in `_()` where they are printed (and library errors and refusal
  reasons rendered by `localize`);
- the help texts (Typer's `help=` strings and the commands' docstrings): Typer reads them when
  the modules are imported, before the language is known, so they stay English in the source
  and the Click command tree built for each run is translated here, once the language is
  chosen; `help_texts` walks the same tree for the catalog (scripts/cli_messages.py);
- Click's and Typer's own words ("Usage:", "Missing option", "No such command"; Typer 0.28
  carries its own copy of Click, typer._click): both call
  the standard library's `gettext.gettext` under the names `_` and `ngettext` they imported;
  `speak` points those names in their modules at the chosen catalog, which holds their msgids
  too (extracted from the installed click and typer, so a new Click release that adds one
  fails the catalog test until it is translated).
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import typer
import typer.main
from typer._click.core import Context  # Typer's own copy of Click
from typer._click.formatting import HelpFormatter

from consentreg import i18n

OPTION = "--lang"


def explicit(argv: Sequence[str]) -> str | None:
    """The value of the global `--lang` option in `argv` (the last one, as Click takes it),
    read before Click parses anything: the help texts must be translated before they are
    shown."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == OPTION and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(OPTION + "="):
            found = arg.partition("=")[2]
    return found


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


USAGE, HELP = i18n.N_("Usage:"), i18n.N_("Show this message and exit.")
USAGE_PIECES = (i18n.N_("[OPTIONS]"), i18n.N_("COMMAND [ARGS]..."))


class _Formatter(HelpFormatter):
    """Typer's copy of Click writes "Usage: " and the --help option's text without gettext:
    this formatter translates them (and leaves every other text as it comes)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for piece in USAGE_PIECES:
            args = args.replace(piece, i18n.gettext(piece))
        super().write_usage(prog, args, i18n.gettext(USAGE) + " " if prefix is None else prefix)

    def write_dl(self, rows: Sequence[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        shown = [(term, i18n.gettext(text) if text == HELP else text) for term, text in rows]
        super().write_dl(shown, *args, **kwargs)


class _Context(Context):
    formatter_class = _Formatter


def command(app: typer.Typer) -> Any:
    """The Click command of `app` (Typer's own copy of Click) with every help text in the
    chosen language."""
    root = typer.main.get_command(app)
    if i18n.language() != i18n.LANGUAGES[0]:
        for holder, attribute, text in _texts(root):
            setattr(holder, attribute, i18n.gettext(text))
        for cmd in _commands(root):
            cmd.context_class = _Context  # Click's place for a command's own Context class
    return root


def _commands(cmd: Any) -> Iterator[Any]:
    yield cmd
    for sub in getattr(cmd, "commands", {}).values():
        yield from _commands(sub)


def help_texts(app: typer.Typer) -> list[str]:
    """Every help text of the command tree, as msgids for the catalog."""
    return [text for _holder, _attribute, text in _texts(typer.main.get_command(app))]


def _texts(cmd: Any) -> Iterator[tuple[object, str, str]]:
    for attribute in ("help", "short_help", "epilog"):
        text = getattr(cmd, attribute, None)
        if text:
            yield cmd, attribute, text
    for param in cmd.params:
        text = getattr(param, "help", None)
        if text:
            yield param, "help", text
    for sub in getattr(cmd, "commands", {}).values():  # a group (Typer's own copy of Click)
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


# Typer's copy of Click builds its usage errors in English without gettext; they are shown here
# from the exception's own fields, in the chosen language.
MISSING = {
    "argument": i18n.N_("Missing argument"),
    "option": i18n.N_("Missing option"),
    "parameter": i18n.N_("Missing parameter"),
}
TRY = i18n.N_("Try '{command} {option}' for help.")
ERROR = i18n.N_("Error: {message}")
NO_SUCH_OPTION = i18n.N_("No such option: {name}")
POSSIBLE = i18n.N_("(Possible options: {options})")
INVALID_FOR = i18n.N_("Invalid value for {hint}: {message}")
INVALID = i18n.N_("Invalid value: {message}")
# the messages of Typer's Click that carry a value, as patterns: (pattern, msgid)
_PATTERNS = (
    (
        re.compile(r"(?P<value>'.*') is not a valid (?P<kind>int|integer)\.", re.S),
        i18n.N_("{value} is not a valid whole number."),
    ),
    (
        re.compile(r"(?P<value>'.*') is not a valid (?P<kind>float)\.", re.S),
        i18n.N_("{value} is not a valid number."),
    ),
    (
        re.compile(r"Option (?P<name>'.*') requires an argument\.", re.S),
        i18n.N_("Option {name} requires an argument."),
    ),
    (
        re.compile(r"Got unexpected extra arguments? \((?P<args>.*)\)", re.S),
        i18n.N_("Got unexpected extra arguments ({args})"),
    ),
)


def show_usage_error(exc: Exception) -> None:
    """Write a usage error (bad option, missing argument, ...) to stderr as Click would, in
    the chosen language."""
    from typer._click import exceptions as click_errors
    from typer._click.utils import echo

    if not isinstance(exc, click_errors.ClickException) or isinstance(
        exc, click_errors.NoArgsIsHelpError
    ):
        exc.show()  # type: ignore[attr-defined]
        return
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = i18n.gettext(TRY).format(
                command=ctx.command_path, option=ctx.help_option_names[0]
            )
            hint += "\n"
        echo(f"{ctx.get_usage()}\n{hint}", err=True, color=ctx.color)
    message = i18n.gettext(ERROR).format(message=_usage_message(exc, click_errors))
    echo(message, err=True, color=ctx.color if ctx is not None else None)


def _usage_message(exc: Any, errors: Any) -> str:
    if isinstance(exc, errors.MissingParameter):
        hint = _param_hint(exc)
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else None)
        missing = i18n.gettext(MISSING[kind]) if kind in MISSING else f"{kind}"
        extra = exc.message
        if exc.param is not None:
            more = exc.param.type.get_missing_message(param=exc.param, ctx=exc.ctx)
            extra = f"{extra}. {more}" if extra and more else (extra or more or "")
        return f"{missing}{' ' + hint if hint else ''}.{' ' + extra if extra else ''}"
    if isinstance(exc, errors.BadParameter):
        hint = _param_hint(exc)
        text = _known(exc.message)
        if not hint:
            return i18n.gettext(INVALID).format(message=text)
        return i18n.gettext(INVALID_FOR).format(hint=hint, message=text)
    if isinstance(exc, errors.NoSuchOption):
        name = exc.option_name
        text = i18n.gettext(NO_SUCH_OPTION).format(name=name)
        if exc.message != f"No such option: {name}":  # a message of its own
            text = exc.message
        if exc.possibilities:
            options = ", ".join(sorted(exc.possibilities))
            text += " " + i18n.gettext(POSSIBLE).format(options=options)
        return text
    return _known(exc.format_message())


def _known(text: str) -> str:
    """A message of Typer's Click in the chosen language: a msgid, a known pattern, or as is."""
    for pattern, msgid in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            return i18n.gettext(msgid).format(**found.groupdict())
    return i18n.gettext(text)


def _param_hint(exc: Any) -> str | None:
    hint: Any = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.get_error_hint(exc.ctx)
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return None if hint is None else str(hint)
