"""Photos with real faces for the face tests: the public-domain `astronaut` of scikit-image's
data (read from the installed package as a file, without importing scikit-image), pasted into a
plain scene; and synthetic scenes without faces."""

from __future__ import annotations

import functools
import importlib.metadata
import io

from PIL import Image

# where the two heads are pasted into the 900x500 scene: a tag's region around each
LEFT_HEAD = (60, 120, 180, 200)
RIGHT_HEAD = (600, 150, 180, 200)


@functools.cache
def astronaut() -> Image.Image:
    for file in importlib.metadata.files("scikit-image") or ():
        if file.name == "astronaut.png" and file.parent.name == "data":
            with Image.open(file.locate()) as im:
                return im.convert("RGB")
    raise FileNotFoundError("scikit-image's astronaut.png (pip install scikit-image)")


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def two_faces(background: tuple[int, int, int] = (90, 110, 140)) -> bytes:
    """Two faces, one in each head region (the second mirrored); the background varies the
    bytes so that several such photos can be registered."""
    head = astronaut().crop((140, 30, 320, 230))
    scene = Image.new("RGB", (900, 500), background)
    scene.paste(head, LEFT_HEAD[:2])
    scene.paste(head.transpose(Image.Transpose.FLIP_LEFT_RIGHT), RIGHT_HEAD[:2])
    return _jpeg(scene)


def no_face(colour: tuple[int, int, int] = (30, 160, 60)) -> bytes:
    """A scene without anyone: sky, a field and a house."""
    scene = Image.new("RGB", (640, 480), (140, 180, 230))
    scene.paste(colour, (0, 300, 640, 480))
    scene.paste((180, 60, 40), (380, 200, 520, 320))
    return _jpeg(scene)


def region(box: tuple[int, int, int, int]) -> str:
    return ",".join(map(str, box))
