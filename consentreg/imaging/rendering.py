"""The release copy: decode (DCT-scaled for JPEG), normalise the colour mode, downscale, convert
to sRGB, orient, copy the pixels into a fresh image and re-encode it; then verify the bytes.

Nothing of the input but its pixels reaches the output: no EXIF, XMP, IPTC, ICC, comments, text
chunks, thumbnails, extra frames or trailing data (docs/rules.md R12, R13)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from consentreg.errors import ImageError
from consentreg.imaging.colour import to_srgb
from consentreg.imaging.decoding import decoder_guard, open_image, read_orientation
from consentreg.imaging.reading import read_input
from consentreg.imaging.verification import verify_clean

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})


@dataclass(frozen=True)
class Rendition:
    """A verified release copy: the encoded bytes and what they are."""

    data: bytes
    extension: str  # "jpg" | "png"
    width: int
    height: int
    sha256: str  # hex digest of data


def render_file(path: str, max_px: int) -> tuple[str, Rendition]:
    """Read an input once, hash it and render from those same bytes, so that the SHA-256 the
    gate decides on is that of the bytes rendered. A module-level function of plain arguments:
    a worker process (fork or spawn) receives only the path, never megabytes of photo."""
    data = read_input(Path(path))
    return hashlib.sha256(data).hexdigest(), render_release(data, max_px=max_px)


def render_release(data: bytes, *, max_px: int, quality: int = 85) -> Rendition:
    """Render the release copy of image `data`: long edge at most `max_px` (never upscaled),
    upright, sRGB, metadata-free; JPEG, or PNG when the image has real transparency.

    Raises ImageError (image_unsupported, image_too_large, image_invalid) for bad input, and
    image_invalid when the encoded output fails the byte-level self-check (nothing is returned).
    """
    if max_px < 1:
        raise ValueError("max_px must be at least 1")
    if not 1 <= quality <= 95:
        raise ValueError("quality must be between 1 and 95")
    with decoder_guard():
        pixels, icc, orientation = _decode(data, max_px)
        pixels = to_srgb(pixels, icc)
        if orientation in _TRANSPOSE:
            pixels = pixels.transpose(_TRANSPOSE[orientation])
        rendition = _encode(_fresh_copy(pixels), quality)
    verify_clean(rendition.data)
    return rendition


def fit_within(size: tuple[int, int], max_px: int) -> tuple[int, int]:
    """`size` scaled down so that its long edge is at most `max_px`; never scaled up."""
    width, height = size
    longest = max(width, height)
    if longest <= max_px:
        return size
    scale = max_px / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _decode(data: bytes, max_px: int) -> tuple[Image.Image, bytes | None, int]:
    """Decode the first frame or primary image, JPEG at the smallest DCT scale that still
    covers the target size, and downscale it. Returns new pixels in L, RGB, RGBA or CMYK, the
    ICC profile (if any) and the orientation."""
    with open_image(data) as (im, fmt):
        orientation = read_orientation(im, fmt)
        icc = im.info.get("icc_profile")
        target = fit_within(im.size, max_px)
        if fmt == "JPEG":
            im.draft("RGB", target)
        im.load()
        pixels = _downscale(_normalise_mode(im), target)
        if pixels is im:  # the decoded image dies with the file: keep a copy of the pixels
            pixels = im.copy()
    return pixels, (icc if isinstance(icc, bytes) and icc else None), orientation


def _normalise_mode(im: Image.Image) -> Image.Image:
    """A new image in L, RGB, RGBA (only with real transparency) or CMYK."""
    mode = im.mode
    if mode in _SIXTEEN_BIT_MODES:
        return im.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode in ("PA", "LA", "La", "RGBa") or "transparency" in im.info:
        im = im.convert("RGBA")
    elif mode == "1":
        return im.convert("L")
    elif mode not in ("L", "RGB", "RGBA", "CMYK"):
        return im.convert("RGB")
    if im.mode == "RGBA" and im.getchannel("A").getextrema()[0] == 255:
        return im.convert("RGB")  # an alpha channel that is opaque everywhere: no transparency
    return im


def _downscale(im: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Bicubic (antialiased: Pillow widens the kernel by the scale): after the DCT-scaled decode
    it differs from Lanczos by 51-55 dB PSNR on real photos, far below the JPEG encoding's own
    37-42 dB at Q85, at two thirds of Lanczos's cost, the largest share of a release's CPU time
    (tests/imaging/test_resampling.py, BENCHMARKS.md). Large reductions of other formats go
    through a box reduction first (`reducing_gap`)."""
    if im.size == target:
        return im
    return im.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)


def _fresh_copy(im: Image.Image) -> Image.Image:
    """The visible pixels alone, in a new image with empty .info: nothing else can be saved.

    With transparency, the colour is premultiplied by alpha and back: a fully transparent
    pixel becomes (0, 0, 0, 0), so nothing hidden under alpha (an unmasked face) survives.
    """
    if im.mode == "RGBA":
        im = im.convert("RGBa").convert("RGBA")
    fresh = Image.new(im.mode, im.size)
    fresh.paste(im)
    return fresh


def _encode(im: Image.Image, quality: int) -> Rendition:
    buffer = io.BytesIO()
    if im.mode == "RGBA":
        im.save(buffer, "PNG", optimize=False, compress_level=6, icc_profile=None)
        extension = "png"
    else:
        im.save(
            buffer,
            "JPEG",
            quality=quality,
            optimize=False,
            progressive=False,
            exif=b"",
            comment=b"",
            icc_profile=None,
        )
        extension = "jpg"
    data = buffer.getvalue()
    if not data:
        raise ImageError("release encoding produced no data", code="image_invalid")
    return Rendition(
        data=data,
        extension=extension,
        width=im.width,
        height=im.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
