"""Batches that speak (issue #19): empty and image-less folders, skipped non-images, `photo add`
naming every file it cannot register, and a folder published twice."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

from tests.cli import test_cli
from tests.cli.conftest import Invoke

scenario = test_cli.scenario  # the fixture: a consented child in a registered, complete photo


def jpeg_bytes(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    return buf.getvalue()


def mp4_bytes() -> bytes:
    return struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isommp41" + b"\x00" * 16


def test_publish_or_check_of_an_empty_folder_exits_2_saying_so(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in (["publish", empty, "--out", tmp_path / "o"], ["check", empty]):
        result = cli(*command, "--purpose", "facebook")
        assert result.exit_code == 2
        assert "holds no image" in result.stderr
        assert "empty" in result.stderr
    assert not (tmp_path / "o").exists()


def test_a_folder_without_images_exits_2_and_counts_what_it_holds(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("hei")
    (folder / "clip.mp4").write_bytes(mp4_bytes())
    result = cli("publish", folder, "--purpose", "facebook", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "2 other file(s), no image" in result.stderr


def test_skipped_non_images_in_a_folder_are_counted_and_named_on_stderr(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Path(scenario["photo_path"]).rename(folder / "a.jpg")
    (folder / "notes.txt").write_text("hei")
    (folder / "clip.mov").write_bytes(mp4_bytes())
    result = cli("publish", folder, "--purpose", "facebook", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    assert "skipped 2 file(s) that are not images" in result.stderr
    assert "clip.mov" in result.stderr
    assert "notes.txt" in result.stderr


def test_a_video_named_like_a_photo_is_refused_naming_its_format(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    video = tmp_path / "IMG_0001.jpg"
    video.write_bytes(mp4_bytes())
    result = cli("photo", "add", video, "--photographer", "Kari")
    assert result.exit_code == 5
    assert "IMG_0001.jpg" in result.stderr
    assert "video is not supported (MP4 video)" in result.stderr


def test_photo_add_names_every_bad_file_and_registers_none_by_default(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes((1, 2, 3)))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg_bytes((4, 5, 6))[:-200])
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4_bytes())
    result = cli("photo", "add", good, cut, clip, "--photographer", "Kari")
    assert result.exit_code == 5
    assert "2 of 3 files cannot be registered" in result.stderr
    assert "cut.jpg" in result.stderr
    assert "clip.mp4: video is not supported (MP4 video)" in result.stderr
    assert cli("photo", "show", good).exit_code == 4  # nothing was registered


def test_photo_add_skip_bad_registers_the_good_files_and_names_the_rest(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes((1, 2, 3)))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg_bytes((4, 5, 6))[:-200])
    result = cli("photo", "add", good, cut, "--photographer", "Kari", "--skip-bad")
    assert result.exit_code == 5
    assert len(result.stdout.split()) == 1
    assert "not registered: cut.jpg: image_invalid" in result.stderr
    assert cli("photo", "show", good).exit_code == 0


def test_a_folder_published_twice_is_released_once_unless_again(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Path(scenario["photo_path"]).rename(folder / "a.jpg")
    out = tmp_path / "o"
    first = cli("--json", "publish", folder, "--purpose", "facebook", "--out", out)
    assert first.exit_code == 0, first.stderr
    earlier = first.json()["results"][0]["publication_id"]
    second = cli("--json", "publish", folder, "--purpose", "facebook", "--out", out)
    assert second.exit_code == 3
    (item,) = second.json()["results"]
    assert item["publication_id"] == earlier
    assert [r["code"] for r in item["reasons"]] == ["already_released"]
    assert earlier in item["reasons"][0]["message"]
    assert len(list(out.iterdir())) == 1
    again = cli("publish", folder, "--purpose", "facebook", "--out", out, "--again")
    assert again.exit_code == 0, again.stderr
    assert len(list(out.iterdir())) == 2
    assert cli("audit", "verify").exit_code == 0
