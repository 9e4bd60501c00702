"""Opening untrusted image bytes: magic-byte sniffing against an allow-list of formats, limits
checked from the header before any pixel is decoded, and every decoder failure turned into an
ImageError with a reason code. Nothing here changes Pillow's global settings."""

from __future__ import annotations

import functools
import io
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageCms

from consentreg.errors import ImageError
from consentreg.i18n import msg
from consentreg.imaging.jpeg_structure import check_jpeg_structure
from consentreg.imaging.limits import MAX_INPUT_BYTES, check_dimensions
from consentreg.imaging.verification import png_chunks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# HEVC-coded HEIF brands, as pillow-heif accepts them (AVIF has its own brands: not allowed).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_ORIENTATION_TAG = 0x0112

# What Pillow and pillow-heif raise on corrupt, truncated or hostile input.
_DECODER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    TypeError,
    LookupError,
    EOFError,
    struct.error,
    ArithmeticError,
    RuntimeError,
    ImageCms.PyCMSError,
)
_TOO_LARGE_ERRORS: tuple[type[BaseException], ...] = (
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    MemoryError,
)


@dataclass(frozen=True)
class ImageInfo:
    """What registering a photo needs to know: format and size as displayed (after orientation)."""

    format: str  # "JPEG" | "PNG" | "WEBP" | "HEIF"
    width: int
    height: int


def sniff_format(data: bytes) -> str:
    """Name the allowed format of `data` from its magic bytes, or refuse it (image_unsupported)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    found = name_other_format(data)
    if found is None:
        what = "image format is not supported"
    elif found.endswith("video"):
        what = f"video is not supported ({found})"
    else:
        what = f"{found} is not supported"
    raise ImageError(
        msg("{what} (only JPEG, PNG, WebP and HEIC/HEIF images)", what=what),
        code="image_unsupported",
    )


# ISO base media (MP4 family) brands: what the file is, by its major brand.
_ISO_BRANDS = {
    b"qt  ": "QuickTime (MOV) video",
    b"avif": "AVIF image",
    b"avis": "AVIF image sequence",
    b"crx ": "Canon CR3 raw image",
    b"jp2 ": "JPEG 2000 image",
}
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def name_other_format(data: bytes) -> str | None:
    """The name of a format the gate refuses, from its content (not its file name), so that
    the refusal can say what the file is: a video above all. None when unknown."""
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _ISO_BRANDS:
            return _ISO_BRANDS[brand]
        return "3GP video" if brand.startswith(b"3g") else "MP4 video"
    if data[4:8] in _QUICKTIME_ATOMS:
        return "QuickTime (MOV) video"
    if data[:4] == b"RIFF":
        return {b"AVI ": "AVI video", b"WAVE": "WAV audio"}.get(data[8:12], "RIFF file")
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) > 376 and data[0] == data[188] == data[376] == 0x47:
        return "MPEG transport stream video"
    return None


_MAGIC = (
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM video"),
    (b"\x00\x00\x01\xba", "MPEG video"),
    (b"\x00\x00\x01\xb3", "MPEG video"),
    (b"FLV\x01", "Flash video"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "Windows Media (ASF) video"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"BM", "BMP image"),
    (b"%PDF", "PDF document"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "JPEG 2000 image"),
)


@contextmanager
def decoder_guard() -> Iterator[None]:
    """Run decoder code with DecompressionBombWarning as an error and other decoder warnings
    (about metadata the gate discards anyway) silenced; map every decoder failure to ImageError.
    The warning filters are restored on exit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except ImageError:
            raise
        except _TOO_LARGE_ERRORS as exc:
            raise ImageError("image is too large to decode safely", code="image_too_large") from exc
        except _DECODER_ERRORS as exc:
            raise ImageError("image data is corrupt or truncated", code="image_invalid") from exc


@contextmanager
def open_image(data: bytes) -> Iterator[tuple[Image.Image, str]]:
    """Open `data` lazily with only the plugin its magic bytes name; check the header limits.

    Yields the image (pixels not yet decoded) and its format name. Use inside decoder_guard().
    """
    if len(data) > MAX_INPUT_BYTES:
        raise ImageError("image data is larger than the input limit", code="image_too_large")
    fmt = sniff_format(data)
    if fmt == "PNG":
        # Pillow skips the CRCs of image data chunks; libpng (browsers) refuses bad ones.
        for _chunk in png_chunks(data, problem="image data is corrupt"):
            pass
    elif fmt == "JPEG":
        check_jpeg_structure(data)  # damage libjpeg would only warn about, filling in grey
    elif fmt == "HEIF":
        _register_heif()
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        check_dimensions(*im.size)
        yield im, fmt


def inspect_image(data: bytes) -> ImageInfo:
    """Validate `data` by decoding all of its image data; return its format and displayed size.

    Raises ImageError: image_unsupported (not JPEG/PNG/WebP/HEIF), image_too_large (over the
    limits), image_invalid (corrupt or truncated).
    """
    with decoder_guard(), open_image(data) as (im, fmt):
        orientation = read_orientation(im, fmt)
        width, height = im.size
        if fmt == "JPEG":
            # Every byte of the entropy-coded data is still decoded (so truncation and broken
            # Huffman data are found), but the inverse DCT runs at 1/8 scale: a 50-megapixel
            # photo is checked in a few MB instead of 150 MB of pixels.
            im.draft(None, (1, 1))
        im.load()
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(format=fmt, width=width, height=height)


def read_orientation(im: Image.Image, fmt: str) -> int:
    """The EXIF (or XMP) orientation 1-8; 1 when absent, invalid or unreadable.

    HEIF is always 1: libheif applies the container's irot/imir transforms while decoding,
    and those, not the informative EXIF tag, are what HEIF viewers follow.
    """
    if fmt == "HEIF":
        return 1
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODER_ERRORS:  # a corrupt EXIF block: viewers that cannot read it show it as is
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


@functools.cache
def _register_heif() -> None:
    """Register pillow-heif's opener on first use of a HEIF input (importing it costs ~50 ms)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
