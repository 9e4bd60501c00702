"""Synthetic camera photos for the benchmark: smooth gradients, translucent shapes and sensor-like
grain (so that a 12-megapixel JPEG at quality 92 is 2-5 MB, like a real one), with an EXIF block
holding camera fields, GPS and an embedded 160x120 JPEG thumbnail (IFD1).

Pillow cannot write IFD1, so the EXIF (TIFF) structure is built here with `struct`."""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

GRAIN_SIGMA = 6.0
"""Standard deviation of the per-channel grain: sets the JPEG size (about 3 MB at 12 MP)."""

THUMB_SIZE = (160, 120)

# TIFF field types and their sizes in bytes
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 1, 2, 3, 4, 5, 7
_TYPE_SIZES = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEFINED: 1}

Entry = tuple[int, int, bytes]  # tag, type, big-endian payload


def write_photo(path: Path, size: tuple[int, int], seed: int, *, quality: int = 92) -> int:
    """Write a photo-like JPEG with EXIF (camera fields, GPS, IFD1 thumbnail); return its size."""
    im = photo_pixels(size, seed)
    thumb = io.BytesIO()
    im.resize(THUMB_SIZE, Image.Resampling.BILINEAR).save(thumb, "JPEG", quality=75)
    exif = exif_block(seed, size, thumb.getvalue())
    im.save(path, "JPEG", quality=quality, subsampling="4:2:0", exif=exif)
    return path.stat().st_size


def photo_pixels(size: tuple[int, int], seed: int) -> Image.Image:
    """Gradients and soft translucent shapes drawn at 1/4 size and upscaled, plus grain."""
    rng = random.Random(seed)
    width, height = size
    channels = [
        Image.linear_gradient("L").rotate(rng.uniform(0, 360), fillcolor=rng.randrange(256))
        for _ in range(3)
    ]
    base = Image.blend(Image.merge("RGB", channels), Image.radial_gradient("L").convert("RGB"), 0.3)
    canvas = base.resize((width // 4, height // 4), Image.Resampling.BICUBIC)
    _draw_shapes(canvas, rng)
    canvas = canvas.filter(ImageFilter.GaussianBlur(2))
    im = canvas.resize(size, Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise(size, GRAIN_SIGMA) for _ in range(3)])
    return ImageChops.add(im, grain, 1.0, -128)


def _draw_shapes(canvas: Image.Image, rng: random.Random) -> None:
    draw = ImageDraw.Draw(canvas, "RGBA")
    width, height = canvas.size
    for _ in range(30):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (x0, y0, x0 + rng.randrange(20, width // 3), y0 + rng.randrange(20, height // 3))
        colour = (
            rng.randrange(256),
            rng.randrange(256),
            rng.randrange(256),
            rng.randrange(90, 200),
        )
        kind = rng.random()
        if kind < 0.4:
            draw.ellipse(box, fill=colour)
        elif kind < 0.7:
            draw.rectangle(box, fill=colour)
        else:
            points = [
                (rng.randrange(width), rng.randrange(height)) for _ in range(rng.randint(3, 6))
            ]
            draw.polygon(points, fill=colour)


def exif_block(seed: int, size: tuple[int, int], thumbnail: bytes) -> bytes:
    """The APP1 payload ("Exif\\0\\0" + big-endian TIFF): IFD0 -> ExifIFD, GPS; IFD1 thumbnail."""
    sizes = [len(_ifd(entries, 0, 0)) for entries in _ifds(seed, size, thumbnail, [0] * 5)]
    offsets = [8]
    for length in sizes:
        offsets.append(offsets[-1] + length)
    ifd0, exif, gps, ifd1 = _ifds(seed, size, thumbnail, offsets)
    tiff = b"MM\x00\x2a" + struct.pack(">L", 8)
    tiff += _ifd(ifd0, offsets[0], offsets[3]) + _ifd(exif, offsets[1], 0)
    tiff += _ifd(gps, offsets[2], 0) + _ifd(ifd1, offsets[3], 0) + thumbnail
    block = b"Exif\x00\x00" + tiff
    if len(block) > 65533:
        raise ValueError("EXIF block does not fit in one APP1 segment")
    return block


def _ifds(
    seed: int, size: tuple[int, int], thumbnail: bytes, offsets: list[int]
) -> list[list[Entry]]:
    """IFD0, ExifIFD, GPS and IFD1; `offsets` = where IFD0, Exif, GPS, IFD1, thumbnail start."""
    rng = random.Random(seed)
    taken = f"2026:09:{1 + seed % 28:02d} 10:{seed % 60:02d}:00"
    ifd0 = [
        _ascii(0x010F, "BenchCam"),
        _ascii(0x0110, "BC-12 Mark II"),
        _short(0x0112, 1),
        *_resolution(),
        _ascii(0x0131, "bench/photos.py"),
        _ascii(0x0132, taken),
        _ascii(0x013B, "Bench Photographer"),
        _ascii(0x8298, "(c) Bench Photographer"),
        _long(0x8769, offsets[1]),
        _long(0x8825, offsets[2]),
    ]
    exif = [
        (0x9000, _UNDEFINED, b"0232"),
        _ascii(0x9003, taken),
        _long(0xA002, size[0]),
        _long(0xA003, size[1]),
        _ascii(0xA430, "Bench Owner"),
        _ascii(0xA431, f"SN{seed:08d}"),
    ]
    gps = [
        (0x0000, _BYTE, bytes([2, 3, 0, 0])),
        _ascii(0x0001, "N"),
        _rational(0x0002, (59, 1), (54, 1), (rng.randrange(6000), 100)),
        _ascii(0x0003, "E"),
        _rational(0x0004, (10, 1), (45, 1), (rng.randrange(6000), 100)),
        (0x0005, _BYTE, bytes([0])),
        _rational(0x0006, (rng.randrange(2000, 9000), 100)),
    ]
    ifd1 = [
        _short(0x0103, 6),
        *_resolution(),
        _long(0x0201, offsets[4]),
        _long(0x0202, len(thumbnail)),
    ]
    return [ifd0, exif, gps, ifd1]


def _ifd(entries: list[Entry], start: int, next_ifd: int) -> bytes:
    """One IFD at TIFF offset `start`, followed by the values that do not fit in 4 bytes."""
    entries = sorted(entries)
    data_at = start + 2 + 12 * len(entries) + 4
    head, data = struct.pack(">H", len(entries)), b""
    for tag, kind, payload in entries:
        count = len(payload) // _TYPE_SIZES[kind]
        if len(payload) <= 4:
            value = payload.ljust(4, b"\x00")
        else:
            value = struct.pack(">L", data_at + len(data))
            data += payload + b"\x00" * (len(payload) % 2)  # values start on a word boundary
        head += struct.pack(">HHL", tag, kind, count) + value
    return head + struct.pack(">L", next_ifd) + data


def _ascii(tag: int, text: str) -> Entry:
    return tag, _ASCII, text.encode("ascii") + b"\x00"


def _short(tag: int, value: int) -> Entry:
    return tag, _SHORT, struct.pack(">H", value)


def _long(tag: int, value: int) -> Entry:
    return tag, _LONG, struct.pack(">L", value)


def _rational(tag: int, *values: tuple[int, int]) -> Entry:
    return tag, _RATIONAL, b"".join(struct.pack(">LL", n, d) for n, d in values)


def _resolution() -> list[Entry]:
    return [_rational(0x011A, (72, 1)), _rational(0x011B, (72, 1)), _short(0x0128, 2)]
