"""`report coverage` on SQLite and PostgreSQL: one self-contained, escaped HTML page per unit,
rendered in a real headless Chromium (screenshot and DOM)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, text

from consentreg.domain.reason_texts import reason_text
from consentreg.errors import InvalidInputError
from consentreg.services import people, units
from consentreg.services.coverage import CoverageReport, coverage_report
from tests import builders
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import Register, build_register

HOSTILE = "<script>alert(1)</script> Nordmann"
SOON = NOW + timedelta(minutes=30)  # both guardians' grants in force, nothing withdrawn yet


@pytest.fixture
def report(unit_of_work: ContextFactory) -> tuple[Register, CoverageReport]:
    register = build_register(unit_of_work)
    with unit_of_work(now=NOW + timedelta(minutes=10)) as ctx:
        register["hostile"] = builders.person(ctx, HOSTILE, "2020-05-05", unit_code="bhg")
    with unit_of_work(now=SOON) as ctx:
        return register, coverage_report(ctx, unit="bhg")


def test_the_page_shows_each_person_and_purpose_with_names_escaped(
    report: tuple[Register, CoverageReport],
) -> None:
    _, page = report
    assert (page.people, page.purposes, page.allowed) == (3, 2, 2)
    assert "Kari Nordmann" in page.html
    assert "Ola Lærer" in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Nordmann" in page.html
    assert "<script" not in page.html
    assert "Per Nordmann" not in page.html  # not in the unit
    assert page.html.count("&#10003; Kan publiseres") == 2
    assert reason_text("guardian_consent_missing") in page.html
    assert reason_text("consent_refused") in page.html
    assert '<html lang="nb">' in page.html


def test_the_page_loads_nothing_from_anywhere(report: tuple[Register, CoverageReport]) -> None:
    html = report[1].html
    for external in ("http:", "https:", "//", "src=", "href=", "url(", "@import", "<link"):
        assert external not in html
    assert "default-src 'none'" in html


def test_the_report_is_recorded_with_the_ids_it_showed(
    report: tuple[Register, CoverageReport], engine: Engine
) -> None:
    register, _ = report
    with engine.connect() as conn:
        ids, payload = conn.execute(
            text("SELECT object_ids, payload FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).one()
    assert json.loads(payload) == {"view": "coverage", "purposes": ["facebook", "yearbook"]}
    assert set(json.loads(ids)["subjects"]) == {
        register["child"],
        register["staff"],
        register["hostile"],
    }
    assert "Nordmann" not in ids + payload


def test_an_unknown_unit_is_invalid_input(unit_of_work: ContextFactory) -> None:
    with pytest.raises(InvalidInputError, match="unknown unit"), unit_of_work() as ctx:
        coverage_report(ctx, unit="nope")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CONSENTREG_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is required (CONSENTREG_REQUIRE_CHROMIUM=1) but not installed")
    pytest.skip("chromium is not installed (make system-deps installs it)")


def run_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [chromium(), *flags, *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_page_renders_in_headless_chromium(
    report: tuple[Register, CoverageReport], tmp_path: Path
) -> None:
    page = tmp_path / "coverage.html"
    page.write_text(report[1].html, encoding="utf-8")
    shot = tmp_path / "coverage.png"
    run_chromium(page, tmp_path / "p1", f"--screenshot={shot}", "--window-size=1200,900")
    assert shot.is_file()
    assert shot.stat().st_size > 10_000
    with Image.open(shot) as image:
        assert image.size == (1200, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # text, borders, green and red cells
    dom = run_chromium(page, tmp_path / "p2", "--dump-dom").stdout
    cells = re.sub(r"<[^>]+>", " ", dom)
    assert "Kari Nordmann" in cells
    assert "Kan publiseres" in cells
    assert "Noen har sagt nei" in cells
    assert "consent_refused" not in cells  # codes for machines, words for people
    assert "&lt;script&gt;" in dom


def test_units_and_sub_units_are_headings_and_guardians_are_never_rows(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        units.add_unit(ctx, code="bhg", name="Solsikken")
        units.add_unit(ctx, code="bhg.bla", name="Blå gruppe", parent="bhg")
        units.add_unit(ctx, code="skole", name="Skolen")
        small = builders.person(ctx, "Emma Nordmann", "2021-03-14", unit_code="bhg.bla")
        big = builders.person(ctx, "Jonas Berg", "2019-03-14", unit_code="bhg")
        staff = builders.person(ctx, "Ola Lærer", "1980-01-01", kind="staff", unit_code="bhg")
        pupil = builders.person(ctx, "Mia Lund", "2015-01-01", unit_code="skole")
        # a parent registered in the unit, and a staff member who is also a parent
        parent = builders.person(ctx, "Åse Nordmann", "1988-01-01", kind="adult", unit_code="bhg")
        people.add_guardian(ctx, child=small, guardian=parent)
        people.add_guardian(ctx, child=big, guardian=staff)
        builders.grant(ctx, small, parent)
        lost = builders.person(ctx, "Kari Uten", "2020-01-01")  # a child of no unit
    with unit_of_work(now=SOON) as ctx:
        report = coverage_report(ctx, unit="bhg")
        everything = coverage_report(ctx)
    sections = [(s.code, s.title, [r.person_id for r in s.rows]) for s in report.sections]
    assert sections == [
        ("bhg", "Solsikken", [big, staff]),
        ("bhg.bla", "Solsikken › Blå gruppe", [small]),
    ]
    assert (report.people, report.allowed) == (3, 1)
    assert "Åse Nordmann" not in report.html
    assert (
        report.html.index("Jonas Berg")
        < report.html.index("Blå gruppe")
        < report.html.index("Emma Nordmann")
    )
    codes = [s.code for s in everything.sections]
    assert codes == ["bhg", "bhg.bla", "skole", None]
    assert [r.person_id for r in everything.sections[-1].rows] == [lost]
    assert "Uten enhet" in everything.html
    assert pupil in {r.person_id for r in everything.sections[2].rows}
    document = report.document()
    assert "Emma" not in json.dumps(document)
    (bla,) = [u for u in document["units"] if u["unit"] == "bhg.bla"]
    assert bla["subjects"] == [
        {
            "id": small,
            "kind": "child",
            "standing": [{"purpose": "facebook", "allowed": True, "reasons": []}],
        }
    ]
    (solsikken,) = [u for u in document["units"] if u["unit"] == "bhg"]
    assert [s["standing"][0]["reasons"] for s in solsikken["subjects"]] == [
        ["guardian_consent_missing"],
        ["no_consent"],
    ]
