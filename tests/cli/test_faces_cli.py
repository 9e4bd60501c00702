"""Faces through the real entry point on both engines (R17): `check` refuses a face no tag
accounts for and names its box (exit 3), `photo show` lists the faces and who covers each,
`photo faces` writes a private preview and never over a file, `photo detect` looks at photos
registered without face detection."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from consentreg.errors import FaceDetectorMissingError
from consentreg.imaging import faces as detection
from tests import face_images
from tests.cli.conftest import Invoke, born_years_ago
from tests.face_images import LEFT_HEAD, RIGHT_HEAD, region


@pytest.fixture
def scene(cli: Invoke, tmp_path: Path) -> dict[str, str]:
    """A registered photo with two faces and two consented children, neither tagged yet."""
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    assert cli("purpose", "add", "web", "--title", "W", "--notice-file", notice).exit_code == 0
    found = {}
    for key in ("a", "b"):
        child = cli("person", "add", "--name", f"Barn {key}", "--born", born_years_ago(5))
        mother = cli(
            "person", "add", "--name", f"Mor {key}", "--born", "1988-01-01", "--kind", "adult"
        )
        found[key] = child.stdout.strip()
        assert cli("guardian", "add", found[key], mother.stdout.strip()).exit_code == 0
        grant = cli("consent", "grant", found[key], "--purpose", "web", "--by", mother.stdout)
        assert grant.exit_code == 0, grant.stderr
    photo = tmp_path / "IMG_1.jpg"
    photo.write_bytes(face_images.two_faces())
    added = cli("photo", "add", photo, "--photographer", "Kari")
    assert added.exit_code == 0, added.stderr
    found["photo"], found["file"] = added.stdout.strip(), str(photo)
    return found


def test_a_face_nobody_tagged_is_refused_with_its_box(cli: Invoke, scene: dict[str, str]) -> None:
    tag = cli(
        "photo", "tag", scene["photo"], "--subject", scene["a"], "--region", region(LEFT_HEAD)
    )
    assert tag.exit_code == 0, tag.stderr
    assert cli("photo", "complete", scene["photo"]).exit_code == 0
    shown = cli("--json", "photo", "show", scene["photo"]).json()
    left, right = shown["faces"]
    assert left["covered_by"] == scene["a"]
    assert right["covered_by"] is None
    result = cli("--json", "check", scene["file"], "--purpose", "web")
    assert result.exit_code == 3
    (reason,) = result.json()["results"][0]["reasons"]
    assert reason["code"] == "faces_untagged"
    assert ",".join(map(str, right["box"])) in reason["message"]
    both = cli(
        "photo", "tag", scene["photo"], "--subject", scene["b"], "--region", region(RIGHT_HEAD)
    )
    assert both.exit_code == 0
    assert cli("photo", "complete", scene["photo"]).exit_code == 0
    assert cli("check", scene["file"], "--purpose", "web").exit_code == 0


def test_photo_show_lists_the_faces_and_who_covers_each(cli: Invoke, scene: dict[str, str]) -> None:
    cli("photo", "tag", scene["photo"], "--subject", scene["a"], "--region", region(LEFT_HEAD))
    shown = cli("photo", "show", scene["file"])
    assert shown.exit_code == 0
    assert "faces         2 found" in shown.stdout
    rows = {row[0]: row for row in map(str.split, shown.stdout.splitlines()) if len(row) == 4}
    assert rows["1"][-1] == scene["a"]  # FACE  BOX  SCORE  COVERED BY
    assert rows["2"][-1] == "-"


def test_the_preview_is_private_and_never_written_over_a_file(
    cli: Invoke, scene: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "faces.jpg"
    result = cli("photo", "faces", scene["photo"], "-o", out, "--image", scene["file"])
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    assert "? no tag covers it" in result.stdout
    before = out.read_bytes()
    again = cli("photo", "faces", scene["file"], "-o", out)
    assert again.exit_code == 2
    assert "exists" in again.stderr
    assert out.read_bytes() == before


def test_without_face_detection_photos_are_refused_until_detected(
    cli: Invoke, scene: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> detection.Detector:
        raise FaceDetectorMissingError("face detection is not installed")

    photo = tmp_path / "IMG_2.jpg"
    photo.write_bytes(face_images.no_face())
    with monkeypatch.context() as patch:
        patch.setattr(detection, "load_detector", missing)
        added = cli("photo", "add", photo, "--photographer", "Kari", "--subject", scene["a"])
        assert added.exit_code == 0
        assert "faces_unchecked" in added.stderr
        assert cli("photo", "complete", added.stdout.strip()).exit_code == 0
        refused = cli("--json", "check", photo, "--purpose", "web")
        assert refused.exit_code == 3
        codes = [r["code"] for r in refused.json()["results"][0]["reasons"]]
        assert codes == ["faces_unchecked"]
        assert cli("photo", "detect", photo).exit_code == 2
    detected = cli("photo", "detect", photo)
    assert detected.exit_code == 0, detected.stderr
    assert "0 face(s)" in detected.stdout
    assert cli("check", photo, "--purpose", "web").exit_code == 0
    assert cli("audit", "verify").exit_code == 0
