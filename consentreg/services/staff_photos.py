"""The staff web application's photo pages: upload, the photo page (faces, tags, completeness),
check and publish for a purpose, release downloads. Each page or form is one call here, over the
command line's own use cases (photos.py, publishing/releases.py) with the same checks and records.

The register keeps no pixels (photos are known by their SHA-256). A photo uploaded from a
browser is kept, as sent, in the web application's photo store (`store`, a private folder of the
register's home, docs/architecture.md "Photos in the web application"), one file per SHA-256, so
that its preview can be drawn and it can be published later, as a photo folder on a PC is for
the command line. What leaves the server is never that file: the preview and every release are
rendered by the release pipeline (downscaled, re-encoded, metadata-free).

A registrar sees and tags only the photos of their units: another unit's photo (or one of no
unit) is answered NotFoundError, as an ID that does not exist is, so no photo is found by
guessing IDs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from consentreg.db.models import Person, Photo, PhotoSubject, Publication
from consentreg.errors import InvalidInputError, NotFoundError, NotPermittedError, StaleFormError
from consentreg.files import write_new_private
from consentreg.services import face_boxes, photos
from consentreg.services import names as display
from consentreg.services.access import _with_sub_units, registrar_scope, require
from consentreg.services.audit.events import record_query
from consentreg.services.people import decrypt_name, resolve_person
from consentreg.services.photos import AddedPhotos, PhotoInput, PhotoView
from consentreg.services.publishing.releases import Outcome, check_files
from consentreg.services.purposes import PurposeView, list_purposes
from consentreg.services.unit_of_work import Context
from consentreg.services.units import UnitView, list_units, unit_by_code

PREVIEW_PX = 1024  # the long side of the preview on the photo page
LISTED = 200  # photos on the list page, newest first


@dataclass(frozen=True)
class Candidate:
    """A person who may be tagged: shown by name and reference."""

    id: str
    name: str
    ref: str | None


@dataclass(frozen=True)
class PhotoPage:
    photo: PhotoView
    names: dict[str, str]  # the tagged people's names, by ID
    candidates: list[Candidate]  # whom the user may tag (empty: the user may not tag)
    purposes: list[PurposeView]
    releases: list[tuple[str, str]]  # (publication ID, purpose code) of releases to download
    version: str  # the forms carry it: a change since is refused (StaleFormError)
    stored: bool  # the photo's file is in the store: a preview can be drawn, it can be published
    may_tag: bool
    may_publish: bool


@dataclass(frozen=True)
class PhotoRow:
    id: str
    unit: str | None
    created_at: str
    faces: int | None
    tags: int
    complete: bool


@dataclass(frozen=True)
class PhotoList:
    photos: list[PhotoRow]
    units: list[UnitView]  # where the user may add photos (empty: may not add)
    purposes: list[PurposeView]
    may_publish: bool


@dataclass(frozen=True)
class Answers:
    """What `check` or `publish` answered for each photo, with the names of the people its
    reasons are about (the read recorded as the command line's `names` view)."""

    outcomes: list[Outcome]
    names: dict[str, str]


def _may(ctx: Context, action: str, unit_id: str | None = None) -> bool:
    try:
        require(ctx, action, units=[unit_id])
    except NotPermittedError:  # only whether to offer the form
        return False
    return True


def visible_photo(ctx: Context, photo_id: str) -> Photo:
    """A photo this user may see: a registrar only their units' (NotFoundError otherwise)."""
    require(ctx, "read.register")
    photo = photos.photo_by_id(ctx, photo_id)
    scope = registrar_scope(ctx)
    if scope is not None and photo.unit_id not in scope:
        raise NotFoundError(f"no photo {photo_id}")
    return photo


def photo_version(ctx: Context, photo: Photo) -> str:
    """The photo's tags and completeness now, as a short digest the forms carry."""
    tags = ctx.session.execute(
        select(PhotoSubject.person_id, PhotoSubject.region, PhotoSubject.identifiable)
        .where(PhotoSubject.photo_id == photo.id)
        .order_by(PhotoSubject.person_id)
    ).all()
    state = [photo.complete, photo.face_detector, [list(t) for t in tags]]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:20]


def _checked(ctx: Context, photo_id: str, version: str) -> Photo:
    photo = visible_photo(ctx, photo_id)
    if version.strip() != photo_version(ctx, photo):
        raise StaleFormError(
            f"photo {photo.id} was changed by someone else after the form was shown:"
            " nothing was written; reload the page and try again"
        )
    return photo


def stored_file(store: Path, sha256: str) -> Path:
    return store / f"{sha256}.img"


# --- pages ------------------------------------------------------------------------------------


def photo_list(ctx: Context) -> PhotoList:
    """The newest photos this user may see, where they may add photos, the purposes."""
    require(ctx, "read.register")
    query = select(Photo).order_by(Photo.created_at.desc(), Photo.id).limit(LISTED)
    scope = registrar_scope(ctx)
    if scope is not None:
        query = query.where(Photo.unit_id.in_(scope))
    found = list(ctx.session.scalars(query))
    counts = dict(
        ctx.session.execute(
            select(PhotoSubject.photo_id, func.count())
            .where(PhotoSubject.photo_id.in_([p.id for p in found]))
            .group_by(PhotoSubject.photo_id)
        ).all()
    )
    codes = {u.id: u.code for u in list_units(ctx)}
    rows = []
    for p in found:
        faces = face_boxes.faces_of(p)
        rows.append(
            PhotoRow(
                p.id,
                codes.get(p.unit_id) if p.unit_id else None,
                p.created_at.isoformat(),
                None if faces is None else len(faces),
                int(counts.get(p.id, 0)),
                p.complete,
            )
        )
    return PhotoList(rows, upload_units(ctx), list_purposes(ctx), _may(ctx, "publication.released"))


def upload_units(ctx: Context) -> list[UnitView]:
    """The units this user may add photos to (a registrar: theirs; nobody else: none)."""
    units = list_units(ctx)
    return [u for u in units if _may(ctx, "photo.add", u.id)]


def photo_page(ctx: Context, *, photo: str, store: Path) -> PhotoPage:
    """A photo, its faces and tags, whom the user may tag, the purposes and its releases.
    Recorded as an `audit.query` (view `photo`) naming the people shown."""
    row = visible_photo(ctx, photo)
    view = photos.show_photo(ctx, photo_id=row.id)
    may_tag = _may(ctx, "photo.tag", row.unit_id)
    candidates = _candidates(ctx, row) if may_tag else []
    tagged = [t.person_id for t in view.tags]
    names = {c.id: c.name for c in candidates}
    names.update(display.display_names(ctx, tagged))
    record_query(
        ctx,
        "photo",
        ids={"photo": row.id, "subjects": tagged, "people": sorted({c.id for c in candidates})},
    )
    releases = ctx.session.execute(
        select(Publication.id, Publication.purpose_id)
        .where(
            Publication.photo_id == row.id,
            Publication.decision == "released",
            Publication.delivery == "delivered",
            Publication.taken_down_at.is_(None),
        )
        .order_by(Publication.decided_at)
    ).all()
    purposes = list_purposes(ctx)
    codes = {p.id: p.code for p in purposes}
    return PhotoPage(
        view,
        names,
        candidates,
        purposes,
        [(pid, codes.get(purpose, "")) for pid, purpose in releases],
        photo_version(ctx, row),
        stored_file(store, row.sha256).is_file(),
        may_tag,
        _may(ctx, "publication.released"),
    )


def _candidates(ctx: Context, photo: Photo) -> list[Candidate]:
    """The people of the photo's unit (and its sub-units) this user may see; for a photo of no
    unit, those of every unit the user may see. Those who have left are not offered."""
    query = select(Person).where(Person.left_at.is_(None), Person.unit_id.is_not(None))
    if photo.unit_id is not None:
        query = query.where(Person.unit_id.in_(_with_sub_units(ctx, [photo.unit_id])))
    scope = registrar_scope(ctx)
    if scope is not None:
        query = query.where(Person.unit_id.in_(scope))
    found = []
    for person in ctx.session.scalars(query):
        ref = (
            ctx.keys.decrypt(person.ref_ct, table="people", column="ref", row_id=person.id)
            if person.ref_ct is not None
            else None
        )
        found.append(Candidate(person.id, decrypt_name(ctx, person), ref))
    return sorted(found, key=lambda c: (c.name.casefold(), c.id))


def preview(ctx: Context, *, photo: str, store: Path) -> bytes:
    """The photo downscaled, re-encoded and metadata-free (the release pipeline's rendering),
    from its file in the store; NotFoundError when the store does not hold it."""
    from consentreg.imaging.rendering import render_release

    row = visible_photo(ctx, photo)
    path = stored_file(store, row.sha256)
    if not path.is_file():
        raise NotFoundError(f"the file of photo {row.id} is not kept on this server")
    return render_release(path.read_bytes(), max_px=PREVIEW_PX).data


# --- changes ----------------------------------------------------------------------------------


def upload_photos(
    ctx: Context, *, files: Sequence[PhotoInput], unit: str, photographer: str, store: Path
) -> AddedPhotos:
    """Register the uploaded photos in a unit the user may add photos to (all or, on any
    faulty file, none: `photo add`) with their faces found, and keep each file in the store."""
    if not files:
        raise InvalidInputError("no file was chosen: choose one or more photos")
    unit_id = unit_by_code(ctx, unit).id if unit.strip() else None
    if unit_id is None:
        raise InvalidInputError("unit is empty: choose the unit the photos belong to")
    require(ctx, "photo.add", units=[unit_id])
    added = photos.register_photos(ctx, files=files, photographer=photographer, unit=unit)
    written: list[Path] = []
    try:
        for item in files:
            path = stored_file(store, hashlib.sha256(item.data).hexdigest())
            if not path.exists():
                write_new_private(path, item.data, what="stored photo")
                written.append(path)
    except BaseException:
        for path in written:  # the registration rolls back: no file of it stays
            path.unlink(missing_ok=True)
        raise
    return added


def tag(
    ctx: Context,
    *,
    photo: str,
    version: str,
    person: str,
    face: int | None,
    identifiable: bool,
) -> None:
    """Tag a person the user may tag, with the region of the face chosen (`photo tag`)."""
    row = _checked(ctx, photo, version)
    require(ctx, "photo.tag", units=[row.unit_id])
    if person not in {c.id for c in _candidates(ctx, row)}:
        raise InvalidInputError("person: choose one of the people offered")
    region = None
    if face is not None:
        found = face_boxes.faces_of(row) or []
        if not 1 <= face <= len(found):
            raise InvalidInputError(f"face {face} is not a face of photo {row.id}")
        region = ",".join(map(str, found[face - 1].box))
    photos.tag_photo(ctx, photo_id=row.id, subject=person, region=region, identifiable=identifiable)


def untag(ctx: Context, *, photo: str, version: str, person: str) -> None:
    row = _checked(ctx, photo, version)
    require(ctx, "photo.untag", units=[row.unit_id])
    photos.untag_photo(ctx, photo_id=row.id, subject=resolve_person(ctx, person).id)


def complete(ctx: Context, *, photo: str, version: str) -> None:
    row = _checked(ctx, photo, version)
    require(ctx, "photo.complete", units=[row.unit_id])
    photos.complete_photo(ctx, photo_id=row.id)


# --- check and publish ------------------------------------------------------------------------


def publish_inputs(ctx: Context, *, chosen: Sequence[str], store: Path, action: str) -> list[Path]:
    """The stored files of the photos chosen, for `check` or `publish` (`action`)."""
    require(ctx, action)
    if not chosen:
        raise InvalidInputError("no photo was chosen")
    paths = []
    for photo_id in dict.fromkeys(chosen):
        row = visible_photo(ctx, photo_id)
        path = stored_file(store, row.sha256)
        if not path.is_file():
            raise NotFoundError(f"the file of photo {row.id} is not kept on this server")
        paths.append(path)
    return paths


def check(ctx: Context, *, chosen: Sequence[str], purpose: str, store: Path) -> Answers:
    """The gate's decision for each photo chosen (`check`), with the names of the people."""
    paths = publish_inputs(ctx, chosen=chosen, store=store, action="publish.check")
    outcomes = check_files(ctx, inputs=paths, purpose=purpose, at=ctx.now, caption=None)
    return Answers(outcomes, answer_names(ctx, outcomes=outcomes))


def answer_names(ctx: Context, *, outcomes: Sequence[Outcome]) -> dict[str, str]:
    """The names of the people the outcomes' reasons name (a recorded read)."""
    ids = display.ids_in(r.message for o in outcomes for r in o.reasons)
    ids |= {r.subject for o in outcomes for r in o.reasons if r.subject}
    return display.display_names(ctx, ids)


def release_files(
    ctx: Context, *, publications: Sequence[str], folder: Path
) -> list[tuple[str, bytes]]:
    """The released copies (neutral names, as delivered into the release folder), each checked
    against the SHA-256 recorded with its release."""
    require(ctx, "publication.released")
    if not publications:
        raise InvalidInputError("no release was chosen")
    found = []
    for pid in dict.fromkeys(publications):
        pub = ctx.session.get(Publication, pid)
        if pub is None or pub.decision != "released" or pub.output_name is None:
            raise NotFoundError(f"no release {pid}")
        if pub.photo_id is not None:
            visible_photo(ctx, pub.photo_id)
        path = folder / pub.output_name
        data = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(data).hexdigest() != pub.output_sha256:
            raise NotFoundError(f"the file of release {pid} is not in the release folder")
        found.append((pub.output_name, data))
    return found
