"""Dirty test images, one builder per allowed format, with canary-tagged metadata in every
container the format has; and an asymmetric picture stored under each EXIF orientation."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageDraw, PngImagePlugin

from tests.imaging.metadata import (
    CANARIES,
    canary_icc,
    encode,
    exif_block,
    iptc_app13,
    jpeg_with_segments,
    jumbf_app11,
    png_chunk,
    png_with_chunk,
    xmp_packet,
)

FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\0"

# The transpose that stores an upright picture so that orientation N displays it upright
# (the inverse of what a viewer applies for N).
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
QUADRANT_COLOURS = ((220, 30, 30), (30, 180, 30), (30, 30, 220), (230, 210, 40))


def asymmetric_picture(width: int = 240, height: int = 160) -> Image.Image:
    """Four differently coloured quadrants (red, green / blue, yellow): every one of the eight
    orientations gives a different picture."""
    im = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    half_w, half_h = width // 2, height // 2
    for index, colour in enumerate(QUADRANT_COLOURS):
        left, top = (index % 2) * half_w, (index // 2) * half_h
        draw.rectangle((left, top, left + half_w - 1, top + half_h - 1), fill=colour)
    return im


def photo_like(width: int = 640, height: int = 480) -> Image.Image:
    """Gradients and noise, so that encoders produce realistic, non-trivial data."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    return Image.blend(base, noise, 0.3)


def _thumbnail() -> bytes:
    """An EXIF thumbnail that shows something else than the photo (as after a crop)."""
    return encode(Image.new("RGB", (40, 30), (255, 0, 0)), "JPEG", quality=80)


def dirty_jpeg(im: Image.Image | None = None, orientation: int = 1) -> bytes:
    """EXIF (GPS, owner, serial, IFD1 thumbnail), XMP with face regions, IPTC in APP13, ICC,
    COM, APP11 (JUMBF-like), APP15, and a trailer (text plus a second JPEG) after EOI."""
    im = photo_like() if im is None else im
    exif = exif_block(orientation, thumbnail=_thumbnail())
    data = encode(
        im,
        "JPEG",
        quality=90,
        exif=exif,
        icc_profile=canary_icc(),
        comment=CANARIES["com"].encode(),
    )
    data = jpeg_with_segments(
        data,
        [
            (0xE1, XMP_APP1_HEADER + xmp_packet()),
            (0xED, iptc_app13()),
            (0xEB, jumbf_app11()),
            (0xEF, CANARIES["app15"].encode()),
        ],
    )
    return data + CANARIES["trailer"].encode() + _thumbnail()


def dirty_png(im: Image.Image | None = None, orientation: int = 1) -> bytes:
    """tEXt, zTXt, iTXt, XMP (iTXt), eXIf, iCCP, tIME, a private chunk and trailing bytes."""
    im = photo_like() if im is None else im
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARIES["png_text"])
    info.add_text("Comment", CANARIES["png_ztxt"], zip=True)
    info.add_itxt("Description", CANARIES["png_itxt"])
    info.add_itxt("XML:com.adobe.xmp", xmp_packet().decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 17, 10, 11, 12))
    data = encode(im, "PNG", pnginfo=info, exif=exif_block(orientation), icc_profile=canary_icc())
    data = png_with_chunk(data, png_chunk(b"prVt", CANARIES["png_private"].encode()))
    return data + CANARIES["trailer"].encode()


def dirty_webp(im: Image.Image | None = None, orientation: int = 1) -> bytes:
    """EXIF, XMP and ICCP chunks, plus an unknown chunk."""
    im = photo_like() if im is None else im
    data = bytearray(
        encode(
            im,
            "WEBP",
            quality=90,
            exif=exif_block(orientation),
            xmp=xmp_packet(),
            icc_profile=canary_icc(),
        )
    )
    payload = CANARIES["webp_unknown"].encode()
    payload += b"\0" * (len(payload) % 2)
    data += b"CNRY" + struct.pack("<I", len(payload)) + payload
    struct.pack_into("<I", data, 4, len(data) - 8)
    return bytes(data)


def dirty_heic(im: Image.Image | None = None, orientation: int = 1) -> bytes:
    """EXIF, XMP, ICC and a thumbnail item. pillow-heif turns the EXIF orientation into the
    container's irot/imir transforms, as phones do."""
    import pillow_heif

    im = photo_like() if im is None else im
    heif = pillow_heif.from_pillow(im)
    buffer = _BytesSink()
    heif.save(
        buffer,
        quality=85,
        exif=exif_block(orientation),
        xmp=xmp_packet(),
        icc_profile=canary_icc(),
        thumbnails=[96],
    )
    return buffer.getvalue()


class _BytesSink:
    """A write-only binary sink (pillow-heif writes to any object with .write)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


BUILDERS = {"JPEG": dirty_jpeg, "PNG": dirty_png, "WEBP": dirty_webp, "HEIF": dirty_heic}


def open_with_pillow(data: bytes) -> Image.Image:
    """Open any test file with Pillow, HEIF included (the gate registers pillow-heif itself)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return Image.open(io.BytesIO(data))


def stored_with_orientation(fmt: str, upright: Image.Image, orientation: int) -> bytes:
    """A dirty `fmt` file whose pixels are stored so that `orientation` displays `upright`."""
    transpose = STORE_FOR_ORIENTATION[orientation]
    stored = upright if transpose is None else upright.transpose(transpose)
    return BUILDERS[fmt](stored, orientation)
