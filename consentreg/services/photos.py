"""The photo register: photos are known by the SHA-256 of their bytes; the original is not kept
and its file name and photographer are stored encrypted. Tags say who is in a photo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from consentreg import imaging
from consentreg.crypto import sha256_hex
from consentreg.db.models import Photo, PhotoSubject, Unit
from consentreg.domain import text
from consentreg.domain.faces import cover
from consentreg.errors import (
    ConsentRegError,
    ImageError,
    InvalidInputError,
    NotFoundError,
    PhotoFilesUnusableError,
)
from consentreg.i18n import msg
from consentreg.services import face_boxes
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.lookup import by_id
from consentreg.services.people import owner_key, resolve_person
from consentreg.services.unit_of_work import Context, new_id
from consentreg.services.units import unit_by_code

if TYPE_CHECKING:
    from consentreg.imaging.faces import FaceScan


@dataclass(frozen=True)
class PhotoInput:
    """One file as read by the caller: its base name (kept encrypted) and bytes, or the error
    that kept it from being read."""

    name: str
    data: bytes
    error: ImageError | None = None


@dataclass(frozen=True)
class PhotoFailure:
    """A file of a batch that was not registered, and why (a reason code and a message)."""

    name: str
    code: str
    message: str


@dataclass(frozen=True)
class AddedPhotos:
    ids: list[str]
    failures: list[PhotoFailure]
    # registered without their faces checked (face detection not installed): the gate refuses
    # them `faces_unchecked` until `photo detect`
    unchecked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TagView:
    person_id: str
    identifiable: bool
    region: str | None


@dataclass(frozen=True)
class PhotoView:
    id: str
    sha256: str
    format: str
    width: int
    height: int
    unit: str | None
    photographer: str
    original_name: str
    complete: bool
    created_at: datetime
    tags: list[TagView] = field(default_factory=list)
    # R17: the faces found (None: never looked at), the detector, and how many of the faces no
    # region covers are accounted for by tags without a (matching) region
    faces: list[FaceView] | None = None
    face_detector: str | None = None
    faces_by_count: int = 0


@dataclass(frozen=True)
class FaceView:
    number: int  # 1, 2, ... as the preview numbers them
    box: tuple[int, int, int, int]
    score: float
    covered_by: str | None  # the person whose tag's region covers the face


def photo_by_id(ctx: Context, photo_id: str) -> Photo:
    """A photo by its ID or a unique prefix of at least six characters."""
    return by_id(ctx, Photo, photo_id, what="photo")


def photo_by_sha256(ctx: Context, sha256: str) -> Photo | None:
    return ctx.session.scalar(select(Photo).where(Photo.sha256 == sha256))


def add_photos(
    ctx: Context,
    *,
    files: list[PhotoInput],
    photographer: str,
    subjects: Sequence[str] = (),
    unit: str | None = None,
    complete: bool = False,
) -> list[str]:
    """Register photos (each fully decoded first); all of them or, on any error, none."""
    return register_photos(
        ctx,
        files=files,
        photographer=photographer,
        subjects=subjects,
        unit=unit,
        complete=complete,
    ).ids


def register_photos(
    ctx: Context,
    *,
    files: Sequence[PhotoInput],
    photographer: str,
    subjects: Sequence[str] = (),
    unit: str | None = None,
    complete: bool = False,
    skip_bad: bool = False,
) -> AddedPhotos:
    """Register a batch of photos, each fully decoded first. Every file that cannot be
    registered (unreadable, damaged, not a supported image, already registered) is found and
    named; then none is registered (PhotoFilesUnusableError for an image fault, else
    InvalidInputError, each listing every file), or with `skip_bad` the others are."""
    require(ctx, "photo.add")
    photographer = " ".join(photographer.split())
    if not photographer:
        raise InvalidInputError("--photographer is empty (copyright: the creator must be recorded)")
    text.check_line(photographer, field="--photographer", limit=text.PHOTOGRAPHER)
    unit_id = unit_by_code(ctx, unit).id if unit else None
    require(
        ctx, "photo.add", units=[unit_id], no_unit_is_outside=True
    )  # a registrar: into their units
    people = [resolve_person(ctx, s, role="subject") for s in subjects]
    seen: set[str] = set()
    good, failures = [], []
    for item in files:
        try:
            digest, info = _admit(ctx, item, seen)
        except ConsentRegError as exc:
            code = exc.code if isinstance(exc, ImageError) else "already_registered"
            failures.append(PhotoFailure(text.file_name(item.name), code, str(exc)))
            continue
        good.append((item, digest, info))
    if failures and not skip_bad:
        raise _batch_error(failures, len(files))
    ids, unchecked = [], []
    for item, digest, info in good:
        found = face_boxes.scan(item.data)
        ids.append(_insert_photo(ctx, item, digest, info, photographer, unit_id, complete, found))
        if found is None:
            unchecked.append(ids[-1])
        photo = photo_by_id(ctx, ids[-1])
        for person in people:  # the photo's first tags: "complete" as registered
            _tag(ctx, photo, person.id, region=None, identifiable=True, keeps_complete=True)
    return AddedPhotos(ids, failures, unchecked)


def _admit(ctx: Context, item: PhotoInput, seen: set[str]) -> tuple[str, imaging.ImageInfo]:
    if item.error is not None:
        raise item.error
    digest = sha256_hex(item.data)
    existing = photo_by_sha256(ctx, digest)
    if existing is not None or digest in seen:
        raise InvalidInputError(
            "already registered" + (f" as photo {existing.id}" if existing else " (twice given)")
        )
    seen.add(digest)
    return digest, imaging.inspect_image(item.data)


def _batch_error(failures: list[PhotoFailure], total: int) -> ConsentRegError:
    listed = "; ".join(f"{f.name}: {f.message}" for f in failures)
    if total == 1:
        listed = f"{failures[0].name}: {failures[0].message}"
    else:
        listed = (
            f"{len(failures)} of {total} files cannot be registered, so none was "
            f"(--skip-bad registers the others): {listed}"
        )
    image_codes = [f.code for f in failures if f.code.startswith("image_")]
    if image_codes:
        return PhotoFilesUnusableError(listed, code=image_codes[0])
    return InvalidInputError(listed)


def _insert_photo(
    ctx: Context,
    item: PhotoInput,
    digest: str,
    info: imaging.ImageInfo,
    photographer: str,
    unit_id: str | None,
    complete: bool,
    found: FaceScan | None,
) -> str:
    pid = new_id()
    enc = ctx.keys.encrypt
    faces = face_boxes.stored(found) if found is not None else None
    photo = Photo(
        id=pid,
        sha256=digest,
        format=info.format,
        width=info.width,
        height=info.height,
        byte_size=len(item.data),
        unit_id=unit_id,
        photographer_ct=enc(photographer, table="photos", column="photographer", row_id=pid),
        original_name_ct=enc(
            text.file_name(item.name), table="photos", column="original_name", row_id=pid
        ),
        complete=complete,
        created_at=ctx.now,
        created_by=ctx.actor,
        faces=faces.faces if faces else None,
        face_detector=faces.detector if faces else None,
    )
    ctx.session.add(photo)
    ctx.session.flush()
    audit_log.record(ctx, "photo.add", {"photos": photo})
    return pid


def parse_region(region: str) -> str:
    """X,Y,W,H as four non-negative numbers (pixels or fractions of the frame)."""
    parts = region.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or any(v < 0 for v in values) or values[2] == 0 or values[3] == 0:
        raise InvalidInputError("--region must be X,Y,W,H: four non-negative numbers, W and H > 0")
    return text.check_line(",".join(p.strip() for p in parts), field="--region", limit=text.REGION)


def _tag(
    ctx: Context,
    photo: Photo,
    person_id: str,
    *,
    region: str | None,
    identifiable: bool,
    keeps_complete: bool = False,
) -> None:
    """Tag a person; a later tag change clears "complete" (as registering with the photo's
    first tags does not). An erased person is refused (PersonErasedError): nothing new is
    recorded about them."""
    owner_key(ctx, person_id)
    photo_id = photo.id
    existing = ctx.session.get(PhotoSubject, (photo_id, person_id))
    if existing is not None:
        raise InvalidInputError(
            msg(
                "person {person_id} is already tagged in photo {photo_id}",
                person_id=person_id,
                photo_id=photo_id,
            )
        )
    if not keeps_complete:
        photo.complete = False
    tag = PhotoSubject(
        photo_id=photo_id,
        person_id=person_id,
        region=region,
        identifiable=identifiable,
        tagged_at=ctx.now,
        tagged_by=ctx.actor,
    )
    ctx.session.add(tag)
    ctx.session.flush()
    audit_log.record(ctx, "photo.tag", {"photo_subjects": tag, "photos": _completeness(photo)})


def _completeness(photo: Photo) -> dict[str, object]:
    return {"id": photo.id, "complete": photo.complete}


def tag_photo(
    ctx: Context,
    *,
    photo_id: str,
    subject: str,
    region: str | None = None,
    identifiable: bool = True,
) -> None:
    """Say who is in a photo; a not-identifiable person needs no consent."""
    require(ctx, "photo.tag")
    photo = photo_by_id(ctx, photo_id)
    require(
        ctx, "photo.tag", units=[photo.unit_id], no_unit_is_outside=True
    )  # a registrar: their units' photos
    person = resolve_person(ctx, subject, role="subject")
    _tag(
        ctx,
        photo,
        person.id,
        region=parse_region(region) if region else None,
        identifiable=identifiable,
    )


def untag_photo(ctx: Context, *, photo_id: str, subject: str) -> None:
    require(ctx, "photo.untag")
    photo = photo_by_id(ctx, photo_id)
    require(ctx, "photo.untag", units=[photo.unit_id], no_unit_is_outside=True)
    person = resolve_person(ctx, subject, role="subject")
    gone = ctx.session.execute(
        delete(PhotoSubject).where(
            PhotoSubject.photo_id == photo.id, PhotoSubject.person_id == person.id
        )
    )
    if not getattr(gone, "rowcount", 0):
        raise NotFoundError(
            msg(
                "person {person_id} is not tagged in photo {photo_id}",
                person_id=person.id,
                photo_id=photo.id,
            )
        )
    photo.complete = False
    ctx.session.flush()
    tag = {"photo_id": photo.id, "person_id": person.id}
    audit_log.record(ctx, "photo.untag", {"photo_subjects": tag, "photos": _completeness(photo)})


def complete_photo(ctx: Context, *, photo_id: str) -> None:
    """Confirm that every identifiable person in the photo is tagged (again after any tag
    change since the last confirmation)."""
    require(ctx, "photo.complete")
    photo = photo_by_id(ctx, photo_id)
    require(ctx, "photo.complete", units=[photo.unit_id], no_unit_is_outside=True)
    if photo.complete:
        raise InvalidInputError(
            msg(
                "photo {photo_id} is already marked complete and no tag changed since",
                photo_id=photo.id,
            )
        )
    photo.complete = True
    ctx.session.flush()
    audit_log.record(ctx, "photo.complete", {"photos": photo})


def show_photo(
    ctx: Context, *, photo_id: str | None = None, data: bytes | None = None
) -> PhotoView:
    """A photo by ID or by the bytes of a file."""
    require(ctx, "read.register")
    if data is not None:
        found = photo_by_sha256(ctx, sha256_hex(data))
        if found is None:
            raise NotFoundError("that file is not a registered photo")
        photo = found
    else:
        photo = photo_by_id(ctx, photo_id or "")
    unit = ctx.session.get(Unit, photo.unit_id) if photo.unit_id else None
    dec = ctx.keys.decrypt
    tags = list(
        ctx.session.scalars(
            select(PhotoSubject)
            .where(PhotoSubject.photo_id == photo.id)
            .order_by(PhotoSubject.tagged_at, PhotoSubject.person_id)
        )
    )
    faces, by_count = face_views(photo, tags)
    return PhotoView(
        photo.id,
        photo.sha256,
        photo.format,
        photo.width,
        photo.height,
        unit.code if unit else None,
        dec(photo.photographer_ct, table="photos", column="photographer", row_id=photo.id),
        dec(photo.original_name_ct, table="photos", column="original_name", row_id=photo.id),
        photo.complete,
        photo.created_at,
        [TagView(t.person_id, t.identifiable, t.region) for t in tags],
        faces,
        photo.face_detector,
        by_count,
    )


def face_views(photo: Photo, tags: Sequence[PhotoSubject]) -> tuple[list[FaceView] | None, int]:
    """The photo's faces, each with the tag that covers it (docs/rules.md, "Faces")."""
    found = face_boxes.faces_of(photo)
    if found is None:
        return None, 0
    coverage = cover([f.box for f in found], face_boxes.face_tags(photo, tags))
    views = [
        FaceView(n + 1, f.box, f.score, who)
        for n, (f, who) in enumerate(zip(found, coverage.covered_by, strict=True))
    ]
    return views, min(coverage.by_count, len(coverage.uncovered))
