"""Damaged files are refused (image_invalid), never released with invented pixels; videos and
other formats are refused as image_unsupported with a message naming what the file is, judged by
content, not by the file name."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from consentreg.errors import ImageError
from consentreg.imaging import inspect_image, render_release
from tests.imaging.dirty import photo_like
from tests.imaging.metadata import encode

GATES: list[Callable[[bytes], object]] = [inspect_image, lambda d: render_release(d, max_px=64)]
CORPUS = Path(os.environ.get("CONSENTREG_CORPUS", "/work/shared/corpus"))


def refused(data: bytes) -> list[ImageError]:
    errors = []
    for gate in GATES:
        with pytest.raises(ImageError) as caught:
            gate(data)
        errors.append(caught.value)
    return errors


def with_restart_markers() -> bytes:
    return encode(photo_like(320, 240), "JPEG", quality=90, restart_marker_blocks=4)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("JPEG", {"restart_marker_blocks": 4}),
        ("PNG", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
    ],
)
@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_a_truncated_file_is_invalid(fmt: str, params: dict[str, object], keep: float) -> None:
    data = encode(photo_like(320, 240), fmt, **params)
    cut = data[: min(len(data) - 1, int(len(data) * keep))]
    assert all(e.code == "image_invalid" for e in refused(cut))


def test_a_jpeg_without_its_end_marker_is_invalid() -> None:
    data = encode(photo_like(320, 240), "JPEG")
    assert data.endswith(b"\xff\xd9")
    assert all("truncated" in str(e) for e in refused(data[:-2]))


def test_a_jpeg_with_restart_markers_intact_is_released() -> None:
    data = with_restart_markers()
    assert data.count(b"\xff\xd0") > 1
    rendition = render_release(data, max_px=64)
    assert rendition.width == 64


def test_a_jpeg_whose_scan_data_was_overwritten_is_invalid() -> None:
    """corrupted.jpg's damage: a page of the scan overwritten with 0xFF bytes."""
    data = bytearray(with_restart_markers())
    middle = len(data) // 2
    data[middle : middle + 2048] = b"\xff" * 2048
    assert all(e.code == "image_invalid" for e in refused(bytes(data)))


def test_a_jpeg_that_lost_a_block_of_scan_data_is_invalid() -> None:
    data = with_restart_markers()
    middle = len(data) // 2
    assert all(e.code == "image_invalid" for e in refused(data[:middle] + data[middle + 600 :]))


def test_a_jpeg_with_restart_markers_out_of_sequence_is_invalid() -> None:
    data = bytearray(with_restart_markers())
    first = data.index(b"\xff\xd0", data.index(b"\xff\xda"))
    data[first + 1] = 0xD3
    assert all("out of sequence" in str(e) for e in refused(bytes(data)))


def test_garbage_between_jpeg_segments_is_invalid() -> None:
    data = encode(photo_like(64, 48), "JPEG")
    after_first = 4 + struct.unpack_from(">H", data, 4)[0]
    damaged = data[:after_first] + b"\x00\x11garbage" + data[after_first:]
    assert all(e.code == "image_invalid" for e in refused(damaged))


def test_the_corpus_corrupted_jpeg_is_invalid() -> None:
    path = CORPUS / "exif-samples" / "jpg" / "corrupted.jpg"
    if not path.is_file():
        pytest.skip(f"no test corpus at {CORPUS}")
    assert all(e.code == "image_invalid" for e in refused(path.read_bytes()))


def iso_media(brand: bytes) -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41"
    return ftyp + struct.pack(">I", 16) + b"mdat" + b"\x00" * 8


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (iso_media(b"isom"), "MP4 video"),
        (iso_media(b"mp42"), "MP4 video"),
        (iso_media(b"M4V "), "MP4 video"),
        (iso_media(b"qt  "), "QuickTime (MOV) video"),
        (iso_media(b"3gp5"), "3GP video"),
        (struct.pack(">I", 16) + b"moov" + b"\x00" * 8, "QuickTime (MOV) video"),
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 60, "Matroska/WebM video"),
        (b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 40, "AVI video"),
        (b"\x00\x00\x01\xba" + b"\x00" * 60, "MPEG video"),
        ((b"\x47" + b"\x00" * 187) * 3, "MPEG transport stream video"),
    ],
)
def test_a_video_is_unsupported_and_named(data: bytes, named: str) -> None:
    for error in refused(data):
        assert error.code == "image_unsupported"
        assert f"video is not supported ({named})" in str(error)


@pytest.mark.parametrize(("fmt", "named"), [("GIF", "GIF image"), ("TIFF", "TIFF image")])
def test_another_image_format_is_unsupported_and_named(fmt: str, named: str) -> None:
    data = encode(Image.new("RGB", (8, 8)), fmt)
    assert all(f"{named} is not supported" in str(e) for e in refused(data))


def test_unknown_content_is_unsupported() -> None:
    assert all(e.code == "image_unsupported" for e in refused(b"hello, world" * 10))
