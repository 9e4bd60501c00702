"""A consent round's letters (one PDF, one page per recipient, link and QR code, read back) and
e-mails (sent to a local SMTP server; nothing without one configured)."""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from consentreg.db.models import RoundLink
from consentreg.errors import ConfigError, MailDeliveryError
from consentreg.services import round_answers, round_letters, rounds
from tests.conftest import ContextFactory
from tests.services.test_rounds import school  # noqa: F401 - the fixture

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
BASE = "https://samtykke.example.no"


def started(unit_of_work: ContextFactory) -> str:
    with unit_of_work(actor="rita") as ctx:
        return rounds.start_round(ctx, unit="bhg", purposes=["facebook", "yearbook"]).id


def test_the_letters_are_one_pdf_with_a_page_per_recipient_and_a_link_that_opens(
    unit_of_work: ContextFactory,
    school: dict[str, str],  # noqa: F811
) -> None:
    if shutil.which("chromium") is None:
        pytest.fail("chromium is needed for the letters (make system-deps)")
    round_id = started(unit_of_work)
    with unit_of_work(actor="rita") as ctx:
        letters = round_letters.round_letters(ctx, round_id=round_id, base_url=BASE)
    reader = PdfReader(io.BytesIO(letters.pdf))
    assert len(reader.pages) == 3
    pages = [page.extract_text() for page in reader.pages]
    assert all("Samtykke til bilder" in page for page in pages)
    assert any("Til Kari Nordmann" in page and "Emma" in page for page in pages)
    assert not any("Emma Nordmann" in page for page in pages)  # the child's first name only
    token = letters.issued.links[0].token
    assert any(token in page.replace("\n", "") for page in pages)
    with unit_of_work(writer=False) as ctx:
        round_answers.open_link(ctx, token=token)


def test_a_letter_without_chromium_issues_no_link(
    unit_of_work: ContextFactory,
    school: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    round_id = started(unit_of_work)
    monkeypatch.setattr("consentreg.printing.shutil.which", lambda _name: None)
    with pytest.raises(ConfigError), unit_of_work(actor="rita") as ctx:
        round_letters.round_letters(ctx, round_id=round_id, base_url=BASE)
    with unit_of_work(writer=False) as ctx:
        assert ctx.session.query(RoundLink).count() == 0


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802, ARG002
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def settings(port: int) -> round_letters.SmtpSettings:
    return round_letters.smtp_settings(
        {
            "CONSENTREG_SMTP_HOST": "127.0.0.1",
            "CONSENTREG_SMTP_PORT": str(port),
            "CONSENTREG_SMTP_FROM": "barnehage@example.no",
            "CONSENTREG_SMTP_SECURITY": "none",
        }
    )


def test_e_mails_go_to_the_recipients_with_an_address_each_with_a_working_link(
    unit_of_work: ContextFactory,
    school: dict[str, str],  # noqa: F811
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    inbox, port = smtp
    round_id = started(unit_of_work)
    csv = tmp_path / "adresser.csv"
    csv.write_text(f"person,email\n{school['mor']},kari@example.no\n", encoding="utf-8")
    with unit_of_work(actor="rita") as ctx:
        addresses = round_letters.read_addresses(ctx, csv)
        sent = round_letters.round_emails(
            ctx, round_id=round_id, base_url=BASE, addresses=addresses, smtp=settings(port)
        )
    assert len(sent.sent) == 1
    assert [m["To"] for m in inbox.messages] == ["kari@example.no"]
    body = inbox.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    token = sent.issued.links[0].token
    assert f"{BASE}/svar/{token}" in body
    assert "Emma" in body
    with unit_of_work(writer=False) as ctx:
        assert round_answers.open_link(ctx, token=token).first_name == "Emma"


def test_nothing_is_sent_without_a_configured_server_and_a_failed_server_keeps_no_link(
    unit_of_work: ContextFactory,
    school: dict[str, str],  # noqa: F811
) -> None:
    with pytest.raises(ConfigError, match="no SMTP server"):
        round_letters.smtp_settings({})
    round_id = started(unit_of_work)
    with pytest.raises(MailDeliveryError), unit_of_work(actor="rita") as ctx:
        round_letters.round_emails(
            ctx,
            round_id=round_id,
            base_url=BASE,
            addresses={school["mor"]: "kari@example.no"},
            smtp=settings(free_port()),
        )
    with unit_of_work(writer=False) as ctx:
        assert ctx.session.query(RoundLink).count() == 0
