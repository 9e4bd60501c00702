"""The `consentreg` command: global options, sub-command groups, and the ONE place where errors
become exit codes (docs/cli.md). Nothing heavy is imported here: `consentreg --help` stays fast."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, NoReturn

import typer

from . import admin, audit, backup, gate, photos, register, rounds, users, web
from .output import OPTIONS, emit, message

app = typer.Typer(
    name="consentreg",
    help="Consent register and photo publishing gate for kindergartens and schools.\n\n"
    "Example:\n\n    consentreg publish photo.jpg --purpose facebook --out ready/",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from consentreg import __version__

        sys.stdout.write(f"consentreg {__version__}\n")
        raise typer.Exit()


def _check_language(value: str | None) -> str | None:
    from consentreg.i18n import known

    if value and not known(value):
        from consentreg.i18n import N_

        raise typer.BadParameter(N_("must be nb (bokmål) or en (English)"))
    return value


@app.callback()
def _global(
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="CONSENTREG_DB", help="SQLAlchemy URL of the register."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON document.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    lang: Annotated[  # noqa: ARG001 - read before parsing (cli/language.py `speak`)
        str | None,
        typer.Option(
            "--lang",
            envvar="CONSENTREG_LANG",
            callback=_check_language,
            help="Language of what is printed: nb (bokmål) or en. Default: the locale (LANG).",
        ),
    ] = None,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    OPTIONS.db, OPTIONS.json, OPTIONS.debug = db, json_out, debug


admin.install(app)
register.install(app)
photos.install(app)
gate.install(app)
audit.install(app)
users.install(app, admin.db_app)
backup.install(app)
web.install(app)
rounds.install(app)


def _fail(code: int, text: str, kind: str) -> NoReturn:
    from consentreg.errors import ConsentRegError
    from consentreg.i18n import _, localize

    message(_("Error: {message}").format(message=localize(text)))
    if OPTIONS.json:  # the document keeps the English message: machines read it
        with contextlib.suppress(ConsentRegError):  # a stdout that cannot take it: said above
            emit({"error": {"type": kind, "message": str(text), "exit_code": code}})
    raise SystemExit(code)


def run(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the app and translate every failure into its exit code."""
    from consentreg.errors import ConsentRegError
    from consentreg.i18n import msg

    from .language import command, show_usage_error, speak

    speak(sys.argv[1:] if argv is None else argv)
    try:
        code = command(app)(args=argv, standalone_mode=False, prog_name="consentreg")
    except (typer.Abort, KeyboardInterrupt):  # 128 + SIGINT, as a shell reports Ctrl-C
        _fail(130, msg("aborted"), "Abort")
    except typer.TyperException as exc:  # usage errors (Typer's own click)
        if OPTIONS.debug:
            raise
        show_usage_error(exc)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except ConsentRegError as exc:
        if exc.shown:  # the answer was printed: only the exit code is left to give
            raise SystemExit(exc.exit_code) from None
        if OPTIONS.debug:
            raise
        _fail(exc.exit_code, exc.args[0] if exc.args else str(exc), type(exc).__name__)
    except Exception as exc:
        if OPTIONS.debug:
            raise
        # The message of an unexpected error may carry data; show only its type.
        _fail(
            1,
            msg(
                "internal error ({kind}); re-run with --debug for a traceback",
                kind=type(exc).__name__,
            ),
            "InternalError",
        )
    raise SystemExit(code if isinstance(code, int) else 0)


def entry() -> NoReturn:
    """The console script: run, flush, then leave without the interpreter's teardown (which
    would collect SQLAlchemy's objects after the work is done). Every file and connection is
    closed by then; only stdout and stderr still need flushing."""
    try:
        run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    code = _flush_output(code)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def _flush_output(code: int) -> int:
    """Flush stdout; when it cannot take the output (a full disk behind `> file`), say so and
    never exit 0. A reader that went away (`| head`) is no error."""
    from .output import output_failure

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return code
    except OSError as exc:
        failure = output_failure(exc)
        with contextlib.suppress(OSError, ValueError):
            from consentreg.i18n import _, localize

            message(_("Error: {message}").format(message=localize(failure.args[0])))
        return code or failure.exit_code
    except ValueError:  # stdout already closed
        return code
    return code
