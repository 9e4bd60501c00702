"""Colour management for release copies: pixels with an embedded ICC profile are converted to
sRGB, so that the profile can be dropped without changing how the photo looks."""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageChops, ImageCms

_ICC_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)
_PROBE_LEVELS = range(0, 256, 15)  # 0, 15, ..., 255: an 18x18x18 cube of colours


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """`im` (L, RGB, RGBA or CMYK) in sRGB as L, RGB or RGBA.

    A profile that cannot be used (corrupt, or for another colour space than the pixels) is
    ignored, as most viewers do; the pixels are then taken to be sRGB already.
    """
    out_mode = "RGBA" if im.mode == "RGBA" else ("L" if im.mode == "L" else "RGB")
    if icc is not None:
        try:
            transform = _transform_to_srgb(icc, im.mode, "RGB" if out_mode == "L" else out_mode)
        except _ICC_ERRORS:
            transform = None
        if transform is not None:
            return transform.apply(im)
    return im if im.mode == out_mode else im.convert(out_mode)


@functools.lru_cache(maxsize=16)
def _transform_to_srgb(
    icc: bytes, in_mode: str, out_mode: str
) -> ImageCms.ImageCmsTransform | None:
    """The transform from `icc` to sRGB, or None when it changes no colour (an sRGB profile).

    Cached: a batch of photos usually comes from one camera with one profile.
    """
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    # NOCACHE: LittleCMS's one-pixel cache makes a shared transform unsafe across threads.
    transform = ImageCms.ImageCmsTransform(
        source, _srgb_profile(), in_mode, out_mode, flags=ImageCms.Flags.NOCACHE
    )
    if in_mode == out_mode and _is_identity(transform, in_mode):
        return None
    return transform


def _is_identity(transform: ImageCms.ImageCmsTransform, mode: str) -> bool:
    """Whether `transform` moves no channel of a probe of colours by more than one level."""
    probe = _colour_probe(mode)
    extrema = ImageChops.difference(transform.apply(probe), probe).getextrema()
    return all(isinstance(band, tuple) and band[1] <= 1 for band in extrema)


@functools.cache
def _colour_probe(mode: str) -> Image.Image:
    values = bytes(
        channel
        for r in _PROBE_LEVELS
        for g in _PROBE_LEVELS
        for b in _PROBE_LEVELS
        for channel in (r, g, b)
    )
    side = len(_PROBE_LEVELS)
    return Image.frombytes("RGB", (side * side, side), values).convert(mode)


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
