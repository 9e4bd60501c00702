"""The pixel gate: read an input safely, validate it, and render a metadata-free, downscaled,
upright release copy whose bytes are checked against an allow-list.

Knows nothing of consent or the database. Every failure is an ImageError with a reason code:
image_invalid, image_unsupported or image_too_large."""

from consentreg.imaging.decoding import ImageInfo, inspect_image
from consentreg.imaging.limits import MAX_INPUT_BYTES, MAX_PIXELS, MAX_SIDE
from consentreg.imaging.reading import read_input
from consentreg.imaging.rendering import Rendition, render_release
from consentreg.imaging.verification import verify_clean

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "ImageInfo",
    "Rendition",
    "inspect_image",
    "read_input",
    "render_release",
    "verify_clean",
]
