"""A consent round in a real browser (issue #21), as people use it: a registrar starts a round,
prints the letters (the PDF is read back), each guardian opens their link on a phone-sized
screen and answers, the gate then lets the photo through for that purpose, a guardian withdraws
through the same link, and the release appears on the staff's take-down list. Every page is
scanned by axe-core (no serious or critical violation)."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from consentreg.db.models import Publication
from consentreg.services.publishing import gate
from tests.conftest import ContextFactory
from tests.web import test_browser
from tests.web.conftest import Clock
from tests.web.test_browser import Visit, expect, log_in

pytestmark = test_browser.pytestmark
live = test_browser.live  # the fixtures: the application on a port, Chromium
browser = test_browser.browser

PHONE = {"width": 375, "height": 667}


def letters_links(pdf: bytes) -> dict[str, str]:
    """The link of each letter, by the recipient it is addressed to."""
    found = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        text = page.extract_text()
        to = re.search(r"Til ([^\n]+)", text)
        link = re.search(r"(https?://\S+?/svar/[A-Za-z0-9_-]{32})", text.replace("\n", ""))
        assert to, text
        assert link, text
        assert "Nordmann" not in text.split(to.group(1), 1)[1]  # the child by first name only
        found[to.group(1).strip()] = link.group(1)
    return found


def allowed(unit_of_work: ContextFactory, clock: Clock, sha: str) -> bool:
    with unit_of_work(actor="ada", now=clock.at) as ctx:
        return gate.check(ctx, input_sha256=sha, purpose="yearbook", at=clock.at).decision.allowed


def answer_on_a_phone(browser: Any, live: str, link: str, choice: str, name: str) -> Visit:
    visit = Visit(browser.new_page(locale="nb-NO", viewport=PHONE), live)
    page = visit.page
    page.goto(link)
    expect(page.get_by_role("heading", name="Svar for Emma")).to_be_visible()
    visit.check(f"guardian-{name}")
    page.get_by_label(choice).check()
    page.get_by_role("button", name="Send svaret").click()
    expect(page.get_by_role("heading", name="Takk, svaret ditt er lagret")).to_be_visible()
    visit.check(f"guardian-receipt-{name}")
    return visit


def test_a_round_from_its_start_to_a_withdrawals_take_down_list(
    live: str,
    browser: Any,
    staff: dict[str, str],  # noqa: ARG001
    released: str,
    unit_of_work: ContextFactory,
    clock: Clock,
) -> None:
    registrar = Visit(browser.new_page(locale="nb-NO"), live)
    page = registrar.page
    log_in(registrar, "rita")
    page.get_by_role("link", name="Samtykkerunder").click()
    registrar.check("rounds")
    page.get_by_label("Yearbook (yearbook)").check()
    page.get_by_role("button", name="Start runden").click()
    expect(page.get_by_text("Runden er startet.")).to_be_visible()
    expect(page.get_by_role("cell", name="Ikke svart")).to_have_count(2)  # Emma and another
    registrar.check("round")
    with page.expect_download() as download:
        page.get_by_role("button", name="Brev til alle (PDF)").click()
    links = letters_links(download.value.path().read_bytes())
    assert {"Kari Nordmann", "Ola Nordmann"} <= set(links)

    with unit_of_work(writer=False) as ctx:
        sha = ctx.session.scalar(select(Publication.input_sha256).where(Publication.id == released))
    assert sha is not None
    assert not allowed(unit_of_work, clock, sha)
    answer_on_a_phone(browser, live, links["Kari Nordmann"], "Ja, det er greit", "mor")
    assert not allowed(unit_of_work, clock, sha)  # one of two guardians: partly answered
    registrar.go("/units/bhg")  # the coverage matrix shows the round's progress
    expect(registrar.page.get_by_role("cell", name="Delvis svart (1/2)")).to_be_visible()
    registrar.check("unit-round-progress")
    registrar.go("/rounds/renewal")
    expect(registrar.page.get_by_role("columnheader", name="Gitt av")).to_be_visible()
    registrar.check("renewal-list")
    father = answer_on_a_phone(browser, live, links["Ola Nordmann"], "Ja, det er greit", "far")
    assert allowed(unit_of_work, clock, sha)
    with unit_of_work(actor="ada", now=clock.at) as ctx:
        yearbook = gate.record_decision(
            ctx, input_sha256=sha, purpose="yearbook", output_sha256="cd" * 32, output_size=1
        )

    page = father.page  # the same link, later: withdrawal as easy as the answer
    page.goto(links["Ola Nordmann"])
    expect(page.get_by_label("Ja, det er greit")).to_be_checked()
    page.get_by_label("Nei").check()
    page.get_by_role("button", name="Send svaret").click()
    expect(page.get_by_text("Yearbook: Nei")).to_be_visible()
    assert not allowed(unit_of_work, clock, sha)

    admin = Visit(browser.new_page(locale="nb-NO"), live)
    admin.go("/login")
    admin.page.get_by_label("Brukernavn").fill("ada")
    admin.page.get_by_label("Passord").fill("riktig-hest-batteri-stift")
    admin.page.get_by_role("button", name="Logg inn").click()
    admin.go("/takedown")
    expect(admin.page.get_by_text(yearbook.publication_id[:8]).first).to_be_visible()
    admin.check("takedown-after-guardian-withdrawal")


def test_the_refusal_pages_of_links_are_accessible_on_a_phone(
    live: str,
    browser: Any,
    staff: dict[str, str],  # noqa: ARG001
) -> None:
    visit = Visit(browser.new_page(locale="nb-NO", viewport=PHONE), live)
    visit.go("/svar/finnes-ikke")
    expect(visit.page.get_by_role("heading", name="Lenken virker ikke")).to_be_visible()
    visit.check("guardian-unknown-link", status=404)
