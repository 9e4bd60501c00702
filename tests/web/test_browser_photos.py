"""The photo pages in a real browser (Debian's Chromium through Playwright, the axe-core scan
of every page as in test_browser.py): a publisher uploads a photo with two faces, clicks a box,
picks the person by name, confirms the tagging complete, publishes for a purpose and downloads
the release, a downscaled JPEG without metadata. With CONSENTREG_SCREENSHOTS=DIR the photo page
is saved there (docs/screenshots/photo.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from consentreg.services import access, accounts
from tests.conftest import ContextFactory
from tests.web.conftest import PASSWORD
from tests.web.test_browser import Visit, browser, expect, live, log_in
from tests.web.test_photo_pages import large_two_faces

__all__ = ["browser", "live"]  # the fixtures, used by name

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_a_publisher_tags_a_face_by_name_publishes_and_downloads_the_release(
    live: str, browser: Any, staff: dict[str, str], unit_of_work: ContextFactory, tmp_path: Path
) -> None:
    with unit_of_work(actor="ada") as ctx:
        access.add_user(ctx, login="pia", role="publisher")
        accounts.set_password(ctx, login="pia", password=PASSWORD)
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(large_two_faces())  # 1800x1000
    visit = Visit(browser.new_page(locale="nb-NO"), live)
    page = visit.page
    log_in(visit, "pia")
    page.get_by_role("link", name="Bilder").click()
    visit.check("photo-list")
    page.get_by_label("Bilder (JPEG").set_input_files(str(photo))
    page.get_by_label("Enhet").select_option("bhg")
    page.get_by_label("Fotograf (lagres kryptert)").fill("Kari Lærer")
    page.get_by_role("button", name="Last opp").click()
    expect(page.get_by_text("Bildene er registrert.")).to_be_visible()
    expect(page.locator("ul.faces").get_by_text("ikke tagget")).to_have_count(2)
    visit.check("photo-untagged")
    page.get_by_role("link", name="Tagg ansikt 1").click()
    expect(page.get_by_label("Ansikt", exact=True)).to_have_value("1")
    page.get_by_label("Person", exact=True).select_option(label="Emma Nordmann")
    page.get_by_role("button", name="Tagg", exact=True).click()
    expect(page.get_by_text("Personen er tagget.")).to_be_visible()
    page.get_by_role("link", name="Tagg ansikt 2").click()
    page.get_by_label("Person", exact=True).select_option(label="<script>alert(1)</script> Hacker")
    page.get_by_label("Nei, kan ikke gjenkjennes (trenger ikke samtykke)").check()
    page.get_by_role("button", name="Tagg", exact=True).click()
    expect(page.locator("ul.faces").get_by_text("ikke tagget")).to_have_count(0)
    page.get_by_role("button", name="Bekreft at taggingen er fullstendig").click()
    expect(page.get_by_text("Taggingen er bekreftet fullstendig.")).to_be_visible()
    visit.check("photo")
    page.get_by_label("Formål").select_option("yearbook")
    page.get_by_role("button", name="Sjekk", exact=True).click()
    expect(
        page.get_by_text("Kari Nordmann (foresatt) har ikke samtykket til yearbook")
    ).to_be_visible()
    visit.check("photo-check-refused")
    page.go_back()
    page.get_by_label("Formål").select_option("facebook")
    page.get_by_role("button", name="Publiser", exact=True).click()
    expect(page.get_by_text("Publisert for facebook")).to_be_visible()
    visit.check("photo-published")
    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned").first.click()
    saved = tmp_path / "release.jpg"
    download.value.save_as(saved)
    with Image.open(saved) as im:
        assert im.format == "JPEG"
        assert not im.getexif()
        assert "exif" not in im.info
        assert max(im.size) == 1280  # the purpose's limit (default)
    assert saved.read_bytes() != photo.read_bytes()
