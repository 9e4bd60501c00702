"""audit consents|subject|photo|publications|log|verify|checkpoint|public-key, export subject,
report coverage. Auditor views and exports are recorded as audit events, so they run in a
writer unit of work; verify only reads, in a reader's snapshot, so registrars can go on writing
while it runs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from consentreg.i18n import _, msg

from .language import word
from .output import OPTIONS, emit, instant, table, to_json, write_cleaned
from .runtime import settings, unit_of_work

if TYPE_CHECKING:
    from consentreg.services.audit.checkpoint import VerifierKey
    from consentreg.services.audit.verify import VerifyReport

audit_app = typer.Typer(
    help="Auditor views, verification and signed checkpoints.", no_args_is_help=True
)
export_app = typer.Typer(help="GDPR access requests.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for unit leaders.", no_args_is_help=True)

Since = Annotated[
    str | None, typer.Option("--since", help="From this date (start of day) or ISO timestamp.")
]
Output = Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file.")]
FORMATS = ("table", "csv", "json")


def install(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(export_app, name="export")
    app.add_typer(report_app, name="report")


def _instant(text: str | None) -> datetime | None:
    from consentreg.domain.calendar import parse_at

    return parse_at(text) if text else None


def write_private(path: Path, content: str | bytes) -> None:
    """Write a file readable by its owner only, replacing it whole or not at all."""
    from consentreg.errors import InvalidInputError

    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInputError(
            msg("{path} cannot be written ({exc_strerror})", path=path, exc_strerror=exc.strerror)
        ) from None


def _read(path: Path, *, option: str) -> bytes:
    from consentreg.errors import InvalidInputError

    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            msg(
                "{option} {path} cannot be read ({exc_strerror})",
                option=option,
                path=path,
                exc_strerror=exc.strerror,
            )
        ) from None


@audit_app.command("consents")
def consents_cmd(
    purpose: Annotated[str | None, typer.Option("--purpose", help="Purpose code.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit code.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date (start of day) or ISO timestamp; default now."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", help="Processes reading the register (default: the cores)."),
    ] = None,
) -> None:
    """Who had consented to what as of an instant, rebuilt from the audit log: per person and
    purpose, each consenter's latest decision and whether publishing was allowed (IDs only).

    Example:

        consentreg audit consents --unit bhg --purpose facebook --as-of 2026-12-01 --format csv
    """
    from consentreg.errors import InvalidInputError
    from consentreg.services.audit.consents_report import consents_text

    if fmt not in FORMATS:
        raise InvalidInputError(msg("--format must be table, csv or json, not {fmt!r}", fmt=fmt))
    if jobs is not None and jobs < 1:
        raise InvalidInputError("--jobs must be at least 1")
    when = _instant(as_of)
    text = consents_text(
        settings(),
        purpose=purpose,
        unit=unit,
        as_of=when,
        fmt="json" if OPTIONS.json else fmt,
        jobs=jobs or os.cpu_count() or 1,
    )
    write_cleaned(text)


def _lines(prefix: str, items: list[dict[str, Any]] | list[Any]) -> list[str]:
    out = []
    for item in items:
        fields = item if isinstance(item, dict) else item.__dict__
        out.append(prefix + " " + " ".join(f"{k}={_value(k, v)}" for k, v in fields.items()))
    return out


# fields whose values are words for people (kinds of people, decisions), shown translated
_WORDED = ("kind", "decision")


def _value(key: str, value: Any) -> str:
    return word(value) if key in _WORDED and isinstance(value, str) else _show(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return instant(value, timespec="auto")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return "-" if value is None else str(value)


@audit_app.command("subject")
def subject_cmd(
    person_id: Annotated[str, typer.Argument(help="Person ID or ref:EXTERNAL_ID.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="As the log recorded it by this date (start of day) or timestamp."
        ),
    ] = None,
) -> None:
    """One person's whole history from the audit log, by ID: corrections (what changed, the
    unit moved from), guardianships, restrictions, consents given or received, photo tags,
    publications and every event naming them; with --as-of, as it stood at that instant.

    Example:

        consentreg audit subject ref:K001 --as-of 2026-08-01 --json
    """
    from consentreg.services.audit.views import subject

    when = _instant(as_of)
    with unit_of_work() as ctx:
        view = subject(ctx, person_id, as_of=when)
    emit(
        view,
        _lines(_("person"), [view.person])
        + _lines(_("correction"), view.corrections)
        + _lines(_("guardianship"), view.guardianships)
        + _lines(_("restriction"), view.restrictions)
        + _lines(_("consent"), view.consents)
        + _lines(_("tag"), view.photos)
        + _lines(_("publication"), view.publications)
        + _lines(_("event"), view.events),
    )


@audit_app.command("photo")
def photo_cmd(photo_id: str) -> None:
    """One photo's history: its register entry (no names), tags and every decision about it.

    Example:

        consentreg audit photo 5f1c... --json
    """
    from consentreg.services.audit.views import photo

    with unit_of_work() as ctx:
        view = photo(ctx, photo_id)
    emit(
        view,
        _lines(_("photo"), [view.photo])
        + _lines(_("tag"), view.tags)
        + _lines(_("publication"), view.publications)
        + _lines(_("event"), view.events),
    )


@audit_app.command("publications")
def publications_cmd(
    since: Since = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Purpose code.")] = None,
) -> None:
    """Every release and refusal, with the people in it and the consents it relied on.

    Example:

        consentreg audit publications --since 2026-09-01 --purpose facebook
    """
    from consentreg.services.audit.views import publications

    when = _instant(since)
    with unit_of_work() as ctx:
        found = publications(ctx, since=when, purpose=purpose)
    rows = [
        (p.id, instant(p.decided_at), p.purpose, p.photo_id, word(p.decision))
        + (" ".join(p.reasons), " ".join(p.subjects), _show(p.taken_down_at))
        for p in found
    ]
    headers = ["PUBLICATION", "DECIDED", "PURPOSE", "PHOTO", "DECISION", "REASONS", "SUBJECTS"]
    emit({"publications": found}, table([*headers, _("TAKEN DOWN")], rows))


@audit_app.command("log")
def log_cmd(since: Since = None) -> None:
    """The audit events themselves: seq, time, actor, action and the IDs they concern.

    Example:

        consentreg audit log --since 2026-11-01
    """
    from consentreg.services.audit.views import log

    when = _instant(since)
    with unit_of_work() as ctx:
        found = log(ctx, since=when)
    rows = [(e.seq, _show(e.at), e.actor, e.action, _show(e.ids)) for e in found]
    emit(
        {"events": [e._asdict() for e in found]},
        table(["SEQ", "AT", "ACTOR", "ACTION", "IDS"], rows),
    )


def _pinned_key(pubkey: Path | None) -> VerifierKey | None:
    """--pubkey (an auditor's own copy of one key), else None: the keys the register trusts."""
    from consentreg.services.audit.checkpoint import parse_verifier_key

    if pubkey is None:
        return None
    return parse_verifier_key(_read(pubkey, option="--pubkey").decode("utf-8", "replace"))


def _verify_lines(report: VerifyReport) -> list[str]:
    lines = [
        _("audit log: {size} events, chain intact, head {head}").format(
            size=report.size, head=report.head
        ),
        _("register: {rows} rows match the audit log").format(rows=report.rows_compared),
    ]
    lines += [
        _("{source}: ok (size {size})").format(source=c.source, size=c.size)
        for c in report.checkpoints
    ]
    return [
        *lines,
        _("unanchored events: {n} (after the newest checkpoint)").format(n=report.unanchored),
    ]


@report_app.command("retention")
def retention_cmd(
    years: Annotated[
        int,
        typer.Option("--years", help="Left more than this many years ago (default 2)."),
    ] = 2,
) -> None:
    """People who left more than N years ago (default 2): ID, kind, unit, the day they left
    and name, longest gone first, for deciding what to erase. Only reads.

    Example:

        consentreg report retention --years 3 --json
    """
    from consentreg.services.corrections import retention

    with unit_of_work(writer=False) as ctx:
        found = retention(ctx, years=years)
    emit(
        {"years": years, "people": found},
        table(
            ["ID", "KIND", "UNIT", "LEFT", "NAME"],
            [(p.id, p.kind, p.unit, p.left_on, p.name) for p in found],
        ),
    )


@audit_app.command("verify")
def verify_cmd(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint file you kept (repeatable)."),
    ] = None,
    pubkey: Annotated[
        Path | None,
        typer.Option(
            "--pubkey",
            help="Check checkpoints against this key only (from `audit public-key`); default:"
            " every signing key the register trusts (one per PC).",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain, compare every table with the events, and check the signed
    checkpoints: exit 0 when all is intact, 7 at the first place where it breaks (IDs only).

    Example:

        consentreg audit verify --checkpoint dpo/2026-11-30.checkpoint --pubkey dpo/consentreg.pub
    """
    from consentreg.errors import AuditVerificationError
    from consentreg.services.audit.run import verify_register
    from consentreg.services.audit.verify import ExternalCheckpoint, failure_message

    files = [ExternalCheckpoint(str(p), _read(p, option="--checkpoint")) for p in checkpoint or []]
    report = verify_register(settings(), key=_pinned_key(pubkey), external=files)
    if not report.ok:
        raise AuditVerificationError(failure_message(report))
    emit({"ok": True, "unanchored": report.unanchored, **asdict(report)}, _verify_lines(report))


@audit_app.command("checkpoint")
def checkpoint_cmd(output: Output = None) -> None:
    """Sign the log's size, Merkle root and head hash (a C2SP checkpoint) and store it; hand the
    file to someone outside (the DPO, the archive) so a later rollback shows. Refuses, exit 7,
    when the log does not verify.

    Example:

        consentreg audit checkpoint -o dpo/2026-11-30.checkpoint
    """
    from consentreg.services.audit.run import checkpoint_register

    view = checkpoint_register(settings())
    if output is not None:
        write_private(output, view.note)
    document = {**asdict(view), "file": str(output) if output else None}
    text = (
        [
            msg(
                "checkpoint {id}: {size} events, written to {output}",
                id=view.id,
                size=view.size,
                output=output,
            )
        ]
        if output
        else None
    )
    emit(document, text or view.note.splitlines())


@audit_app.command("public-key")
def public_key_cmd(output: Output = None) -> None:
    """Print (or write) the verifier key auditors pin to check checkpoints: name+id+key.

    Example:

        consentreg audit public-key -o dpo/consentreg.pub
    """
    from consentreg.crypto import Signer
    from consentreg.services.audit.checkpoint import verifier_key

    key = verifier_key(Signer.load(settings().signing_key_file).public_key_bytes())
    if output is not None:
        write_private(output, key.text + "\n")
    document = {"name": key.name, "key_id": key.key_id, "key": key.text}
    emit(document, [msg("wrote {output}", output=output)] if output else [key.text])


@export_app.command("subject")
def export_subject_cmd(
    person_id: Annotated[str, typer.Argument(help="Person ID or ref:EXTERNAL_ID.")],
    output: Output = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="json (ISO/IEC TS 27560 records for machines), html or pdf (the access report"
            " in bokmål for a parent; pdf needs Chromium and -o).",
        ),
    ] = "json",
) -> None:
    """Everything about one person (GDPR Art 15): as one JSON document with consent records
    shaped after ISO/IEC TS 27560 (W3C DPV), or as the access report a parent can read, in
    bokmål, as HTML or PDF. Contains names: hand it to the person; files are readable by you
    only.

    Example:

        consentreg export subject ref:K001 --format pdf -o innsyn-K001.pdf
    """
    from consentreg.errors import InvalidInputError

    if fmt not in ("json", "html", "pdf"):
        raise InvalidInputError(msg("--format must be json, html or pdf, not {fmt!r}", fmt=fmt))
    if fmt == "pdf" and output is None:
        raise InvalidInputError("a PDF goes to a file: give -o FILE.pdf")
    if fmt == "json":
        from consentreg.services.export import export_subject

        with unit_of_work() as ctx:
            document = export_subject(ctx, person_id)
        if output is None:
            emit(document, to_json(document).splitlines())
            return
        write_private(output, to_json(document) + "\n")
        subject = document["subject"]["dct:identifier"]
        emit({"subject": subject, "file": str(output)}, [msg("wrote {output}", output=output)])
        return
    from consentreg.services.access_report import access_report

    with unit_of_work() as ctx:
        page = access_report(ctx, person_id)
    if output is None:  # html on stdout (a PDF was refused above)
        if OPTIONS.json:  # one JSON document, as every command gives with --json
            emit({"format": "html", "html": page})
        else:
            write_cleaned(page)  # rendered from cleaned, escaped values
        return
    if fmt == "html":
        write_private(output, page)
    else:
        from consentreg.printing import html_to_pdf

        write_private(output, html_to_pdf(page))
    emit({"file": str(output), "format": fmt}, [msg("wrote {output}", output=output)])


@report_app.command("coverage")
def coverage_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit code (default: everyone).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="html (a printable page, the default) or pdf (needs Chromium)."
        ),
    ] = "html",
) -> None:
    """One printable page in bokmål: for each child, pupil and staff member of the unit and its
    sub-units (each unit a heading; guardians are not rows) and each purpose, may they be
    published now, and if not, why. Shows names (the unit leader's view); written readable by
    you only. With --json: the same answer by ID with reason codes, and the file written.

    Example:

        consentreg report coverage --unit bhg -o dekning.html
    """
    from consentreg.errors import InvalidInputError
    from consentreg.services.coverage import coverage_report

    if fmt not in ("html", "pdf"):
        raise InvalidInputError(msg("--format must be html or pdf, not {fmt!r}", fmt=fmt))
    with unit_of_work() as ctx:
        report = coverage_report(ctx, unit=unit)
    if fmt == "html":
        write_private(output, report.html)
    else:
        from consentreg.printing import html_to_pdf

        write_private(output, html_to_pdf(report.html))
    counts = {"people": report.people, "purposes": report.purposes, "allowed": report.allowed}
    summary = msg(
        "wrote {output}: {people} people x {purposes} purposes, {allowed} allowed",
        output=output,
        people=report.people,
        purposes=report.purposes,
        allowed=report.allowed,
    )
    document = {"file": str(output), "format": fmt, **counts, **report.document()}
    emit(document, [summary])
