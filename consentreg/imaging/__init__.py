"""The pixel gate: read an input safely, validate it, and render a metadata-free, downscaled,
upright release copy whose bytes are checked against an allow-list.

Knows nothing of consent or the database. Every failure is an ImageError with a reason code:
image_invalid, image_unsupported or image_too_large.

Names are loaded on first use (PEP 562): reading and hashing inputs does not import Pillow, so a
publishing process whose workers do the pixel work never loads the decoders itself."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentreg.imaging.decoding import ImageInfo, inspect_image
    from consentreg.imaging.limits import MAX_INPUT_BYTES, MAX_PIXELS, MAX_SIDE
    from consentreg.imaging.reading import read_input
    from consentreg.imaging.rendering import Rendition, render_file, render_release
    from consentreg.imaging.verification import verify_clean

_WHERE = {
    "ImageInfo": "decoding",
    "inspect_image": "decoding",
    "MAX_INPUT_BYTES": "limits",
    "MAX_PIXELS": "limits",
    "MAX_SIDE": "limits",
    "read_input": "reading",
    "Rendition": "rendering",
    "render_file": "rendering",
    "render_release": "rendering",
    "verify_clean": "verification",
}

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "ImageInfo",
    "Rendition",
    "inspect_image",
    "read_input",
    "render_file",
    "render_release",
    "verify_clean",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'consentreg.imaging' has no attribute {name!r}")
    return getattr(importlib.import_module(f"consentreg.imaging.{_WHERE[name]}"), name)
