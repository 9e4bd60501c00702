"""round start|letters|email|remind|status|list|revoke|close, renewal: consent rounds in which
guardians answer for themselves through personal links (docs/guardians.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentreg.i18n import msg

from .output import emit, message, table
from .runtime import unit_of_work

if TYPE_CHECKING:
    from consentreg.services.rounds import Issued, RoundView

round_app = typer.Typer(
    help="Consent rounds: personal links for guardians, letters, e-mail, status.",
    no_args_is_help=True,
)

BaseUrl = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="CONSENTREG_PUBLIC_URL",
        help="The web application's address as guardians reach it (the links start with it).",
    ),
]
Output = Annotated[Path, typer.Option("-o", "--output", help="The new PDF file (mode 0600).")]


def install(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")
    app.command("renewal")(renewal)


def _round_lines(view: RoundView) -> list[str]:
    state = "closed" if view.closed else f"open through {view.ends_on.isoformat()}"
    return [f"{view.id}  {view.unit}  {', '.join(view.purposes)}  {state}"]


@round_app.command("start")
def round_start(
    unit: Annotated[str, typer.Option("--unit", help="The unit (its sub-units included).")],
    purpose: Annotated[list[str], typer.Option("--purpose", help="A purpose asked (repeat).")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="The last day the links work (default: the coming 31 July)."),
    ] = None,
) -> None:
    """Start a consent round for a unit and purposes; prints the round's ID. Then print its
    letters (`round letters`) or send its e-mails (`round email`).

    Example:

        consentreg round start --unit solsikken --purpose facebook --purpose yearbook
    """
    from consentreg.domain.calendar import parse_date
    from consentreg.services.rounds import start_round

    ends = parse_date(until, field="--until") if until else None
    with unit_of_work() as ctx:
        view = start_round(ctx, unit=unit, purposes=purpose, ends_on=ends)
    emit({"id": view.id, "round": view}, [view.id])


def _letters(round_id: str, output: Path, base_url: str, *, unanswered: bool) -> None:
    from consentreg.files import new_output, write_new_private
    from consentreg.services.round_letters import round_letters

    target = new_output(output)
    with unit_of_work() as ctx:
        letters = round_letters(
            ctx, round_id=round_id, base_url=base_url, unanswered_only=unanswered
        )
        write_new_private(target, letters.pdf, what="letters")  # in the transaction: no
        # link is kept without its letter
    _issued(
        letters.issued,
        msg("wrote {count} letters to {path}", count=len(letters.issued.links), path=target),
    )


def _issued(issued: Issued, line: str) -> None:
    links = [
        {"link": link.link_id, "child": link.child_id, "recipient": link.recipient_id}
        for link in issued.links
    ]
    emit({"round": issued.round.id, "links": links}, [line])


@round_app.command("letters")
def round_letters(
    round_id: Annotated[str, typer.Argument(help="The round's ID (or a unique prefix).")],
    output: Output,
    base_url: BaseUrl,
) -> None:
    """Print the round's letters to one PDF: a page per recipient, in bokmål, with the personal
    link and its QR code. Each letter is a new link: an earlier letter of the same recipient
    stops working.

    Example:

        consentreg round letters 3f2a9c1e -o brev.pdf --base-url https://samtykke.kommune.no
    """
    _letters(round_id, output, base_url, unanswered=False)


@round_app.command("remind")
def round_remind(
    round_id: Annotated[str, typer.Argument(help="The round's ID (or a unique prefix).")],
    output: Output,
    base_url: BaseUrl,
) -> None:
    """New letters for those who have not answered yet (their earlier links stop working).

    Example:

        consentreg round remind 3f2a9c1e -o purring.pdf --base-url https://samtykke.kommune.no
    """
    _letters(round_id, output, base_url, unanswered=True)


@round_app.command("email")
def round_email(
    round_id: Annotated[str, typer.Argument(help="The round's ID (or a unique prefix).")],
    addresses: Annotated[
        Path, typer.Option("--addresses", help="CSV of person,email (ID or ref:ID); not stored.")
    ],
    base_url: BaseUrl,
    unanswered: Annotated[
        bool, typer.Option("--unanswered", help="Only those who have not answered (a reminder).")
    ] = False,
) -> None:
    """E-mail each recipient with an address their personal link, through the SMTP server set
    by CONSENTREG_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD and _SECURITY (starttls, ssl or
    none). Without a configured server nothing is sent (exit 2).

    Example:

        consentreg round email 3f2a9c1e --addresses adresser.csv --base-url https://samtykke.kommune.no
    """
    from consentreg.services.round_letters import read_addresses, round_emails, smtp_settings

    smtp = smtp_settings(os.environ)
    with unit_of_work() as ctx:
        sent = round_emails(
            ctx,
            round_id=round_id,
            base_url=base_url,
            addresses=read_addresses(ctx, addresses),
            smtp=smtp,
            unanswered_only=unanswered,
        )
    _issued(
        sent.issued,
        msg("sent {count} e-mails through {host}", count=len(sent.sent), host=smtp.host),
    )


@round_app.command("status")
def round_status(
    round_id: Annotated[str, typer.Argument(help="The round's ID (or a unique prefix).")],
) -> None:
    """Each child of the round: answered, partly answered (one of two guardians), not
    answered. The reading is recorded.

    Example:

        consentreg round status 3f2a9c1e
    """
    from consentreg.domain.rounds import ANSWERED, NOT_ANSWERED, PARTLY
    from consentreg.services.rounds import round_status as status_of

    with unit_of_work() as ctx:
        status = status_of(ctx, round_id=round_id)
    rows = [
        [c.child_id, c.unit, c.state, f"{c.answered}/{c.recipients}", c.name]
        for c in status.children
    ]
    counts = {s: status.count(s) for s in (ANSWERED, PARTLY, NOT_ANSWERED)}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    emit(
        {"round": status.round, "children": status.children, "counts": counts},
        [
            *_round_lines(status.round),
            *table(["CHILD", "UNIT", "STATE", "ANSWERED", "NAME"], rows),
            summary,
        ],
    )


@round_app.command("list")
def round_list() -> None:
    """List the rounds: ID, unit, purposes, open or closed.

    Example:

        consentreg round list
    """
    from consentreg.services.rounds import list_rounds

    with unit_of_work(writer=False) as ctx:
        views = list_rounds(ctx)
    rows = [
        [
            v.id,
            v.unit,
            ",".join(v.purposes),
            v.ends_on.isoformat(),
            "closed" if v.closed else "open",
        ]
        for v in views
    ]
    emit({"rounds": views}, table(["ROUND", "UNIT", "PURPOSES", "UNTIL", "STATE"], rows))


@round_app.command("revoke")
def round_revoke(
    link_id: Annotated[str, typer.Argument(help="The link's ID (never its token).")],
) -> None:
    """Revoke one personal link (a lost letter): it is refused from now on.

    Example:

        consentreg round revoke 9b1c44d0
    """
    from consentreg.services.rounds import revoke_link

    with unit_of_work() as ctx:
        found = revoke_link(ctx, link_id=link_id)
    emit({"revoked": found}, [msg("revoked link {id}", id=found)])


@round_app.command("close")
def round_close(
    round_id: Annotated[str, typer.Argument(help="The round's ID (or a unique prefix).")],
) -> None:
    """Close a round: none of its links works any more. Answers given stay.

    Example:

        consentreg round close 3f2a9c1e
    """
    from consentreg.services.rounds import close_round

    with unit_of_work() as ctx:
        view = close_round(ctx, round_id=round_id)
    emit({"round": view}, _round_lines(view))


def renewal(
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this unit (sub-units included).")
    ] = None,
    before: Annotated[
        str | None,
        typer.Option("--before", help="Consents ending on or before this day (default 31 July)."),
    ] = None,
    start: Annotated[
        bool, typer.Option("--start", help="Start the renewal round for them (needs --unit).")
    ] = False,
) -> None:
    """Consents in force that end on or before a day (default: the coming 31 July); with
    --start, a round for the unit and those purposes in one step.

    Example:

        consentreg renewal --unit solsikken --start
    """
    from consentreg.domain.calendar import parse_date
    from consentreg.errors import InvalidInputError
    from consentreg.services.rounds import renewal_report, start_renewal

    day = parse_date(before, field="--before") if before else None
    if start and unit is None:
        raise InvalidInputError("--start needs --unit: a round is for one unit")
    with unit_of_work(writer=start) as ctx:
        used, ending = renewal_report(ctx, unit=unit, before=day)
        view = start_renewal(ctx, unit=unit, before=day) if start and unit else None
    rows = [[e.subject_id, e.purpose, e.consenter_id, e.valid_until.isoformat()] for e in ending]
    lines = table(["SUBJECT", "PURPOSE", "BY", "UNTIL"], rows)
    if view is not None:
        message(msg("started renewal round {id}", id=view.id))
    emit(
        {"before": used, "ending": ending, "round": view},
        [
            msg("{count} consents end on or before {day}", count=len(ending), day=used.isoformat()),
            *lines,
        ],
    )
