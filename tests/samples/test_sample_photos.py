"""The generated sample photos really carry the hostile metadata they are meant to carry."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile, ImageOps, IptcImagePlugin
from PIL.ExifTags import IFD

from samples.make_photos import SHOTS, make_photos, render_photo
from samples.scenario import PHOTOS, SamplePhoto, person_names

JPEGS = [p for p in PHOTOS if p.file_name.endswith(".jpg")]
PNGS = [p for p in PHOTOS if p.file_name.endswith(".png")]
NAMES = person_names()


def ids(photo: SamplePhoto) -> str:
    return photo.file_name


def ascii_fold(text: str) -> str:
    folded = text.casefold().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()


def exif_text(value: str) -> str:
    """EXIF ASCII as the samples write it (UTF-8, like many phones); Pillow reads it as Latin-1."""
    return value.encode("latin-1").decode("utf-8")


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("photos")
    assert make_photos(out) == list(PHOTOS)
    return out


def open_photo(photo_dir: Path, photo: SamplePhoto) -> ImageFile.ImageFile:
    return Image.open(photo_dir / photo.file_name)


def test_make_photos_writes_every_scenario_photo_and_nothing_else(photo_dir: Path) -> None:
    assert sorted(p.name for p in photo_dir.iterdir()) == sorted(p.file_name for p in PHOTOS)
    assert set(SHOTS) == {p.file_name for p in PHOTOS}


def test_make_photos_writes_eight_or_more_jpegs_and_a_png(photo_dir: Path) -> None:
    assert len(JPEGS) >= 8
    assert len(PNGS) == 1
    for photo in PHOTOS:
        with open_photo(photo_dir, photo) as image:
            image.load()
            width, height = ImageOps.exif_transpose(image).size
            assert min(width, height) >= 1200
            assert max(width, height) <= 2400


def test_the_same_photo_is_rendered_byte_for_byte_again(photo_dir: Path, tmp_path: Path) -> None:
    photo = PHOTOS[1]
    render_photo(photo, tmp_path, NAMES, seed=PHOTOS.index(photo) + 2041)
    assert (tmp_path / photo.file_name).read_bytes() == (photo_dir / photo.file_name).read_bytes()


def test_file_names_reveal_the_names_of_the_people_in_the_photo() -> None:
    for photo in PHOTOS:
        first_names = [ascii_fold(NAMES[ref].split()[0]) for ref in photo.identifiable]
        assert any(name in ascii_fold(photo.file_name) for name in first_names), photo.file_name
    assert any(not p.file_name.isascii() for p in PHOTOS)


@pytest.mark.parametrize("photo", PHOTOS, ids=ids)
def test_every_photo_has_gps_camera_serial_artist_and_date_in_exif(
    photo_dir: Path, photo: SamplePhoto
) -> None:
    with open_photo(photo_dir, photo) as image:
        exif = image.getexif()
        gps = exif.get_ifd(IFD.GPSInfo)
        sub = exif.get_ifd(IFD.Exif)
    assert exif[0x010F]  # Make
    assert exif[0x0110]  # Model
    assert exif_text(exif[0x013B]) == photo.photographer  # Artist
    assert sub[0xA431]  # BodySerialNumber
    assert sub[0xA430]  # CameraOwnerName
    assert sub[0x9003].startswith(("2025:", "2026:"))  # DateTimeOriginal
    assert (gps[1], gps[3]) == ("N", "E")
    latitude, longitude = (float(gps[key][0]) for key in (2, 4))
    assert 57 <= latitude <= 71  # somewhere in Norway
    assert 4 <= longitude <= 31


@pytest.mark.parametrize("photo", JPEGS, ids=ids)
def test_every_jpeg_has_a_decodable_thumbnail_in_ifd1(photo_dir: Path, photo: SamplePhoto) -> None:
    with open_photo(photo_dir, photo) as image:
        ifd1 = image.getexif().get_ifd(IFD.IFD1)
        tiff = image.info["exif"][6:]
    offset, length = ifd1[0x0201], ifd1[0x0202]
    with Image.open(io.BytesIO(tiff[offset : offset + length])) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) == 160


@pytest.mark.parametrize("photo", JPEGS, ids=ids)
def test_every_jpeg_names_its_people_in_xmp_with_mwg_face_regions(
    photo_dir: Path, photo: SamplePhoto
) -> None:
    with open_photo(photo_dir, photo) as image:
        xmp = image.info["xmp"].decode("utf-8")
    assert "Iptc4xmpExt:PersonInImage" in xmp
    assert xmp.count("<mwg-rs:Type>Face</mwg-rs:Type>") == len(photo.identifiable)
    for ref in photo.identifiable:
        assert f"<mwg-rs:Name>{NAMES[ref]}</mwg-rs:Name>" in xmp
    assert f"<rdf:li>{photo.photographer}</rdf:li>" in xmp


@pytest.mark.parametrize("photo", JPEGS, ids=ids)
def test_every_jpeg_has_an_iptc_caption_naming_a_person_in_full(
    photo_dir: Path, photo: SamplePhoto
) -> None:
    with open_photo(photo_dir, photo) as image:
        iptc = IptcImagePlugin.getiptcinfo(image)
    assert iptc is not None
    caption = iptc[(2, 120)]
    assert isinstance(caption, bytes)
    assert NAMES[photo.identifiable[0]] in caption.decode("utf-8")
    assert iptc[(2, 80)] == photo.photographer.encode("utf-8")  # By-line
    raw = (photo_dir / photo.file_name).read_bytes()
    assert re.search(rb"\xff\xed..Photoshop 3\.0\x008BIM\x04\x04", raw, re.DOTALL)  # APP13


@pytest.mark.parametrize("photo", JPEGS, ids=ids)
def test_every_jpeg_has_a_comment_segment_naming_people(
    photo_dir: Path, photo: SamplePhoto
) -> None:
    with open_photo(photo_dir, photo) as image:
        comment = image.info["comment"].decode("utf-8")
    assert NAMES[photo.identifiable[0]] in comment


def test_one_jpeg_is_stored_sideways_with_orientation_6(photo_dir: Path) -> None:
    sideways = [name for name, shot in SHOTS.items() if shot.orientation == 6]
    assert len(sideways) == 1
    with Image.open(photo_dir / sideways[0]) as image:
        assert image.getexif()[0x0112] == 6
        stored = image.size
        upright = ImageOps.exif_transpose(image).size
    assert stored[0] > stored[1]
    assert upright == (stored[1], stored[0])


def test_the_png_has_transparency_text_chunks_xmp_and_exif_gps(photo_dir: Path) -> None:
    (photo,) = PNGS
    raw = (photo_dir / photo.file_name).read_bytes()
    with open_photo(photo_dir, photo) as image:
        assert image.mode == "RGBA"
        assert image.getchannel("A").getextrema() == (0, 255)
        assert photo.photographer == image.info["Author"]
        assert NAMES[photo.identifiable[0]] in image.info["Description"]
        assert image.getexif().get_ifd(IFD.GPSInfo)[2]
    for chunk in (b"tEXt", b"iTXt", b"eXIf"):
        assert chunk in raw
    assert b"XML:com.adobe.xmp" in raw


def _chunks(raw: bytes) -> list[bytes]:
    found, pos = [], 8
    while pos < len(raw):
        (length,) = struct.unpack(">I", raw[pos : pos + 4])
        found.append(raw[pos + 4 : pos + 8])
        pos += 12 + length
    return found


def test_the_png_chunks_are_well_formed_up_to_iend(photo_dir: Path) -> None:
    (photo,) = PNGS
    chunks = _chunks((photo_dir / photo.file_name).read_bytes())
    assert chunks[0] == b"IHDR"
    assert chunks[-1] == b"IEND"


# --- the same, seen by exiftool when it is installed --------------------------------------------


@pytest.fixture(scope="module")
def exiftool_json(photo_dir: Path) -> dict[str, dict[str, Any]]:
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool is not installed")
    files = [str(photo_dir / p.file_name) for p in PHOTOS]
    out = subprocess.run([exiftool, "-j", "-a", "-G1", *files], capture_output=True, check=True)
    return {Path(entry["SourceFile"]).name: entry for entry in json.loads(out.stdout)}


def as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@pytest.mark.parametrize("photo", PHOTOS, ids=ids)
def test_exiftool_sees_gps_serial_artist_and_person_names(
    exiftool_json: dict[str, dict[str, Any]], photo: SamplePhoto
) -> None:
    tags = exiftool_json[photo.file_name]
    assert {"GPS:GPSLatitude", "GPS:GPSLongitude"} <= set(tags)
    assert tags["ExifIFD:SerialNumber"]
    assert tags["IFD0:Artist"] == photo.photographer
    expected = [NAMES[ref] for ref in photo.identifiable]
    assert as_list(tags["XMP-iptcExt:PersonInImage"]) == expected
    assert as_list(tags["XMP-mwg-rs:RegionName"]) == expected
    assert "Warning" not in tags


@pytest.mark.parametrize("photo", JPEGS, ids=ids)
def test_exiftool_sees_the_thumbnail_iptc_and_comment(
    exiftool_json: dict[str, dict[str, Any]], photo: SamplePhoto
) -> None:
    tags = exiftool_json[photo.file_name]
    assert str(tags["IFD1:ThumbnailImage"]).startswith("(Binary data")
    assert NAMES[photo.identifiable[0]] in tags["IPTC:Caption-Abstract"]
    assert tags["IPTC:By-line"] == photo.photographer
    assert NAMES[photo.identifiable[0]] in tags["File:Comment"]


def test_exiftool_sees_orientation_6_and_the_png_text_chunks(
    exiftool_json: dict[str, dict[str, Any]],
) -> None:
    orientations = {name: tags["IFD0:Orientation"] for name, tags in exiftool_json.items()}
    assert sorted(orientations.values()).count("Rotate 90 CW") == 1
    (png,) = PNGS
    tags = exiftool_json[png.file_name]
    assert tags["PNG:Author"] == png.photographer
    assert tags["PNG:Software"].startswith("GIMP")
