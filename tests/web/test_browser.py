"""The staff pages in a real browser: Debian's Chromium driven by Playwright (offline, through
`executable_path`; never `playwright install`), with an axe-core scan of every page (the script
ships with axe-playwright-python) that must find no serious or critical violation, and no
message in the browser's console (a style or script the Content-Security-Policy blocked would
show there). With CONSENTREG_SCREENSHOTS=DIR the main pages are saved there as PNG
(docs/screenshots/ holds the committed ones)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from consentreg.services import consents, corrections
from tests.conftest import NOW, ContextFactory
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

BLOCKING = ("serious", "critical")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CONSENTREG_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is required (CONSENTREG_REQUIRE_CHROMIUM=1) but not installed")
    pytest.skip("chromium is not installed (make system-deps installs it)")


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The application on a port of localhost, in a thread of this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium()
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield found
        found.close()


class Visit:
    """One browser tab that checks every page it lands on."""

    def __init__(self, page: Any, base: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page, self.base, self.axe = page, base, Axe()
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))
        self.shots = os.environ.get("CONSENTREG_SCREENSHOTS")

    def check(self, name: str, *, status: int | None = None) -> None:
        """Scan the page; `status`: the error status the page itself was answered with (the
        console reports it), nothing else may be there."""
        results = self.axe.run(self.page)
        blocking = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results.response["violations"]
            if v["impact"] in BLOCKING
        ]
        assert blocking == [], f"{name}: {blocking}"
        expected = f"the server responded with a status of {status}"
        console = [m for m in self.console if status is None or expected not in m]
        assert console == [], f"{name}: {console}"
        self.console.clear()
        if self.shots:
            Path(self.shots).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(self.shots) / f"{name}.png"), full_page=True)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def test_a_registrar_records_a_consent_with_a_scan_and_every_page_is_accessible(
    live: str, browser: Any, staff: dict[str, str], tmp_path: Path
) -> None:
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    visit.go("/units/bhg")
    expect(page).to_have_url(live + "/login?next=/units/bhg")
    visit.check("login")
    page.get_by_label("Brukernavn").fill("rita")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    expect(page).to_have_url(live + "/units/bhg")
    expect(page.get_by_role("heading", name="Solsikken barnehage")).to_be_visible()
    expect(page.get_by_text("<script>alert(1)</script> Hacker")).to_be_visible()  # as text
    visit.check("unit-overview")
    visit.go("/")
    expect(page.get_by_role("link", name="Solsikken barnehage")).to_be_visible()
    visit.check("start")
    page.get_by_role("link", name="Solsikken barnehage").click()
    page.get_by_role("link", name="Emma Nordmann").click()
    expect(page.get_by_text("Kari Nordmann").first).to_be_visible()
    visit.check("person")
    page.get_by_role("link", name="Registrer samtykke").click()
    visit.check("consent-form")
    page.get_by_label("Yearbook").check()
    page.get_by_label("Facebook").check()
    page.get_by_label("Kari Nordmann").check()
    page.get_by_label("Ola Nordmann").check()
    page.get_by_label("Ja, samtykker").check()
    scan = tmp_path / "skjema.pdf"
    scan.write_bytes(b"%PDF-1.4\n% signert skjema\n")
    page.get_by_label("Skannet skjema").set_input_files(str(scan))
    page.get_by_role("button", name="Registrer").click()
    expect(page.get_by_text("Svaret er registrert.")).to_be_visible()
    expect(page.get_by_role("cell", name="yearbook", exact=True)).to_have_count(2)
    visit.check("person-after-consent")
    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned skannet skjema").first.click()
    saved = tmp_path / "lastet-ned.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == scan.read_bytes()


def test_a_refusal_and_the_error_pages_are_accessible_too(
    live: str, browser: Any, staff: dict[str, str]
) -> None:
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    visit.go("/login")
    page.get_by_label("Brukernavn").fill("rita")
    page.get_by_label("Passord").fill("ikke-riktig-passord")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_text("Feil brukernavn eller passord.")).to_be_visible()
    visit.check("login-refused", status=401)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    visit.go(f"/people/{staff['per']}")
    expect(page.get_by_role("heading", name="Du har ikke tilgang til dette")).to_be_visible()
    expect(page.get_by_text("Per Blå")).to_have_count(0)
    visit.check("not-permitted", status=403)
    visit.go("/nowhere")
    visit.check("not-found", status=404)


def log_in(visit: Visit, login: str) -> None:
    page = visit.page
    visit.go("/login")
    page.get_by_label("Brukernavn").fill(login)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("heading", name="Dine enheter")).to_be_visible()


def test_a_registrar_corrects_protects_and_withdraws_and_sees_what_to_take_down(
    live: str, browser: Any, staff: dict[str, str], released: str
) -> None:
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    log_in(visit, "rita")
    visit.go(f"/people/{staff['emma']}")
    page.get_by_role("link", name="Rett opplysninger").click()
    expect(page.get_by_label("Navn", exact=True)).to_have_value("Emma Nordmann")
    visit.check("person-edit")
    page.get_by_label("Navn", exact=True).fill("Emma Nordmann Berg")
    page.get_by_role("button", name="Lagre rettelsen").click()
    expect(page.get_by_text("Rettelsen er lagret.")).to_be_visible()
    expect(page.get_by_role("heading", name="Emma Nordmann Berg")).to_be_visible()
    page.get_by_label("Begrunnelse (lagres kryptert)").fill("Vedtak om sperret adresse")
    page.get_by_role("button", name="Skjerm identiteten (publiser aldri)").click()
    expect(page.get_by_text("Identiteten er skjermet.")).to_be_visible()
    visit.check("person-actions")
    page.get_by_role("link", name="Trekk tilbake").first.click()
    expect(page.get_by_role("heading", name="Trekk tilbake et samtykke for Emma")).to_be_visible()
    visit.check("withdraw-form")
    page.get_by_label("Begrunnelse (valgfri, lagres kryptert)").fill("Flyttet")
    page.get_by_role("button", name="Trekk tilbake samtykket").click()
    expect(page.get_by_text("Samtykket er trukket tilbake.")).to_be_visible()
    expect(page.get_by_role("cell", name=f"{released}.jpg")).to_be_visible()
    visit.check("withdrawal")


def test_an_auditor_reads_the_history_and_an_admin_works_the_lists(
    live: str,
    browser: Any,
    staff: dict[str, str],
    released: str,
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work(actor="ada", now=NOW + timedelta(hours=1)) as ctx:
        grant = next(c.id for c in consents.list_consents(ctx, subject=staff["emma"]))
        consents.withdraw_consent(ctx, consent_id=grant)
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    log_in(visit, "aud")
    visit.go(f"/people/{staff['emma']}")
    page.get_by_role("link", name="Historikk").click()
    expect(page.get_by_role("cell", name="Samtykke trukket tilbake")).to_be_visible()
    visit.check("person-history")
    page.get_by_role("link", name="Fjerningsliste").click()
    expect(page.get_by_role("cell", name=f"{released}.jpg")).to_be_visible()
    expect(page.get_by_role("button", name="Ferdig")).to_have_count(0)
    visit.check("takedown")
    page.get_by_role("button", name="Logg ut", exact=True).click()
    log_in(visit, "ada")
    visit.go("/takedown")
    page.get_by_role("button", name="Ferdig").click()
    expect(page.get_by_text("Merket som fjernet.")).to_be_visible()
    expect(page.get_by_text("Ingenting å fjerne.")).to_be_visible()
    page.get_by_role("link", name="Brukere").click()
    visit.check("users")
    page.get_by_label("Brukernavn", exact=True).fill("siri")
    page.get_by_label("Rolle").select_option("registrar")
    page.get_by_label("Solsikken barnehage (bhg)").check()
    page.get_by_role("button", name="Gi rollen").click()
    expect(page.get_by_text("Rollen er gitt.")).to_be_visible()
    expect(page.get_by_role("cell", name="siri", exact=True)).to_be_visible()
    page.get_by_label("Hvem sitt passord (brukernavn)").fill("siri")
    page.get_by_label("Nytt passord").fill("et-langt-passord-for-siri")
    page.get_by_label("Det samme passordet en gang til").fill("et-langt-passord-for-siri")
    page.get_by_role("button", name="Sett passordet").click()
    expect(page.get_by_text("Passordet er satt.")).to_be_visible()
    visit.check("users-after")


def test_a_stale_form_says_so_in_norwegian_and_saves_nothing(
    live: str, browser: Any, staff: dict[str, str], unit_of_work: ContextFactory
) -> None:
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    log_in(visit, "rita")
    visit.go(f"/people/{staff['emma']}/edit")
    with unit_of_work(actor="ada", now=NOW + timedelta(hours=1)) as ctx:
        corrections.correct_person(ctx, staff["emma"], name="Emma Endret")
    page.get_by_label("Navn", exact=True).fill("Emma Annet")
    page.get_by_role("button", name="Lagre rettelsen").click()
    heading = "Noen andre har endret dette i mellomtiden"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    visit.check("stale-form", status=409)
    visit.go(f"/people/{staff['emma']}")
    expect(page.get_by_role("heading", name="Emma Endret")).to_be_visible()
