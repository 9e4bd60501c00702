"""The audit pages in a real browser (Debian's Chromium through Playwright, as
tests/web/test_browser.py): an auditor asks who had consented as of an instant, reads the
publication log, verifies the log, opens a person's history and access report and downloads it
as PDF; every page passes the axe-core scan with no serious or critical violation and leaves
nothing in the browser's console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web import test_browser
from tests.web.conftest import HOSTILE
from tests.web.test_browser import Visit, expect, log_in

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# the application on a port of localhost and the browser, as tests/web/test_browser.py has them
live = test_browser.live
browser = test_browser.browser


def test_an_auditor_reads_consents_publications_and_verifies_the_log_in_a_browser(
    live: str, browser: Any, staff: dict[str, str], released: str, tmp_path: Path
) -> None:
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    log_in(visit, "aud")
    page.get_by_role("link", name="Revisjon").click()
    expect(page.get_by_role("heading", name="Revisjon", exact=True)).to_be_visible()
    visit.check("audit")

    page.get_by_role("link", name="Hvem hadde samtykket til hva, på et gitt tidspunkt").click()
    page.get_by_label("Enhet").select_option("bhg")
    page.get_by_label("Formål").select_option("facebook")
    page.get_by_label("Klokkeslett (norsk tid)").fill("12:00")
    page.get_by_role("button", name="Vis").click()
    expect(page.get_by_role("heading", name="Per ")).to_contain_text("12:00")
    expect(page.get_by_role("rowheader", name="Emma Nordmann")).to_be_visible()
    expect(page.get_by_text(HOSTILE)).to_be_visible()  # shown as text, never run
    expect(page.get_by_text("Kari Nordmann").first).to_be_visible()
    visit.check("audit-consents")

    visit.go("/audit/publications")
    expect(page.get_by_role("cell", name="Publisert")).to_be_visible()
    expect(page.get_by_text("Emma Nordmann")).to_be_visible()
    visit.check("audit-publications")

    visit.go("/audit/verify")
    visit.check("audit-verify-form")
    page.get_by_role("button", name="Kontroller nå").click()
    expect(page.get_by_text("Revisjonsloggen er intakt.")).to_be_visible()
    visit.check("audit-verify")

    visit.go("/audit")
    page.get_by_label("Person-ID eller ref:ekstern ID").fill(staff["emma"])
    page.get_by_role("button", name="Vis").click()
    expect(page.get_by_role("heading", name="Emma Nordmann")).to_be_visible()
    visit.check("audit-person-history")

    visit.go(f"/people/{staff['emma']}/access-report")
    expect(
        page.get_by_role("heading", name="Innsyn: opplysninger om Emma Nordmann")
    ).to_be_visible()
    visit.check("access-report")

    visit.go("/audit")
    page.get_by_label("Person-ID eller ref:ekstern ID").fill(staff["emma"])
    page.get_by_label("Innsynsrapport til personen (PDF)").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Vis").click()
    saved = tmp_path / "innsyn.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
