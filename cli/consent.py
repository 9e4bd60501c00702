"""consent grant|refuse|withdraw|list and import people|guardians|consents."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentreg.i18n import _, msg

from .language import word
from .output import OPTIONS, emit, instant, message, table, write_cleaned
from .runtime import names_for, open_register, unit_of_work

if TYPE_CHECKING:
    from consentreg.services.publishing.takedown import TakedownItem

consent_app = typer.Typer(
    help="Grants, refusals and withdrawals, with evidence.", no_args_is_help=True
)
import_app = typer.Typer(
    help="All-or-nothing CSV imports (columns: see README).", no_args_is_help=True
)

Evidence = Annotated[
    Path | None,
    typer.Option(
        "--evidence",
        help="Scan, PDF or e-mail; stored encrypted, its SHA-256 kept with the consent.",
    ),
]
Given = Annotated[
    str | None,
    typer.Option(
        "--given", help="Day a paper form was signed, YYYY-MM-DD: effective from its start."
    ),
]

NoticeVersion = Annotated[
    int | None,
    typer.Option(
        "--notice-version",
        min=1,
        help="The notice version a paper form was signed for (default: the one in force now).",
    ),
]


def install(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")
    app.add_typer(import_app, name="import")


def _record(
    subject_id: str,
    purposes: list[str],
    by: list[str],
    kind: str,
    method: str,
    given: str | None,
    until: str | None,
    evidence: Path | None,
    notice_version: int | None = None,
) -> None:
    from consentreg.domain.calendar import parse_date
    from consentreg.domain.model import EventKind
    from consentreg.services.consents import record_decisions
    from consentreg.services.evidence import read_evidence

    given_on = parse_date(given, field="--given") if given else None
    until_on = parse_date(until, field="--until") if until else None
    ev = read_evidence(evidence) if evidence else None
    with unit_of_work() as ctx:
        ids = record_decisions(
            ctx,
            subject=subject_id,
            purposes=purposes,
            consenters=by,
            kind=EventKind(kind),
            method=method,
            given=given_on,
            until=until_on,
            evidence=ev,
            notice_version=notice_version,
        )
    emit({"ids": ids, "id": ids[0] if len(ids) == 1 else None}, ids)


Purposes = Annotated[
    list[str],
    typer.Option("--purpose", help="A purpose code; repeat it for every purpose on the form."),
]
Consenters = Annotated[
    list[str],
    typer.Option(
        "--by",
        help="Who expressed it: the subject or a guardian; repeat it for every signature.",
    ),
]


@consent_app.command("grant")
def grant(
    subject_id: str,
    purpose: Purposes,
    by: Consenters,
    evidence: Evidence = None,
    method: Annotated[
        str, typer.Option("--method", help="paper, email, digital or in-person.")
    ] = "paper",
    given: Given = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Last valid day (default: the purpose's validity, e.g. the coming 31 July).",
        ),
    ] = None,
    notice_version: NoticeVersion = None,
) -> None:
    """Record a consent; prints its ID. It takes effect now, or from the start of the --given
    day (a paper form signed earlier), and binds to the notice text in force now, or to the
    --notice-version the form was signed for. One form for several purposes and signed by
    several guardians is one command: one consent per purpose and signature, all recorded or
    none, with the one scan stored once (one ID per line).

    Example:

        consentreg consent grant ref:K001 --purpose facebook --purpose web --by ref:G001 --by ref:G002 --evidence skjema.pdf
    """
    _record(subject_id, purpose, by, "grant", method, given, until, evidence, notice_version)


@consent_app.command("refuse")
def refuse(
    subject_id: str,
    purpose: Purposes,
    by: Consenters,
    evidence: Evidence = None,
    method: Annotated[str, typer.Option("--method")] = "paper",
    given: Given = None,
    notice_version: NoticeVersion = None,
) -> None:
    """Record a refusal (a child's own refusal overrides their guardians' consent); prints its ID
    (one per purpose and signature when several are given, all recorded or none).

    Example:

        consentreg consent refuse ref:P003 --purpose facebook --by ref:P003 --method in-person
    """
    _record(subject_id, purpose, by, "refusal", method, given, None, evidence, notice_version)


@consent_app.command("withdraw")
def withdraw_cmd(
    consent_id: Annotated[
        str | None,
        typer.Argument(
            help="The consent's ID or a unique prefix (or use --subject/--purpose/--by)."
        ),
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Whose consent (ID, prefix or ref:ID).")
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="For which purpose.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who gave it.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When it takes effect (default now).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Kept encrypted.")] = None,
) -> None:
    """Withdraw a consent; prints the withdrawal's ID, then the take-down list (both on stdout):
    every release that relied on that person for that purpose and is not yet taken down. Name
    the consent by its ID, or by whose it is, for what and who gave it.

    Example:

        consentreg consent withdraw --subject ref:K001 --purpose facebook --by ref:F001 --reason "e-post fra foresatt"
    """
    from consentreg.domain.calendar import parse_at
    from consentreg.errors import InvalidInputError
    from consentreg.services.consents import ConsentNamed, withdraw_consent

    parts = (subject, purpose, by)
    if any(parts) and not all(parts):
        raise InvalidInputError("name the consent with all three of --subject, --purpose and --by")
    named = ConsentNamed(subject, purpose, by) if subject and purpose and by else None
    when = parse_at(at) if at else None
    with unit_of_work() as ctx:
        done = withdraw_consent(ctx, consent_id=consent_id, named=named, at=when, reason=reason)
    wid, items = done.id, done.takedown
    # the take-down list is data (stdout, so that `> file` keeps it); what it means, a message
    emit({"id": wid, "takedown": items}, [wid, *(takedown_lines(items) if items else [])])
    message(
        msg(
            "take-down list: {n} release(s) to take down, listed on stdout under the"
            " withdrawal's ID",
            n=len(items),
        )
        if items
        else msg("take-down list: nothing was released relying on this consent")
    )


def takedown_lines(items: list[TakedownItem]) -> list[str]:
    """The take-down list as a table, the people in each release by name (text only)."""
    from consentreg.services.names import with_names

    names = names_for([s for i in items for s in i.subject_ids])
    return table(
        ["PUBLICATION", "PURPOSE", "OUTPUT", "RELEASED", "PHOTO", "PEOPLE"],
        [
            (
                i.publication_id,
                i.purpose,
                i.output_name,
                instant(i.released_at),
                i.photo_id,
                ", ".join(with_names(s, names) for s in i.subject_ids),
            )
            for i in items
        ],
    )


@consent_app.command("evidence")
def evidence_cmd(
    consent_id: str,
    out: Annotated[
        Path, typer.Option("-o", "--output", help="The new file to write (never written over).")
    ],
) -> None:
    """Write the evidence stored with a consent (its scan, PDF or e-mail) to a new file of mode
    0600; the reading is recorded in the audit log. Exit 4 when the consent has no evidence.

    Example:

        consentreg consent evidence 3f2a9c -o skjema.pdf
    """
    from consentreg.services.evidence_copy import save_evidence

    with open_register() as register:
        copy = save_evidence(register, consent_id=consent_id, out=out)
    emit(
        {
            "consent_id": copy.consent_id,
            "evidence_id": copy.evidence_id,
            "sha256": copy.sha256,
            "size": copy.size,
            "path": str(copy.path),
        }
    )
    message(
        msg(
            "wrote the evidence of consent {consent} ({size} bytes) to {out}",
            consent=copy.consent_id,
            size=copy.size,
            out=out,
        )
    )


@consent_app.command("list")
def consent_list(
    subject: Annotated[str | None, typer.Option("--subject")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose")] = None,
) -> None:
    """List consent events in the order they were recorded.

    Example:

        consentreg consent list --subject ref:K001 --purpose facebook
    """
    from consentreg.services.consents import list_consents
    from consentreg.services.names import with_names

    with unit_of_work(writer=False) as ctx:
        rows = list_consents(ctx, subject=subject, purpose=purpose)
    names = names_for([c.subject_id for c in rows] + [c.consenter_id for c in rows])
    emit(
        {"consents": rows},
        table(
            ["ID", "KIND", "SUBJECT", "PURPOSE", "BY", "GIVEN", "VALID", "NOTICE", "EVIDENCE"],
            [
                (
                    c.id,
                    word(c.kind),
                    with_names(c.subject_id, names),
                    c.purpose,
                    with_names(c.consenter_id, names),
                    c.given_on,
                    f"{c.valid_from}..{c.valid_until}"
                    if c.valid_from
                    else (
                        _("withdraws {id} at {at}").format(
                            id=c.withdraws[:8], at=instant(c.effective_at)
                        )
                        if c.withdraws
                        else ""
                    ),
                    f"v{c.notice_version}",
                    (c.evidence_sha256 or "")[:12],
                )
                for c in rows
            ],
        ),
    )


DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Check the whole file and say what would be imported; write nothing."
    ),
]


def _import(
    kind: str, file: Path, *, allow_duplicates: bool = False, dry_run: bool = False
) -> None:
    from consentreg.services import imports

    with unit_of_work(dry_run=dry_run) as ctx:
        if kind == "people":
            count = imports.import_people(ctx, file, allow_duplicates=allow_duplicates)
        else:
            loader = {"guardians": imports.import_guardians, "consents": imports.import_consents}
            count = loader[kind](ctx, file)
    if dry_run:
        message(
            msg(
                "{file_name}: {count} {kind} rows would be imported; nothing was written",
                file_name=file.name,
                count=count,
                kind=word(kind),
            )
        )
    else:
        message(
            msg(
                "imported {count} {kind} rows from {file_name}",
                count=count,
                kind=word(kind),
                file_name=file.name,
            )
        )
    emit({"imported": 0 if dry_run else count, "checked": count, "dry_run": dry_run}, [str(count)])


@import_app.command("people")
def import_people(
    file: Path,
    allow_duplicates: Annotated[
        bool,
        typer.Option(
            "--allow-duplicates",
            help="Import rows with the same name and birth date as someone registered or "
            "another row (each is reported as a problem otherwise).",
        ),
    ] = False,
    dry_run: DryRun = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="The file corrects people already registered (by ref): changed names, birth "
            "dates and units are recorded as corrections, unchanged rows left alone.",
        ),
    ] = False,
) -> None:
    """Import people: columns ref,name,born,kind,unit (or in bokmål: referanse, navn,
    fødselsdato, type, avdeling). All rows or none. A row with the same name and birth date as a
    registered person (named by ID) or an earlier row is reported as a likely duplicate unless
    --allow-duplicates. Excel's CSV is read as saved: `;` or tab separators, dd.mm.yyyy dates,
    Windows-1252 text.

    Example:

        consentreg import people --dry-run samples/people.csv
        consentreg import people --update --dry-run samples/people.csv
    """
    if update:
        if allow_duplicates:
            from consentreg.errors import InvalidInputError

            raise InvalidInputError("--allow-duplicates does not go with --update")
        _update_people(file, dry_run=dry_run)
        return
    _import("people", file, allow_duplicates=allow_duplicates, dry_run=dry_run)


def _update_people(file: Path, *, dry_run: bool) -> None:
    """`import people --update`: each changed row's line, ref, person and fields (no values)."""
    from consentreg.services.people_update import update_people

    with unit_of_work(dry_run=dry_run) as ctx:
        found = update_people(ctx, file)
    counts = {"file": file.name, "changed": len(found.changed), "unchanged": found.unchanged}
    message(
        msg(
            "{file}: {changed} people would be corrected; nothing was written,"
            " {unchanged} rows unchanged",
            **counts,
        )
        if dry_run
        else msg("{file}: {changed} people corrected, {unchanged} rows unchanged", **counts)
    )
    lines = [
        msg(
            "line {line}  ref {ref}  {person}  {fields}",
            line=c.line,
            ref=c.ref,
            person=c.person_id,
            fields=",".join(c.fields),
        )
        for c in found.changed
    ]
    document = {
        "dry_run": dry_run,
        "checked": found.rows,
        "unchanged": found.unchanged,
        "corrected": [asdict(c) for c in found.changed],
    }
    emit(document, lines)


@import_app.command("guardians")
def import_guardians(file: Path, dry_run: DryRun = False) -> None:
    """Import guardianships: columns child_ref,guardian_ref,parental_responsibility (yes|no,
    ja|nei).

    Example:

        consentreg import guardians samples/guardians.csv
    """
    _import("guardians", file, dry_run=dry_run)


@import_app.command("consents")
def import_consents(file: Path, dry_run: DryRun = False) -> None:
    """Import consents: columns subject_ref,purpose,by_ref,decision,method,given,until,evidence
    (`consentreg import template consents` prints the bokmål headings).

    Example:

        consentreg import consents samples/consents.csv
    """
    _import("consents", file, dry_run=dry_run)


@import_app.command("template")
def import_template(
    kind: Annotated[str, typer.Argument(help="people, guardians or consents.")],
) -> None:
    """Print an empty file with the bokmål headings, as Norwegian Excel opens it (UTF-8 with a
    byte-order mark, `;` between columns).

    Example:

        consentreg import template people > personer.csv
    """
    from consentreg.services.imports import template_headings

    headings = template_headings(kind)
    if OPTIONS.json:
        emit({"kind": kind, "columns": headings})
        return
    write_cleaned("\ufeff" + ";".join(headings) + "\r\n")
