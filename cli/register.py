"""unit, purpose, person and guardian commands."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from consentreg.i18n import N_, _, localize, msg

from . import consent
from .language import word
from .output import emit, emit_id, instant, message, table
from .runtime import open_register, unit_of_work

ERASED = N_("(erased)")  # as consentreg.crypto.ERASED: shown for an erased person's values

unit_app = typer.Typer(help="Kindergartens, schools, groups and classes.", no_args_is_help=True)
purpose_app = typer.Typer(help="Channels with their notice texts.", no_args_is_help=True)
person_app = typer.Typer(help="Children, pupils, guardians and staff.", no_args_is_help=True)
guardian_app = typer.Typer(help="Who is a guardian of whom.", no_args_is_help=True)


def install(app: typer.Typer) -> None:
    app.add_typer(unit_app, name="unit")
    app.add_typer(purpose_app, name="purpose")
    app.add_typer(person_app, name="person")
    app.add_typer(guardian_app, name="guardian")
    consent.install(app)


def read_text_file(path: Path, *, option: str) -> str:
    from consentreg.errors import InvalidInputError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInputError(
            msg("{option} {path} cannot be read as UTF-8 text", option=option, path=path)
        ) from None


@unit_app.command("add")
def unit_add(
    code: str,
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    parent: Annotated[str | None, typer.Option("--parent", help="Code of the parent unit.")] = None,
) -> None:
    """Register a unit; prints its ID.

    Example:

        consentreg unit add bhg-solsikken --name "Solsikken barnehage"
    """
    from consentreg.services.units import add_unit

    with unit_of_work() as ctx:
        emit_id(add_unit(ctx, code=code, name=name, parent=parent))


@unit_app.command("list")
def unit_list() -> None:
    """List units.

    Example:

        consentreg unit list --json
    """
    from consentreg.services.units import list_units

    with unit_of_work(writer=False) as ctx:
        units = list_units(ctx)
    emit(
        {"units": units},
        table(["CODE", "NAME", "PARENT", "ID"], [(u.code, u.name, u.parent, u.id) for u in units]),
    )


@purpose_app.command("add")
def purpose_add(
    code: str,
    title: Annotated[str, typer.Option("--title")],
    notice_file: Annotated[
        Path, typer.Option("--notice-file", help="UTF-8 text shown to consenters.")
    ],
    max_px: Annotated[int, typer.Option("--max-px", help="Long edge of released copies.")] = 1280,
    guardians: Annotated[
        str,
        typer.Option(
            "--guardians",
            help="all: every guardian with parental "
            "responsibility must consent; any: one suffices.",
        ),
    ] = "all",
    valid_until: Annotated[
        str | None,
        typer.Option(
            "--valid-until",
            help="Consents end on this MM-DD (default 07-31, end of the school year).",
        ),
    ] = None,
    valid_days: Annotated[
        int | None, typer.Option("--valid-days", help="Consents last N days.")
    ] = None,
) -> None:
    """Register a purpose (channel) with notice version 1; prints its ID.

    Example:

        consentreg purpose add facebook --title "Facebook: Solsikken" --notice-file notice.txt
    """
    from consentreg.services.purposes import add_purpose

    text = read_text_file(notice_file, option="--notice-file")
    with unit_of_work() as ctx:
        emit_id(
            add_purpose(
                ctx,
                code=code,
                title=title,
                notice_text=text,
                max_px=max_px,
                guardians=guardians,
                valid_until=valid_until,
                valid_days=valid_days,
            )
        )


@purpose_app.command("revise")
def purpose_revise(
    code: str,
    notice_file: Annotated[Path, typer.Option("--notice-file")],
    requires_new_consent: Annotated[
        bool,
        typer.Option(
            "--requires-new-consent", help="Consents given to older texts no longer suffice."
        ),
    ] = False,
) -> None:
    """Add a new version of a purpose's notice text; prints the version number.

    Example:

        consentreg purpose revise facebook --notice-file notice-v2.txt --requires-new-consent
    """
    from consentreg.services.purposes import revise_purpose

    text = read_text_file(notice_file, option="--notice-file")
    with unit_of_work() as ctx:
        version = revise_purpose(
            ctx, code=code, notice_text=text, requires_new_consent=requires_new_consent
        )
    emit({"purpose": code, "version": version}, [str(version)])


@purpose_app.command("list")
def purpose_list() -> None:
    """List purposes with their current notice version.

    Example:

        consentreg purpose list
    """
    from consentreg.services.purposes import list_purposes

    with unit_of_work(writer=False) as ctx:
        rows = list_purposes(ctx)
    emit(
        {"purposes": rows},
        table(
            ["CODE", "TITLE", "MAX_PX", "GUARDIANS", "VALIDITY", "NOTICE", "SHA256"],
            [
                (
                    p.code,
                    p.title,
                    p.max_px,
                    p.guardians,
                    localize(p.validity),
                    f"v{p.notice_version}",
                    p.notice_sha256[:12],
                )
                for p in rows
            ],
        ),
    )


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Option("--name", help="Full name (stored encrypted).")],
    born: Annotated[str, typer.Option("--born", help="Birth date YYYY-MM-DD.")],
    unit: Annotated[str | None, typer.Option("--unit", help="Unit code.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="child, adult or staff.")] = "child",
    ref: Annotated[str | None, typer.Option("--ref", help="External ID; usable as ref:ID.")] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Register although someone has the same name and birth date "
            "(refused otherwise, exit 2, naming that person's ID).",
        ),
    ] = False,
) -> None:
    """Register a person; prints the new ID. A person already registered with the same name
    (any case, with or without diacritics) and birth date is a likely duplicate: refused unless
    --allow-duplicate.

    Example:

        consentreg person add --name "Emma Nordmann" --born 2021-03-14 --unit bhg-solsikken
    """
    from consentreg.domain.calendar import parse_date
    from consentreg.services.people import add_person

    born_on = parse_date(born, field="--born")
    with unit_of_work() as ctx:
        emit_id(
            add_person(
                ctx,
                name=name,
                born=born_on,
                kind=kind,
                unit=unit,
                ref=ref,
                allow_duplicate=allow_duplicate,
            )
        )


@person_app.command("list")
def person_list(
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Whole words of the name, any case or "
            "diacritics (names are encrypted; a keyed index finds them).",
        ),
    ] = None,
    include_left: Annotated[
        bool, typer.Option("--all", help="Also people who have left (hidden by default).")
    ] = False,
) -> None:
    """List people, by unit and/or name; people who have left only with --all.

    Example:

        consentreg person list --name nordmann --all
    """
    from consentreg.domain.calendar import oslo_day
    from consentreg.services.people import list_people

    with unit_of_work(writer=False) as ctx:
        people = list_people(ctx, unit=unit, name=name, include_left=include_left)
    headers = ["ID", "NAME", "BORN", "KIND", "UNIT", "REF", "PROTECTED"]
    emit(
        {"people": people},
        table(
            headers + (["LEFT"] if include_left else []),
            [
                (
                    p.id,
                    p.name,
                    p.born or _(ERASED),
                    word(p.kind),
                    p.unit,
                    p.ref,
                    word(p.protected),
                )
                + ((oslo_day(p.left_at) if p.left_at else "",) if include_left else ())
                for p in people
            ],
        ),
    )


@person_app.command("show")
def person_show(
    person_id: str,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Standing as of this date or ISO timestamp (default: now)."),
    ] = None,
) -> None:
    """Show one person on one screen: guardians and children by name, and for each purpose
    whether a photo of them may be published (as of now or --at), or each reason why not.

    Example:

        consentreg person show ref:K001 --at 2026-09-01
    """
    from consentreg.domain.calendar import parse_at
    from consentreg.domain.reason_texts import reason_text
    from consentreg.i18n import language
    from consentreg.services.person_page import person_page

    with unit_of_work(writer=False) as ctx:
        page = person_page(ctx, person_id, at=parse_at(at) if at else None)
    p, names = page.person, page.names
    lines = [
        _row(_("id"), p.id),
        _row(_("name"), p.name),
        _row(_("born"), p.born or _(ERASED)),
        _row(_("kind"), word(p.kind)),
        _row(_("unit"), p.unit or "-"),
        _row(_("ref"), p.ref or "-"),
        _row(_("protected"), _("yes") if p.protected else _("no")),
    ]
    if p.left_at:
        lines.append(_row(_("left"), instant(p.left_at)))
    lines += [
        _row(_("guardian"), f"{g.person_id[:8]}  {names.get(g.person_id, '?')}")
        + ("" if g.parental_responsibility else " " + _("(no parental responsibility)"))
        for g in p.guardians
    ]
    lines += [
        _row(_("child"), f"{c.person_id[:8]}  {names.get(c.person_id, '?')}") for c in p.children
    ]
    lines.append(_("standing as of {at}:").format(at=instant(page.at)))
    if not page.standing:
        lines.append("  " + _("(not registered yet at that instant, or no purpose registered)"))
    for s in page.standing:
        who = ", ".join(
            f"{names.get(d.consenter_id, d.consenter_id[:8])} {word(d.kind)}" for d in s.decisions
        )
        verdict = _("allowed") if s.allowed else _("not allowed")
        lines.append(f"  {s.purpose:<14} {verdict}" + (f"  ({who})" if who else ""))
        lines += [f"    {code}: {reason_text(code, language())}" for code in s.reasons]
    document = {
        **asdict(p),
        "at": page.at,
        "standing": [
            {
                "purpose": s.purpose,
                "allowed": s.allowed,
                "reasons": s.reasons,
                "decisions": [d._asdict() for d in s.decisions],
            }
            for s in page.standing
        ],
    }
    emit(document, lines)


def _row(label: str, value: object) -> str:
    """A line of `person show`: the label (translated) in a column of its own."""
    return f"{label:<10} {value}"


@person_app.command("correct")
def person_correct(
    person_id: Annotated[str, typer.Argument(help="Person ID (or a unique prefix) or ref:ID.")],
    name: Annotated[str | None, typer.Option("--name", help="The corrected full name.")] = None,
    born: Annotated[
        str | None, typer.Option("--born", help="The corrected birth date YYYY-MM-DD.")
    ] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="The corrected external ID.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="The unit moved to (code).")] = None,
) -> None:
    """Correct a person's name, birth date, external ID or unit. Each correction is a new audit
    event keeping the values it replaced: the as-of views (audit consents --as-of, audit
    subject --as-of) show the values of each instant, and the gate judges on the values now.
    Prints the correction's ID and what it corrected.

    Example:

        consentreg person correct ref:K001 --unit skole-1a --born 2019-03-14
    """
    from consentreg.domain.calendar import parse_date
    from consentreg.services.corrections import correct_person

    born_on = parse_date(born, field="--born") if born is not None else None
    with unit_of_work() as ctx:
        done = correct_person(ctx, person_id, name=name, born=born_on, ref=ref, unit=unit)
    emit(
        done,
        [
            _("{id} corrected {fields} of {person}").format(
                id=done.id, fields=",".join(done.fields), person=done.person_id
            )
        ],
    )


@person_app.command("leave")
def person_leave(
    person_id: Annotated[str, typer.Argument(help="Person ID (or a unique prefix) or ref:ID.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Date (start of day) or ISO timestamp; default now."),
    ] = None,
) -> None:
    """Record that a person has left (an audit event). Leaving withdraws nothing: their
    consents and releases stay and photos of them still go through the gate. `person list`
    hides them unless --all; `report retention` lists those who left long ago.

    Example:

        consentreg person leave ref:K001 --at 2026-06-20
    """
    from consentreg.domain.calendar import parse_at
    from consentreg.services.corrections import leave_person

    when = parse_at(at) if at is not None else None
    with unit_of_work() as ctx:
        done = leave_person(ctx, person_id, at=when)
    emit(done, [_("{person} left {at}").format(person=done.person_id, at=instant(done.left_at))])


@person_app.command("erase")
def person_erase(
    person_id: Annotated[str, typer.Argument(help="Person ID (or a unique prefix) or ref:ID.")],
) -> None:
    """Erase a person (GDPR Art 17; admins only): their data key is destroyed, so their name,
    birth date, reference, reasons and evidence become unreadable everywhere, in backups taken
    before too, while the audit log and `audit verify` stay whole. Prints the take-down list
    of every release of the person not taken down yet. Refused (exit 2) for a person erased
    already and for one registered before per-person keys (schema 0014).

    Example:

        consentreg person erase 3f2a9c1e
    """
    from consentreg.services.erasure import erase

    with open_register() as register:
        done = erase(register, person_id)
    items = done.takedown
    emit(
        {"id": done.person_id, "erased": True, "takedown": items},
        [
            msg("{person} erased", person=done.person_id),
            *(consent.takedown_lines(items) if items else []),
        ],
    )
    message(
        msg(
            "take-down list: {count} release(s) of the person to take down, listed on stdout",
            count=len(items),
        )
        if items
        else msg("take-down list: nothing of the person was released")
    )
    if done.key_file is not None:
        message(
            msg("person keys file {path} rewritten without the person's key", path=done.key_file)
        )
    if done.key_file_problem is not None:
        message(
            msg(
                "warning: the person keys file was not rewritten ({problem}): run"
                " `consentreg backup` soon, or backups taken before can still be read for the"
                " person",
                problem=done.key_file_problem,
            )
        )


@person_app.command("restrict")
def person_restrict(
    person_id: str, reason: Annotated[str, typer.Option("--reason", help="Kept encrypted.")]
) -> None:
    """Mark a protected identity: never published, whatever consents exist.

    Example:

        consentreg person restrict ref:K004 --reason "sperret adresse"
    """
    from consentreg.services.people import set_protected

    with unit_of_work() as ctx:
        emit_id(set_protected(ctx, person_id, protected=True, reason=reason))


@person_app.command("unrestrict")
def person_unrestrict(person_id: str, reason: Annotated[str, typer.Option("--reason")]) -> None:
    """Lift a protected identity.

    Example:

        consentreg person unrestrict ref:K004 --reason "vedtak opphevet"
    """
    from consentreg.services.people import set_protected

    with unit_of_work() as ctx:
        emit_id(set_protected(ctx, person_id, protected=False, reason=reason))


@guardian_app.command("add")
def guardian_add(
    child_id: str,
    guardian_id: str,
    no_parental_responsibility: Annotated[
        bool,
        typer.Option(
            "--no-parental-responsibility", help="A guardian whose consent does not count."
        ),
    ] = False,
    starts: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First day of a guardianship that began after the birth, YYYY-MM-DD "
            "(default: the child's birth date).",
        ),
    ] = None,
) -> None:
    """Link a guardian to a child; prints the guardianship ID. The guardianship counts from
    the child's birth, or from --from, until it is removed.

    Example:

        consentreg guardian add ref:K001 ref:G001
        consentreg guardian add ref:K001 ref:G003 --from 2025-08-01
    """
    from consentreg.domain.calendar import parse_date
    from consentreg.services.people import add_guardian

    starts_on = parse_date(starts, field="--from") if starts else None
    with unit_of_work() as ctx:
        emit_id(
            add_guardian(
                ctx,
                child=child_id,
                guardian=guardian_id,
                parental_responsibility=not no_parental_responsibility,
                starts_on=starts_on,
            )
        )


@guardian_app.command("remove")
def guardian_remove(child_id: str, guardian_id: str) -> None:
    """End a guardianship (history is kept).

    Example:

        consentreg guardian remove ref:K001 ref:G002
    """
    from consentreg.services.people import remove_guardian

    with unit_of_work() as ctx:
        emit_id(remove_guardian(ctx, child=child_id, guardian=guardian_id))
