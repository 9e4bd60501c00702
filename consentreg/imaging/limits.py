"""The size limits of the image gate: what is refused before a pixel is decoded."""

from __future__ import annotations

from consentreg.errors import ImageError
from consentreg.i18n import msg

MAX_INPUT_BYTES = 60 * 1024 * 1024
"""Largest input file read at all (a 50-megapixel camera JPEG is 15-30 MB)."""

MAX_PIXELS = 60_000_000
"""Largest decoded image (width x height); a 50-megapixel photo passes."""

MAX_SIDE = 20_000
"""Longest allowed side in pixels, whatever the pixel count."""


def check_dimensions(width: int, height: int) -> None:
    """Refuse empty images and images over MAX_PIXELS or MAX_SIDE, from the header alone."""
    if width < 1 or height < 1:
        raise ImageError("image has no pixels", code="image_invalid")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageError(
            msg("image side exceeds {MAX_SIDE} pixels", MAX_SIDE=MAX_SIDE), code="image_too_large"
        )
    if width * height > MAX_PIXELS:
        raise ImageError(
            msg("image exceeds {MAX_PIXELS} pixels", MAX_PIXELS=MAX_PIXELS), code="image_too_large"
        )
