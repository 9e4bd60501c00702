"""R17, every face counts: which tag accounts for which detected face (docs/rules.md, "Faces").

Boxes are (x, y, w, h) in the upright photo's pixels. A tag with a region covers the detected
face that overlaps its region best, when at least half of the smaller of the two boxes lies
inside the other (a region around the whole person, or a small one drawn on the face) or the
two boxes' intersection over union is at least 0.3. Each tag covers one face at most and each
face is covered by one tag at most (the pairs with the highest IoU are matched first). A tag
without a region accounts for one face by count, as the DOMAIN decision says: the faces no
region covers must not outnumber those tags. A tag whose region covers no face accounts for
none: its region says where that person is (seen from behind, say), and it is not the face
found elsewhere, which may be a person nobody tagged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

Box = tuple[int, int, int, int]

MIN_INSIDE = 0.5  # at least half of the smaller box inside the other, or
MIN_IOU = 0.3  # the region and the face overlap as much as two boxes of one face


class FaceTag(NamedTuple):
    person_id: str
    region: Box | None  # in the upright photo's pixels


class Coverage(NamedTuple):
    """For each face (in order), the person whose tag's region covers it, or None; and how many
    of the faces no region covers the tags without a region account for (at most)."""

    covered_by: tuple[str | None, ...]
    by_count: int

    @property
    def uncovered(self) -> list[int]:
        """Indexes of the faces no region covers."""
        return [i for i, who in enumerate(self.covered_by) if who is None]

    @property
    def unaccounted(self) -> int:
        """How many faces no tag accounts for: refused when above zero."""
        return max(0, len(self.uncovered) - self.by_count)


def parse_region(text: str, width: int, height: int) -> Box | None:
    """A tag's region `X,Y,W,H` in pixels; when all four are at most 1, fractions of the frame.
    None for a region that cannot be read (tags written before regions were checked)."""
    try:
        x, y, w, h = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if max(x, y, w, h) <= 1.0:
        x, w = x * width, w * width
        y, h = y * height, h * height
    return round(x), round(y), round(w), round(h)


def intersection(a: Box, b: Box) -> int:
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, ix) * max(0, iy)


def _match(face: Box, region: Box) -> float:
    """How well a region covers a face (0: not at all): the IoU, when enough of the smaller box
    is inside the other or the IoU reaches MIN_IOU."""
    shared = intersection(face, region)
    if shared == 0:
        return 0.0
    face_area, region_area = face[2] * face[3], region[2] * region[3]
    iou = shared / (face_area + region_area - shared)
    if shared / min(face_area, region_area) >= MIN_INSIDE or iou >= MIN_IOU:
        return max(iou, 1e-9)
    return 0.0


def cover(faces: Sequence[Box], tags: Sequence[FaceTag]) -> Coverage:
    """Which tag accounts for which face (module docstring)."""
    pairs = sorted(
        (
            (-_match(face, tag.region), i, j)
            for i, face in enumerate(faces)
            for j, tag in enumerate(tags)
            if tag.region is not None
        ),
    )
    covered: list[str | None] = [None] * len(faces)
    used: set[int] = set()
    for negative, i, j in pairs:
        if negative == 0.0:
            break
        if covered[i] is None and j not in used:
            covered[i] = tags[j].person_id
            used.add(j)
    return Coverage(tuple(covered), sum(1 for tag in tags if tag.region is None))


def box_text(box: Box) -> str:
    """X,Y,W,H as `photo tag --region` takes it."""
    return ",".join(str(v) for v in box)
