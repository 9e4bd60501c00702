"""The faces stored with a photo (R17): found once from its bytes, kept as boxes in the photo row
(canonical JSON `[[x, y, w, h, score/1000], ...]`, no landmarks, no templates), read back for
the gate and the views. The detector is loaded on first use: a process that never registers a
photo never imports it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from consentreg.db.models import Photo, PhotoSubject
from consentreg.domain.audit_chain import canonical_json
from consentreg.domain.faces import Box, FaceTag, parse_region
from consentreg.errors import FaceDetectorMissingError

if TYPE_CHECKING:
    from consentreg.imaging.faces import FaceScan


class StoredFaces(NamedTuple):
    faces: str  # canonical JSON
    detector: str


class Face(NamedTuple):
    box: Box
    score: float  # 0-1


def scan(data: bytes) -> FaceScan | None:
    """The faces in a photo's bytes; None when face detection is not installed (the photo then
    stays unchecked and the gate refuses it)."""
    from consentreg.imaging import faces as detection

    try:
        detector = detection.load_detector()
    except FaceDetectorMissingError:
        return None
    return detection.detect_faces(data, detector)


def stored(found: FaceScan) -> StoredFaces:
    rows = [[f.x, f.y, f.w, f.h, round(f.score * 1000)] for f in found.faces]
    return StoredFaces(canonical_json(rows), found.detector)


def faces_of(photo: Photo) -> list[Face] | None:
    """The faces stored with a photo; None when it was never looked at."""
    if photo.face_detector is None or photo.faces is None:
        return None
    return [Face((x, y, w, h), score / 1000) for x, y, w, h, score in json.loads(photo.faces)]


def face_boxes(photo: Photo) -> tuple[Box, ...] | None:
    found = faces_of(photo)
    return None if found is None else tuple(f.box for f in found)


def face_tags(photo: Photo, tags: Sequence[PhotoSubject]) -> tuple[FaceTag, ...]:
    """Every tag, identifiable or not, with its region in the photo's pixels."""
    return tuple(
        FaceTag(
            t.person_id,
            parse_region(t.region, photo.width, photo.height) if t.region else None,
        )
        for t in tags
    )
