"""The letters and e-mails that carry a consent round's personal links (issue #21).

Letters: one HTML page per recipient in bokmål, with the link and its QR code (segno), printed
to one PDF per unit by the system's Chromium (consentreg.printing). E-mail: one message per
recipient through the SMTP server the environment configures (CONSENTREG_SMTP_HOST, ...);
nothing is sent anywhere unless one is configured and the command asks for it. The e-mail
addresses are given for the sending only (a CSV file), never stored.

Issuing letters or e-mails makes new links (the tokens exist only in them): each replaces the
recipient's earlier link for that child. Printing or sending happens inside the transaction that
issues the links, so a failure leaves no link without its letter."""

from __future__ import annotations

import csv
import io
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from pathlib import Path

import segno

from consentreg.domain.calendar import OSLO
from consentreg.errors import ConfigError, InvalidInputError, MailDeliveryError
from consentreg.printing import html_to_pdf
from consentreg.services.people import resolve_person
from consentreg.services.round_answers import open_link
from consentreg.services.rounds import Issued, IssuedLink, issue_links
from consentreg.services.unit_of_work import Context

MAX_ADDRESSES_BYTES = 1024 * 1024


def link_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + "/svar/" + token


def check_base_url(base_url: str) -> str:
    base = base_url.strip()
    if not base.startswith(("https://", "http://")) or any(c.isspace() for c in base):
        raise InvalidInputError(
            "--base-url must be the web application's address, such as https://samtykke.kommune.no"
        )
    return base.rstrip("/")


def _day(value: object) -> str:
    return value.strftime("%d.%m.%Y") if hasattr(value, "strftime") else str(value)


def letter_text(issued: Issued, link: IssuedLink, url: str) -> list[str]:
    """The paragraphs of one letter (and of its e-mail), in bokmål."""
    titles = ", ".join(title for _, title in issued.purposes)
    whom = "deg" if link.self_answer else link.child_first_name
    return [
        f"Til {link.recipient_name}",
        f"{issued.round.unit_name} ber om ditt svar: kan vi bruke bilder av {whom} til dette?"
        f" {titles}.",
        "Åpne lenken, eller skann QR-koden med mobilen. Der leser du hele teksten om hvert"
        " formål og svarer ja eller nei på hvert av dem.",
        url,
        f"Lenken er personlig og gjelder bare for {whom}. Den virker til og med"
        f" {_day(issued.round.ends_on)}. Du kan endre svaret ditt, eller trekke tilbake et"
        " samtykke, når som helst med den samme lenken. Del den ikke med andre.",
    ]


_STYLE = """
@page { size: A4; margin: 25mm 22mm; }
body { font-family: sans-serif; font-size: 12pt; line-height: 1.45; color: #000; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
h1 { font-size: 17pt; }
.url { font-family: monospace; font-size: 11pt; word-break: break-all; }
.qr { margin: 8mm 0; }
"""


def letters_html(issued: Issued, *, base_url: str) -> str:
    """One page per recipient: the letter with the link and its QR code."""
    pages = []
    for link in issued.links:
        url = link_url(base_url, link.token)
        paragraphs = letter_text(issued, link, url)
        qr = segno.make(url, error="m").svg_inline(scale=4, title="QR-kode til lenken")
        pages.append(
            "<section>"
            f"<h1>Samtykke til bilder – {escape(issued.round.unit_name)}</h1>"
            f"<p>{escape(paragraphs[0])}</p><p>{escape(paragraphs[1])}</p>"
            f"<p>{escape(paragraphs[2])}</p>"
            f'<p class="url">{escape(url)}</p><div class="qr">{qr}</div>'
            f"<p>{escape(paragraphs[4])}</p>"
            "</section>"
        )
    return (
        '<!doctype html><html lang="nb"><head><meta charset="utf-8">'
        f"<title>Brev</title><style>{_STYLE}</style></head><body>{''.join(pages)}</body></html>"
    )


@dataclass(frozen=True)
class Letters:
    issued: Issued
    pdf: bytes


def round_letters(
    ctx: Context, *, round_id: str, base_url: str, unanswered_only: bool = False
) -> Letters:
    """New links for every recipient of the round (or those who have not answered: a
    reminder) and their letters as one PDF. Nothing is issued when there is nobody to write
    to or the PDF cannot be made."""
    base = check_base_url(base_url)
    issued = issue_links(ctx, round_id=round_id, unanswered_only=unanswered_only)
    if not issued.links:
        raise InvalidInputError(f"round {issued.round.id}: nobody to write to")
    return Letters(issued, html_to_pdf(letters_html(issued, base_url=base)))


# --- e-mail -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    security: str = "starttls"  # starttls, ssl or none (a server on this machine)


def smtp_settings(env: Mapping[str, str]) -> SmtpSettings:
    """The SMTP server from the environment; ConfigError when none is configured."""
    host, sender = env.get("CONSENTREG_SMTP_HOST", ""), env.get("CONSENTREG_SMTP_FROM", "")
    if not host or not sender:
        raise ConfigError(
            "no SMTP server is configured: set CONSENTREG_SMTP_HOST and CONSENTREG_SMTP_FROM"
            " (docs/guardians.md); nothing was sent"
        )
    security = env.get("CONSENTREG_SMTP_SECURITY", "starttls")
    if security not in ("starttls", "ssl", "none"):
        raise ConfigError("CONSENTREG_SMTP_SECURITY must be starttls, ssl or none")
    try:
        port = int(env.get("CONSENTREG_SMTP_PORT", "465" if security == "ssl" else "587"))
    except ValueError:
        raise ConfigError("CONSENTREG_SMTP_PORT must be a number") from None
    return SmtpSettings(
        host,
        port,
        sender,
        env.get("CONSENTREG_SMTP_USER") or None,
        env.get("CONSENTREG_SMTP_PASSWORD") or None,
        security,
    )


def read_addresses(ctx: Context, path: Path) -> dict[str, str]:
    """A CSV file of `person,email` rows (a header row allowed): person ID or ref:ID."""
    try:
        raw = path.read_bytes()[: MAX_ADDRESSES_BYTES + 1]
    except OSError as exc:
        raise InvalidInputError(f"--addresses {path} cannot be read ({exc.strerror})") from None
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = None
    if len(raw) > MAX_ADDRESSES_BYTES or decoded is None:
        raise InvalidInputError(f"--addresses {path} is not a UTF-8 CSV file of at most 1 MB")
    found: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(decoded)), start=1):
        if not row or (number == 1 and row[0].strip().lower() in ("person", "id")):
            continue
        if len(row) != 2 or "@" not in row[1] or any(c.isspace() for c in row[1].strip()):
            raise InvalidInputError(f"--addresses {path} line {number}: want person,e-mail")
        found[resolve_person(ctx, row[0].strip()).id] = row[1].strip()
    return found


@dataclass(frozen=True)
class Sent:
    issued: Issued
    sent: list[str]  # link IDs


def round_emails(
    ctx: Context,
    *,
    round_id: str,
    base_url: str,
    addresses: Mapping[str, str],
    smtp: SmtpSettings,
    unanswered_only: bool = False,
) -> Sent:
    """New links for the recipients that have an address (or those of them who have not
    answered), each sent in its own e-mail. A server failure rolls the links back (the message
    says how many had gone)."""
    base = check_base_url(base_url)
    issued = issue_links(
        ctx, round_id=round_id, unanswered_only=unanswered_only, recipients=list(addresses)
    )
    if not issued.links:
        raise InvalidInputError(f"round {issued.round.id}: nobody with an address to write to")
    sent: list[str] = []
    try:
        with _connect(smtp) as server:
            for link in issued.links:
                server.send_message(_message(issued, link, base, smtp, addresses))
                sent.append(link.link_id)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailDeliveryError(
            f"the SMTP server {smtp.host}:{smtp.port} failed ({type(exc).__name__}) after"
            f" {len(sent)} of {len(issued.links)} e-mails: no link was kept, send again"
        ) from None
    return Sent(issued, sent)


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if smtp.security == "ssl":
        server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=30, context=context)
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
        if smtp.security == "starttls":
            server.starttls(context=context)
    if smtp.user and smtp.password:
        server.login(smtp.user, smtp.password)
    return server


def _message(
    issued: Issued, link: IssuedLink, base: str, smtp: SmtpSettings, addresses: Mapping[str, str]
) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"Samtykke til bilder – {issued.round.unit_name}"
    mail["From"] = smtp.sender
    mail["To"] = addresses[link.recipient_id]
    mail.set_content("\n\n".join(letter_text(issued, link, link_url(base, link.token))) + "\n")
    return mail


def send_receipt(
    ctx: Context, *, token: str, address: str, smtp: SmtpSettings, base_url: str
) -> None:
    """E-mail a guardian the receipt of the answers now in force through their link (the
    address is used for this message only, never stored). Refused like the page itself for a
    link that does not work."""
    address = address.strip()
    if "@" not in address or any(c.isspace() for c in address) or len(address) > 254:
        raise InvalidInputError("the e-mail address for the receipt is not an address")
    page = open_link(ctx, token=token)
    words = {True: "Ja", False: "Nei", None: "Ikke svart"}
    lines = [
        f"Kvittering: svarene dine for {page.first_name}"
        + (
            f", lagret {page.answered_at.astimezone(OSLO):%d.%m.%Y kl. %H:%M}."
            if page.answered_at
            else "."
        ),
        "",
        *(f"{q.title}: {words[q.answer]}" for q in page.questions),
        "",
        "Du kan endre svarene, eller trekke tilbake et samtykke, med den samme lenken:",
        link_url(check_base_url(base_url), token),
    ]
    mail = EmailMessage()
    mail["Subject"] = "Kvittering: samtykke til bilder"
    mail["From"] = smtp.sender
    mail["To"] = address
    mail.set_content("\n".join(lines) + "\n")
    try:
        with _connect(smtp) as server:
            server.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailDeliveryError(
            f"the SMTP server {smtp.host}:{smtp.port} failed ({type(exc).__name__})"
        ) from None
