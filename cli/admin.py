"""init, join, key export, db upgrade|current|check, demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentreg.i18n import _, localize, msg

from .output import emit, message
from .runtime import settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_app = typer.Typer(
    help="Database schema: upgrade, show or check the migration revision.", no_args_is_help=True
)
key_app = typer.Typer(
    help="The register's key: export it to bring another PC in.", no_args_is_help=True
)


def install(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("doctor")(doctor)
    app.command("join")(join)
    app.add_typer(key_app, name="key")
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")


def init() -> None:
    """Create the home folder, the key files (mode 0600), the schema and the register's identity;
    safe to run again. Against a register that already exists it never makes a new key: it checks
    this PC's key, or tells how to join (`consentreg join`).

    Example:

        CONSENTREG_HOME=/srv/consentreg consentreg init
    """
    from consentreg.services.register_identity import initialise

    s = settings()
    report = initialise(s)
    _adopt_evidence_files()
    _build_caption_index()
    if report.created_key:
        message(
            msg(
                "created key file {key_file}: back it up; without it the register cannot be read",
                key_file=s.key_file,
            )
        )
    emit(
        {
            "home": str(s.home),
            "key_file": str(s.key_file),
            "register_id": report.register_id,
            "created_register": report.created_register,
            "created_key": report.created_key,
            "created_signing_key": report.created_signing_key,
            "revision": report.revision,
        },
        [
            msg(
                "register {register} ready at {home} (schema {revision})",
                register=report.register_id,
                home=s.home,
                revision=report.revision,
            )
        ],
    )


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> str:
    """The passphrase from --passphrase-file (its first line), else asked twice (once to join)."""
    from consentreg.errors import InvalidInputError

    if passphrase_file is not None:
        try:
            lines = passphrase_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise InvalidInputError(
                msg(
                    "--passphrase-file {passphrase_file} cannot be read ({reason})",
                    passphrase_file=passphrase_file,
                    reason=reason,
                )
            ) from None
        if not lines or not lines[0]:
            raise InvalidInputError(
                msg("--passphrase-file {passphrase_file} is empty", passphrase_file=passphrase_file)
            )
        return lines[0]
    return str(
        typer.prompt(_("Passphrase"), hide_input=True, confirmation_prompt=confirm, err=True)
    )


PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the passphrase from this file's first line (scripts); default: ask for it.",
    ),
]


@key_app.command("export")
def key_export(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the key export (a new file).")
    ],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write this register's key sealed under a passphrase, to bring another PC in with
    `consentreg join`. Carry the file and tell the passphrase by different ways (a USB stick and
    a phone call); delete the file after the join.

    Example:

        consentreg key export -o /media/usb/consentreg.key
    """
    from consentreg.errors import InvalidInputError
    from consentreg.files import write_new_private
    from consentreg.services.register_identity import export_key

    if output.exists() or output.is_symlink():  # before the passphrase is asked for
        raise InvalidInputError(msg("{output} already exists: not overwritten", output=output))
    data = export_key(settings(), passphrase=_passphrase(passphrase_file, confirm=True))
    write_new_private(output, data, what="key export")
    emit({"output": str(output)}, [msg("wrote {output}", output=output)])


def join(
    key_file: Annotated[
        Path,
        typer.Option("--key-file", help="The key export written by `consentreg key export`."),
    ],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Bring this PC into the register at CONSENTREG_DB: open a key export with its passphrase,
    check it belongs to that register, then write this PC's key file and a signing key of its own
    that the register trusts. Nothing is written when anything does not match.

    Example:

        CONSENTREG_DB=postgresql+psycopg://kari@db.kommune.no/consentreg \\
            consentreg join --key-file /media/usb/consentreg.key
    """
    from consentreg.errors import InvalidInputError
    from consentreg.services.register_identity import join_register

    try:
        export = key_file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            msg(
                "--key-file {key_file} cannot be read ({exc_strerror})",
                key_file=key_file,
                exc_strerror=exc.strerror,
            )
        ) from None
    s = settings()
    report = join_register(s, export=export, passphrase=_passphrase(passphrase_file, confirm=False))
    lines = [
        msg(
            "already joined register {id}; key file {key_file}",
            id=report.register_id,
            key_file=s.key_file,
        )
        if report.already_joined
        else msg(
            "joined register {id}; key file {key_file}", id=report.register_id, key_file=s.key_file
        ),
        msg("this PC signs checkpoints with {key}", key=report.signing_key),
    ]
    emit(
        {
            "register_id": report.register_id,
            "key_file": str(s.key_file),
            "signing_key": report.signing_key,
            "already_joined": report.already_joined,
        },
        lines,
    )


def _db_engine(*, create: bool = False) -> Engine:
    """The register's engine. Only `db upgrade` may create a missing SQLite file (as it always
    has); `db current` and `db check` say there is no register instead of leaving an empty file."""
    from consentreg.db.engine import make_engine
    from consentreg.errors import ConfigError

    s = settings()
    if not create and s.sqlite_file is not None and not s.sqlite_file.exists():
        raise ConfigError(
            msg(
                "no register at {s_sqlite_file}: run `consentreg init` first",
                s_sqlite_file=s.sqlite_file,
            )
        )
    return make_engine(s.db_url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database schema to the newest revision, then build the caption index for
    people registered before it (this needs the key).

    Example:

        consentreg --db postgresql+psycopg://consentreg@db/consentreg db upgrade
    """
    from consentreg.db.schema import current_revision, upgrade

    engine = _db_engine(create=True)
    try:
        upgrade(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    _adopt_evidence_files()
    _build_caption_index()
    emit({"revision": revision}, [msg("at {revision}", revision=revision)])


def _adopt_evidence_files() -> None:
    """Evidence files an older release kept in this PC's home folder, moved into the register."""
    from consentreg.errors import ConfigError
    from consentreg.services.evidence_files import adopt_evidence_files

    try:
        done = adopt_evidence_files(settings())
    except ConfigError as exc:  # a register from before its identity: `init` finishes the move
        message(msg("warning: evidence files not moved yet: {exc}", exc=exc))
        return
    if done.adopted:
        message(
            msg(
                "moved {done_adopted} evidence file(s) from {done_folder} into the register",
                done_adopted=done.adopted,
                done_folder=done.folder,
            )
        )
    for kept in done.kept:
        message(
            msg(
                "warning: evidence file left in {done_folder}: {kept}",
                done_folder=done.folder,
                kept=kept,
            )
        )


def _build_caption_index() -> None:
    """The caption index (R11) for people registered before it; needs the key."""
    from consentreg.errors import ConsentRegError
    from consentreg.services.caption_index import build_caption_index

    try:
        built = build_caption_index(settings())
    except ConsentRegError as exc:  # no key here, or a role that may not: the gate still reads
        message(
            msg("warning: caption index not built yet (the gate decrypts instead): {exc}", exc=exc)
        )
        return
    if built.people:
        message(
            msg("built the caption index for {built_people} person(s)", built_people=built.people)
        )


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one this version knows.

    Example:

        consentreg db current
    """
    from consentreg.db.schema import current_revision, head_revision

    engine = _db_engine()
    try:
        cur, head = current_revision(engine), head_revision(engine)
        emit(
            {"current": cur, "head": head},
            [msg("current {value}, head {head}", value=cur or "none", head=head)],
        )
    finally:
        engine.dispose()


@db_app.command("check")
def db_check(
    integrity: Annotated[
        bool,
        typer.Option(
            "--integrity",
            help="Also read every page of a SQLite register (PRAGMA quick_check; about 1.4 s a"
            " gigabyte): exit 7 when the file is damaged.",
        ),
    ] = False,
) -> None:
    """Exit 0 when the schema is at head, 6 when `consentreg db upgrade` is needed (or, for a
    schema newer than this program, an upgrade of consentreg itself); with --integrity, 7 when
    the database file is damaged.

    Example:

        consentreg db check --integrity && echo up to date
    """
    from consentreg.db.schema import head_revision, require_head, require_intact

    engine = _db_engine()
    try:
        require_head(engine)
        if integrity:
            require_intact(engine)
        lines = [
            _("schema is at head, database file intact") if integrity else _("schema is at head")
        ]
        emit({"ok": True, "revision": head_revision(engine), "integrity": integrity}, lines)
    finally:
        engine.dispose()


def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Where the demo register and its releases go (default: a new temporary folder).",
        ),
    ] = None,
    serve: Annotated[
        int,
        typer.Option(
            "--serve",
            min=0,
            max=3600,
            help="Then run the staff web application on the demo register for this many"
            " seconds (Ctrl-C stops it sooner), printing its address and a demo login.",
        ),
    ] = 0,
) -> None:
    """Run the whole scenario on samples/ with an embedded SQLite register: register, publish,
    refuse, withdraw, take down; with --serve, then the staff web application on it.

    Example:

        consentreg demo --dir /tmp/consentreg-demo --serve 60
    """
    from .demo import run_demo

    run_demo(directory, serve_seconds=serve)


def doctor() -> None:
    """Check this PC's set-up: key files and their permissions, the database, the schema, that
    the key belongs to the register, this user's role, the age of the newest checkpoint, the
    witness folder. One line per check; exits with the first problem's exit code.

    Example:

        consentreg doctor
    """
    from datetime import UTC, datetime

    from consentreg.services.doctor import diagnose

    checks = diagnose(settings(), now=datetime.now(UTC))
    label = {"ok": _("ok"), "problem": _("PROBLEM"), "skipped": _("skipped")}
    width = max(map(len, label.values()))
    lines = [f"{label[c.status]:<{width}}  {localize(c.message)}" for c in checks]
    emit({"ok": all(c.ok for c in checks), "checks": checks}, lines)
    problems = [c for c in checks if not c.ok]
    if problems:
        message(msg("{n_problems} problem(s) found", n_problems=len(problems)))
        raise typer.Exit(problems[0].exit_code or 1)
