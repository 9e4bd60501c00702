"""Photo-like pixels with Pillow only: a scene drawn at quarter size (sky or wall, ground, a few
props, one figure per person) and scaled up, so edges are soft, then fine grain on top.

Deterministic: every random choice comes from `random.Random(seed)`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]
_SCALE = 4


@dataclass(frozen=True)
class Backdrop:
    top: RGB
    horizon: RGB
    ground: RGB
    horizon_at: float  # fraction of the height


BACKDROPS: dict[str, Backdrop] = {
    "party": Backdrop((232, 150, 96), (250, 205, 160), (64, 98, 52), 0.55),
    "sand": Backdrop((118, 170, 228), (200, 224, 244), (214, 190, 140), 0.45),
    "indoor": Backdrop((236, 226, 204), (226, 214, 188), (150, 108, 72), 0.62),
    "forest": Backdrop((172, 196, 214), (210, 222, 226), (96, 78, 52), 0.5),
    "leanto": Backdrop((180, 200, 216), (214, 224, 228), (104, 86, 58), 0.5),
    "play": Backdrop((128, 178, 232), (206, 228, 246), (88, 140, 64), 0.5),
    "mountain": Backdrop((70, 130, 210), (190, 214, 236), (132, 112, 86), 0.58),
    "field": Backdrop((150, 186, 226), (214, 228, 240), (70, 134, 58), 0.42),
    "park": Backdrop((136, 184, 230), (220, 232, 240), (104, 150, 70), 0.5),
}


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size)
    bands = [
        ramp.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
        for a, b in zip(top, bottom, strict=True)
    ]
    return Image.merge("RGB", bands)


def _jitter(rng: random.Random, color: RGB, spread: int = 18) -> RGB:
    r, g, b = (max(0, min(255, c + rng.randint(-spread, spread))) for c in color)
    return (r, g, b)


def _shade(color: RGB, factor: float) -> RGB:
    r, g, b = (int(c * factor) for c in color)
    return (r, g, b)


def _vignette(image: Image.Image) -> Image.Image:
    """Darken the corners a little, as a lens does."""
    mask = Image.radial_gradient("L").resize(image.size).point(lambda v: max(0, v - 120) // 2)
    return Image.composite(Image.new("RGB", image.size, (20, 20, 24)), image, mask)


def _trees(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, ground: int, n: int) -> None:
    for _ in range(n):
        x, size = rng.uniform(0, w), rng.uniform(0.06, 0.14) * w
        trunk = size * 0.12
        draw.rectangle((x - trunk, ground - size * 0.6, x + trunk, ground + 2), fill=(84, 60, 40))
        crown = (x - size / 2, ground - size * 1.5, x + size / 2, ground - size * 0.4)
        draw.ellipse(crown, fill=_jitter(rng, (46, 96, 48)))


def _props_party(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    _trees(draw, rng, w, int(h * 0.55), 4)
    for i in range(12):
        x = w * (0.05 + 0.08 * i)
        draw.ellipse((x, h * 0.2, x + w * 0.02, h * 0.23), fill=_jitter(rng, (250, 220, 90), 30))


def _props_sand(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    draw.rectangle((w * 0.05, h * 0.6, w * 0.95, h * 0.95), outline=(120, 84, 50), width=4)
    draw.ellipse((w * 0.7, h * 0.08, w * 0.8, h * 0.2), fill=(255, 244, 200))
    draw.polygon(
        [(w * 0.2, h * 0.8), (w * 0.26, h * 0.7), (w * 0.32, h * 0.8)], fill=(200, 170, 120)
    )
    draw.rectangle((w * 0.8, h * 0.75, w * 0.84, h * 0.82), fill=_jitter(rng, (220, 60, 60)))


def _props_indoor(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    draw.rectangle((w * 0.62, h * 0.1, w * 0.92, h * 0.45), fill=(196, 222, 240), outline="white")
    draw.line((w * 0.77, h * 0.1, w * 0.77, h * 0.45), fill="white", width=3)
    for i in range(5):
        x = w * (0.06 + 0.1 * i)
        draw.rectangle((x, h * 0.12, x + w * 0.07, h * 0.3), fill=_jitter(rng, (200, 150, 90), 60))
    draw.rectangle((w * 0.1, h * 0.72, w * 0.9, h * 0.78), fill=(178, 132, 88))


def _props_forest(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    _trees(draw, rng, w, int(h * 0.5), 14)
    for _ in range(6):
        x, y = rng.uniform(0, w), rng.uniform(h * 0.6, h)
        draw.ellipse((x, y, x + w * 0.06, y + h * 0.03), fill=_jitter(rng, (120, 118, 110)))


def _props_leanto(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    _trees(draw, rng, w, int(h * 0.5), 10)
    roof = [(w * 0.55, h * 0.52), (w * 0.75, h * 0.2), (w * 0.98, h * 0.52)]
    draw.polygon(roof, fill=(110, 82, 56))
    draw.ellipse((w * 0.3, h * 0.8, w * 0.42, h * 0.86), fill=(90, 86, 80))


def _props_play(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    _trees(draw, rng, w, int(h * 0.5), 3)
    for x in (0.6, 0.9):
        draw.line((w * x, h * 0.25, w * (x - 0.05), h * 0.62), fill=(200, 60, 40), width=5)
        draw.line((w * x, h * 0.25, w * (x + 0.05), h * 0.62), fill=(200, 60, 40), width=5)
    draw.line((w * 0.6, h * 0.25, w * 0.9, h * 0.25), fill=(200, 60, 40), width=6)


def _props_mountain(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    for i in range(4):
        x, peak = w * (-0.1 + 0.32 * i), h * rng.uniform(0.18, 0.3)
        draw.polygon(
            [(x, h * 0.6), (x + w * 0.22, peak), (x + w * 0.46, h * 0.6)], fill=(112, 116, 128)
        )
        cap = [
            (x + w * 0.16, peak + h * 0.07),
            (x + w * 0.22, peak),
            (x + w * 0.28, peak + h * 0.07),
        ]
        draw.polygon(cap, fill=(244, 246, 250))


def _props_field(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    draw.rectangle((w * 0.3, h * 0.3, w * 0.7, h * 0.44), outline="white", width=5)
    draw.line((0, h * 0.8, w, h * 0.7), fill=(230, 240, 230), width=3)
    draw.ellipse((w * 0.8, h * 0.85, w * 0.84, h * 0.9), fill=(250, 250, 250))
    _trees(draw, rng, w, int(h * 0.42), 3)


def _props_park(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    _trees(draw, rng, w, int(h * 0.5), 6)
    for i in range(10):
        x = w * 0.1 * i
        draw.rectangle((x, h * 0.55, x + w * 0.01, h * 0.66), fill=(150, 120, 90))
    draw.line((0, h * 0.58, w, h * 0.58), fill=(150, 120, 90), width=3)
    draw.ellipse((w * 0.72, h * 0.62, w * 0.86, h * 0.7), fill=(140, 110, 80))


PROPS: dict[str, Callable[[ImageDraw.ImageDraw, random.Random, int, int], None]] = {
    "party": _props_party,
    "sand": _props_sand,
    "indoor": _props_indoor,
    "forest": _props_forest,
    "leanto": _props_leanto,
    "play": _props_play,
    "mountain": _props_mountain,
    "field": _props_field,
    "park": _props_park,
}

_SKIN = ((240, 200, 170), (222, 176, 140), (196, 146, 110), (150, 104, 74))
_HAIR = ((60, 40, 26), (214, 178, 110), (120, 70, 40), (30, 26, 24), (176, 120, 70))


def _figure(
    draw: ImageDraw.ImageDraw, rng: random.Random, centre: tuple[float, float], height: float
) -> Box:
    """A person facing the camera; returns the head box in pixels (left, top, right, bottom)."""
    x, feet = centre
    head = height * 0.2
    top = feet - height
    body = (x - height * 0.17, top + head * 0.9, x + height * 0.17, feet)
    draw.rounded_rectangle(body, radius=height * 0.08, fill=_jitter(rng, (60, 90, 170), 90))
    box = (x - head / 2, top, x + head / 2, top + head * 1.15)
    draw.ellipse(box, fill=rng.choice(_SKIN))
    hair = rng.choice(_HAIR)
    draw.chord((box[0], box[1] - head * 0.08, box[2], box[3] - head * 0.4), 180, 360, fill=hair)
    eye_y = top + head * 0.5
    for dx in (-0.18, 0.18):
        ex = x + dx * head
        draw.ellipse((ex - 1.5, eye_y - 1.5, ex + 1.5, eye_y + 1.5), fill=(30, 30, 30))
    return box


def _back(
    draw: ImageDraw.ImageDraw, rng: random.Random, centre: tuple[float, float], height: float
) -> None:
    """A person seen from behind: no face."""
    x, feet = centre
    head = height * 0.2
    top = feet - height
    body = (x - height * 0.17, top + head * 0.9, x + height * 0.17, feet)
    draw.rounded_rectangle(body, radius=height * 0.08, fill=_jitter(rng, (170, 70, 90), 60))
    draw.ellipse((x - head / 2, top, x + head / 2, top + head * 1.15), fill=rng.choice(_HAIR))


def render(
    scene: str, size: tuple[int, int], people: tuple[bool, ...], seed: int
) -> tuple[Image.Image, list[Box]]:
    """Render `scene` at `size`, one figure per entry of `people` (True: facing the camera).

    Returns the RGB image and, for each facing figure, its normalized head box
    (centre x, centre y, width, height).
    """
    rng = random.Random(seed)
    w, h = size[0] // _SCALE, size[1] // _SCALE
    backdrop = BACKDROPS[scene]
    horizon = int(h * backdrop.horizon_at)
    image = _gradient((w, horizon), backdrop.top, backdrop.horizon)
    canvas = Image.new("RGB", (w, h), backdrop.ground)
    canvas.paste(image, (0, 0))
    near = _jitter(rng, _shade(backdrop.ground, 0.78), 8)
    canvas.paste(_gradient((w, h - horizon), backdrop.ground, near), (0, horizon))
    draw = ImageDraw.Draw(canvas)
    PROPS[scene](draw, rng, w, h)
    faces = _draw_people(draw, rng, people, (w, h))
    canvas = _vignette(canvas).resize(size, Image.Resampling.BICUBIC)
    return _grain(canvas, rng), faces


def _draw_people(
    draw: ImageDraw.ImageDraw, rng: random.Random, people: tuple[bool, ...], size: tuple[int, int]
) -> list[Box]:
    w, h = size
    faces: list[Box] = []
    slot = w / (len(people) + 1)
    tallest = min(h, w)
    for i, facing in enumerate(people):
        centre = (slot * (i + 1) + rng.uniform(-0.2, 0.2) * slot, h * rng.uniform(0.86, 0.95))
        height = tallest * rng.uniform(0.42, 0.55)
        if not facing:
            _back(draw, rng, centre, height)
            continue
        left, top, right, bottom = _figure(draw, rng, centre, height)
        faces.append(
            ((left + right) / 2 / w, (top + bottom) / 2 / h, (right - left) / w, (bottom - top) / h)
        )
    return faces


def _grain(image: Image.Image, rng: random.Random) -> Image.Image:
    noise = Image.frombytes("L", image.size, rng.randbytes(image.width * image.height))
    return Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.05)
