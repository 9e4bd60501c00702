"""Generate the demo's sample photos: photo-like pixels under revealing file names, each carrying
the metadata a real camera, phone or photo editor leaves behind.

Every JPEG has EXIF (make, model, body and lens serial, artist, owner, dates, GPS of a place in
Agder), an EXIF thumbnail in IFD1, XMP with person names and MWG face regions, an APP13
Photoshop/IPTC block whose caption names a child in full, and a COM comment. One JPEG is stored
sideways with EXIF Orientation 6. The PNG is an editor export with transparent corners, tEXt and
iTXt (XMP) chunks and an eXIf chunk with GPS.

Pillow only (no exiftool), deterministic, about a second on two cores.
Usage: python -m consentreg_samples.make_photos OUT_DIR
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, PngImagePlugin

from .metadata import (
    Camera,
    Face,
    PhotoMeta,
    Place,
    exif_block,
    insert_segments,
    photoshop_irb,
    xmp_packet,
)
from .scenario import PHOTOS, SamplePhoto, person_names
from .scenes import render

_OSLO = ZoneInfo("Europe/Oslo")

CAMERAS = {
    "canon": Camera(
        make="Canon",
        model="Canon EOS 250D",
        body_serial="083021004512",
        lens_model="EF-S18-55mm f/4-5.6 IS STM",
        lens_serial="0000c41a27",
        owner="Solsikken barnehage",
        software="Firmware Version 1.1.0",
    ),
    "nikon": Camera(
        make="NIKON CORPORATION",
        model="NIKON Z 30",
        body_serial="6021457",
        lens_model="NIKKOR Z DX 16-50mm f/3.5-6.3 VR",
        lens_serial="20215584",
        owner="Anders Kråkenes",
        software="Ver.01.10",
    ),
    "samsung": Camera(
        make="samsung",
        model="SM-A546B",
        body_serial="R58W30XKJ2F",
        lens_model="Samsung Galaxy A54 5G rear camera",
        lens_serial="R58W30XKJ2F-L1",
        owner="Marit Lien",
        software="A546BXXS8CXK1",
    ),
}

PLACES = {
    "bhg": Place("Lillesand", 58.251218, 8.374306, 24.0),
    "skog": Place("Lillesand", 58.263017, 8.351205, 61.0),
    "skole": Place("Lillesand", 58.247093, 8.384171, 15.0),
    "hovden": Place("Valle", 59.556712, 7.353609, 790.0),
    "dyreparken": Place("Kristiansand", 58.184271, 8.142233, 40.0),
}


@dataclass(frozen=True)
class Shot:
    """How one sample photo is rendered: scene, displayed size, when, where, with what."""

    scene: str
    size: tuple[int, int]
    taken: tuple[int, int, int, int, int]
    place: str
    camera: str
    title: str
    event: str
    keywords: tuple[str, ...]
    orientation: int = 1


SHOTS: dict[str, Shot] = {
    "IMG_2041_Emma_Sæther_høstfest.jpg": Shot(
        "party",
        (1800, 1200),
        (2026, 10, 16, 16, 42),
        "bhg",
        "canon",
        "Høstfest",
        "på høstfesten i Solsikken barnehage",
        ("Solsikken barnehage", "høstfest"),
    ),
    "IMG_2057_Emma_Oliver_Filip_sandkassa.jpg": Shot(
        "sand",
        (1536, 2048),
        (2026, 9, 8, 10, 15),
        "bhg",
        "canon",
        "Sandslott",
        "bygger sandslott i sandkassa",
        ("Solsikken barnehage", "uteleik"),
        orientation=6,
    ),
    "IMG_2063_Sofie_Åsheim_forming.jpg": Shot(
        "indoor",
        (1600, 1200),
        (2026, 10, 1, 9, 30),
        "bhg",
        "canon",
        "Forming",
        "maler høstblader på formingsrommet",
        ("Solsikken barnehage", "forming"),
    ),
    "IMG_2070_Aksel_Løvås_skogstur.jpg": Shot(
        "forest",
        (2000, 1500),
        (2026, 9, 24, 11, 5),
        "skog",
        "canon",
        "Skogstur",
        "på skogstur med Blåklokka",
        ("Solsikken barnehage", "tur"),
    ),
    "IMG_2088_Nora_Odegard_gapahuk.jpg": Shot(
        "leanto",
        (1600, 1200),
        (2026, 10, 7, 12, 20),
        "skog",
        "canon",
        "Gapahuken",
        "spiser matpakka i gapahuken",
        ("Solsikken barnehage", "tur"),
    ),
    "IMG_2102_Filip_Strømme_lek.jpg": Shot(
        "play",
        (1600, 1200),
        (2026, 11, 12, 10, 48),
        "bhg",
        "canon",
        "Lek ute",
        "klatrer i klatrestativet",
        ("Solsikken barnehage", "uteleik"),
    ),
    "20261106_130512_Tone_Fjærli_og_Anders_Kråkenes.jpg": Shot(
        "indoor",
        (2400, 1800),
        (2026, 11, 6, 13, 5),
        "skole",
        "samsung",
        "Planleggingsdag",
        "på planleggingsdagen for oppvekst",
        ("Fjordvik kommune", "personal"),
    ),
    "DSC_0419_Jonas_Kvåle_Maja_Dæhli_Hovden.jpg": Shot(
        "mountain",
        (2400, 1600),
        (2026, 9, 17, 11, 40),
        "hovden",
        "nikon",
        "Friluftsdag",
        "på friluftsdag på Hovden med 9B",
        ("Lyngtoppen skole", "9B", "friluftsdag"),
    ),
    "DSC_0433_Vilde_Nygård_Thea_Ørnes_fotball.jpg": Shot(
        "field",
        (2400, 1600),
        (2026, 10, 20, 14, 10),
        "skole",
        "nikon",
        "Fotballturnering",
        "i fotballturneringen for 9. trinn",
        ("Lyngtoppen skole", "9B", "fotball"),
    ),
    "DSC_0440_Jonas_Kvale_premie.jpg": Shot(
        "indoor",
        (2000, 1333),
        (2026, 11, 9, 12, 0),
        "skole",
        "nikon",
        "Skrivekonkurransen",
        "vant skrivekonkurransen",
        ("Lyngtoppen skole", "9B", "premie"),
    ),
    "Henrik_Brøndbo_klassetur_Dyreparken.png": Shot(
        "park",
        (1600, 1200),
        (2025, 6, 5, 11, 30),
        "dyreparken",
        "samsung",
        "Klassetur 2025",
        "på klassetur til Dyreparken",
        ("Lyngtoppen skole", "klassetur"),
    ),
}


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]


def _meta(photo: SamplePhoto, shot: Shot, faces: list[Face], stored: tuple[int, int]) -> PhotoMeta:
    persons = tuple(face.name for face in faces)
    return PhotoMeta(
        camera=CAMERAS[shot.camera],
        place=PLACES[shot.place],
        taken=datetime(*shot.taken, tzinfo=_OSLO),
        artist=photo.photographer,
        title=shot.title,
        caption=f"{_join(list(persons))} {shot.event}",
        keywords=(*shot.keywords, *persons),
        persons=persons,
        faces=tuple(faces),
        orientation=shot.orientation,
        stored_size=stored,
        display_size=shot.size,
    )


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((160, 160))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def _save_jpeg(image: Image.Image, meta: PhotoMeta, path: Path) -> None:
    buffer = io.BytesIO()
    comment = f"{meta.camera.owner}: {meta.caption}".encode()
    image.save(
        buffer,
        "JPEG",
        quality=88,
        exif=exif_block(meta, _thumbnail(image)),
        xmp=xmp_packet(meta),
        comment=comment,
    )
    path.write_bytes(insert_segments(buffer.getvalue(), [(0xED, photoshop_irb(meta))]))


def _save_png(image: Image.Image, meta: PhotoMeta, path: Path) -> None:
    mask = Image.new("L", image.size, 0)
    radius = min(image.size) // 10
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *image.size), radius=radius, fill=255)
    rgba = image.convert("RGBA")
    rgba.putalpha(mask)
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", meta.title)
    info.add_itxt("Author", meta.artist)
    info.add_itxt("Description", meta.caption)
    info.add_text("Software", "GIMP 2.10.38")
    info.add_text("Creation Time", format_datetime(meta.taken))
    info.add_itxt("XML:com.adobe.xmp", xmp_packet(meta).decode("utf-8"))
    rgba.save(path, "PNG", pnginfo=info, exif=exif_block(meta))


def render_photo(photo: SamplePhoto, out_dir: Path, names: dict[str, str], seed: int) -> Path:
    """Render one sample photo into `out_dir`; returns its path."""
    shot = SHOTS[photo.file_name]
    facing = (True,) * len(photo.identifiable) + (False,) * len(photo.not_identifiable)
    display, boxes = render(shot.scene, shot.size, facing, seed)
    faces = [Face(names[ref], box) for ref, box in zip(photo.identifiable, boxes, strict=True)]
    # Orientation 6 = "rotate 90 CW to display": store the picture turned 90 degrees CCW.
    stored = display.transpose(Image.Transpose.ROTATE_90) if shot.orientation == 6 else display
    meta = _meta(photo, shot, faces, stored.size)
    path = out_dir / photo.file_name
    if path.suffix == ".png":
        _save_png(stored, meta, path)
    else:
        _save_jpeg(stored, meta, path)
    return path


def make_photos(out_dir: Path) -> list[SamplePhoto]:
    """Write every sample photo into `out_dir` (created if missing) and return their specs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = person_names()
    for seed, photo in enumerate(PHOTOS, start=2041):
        render_photo(photo, out_dir, names, seed)
    return list(PHOTOS)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m consentreg_samples.make_photos OUT_DIR\n")
        return 2
    for photo in make_photos(Path(args[0])):
        sys.stdout.write(f"{photo.file_name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
