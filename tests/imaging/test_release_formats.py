"""mat2's three checks, per allowed input format: the dirty fixture HAS metadata; the release
copy has NONE of it (and is upright, within the size limit, never upscaled); and a damaged
file is refused with a reason code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from consentreg.errors import ImageError
from consentreg.imaging import Rendition, inspect_image, render_release, rendering, verify_clean
from tests.imaging.dirty import (
    BUILDERS,
    FORMATS,
    QUADRANT_COLOURS,
    asymmetric_picture,
    open_with_pillow,
    photo_like,
    stored_with_orientation,
)
from tests.imaging.leakcheck import (
    canaries_in,
    container_signatures_in,
    exiftool_metadata,
    residual_keys,
    write_release,
)
from tests.imaging.metadata import CANARIES, encode, jpeg_with_segments

# Canaries readable in the raw bytes of each dirty fixture (zTXt is compressed).
RAW_CANARIES = {
    "JPEG": set(CANARIES) - {"png_text", "png_ztxt", "png_itxt", "png_private", "webp_unknown"},
    "PNG": {"exif_owner", "gps_area", "xmp_person", "xmp_region", "png_text", "png_itxt"}
    | {"png_private", "trailer"},
    "WEBP": {"exif_owner", "exif_serial", "xmp_person", "xmp_region", "icc", "webp_unknown"},
    "HEIF": {"exif_owner", "exif_serial", "gps_area", "xmp_person", "xmp_region", "icc"},
}
# Keys exiftool must decode from each dirty fixture (GPS, owner, serial, names, regions, ICC...).
DECODED_KEYS = {
    "EXIF:GPS:GPSLatitude",
    "EXIF:ExifIFD:OwnerName",
    "EXIF:ExifIFD:SerialNumber",
    "XMP:XMP-iptcExt:PersonInImage",
    "XMP:XMP-mwg-rs:RegionName",
}
EXTRA_DECODED_KEYS = {
    "JPEG": {
        "EXIF:IFD1:ThumbnailImage",
        "IPTC:IPTC:By-line",
        "ICC_Profile:ICC_Profile:DeviceModelDesc",
        "File:File:Comment",
        "JUMBF:JSON:Note",
    },
    "PNG": {"PNG:PNG:Author", "PNG:PNG:Comment", "PNG:PNG:Description", "PNG:PNG:ProfileName"},
    "WEBP": {"ICC_Profile:ICC_Profile:DeviceModelDesc", "RIFF:RIFF:Unknown_CNRY"},
    "HEIF": {"ICC_Profile:ICC_Profile:DeviceModelDesc"},
}


@pytest.fixture(scope="module", params=FORMATS)
def dirty(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    fmt: str = request.param
    return fmt, BUILDERS[fmt]()


@pytest.fixture(scope="module")
def released(dirty: tuple[str, bytes]) -> Rendition:
    return render_release(dirty[1], max_px=320)


def _flat_keys(metadata: dict[str, object]) -> set[str]:
    """exiftool -G0:1 keys with the family-1 group doubled when it equals family 0."""
    keys = set()
    for key in metadata:
        group, _, tag = key.rpartition(":")
        keys.add(key if group.count(":") else f"{group}:{group}:{tag}")
    return keys


def test_the_dirty_fixture_carries_a_canary_in_every_container(dirty: tuple[str, bytes]) -> None:
    fmt, data = dirty
    assert set(canaries_in(data)) >= RAW_CANARIES[fmt]
    with open_with_pillow(data) as im:
        assert {"exif", "icc_profile"} <= set(im.info)
        assert im.getexif()[0x013B] == CANARIES["exif_artist"]


def test_exiftool_decodes_the_dirty_fixtures_metadata(
    dirty: tuple[str, bytes], tmp_path: Path
) -> None:
    fmt, data = dirty
    path = write_release(tmp_path, f"dirty.{fmt.lower()}", data)
    keys = _flat_keys(exiftool_metadata([path])[path])
    assert keys >= DECODED_KEYS | EXTRA_DECODED_KEYS[fmt]


def test_the_release_contains_no_canary_and_no_metadata_container(released: Rendition) -> None:
    assert canaries_in(released.data) == []
    assert container_signatures_in(released.data) == []
    verify_clean(released.data)


def test_exiftool_finds_only_structural_keys_in_the_release(
    released: Rendition, tmp_path: Path
) -> None:
    path = write_release(tmp_path, f"release.{released.extension}", released.data)
    metadata = exiftool_metadata([path])[path]
    assert residual_keys(metadata) == []
    assert canaries_in(json.dumps(metadata).encode()) == []


def test_the_release_is_a_single_opaque_jpeg_of_the_right_size(released: Rendition) -> None:
    assert released.extension == "jpg"
    assert (released.width, released.height) == (320, 240)
    with Image.open(io.BytesIO(released.data)) as im:
        assert (im.format, im.size, getattr(im, "n_frames", 1)) == ("JPEG", (320, 240), 1)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_release_is_upright_whatever_the_stored_orientation(fmt: str, orientation: int) -> None:
    data = stored_with_orientation(fmt, asymmetric_picture(240, 160), orientation)
    released = render_release(data, max_px=120)
    assert (released.width, released.height) == (120, 80)
    assert_quadrants(released.data, QUADRANT_COLOURS)
    info = inspect_image(data)
    assert (info.format, info.width, info.height) == (fmt, 240, 160)


def assert_quadrants(data: bytes, colours: tuple[tuple[int, int, int], ...]) -> None:
    """The centre of each quadrant (left to right, top to bottom) has the expected colour."""
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    width, height = rgb.size
    for index, expected in enumerate(colours):
        point = (width // 4 + (index % 2) * width // 2, height // 4 + (index // 2) * height // 2)
        actual = rgb.getpixel(point)
        assert isinstance(actual, tuple)
        assert max(abs(a - e) for a, e in zip(actual, expected, strict=True)) < 40, index


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_large_picture_is_downscaled_to_max_px_on_its_long_edge(fmt: str) -> None:
    released = render_release(BUILDERS[fmt](photo_like(1000, 1500)), max_px=300)
    assert (released.width, released.height) == (200, 300)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_small_picture_is_never_upscaled(fmt: str) -> None:
    data = BUILDERS[fmt](photo_like(200, 150))
    released = render_release(data, max_px=1280)
    assert (released.width, released.height) == (200, 150)
    assert released.data != data


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_file_is_refused_as_invalid(fmt: str, cut: float) -> None:
    data = BUILDERS[fmt]()
    if fmt == "JPEG":
        data = data[: data.rindex(b"\xff\xd9", 0, data.index(CANARIES["trailer"].encode()))]
    if fmt == "PNG":
        data = data[: data.index(b"prVt")]
    truncated = data[: int(len(data) * cut)]
    for call in (inspect_image, lambda d: render_release(d, max_px=100)):
        with pytest.raises(ImageError) as caught:
            call(truncated)
        assert caught.value.code == "image_invalid"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_the_naive_pillow_pipeline_leaks_what_the_gate_removes() -> None:
    """Documents why the gate builds a fresh image: resize() keeps .info, and JPEG save
    writes the COM comment back. The detectors above must see such a leak."""
    with Image.open(io.BytesIO(BUILDERS["JPEG"]())) as im:
        small = im.resize((64, 48))
        buffer = io.BytesIO()
        small.save(buffer, "JPEG")
    assert canaries_in(buffer.getvalue()) == ["com"]
    with pytest.raises(ImageError, match="0xFFFE"):
        verify_clean(buffer.getvalue())


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_encoder_is_handed_pixels_without_any_metadata(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[Image.Image] = []
    encode_release = rendering._encode

    def spy(im: Image.Image, quality: int) -> Rendition:
        handed.append(im)
        return encode_release(im, quality)

    monkeypatch.setattr(rendering, "_encode", spy)
    render_release(BUILDERS[fmt](), max_px=100)
    assert [im.info for im in handed] == [{}]


def test_an_output_that_fails_the_self_check_is_never_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def leaky_encoder(im: Image.Image, quality: int) -> Rendition:
        data = jpeg_with_segments(encode(im, "JPEG", quality=quality), [(0xE1, b"Exif\0\0")])
        return Rendition(data, "jpg", im.width, im.height, "0" * 64)

    monkeypatch.setattr(rendering, "_encode", leaky_encoder)
    with pytest.raises(ImageError, match="0xFFE1") as caught:
        render_release(BUILDERS["JPEG"](), max_px=100)
    assert caught.value.code == "image_invalid"
