"""Deterministic mutation fuzzing: small valid files of each allowed format, damaged at
random (bytes flipped, cut, duplicated, inserted), never make the gate raise anything but
ImageError, and whatever it releases passes the byte-level self-check."""

from __future__ import annotations

import random

import pytest

from consentreg.errors import ImageError
from consentreg.imaging import Rendition, inspect_image, render_release, verify_clean
from tests.imaging.dirty import BUILDERS, FORMATS, photo_like

MUTATIONS_PER_FORMAT = 150
REASON_CODES = {"image_invalid", "image_unsupported", "image_too_large"}


def mutate(data: bytes, rng: random.Random) -> bytes:
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(damaged))
        action = rng.choice(("flip", "cut", "duplicate", "insert", "zero"))
        if action == "flip":
            damaged[position] ^= 1 << rng.randrange(8)
        elif action == "cut":
            del damaged[position:]
        elif action == "duplicate":
            damaged[position:position] = damaged[position : position + rng.randint(1, 64)]
        elif action == "insert":
            damaged[position:position] = rng.randbytes(rng.randint(1, 16))
        else:
            damaged[position : position + rng.randint(1, 32)] = b"\0" * 8
        if not damaged:
            break
    return bytes(damaged)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_damaged_file_is_released_clean_or_refused_with_a_reason_code(fmt: str) -> None:
    original = BUILDERS[fmt](photo_like(48, 32))
    rng = random.Random(f"consentreg-{fmt}")  # noqa: S311 - reproducible mutations, not secrets
    codes: set[str] = set()
    for _ in range(MUTATIONS_PER_FORMAT):
        damaged = mutate(original, rng)
        try:
            inspect_image(damaged)
            released: Rendition | None = render_release(damaged, max_px=32)
        except ImageError as exc:
            codes.add(exc.code)
            released = None
        if released is not None:
            verify_clean(released.data)
            assert max(released.width, released.height) <= 32
    assert codes <= REASON_CODES
    assert "image_invalid" in codes  # the mutations did reach the decoders
