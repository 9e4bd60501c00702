"""Faces (R17) as use cases: `photo detect` finds the faces of photos registered before face
detection (or without it) from their files, and `photo faces` writes a preview with the boxes
drawn so that a tagger can see who is missing.

The preview carries boxes, numbers and the covering tags' person ID prefixes (what
`photo tag --subject` takes), never names: it is a file that may travel further than the
register. It is written to a new file of mode 0600, never over an existing one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from consentreg.crypto import sha256_hex
from consentreg.db.models import Photo, PhotoSubject
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.files import new_output, write_new_private
from consentreg.i18n import msg
from consentreg.services import face_boxes
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.photos import (
    FaceView,
    PhotoInput,
    face_views,
    photo_by_id,
    photo_by_sha256,
)
from consentreg.services.unit_of_work import Context

PREFIX = 8  # characters of a person's ID in the preview (six or more are accepted as the ID)


@dataclass(frozen=True)
class Detected:
    """One file of `photo detect`: its photo and what was done."""

    name: str
    photo_id: str
    faces: int
    done: bool  # False: the photo's faces were already checked (nothing changed)


def detect_photos(ctx: Context, *, files: Sequence[PhotoInput]) -> list[Detected]:
    """Find and store the faces of registered photos that were never looked at, each given by
    its file (the register keeps no pixels). A file that is not a registered photo, or that
    cannot be read, is refused with its name and nothing is stored; FaceDetectorMissingError
    when face detection is not installed."""
    require(ctx, "photo.faces")
    from consentreg.imaging import faces as detection

    detector = detection.load_detector()
    photos = [_registered(ctx, item) for item in files]
    done = []
    for item, photo in zip(files, photos, strict=True):
        if photo.face_detector is not None:
            count = len(face_boxes.faces_of(photo) or [])
            done.append(Detected(item.name, photo.id, count, done=False))
            continue
        found = face_boxes.stored(detection.detect_faces(item.data, detector))
        photo.faces, photo.face_detector = found.faces, found.detector
        ctx.session.flush()
        audit_log.record(ctx, "photo.faces", {"photos": photo})
        done.append(Detected(item.name, photo.id, len(face_boxes.faces_of(photo) or []), True))
    return done


def _registered(ctx: Context, item: PhotoInput) -> Photo:
    if item.error is not None:
        raise item.error
    photo = photo_by_sha256(ctx, sha256_hex(item.data))
    if photo is None:
        raise NotFoundError(
            msg(
                "{item_name} is not a registered photo (photo add registers it)",
                item_name=item.name,
            )
        )
    return photo


@dataclass(frozen=True)
class Preview:
    photo_id: str
    path: Path
    faces: list[FaceView] | None
    drawn_on_photo: bool  # False: boxes on a blank frame (no file of the photo was given)


def write_preview(
    ctx: Context, *, photo: str | None = None, data: bytes | None = None, out: Path
) -> Preview:
    """Write a JPEG of the photo with its faces' boxes drawn and numbered, each labelled with the
    covering tag's person ID prefix ("?" when no region covers it) to `out`, a new file of mode
    0600. The register keeps no pixels: with the photo's file (`data`) the boxes are drawn on it,
    with an ID alone on a blank frame of the photo's size."""
    require(ctx, "read.register")
    target = new_output(out)
    if data is not None:
        found = photo_by_sha256(ctx, sha256_hex(data))
        if found is None:
            raise NotFoundError("that file is not a registered photo")
        row = found
    else:
        row = photo_by_id(ctx, photo or "")
    tags = list(ctx.session.scalars(select(PhotoSubject).where(PhotoSubject.photo_id == row.id)))
    faces, _ = face_views(row, tags)
    if faces is None:
        raise InvalidInputError(
            msg(
                "the faces of photo {row_id} were never checked: consentreg photo detect FILE",
                row_id=row.id,
            )
        )
    from consentreg.imaging import faces as detection

    boxes = [
        (f.box, f"{f.number}: {f.covered_by[:PREFIX] if f.covered_by else '?'}", bool(f.covered_by))
        for f in faces
    ]
    jpeg = detection.draw_preview(data, boxes, size=(row.width, row.height))
    write_new_private(target, jpeg, what="preview")
    return Preview(row.id, target, faces, data is not None)
