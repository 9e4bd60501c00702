"""verify_clean: the byte-level allow-list that every release copy must pass."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from consentreg.errors import ImageError
from consentreg.imaging import verify_clean
from tests.imaging.metadata import encode, jpeg_with_segments, png_chunk, png_with_chunk


@pytest.fixture(scope="module")
def clean_jpeg() -> bytes:
    return encode(Image.effect_noise((64, 48), 50).convert("RGB"), "JPEG", quality=85)


@pytest.fixture(scope="module")
def clean_png() -> bytes:
    return encode(Image.new("RGBA", (16, 12), (1, 2, 3, 100)), "PNG")


def refused(data: bytes) -> str:
    with pytest.raises(ImageError) as caught:
        verify_clean(data)
    assert caught.value.code == "image_invalid"
    return str(caught.value)


@pytest.mark.parametrize(
    "im",
    [
        Image.new("RGB", (8, 8), "red"),
        Image.new("L", (640, 480), 7),
        Image.effect_noise((300, 200), 80),
    ],
    ids=["rgb", "gray", "noise"],
)
def test_a_clean_pillow_jpeg_passes(im: Image.Image) -> None:
    verify_clean(encode(im, "JPEG", quality=85))


def test_progressive_and_restart_interval_jpegs_pass() -> None:
    noise = Image.effect_noise((200, 120), 60).convert("RGB")
    verify_clean(encode(noise, "JPEG", progressive=True))
    with_restarts = encode(noise, "JPEG", restart_marker_blocks=2)
    assert b"\xff\xdd" in with_restarts
    verify_clean(with_restarts)


def test_a_clean_png_passes(clean_png: bytes) -> None:
    verify_clean(clean_png)
    verify_clean(encode(Image.new("P", (4, 4)), "PNG", transparency=0))


def test_a_jpeg_with_an_app1_segment_is_refused(clean_jpeg: bytes) -> None:
    dirty = jpeg_with_segments(clean_jpeg, [(0xE1, b"Exif\0\0MM\0*")])
    assert "unexpected JPEG marker 0xFFE1" in refused(dirty)


@pytest.mark.parametrize("marker", [0xE2, 0xED, 0xEB, 0xEE, 0xEF, 0xFE, 0xC3, 0xCC])
def test_a_jpeg_with_any_other_segment_is_refused(clean_jpeg: bytes, marker: int) -> None:
    assert f"0xFF{marker:02X}" in refused(jpeg_with_segments(clean_jpeg, [(marker, b"x")]))


def test_bytes_after_the_jpeg_end_marker_are_refused(clean_jpeg: bytes) -> None:
    assert "after the JPEG end" in refused(clean_jpeg + b"PK\x03\x04")
    assert "after the JPEG end" in refused(clean_jpeg + b"\0")


def test_a_second_start_of_image_is_refused(clean_jpeg: bytes) -> None:
    assert "0xFFD8" in refused(clean_jpeg[:2] + clean_jpeg)


def test_a_jfif_header_that_carries_a_thumbnail_is_refused(clean_jpeg: bytes) -> None:
    app0 = clean_jpeg.index(b"JFIF\0")
    with_thumb = bytearray(clean_jpeg)
    with_thumb[app0 + 12 : app0 + 14] = b"\x01\x01"
    assert "JFIF" in refused(bytes(with_thumb))


def test_a_jfxx_extension_segment_is_refused(clean_jpeg: bytes) -> None:
    jfxx = b"JFXX\0\x10" + b"\xff\xd8\xff\xd9"  # a JFIF extension thumbnail
    app0 = clean_jpeg.index(b"\xff\xe0")
    app0_end = app0 + 2 + int.from_bytes(clean_jpeg[app0 + 2 : app0 + 4], "big")
    segment = b"\xff\xe0" + struct.pack(">H", len(jfxx) + 2) + jfxx
    assert "APP0" in refused(clean_jpeg[:app0_end] + segment + clean_jpeg[app0_end:])


@pytest.mark.parametrize("cut", [3, 100, -2, -1])
def test_a_truncated_jpeg_is_refused(clean_jpeg: bytes, cut: int) -> None:
    refused(clean_jpeg[:cut])


def test_a_png_with_a_text_chunk_is_refused(clean_png: bytes) -> None:
    dirty = png_with_chunk(clean_png, png_chunk(b"tEXt", b"Author\0Kari Nordmann"))
    assert "unexpected PNG chunk tEXt" in refused(dirty)


@pytest.mark.parametrize("ctype", [b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"tIME", b"pHYs", b"prVt"])
def test_a_png_with_any_other_chunk_is_refused(clean_png: bytes, ctype: bytes) -> None:
    assert ctype.decode() in refused(png_with_chunk(clean_png, png_chunk(ctype, b"x")))


def test_a_png_chunk_with_a_bad_crc_is_refused(clean_png: bytes) -> None:
    broken = bytearray(clean_png)
    broken[-20] ^= 0x01  # inside the last IDAT
    assert "CRC" in refused(bytes(broken))


def test_bytes_after_the_png_end_chunk_are_refused(clean_png: bytes) -> None:
    assert "after the PNG end" in refused(clean_png + b"x")


def test_a_png_without_its_end_chunk_is_refused(clean_png: bytes) -> None:
    refused(clean_png[:-12])


def test_a_non_letter_chunk_type_is_named_in_hex(clean_png: bytes) -> None:
    message = refused(png_with_chunk(clean_png, png_chunk(b"\x1b[2J", b"")))
    assert "0x1B5B324A" in message
    assert "\x1b" not in message


@pytest.mark.parametrize("data", [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n"])
def test_anything_but_a_jpeg_or_png_stream_is_refused(data: bytes) -> None:
    refused(data)
