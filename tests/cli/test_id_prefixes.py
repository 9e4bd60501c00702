"""IDs a person can type (issue #18, item 3): every command that takes an ID takes a unique
prefix of at least six characters; a person also by `ref:`."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PIL import Image

from tests.cli.conftest import Invoke


def test_people_photos_consents_and_publications_are_found_by_a_short_prefix(
    cli: Invoke, tmp_path: Path
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    born = (date.today() - timedelta(days=6 * 365)).isoformat()
    assert cli("purpose", "add", "facebook", "--title", "F", "--notice-file", notice).exit_code == 0
    child = cli("person", "add", "--name", "Emma Nordmann", "--born", born, "--ref", "K1").stdout
    mother = cli("person", "add", "--name", "Åse Nordmann", "--born", "1988-01-01",
                 "--kind", "adult").stdout.strip()  # fmt: skip
    child = child.strip()
    assert cli("guardian", "add", child[:6], "ref:K1").exit_code == 2  # K1 is the child herself
    assert cli("guardian", "add", child[:6], mother[:7]).exit_code == 0
    grant = cli("consent", "grant", "ref:K1", "--purpose", "facebook", "--by", mother[:6])
    assert grant.exit_code == 0, grant.stderr
    path = tmp_path / "IMG_1.jpg"
    Image.new("RGB", (640, 480), (10, 120, 200)).save(path)
    photo = cli("photo", "add", path, "--photographer", "Kari", "--subject", child[:6],
                "--complete").stdout.strip()  # fmt: skip
    assert cli("photo", "show", photo[:6]).exit_code == 0
    released = cli("--json", "publish", path, "--purpose", "facebook", "--out", tmp_path / "out")
    assert released.exit_code == 0, released.stderr
    publication = released.json()["results"][0]["publication_id"]
    withdrawn = cli("consent", "withdraw", grant.stdout.strip()[:6])
    assert withdrawn.exit_code == 0, withdrawn.stderr
    assert publication in withdrawn.stdout  # its take-down list
    assert cli("takedown", "done", publication[:6]).exit_code == 0
    assert (
        cli("takedown", "list").stdout.strip()
        == "PUBLICATION  PURPOSE  OUTPUT  RELEASED  PHOTO  PEOPLE"
    )


def test_a_prefix_too_short_or_unknown_is_not_found_and_says_which(cli: Invoke) -> None:
    short = cli("person", "show", "abc")
    assert short.exit_code == 4
    assert "unknown person 'abc'" in short.stderr
    unknown = cli("photo", "show", "0123456789")
    assert unknown.exit_code == 4
    assert "unknown photo '0123456789'" in unknown.stderr
