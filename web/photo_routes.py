"""The photo pages: upload, a photo with its faces and tags, check and publish for a purpose,
release downloads. Each route calls one library function (consentreg.services.staff_photos, or
the command line's own `publish`); changes go through `runtime.submit` (a form posted twice
acts once) and carry the photo's version (a stale form is refused, 409).

Two folders of the register's home hold files (docs/architecture.md, "Photos in the web
application"): the photo store (`web-photos/`, the uploaded files, never served) and the release
folder (`web-releases/`, the released copies as `publish --out` writes them). The Flask settings
CONSENTREG_PHOTO_STORE and CONSENTREG_RELEASE_DIR name other folders."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from consentreg.errors import InvalidInputError
from consentreg.services import staff_photos
from consentreg.services.names import ids_in
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import releases
from consentreg.services.unit_of_work import Context, Register

from . import runtime, texts
from .i18n import N_
from .i18n import gettext as _
from .routes import pages

MAX_FILES = 20  # photos in one upload
# what to do about each refusal, as the person at the screen would
WHAT_TO_DO = {
    "no_consent": N_("register a consent"),
    "guardian_consent_missing": N_("register a consent"),
    "self_consent_required": N_("register the person's own consent"),
    "consent_refused": N_("do not publish this photo"),
    "consent_withdrawn": N_("do not publish this photo"),
    "consent_expired": N_("ask for a new consent"),
    "consent_outdated_notice": N_("ask for a new consent to the current text"),
    "protected_identity": N_("never publish this photo"),
    "tagging_incomplete": N_("tag everyone and confirm the tagging complete"),
    "faces_untagged": N_("tag every face and confirm the tagging complete"),
    "faces_unchecked": N_("the faces were never looked for: upload the photo again"),
    "unregistered_photo": N_("register the photo first"),
    "already_released": N_("already published for this purpose"),
}
# why a photo was refused, per person where the reason is about one
WHY = {
    "no_consent": N_("%(who)s (%(role)s) has not consented to %(purpose)s"),
    "guardian_consent_missing": N_("%(who)s (%(role)s) has not consented to %(purpose)s"),
    "self_consent_required": N_(
        "%(who)s (%(role)s) is 15 or older and must consent to %(purpose)s themself"
    ),
    "consent_refused": N_("%(who)s (%(role)s) has said no to %(purpose)s"),
    "consent_withdrawn": N_("%(who)s (%(role)s) has withdrawn the consent to %(purpose)s"),
    "consent_expired": N_("The consent of %(who)s (%(role)s) to %(purpose)s has expired"),
    "consent_outdated_notice": N_(
        "%(who)s (%(role)s) consented to an older text about %(purpose)s"
    ),
    "protected_identity": N_("%(who)s has a protected identity"),
    "tagging_incomplete": N_("The tagging of the photo is not confirmed complete"),
    "faces_untagged": N_("A face in the photo is not covered by a tag"),
    "faces_unchecked": N_("The faces of the photo were never looked for"),
    "unregistered_photo": N_("The photo is not registered"),
    "already_released": N_("The photo is already published for %(purpose)s"),
}
PREVIEW_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'"}


def _folder(setting: str, name: str) -> Path:
    configured = current_app.config.get(setting)
    return Path(configured) if configured else runtime.register().settings.home / name


def store() -> Path:
    return _folder("CONSENTREG_PHOTO_STORE", "web-photos")


def release_dir() -> Path:
    return _folder("CONSENTREG_RELEASE_DIR", "web-releases")


@pages.get("/photos")
def photo_list() -> Any:
    return render_template("photo_list.html", page=runtime.view(staff_photos.photo_list))


@pages.post("/photos")
def photo_upload() -> Any:
    uploads = [f for f in request.files.getlist("photos") if f.filename]
    if len(uploads) > MAX_FILES:
        raise InvalidInputError(f"photos: at most {MAX_FILES} files at a time")
    files = [PhotoInput(f.filename or "photo", f.read()) for f in uploads]
    location = runtime.submit(
        staff_photos.upload_photos,
        answer=lambda added: (
            url_for("pages.photo", photo_id=added.ids[0])
            if len(added.ids) == 1
            else url_for("pages.photo_list")
        ),
        files=files,
        unit=request.form.get("unit", ""),
        photographer=request.form.get("photographer", ""),
        store=store(),
    )
    flash(_("The photos are registered."))
    return redirect(location)


@pages.get("/photos/<photo_id>")
def photo(photo_id: str) -> Any:
    found = runtime.view(staff_photos.photo_page, photo=photo_id, store=store())
    face = request.args.get("face", "")
    chosen = int(face) if face.isdigit() else None
    return render_template("photo.html", page=found, face=chosen)


@pages.get("/photos/<photo_id>/preview.jpg")
def photo_preview(photo_id: str) -> Any:
    data = runtime.view(staff_photos.preview, photo=photo_id, store=store())
    return Response(data, mimetype="image/jpeg", headers=PREVIEW_HEADERS)


def _to_photo(photo_id: str) -> Any:
    return lambda _result: url_for("pages.photo", photo_id=photo_id)


@pages.post("/photos/<photo_id>/tags")
def photo_tag(photo_id: str) -> Any:
    fields = request.form
    face = fields.get("face", "")
    location = runtime.submit(
        staff_photos.tag,
        answer=_to_photo(photo_id),
        photo=photo_id,
        version=fields.get("version", ""),
        person=fields.get("person", ""),
        face=int(face) if face.isdigit() else None,
        identifiable=fields.get("identifiable", "1") == "1",
    )
    flash(_("The person is tagged."))
    return redirect(location)


@pages.post("/photos/<photo_id>/untag")
def photo_untag(photo_id: str) -> Any:
    location = runtime.submit(
        staff_photos.untag,
        answer=_to_photo(photo_id),
        photo=photo_id,
        version=request.form.get("version", ""),
        person=request.form.get("person", ""),
    )
    flash(_("The tag is removed."))
    return redirect(location)


@pages.post("/photos/<photo_id>/complete")
def photo_complete(photo_id: str) -> Any:
    location = runtime.submit(
        staff_photos.complete,
        answer=_to_photo(photo_id),
        photo=photo_id,
        version=request.form.get("version", ""),
    )
    flash(_("The tagging is confirmed complete."))
    return redirect(location)


@pages.post("/photos/check")
def photo_check() -> Any:
    chosen = request.form.getlist("photo")
    answers = runtime.call(
        staff_photos.check, chosen=chosen, purpose=request.form.get("purpose", ""), store=store()
    )
    return _answers(chosen, answers, purpose=request.form.get("purpose", ""), published=False)


@pages.post("/photos/publish")
def photo_publish() -> Any:
    """`publish` as the command line runs it, into the release folder, acting as the user; a
    form posted twice releases nothing twice (already released: not again)."""
    chosen = list(dict.fromkeys(request.form.getlist("photo")))
    purpose = request.form.get("purpose", "")
    paths = runtime.call(
        staff_photos.publish_inputs,
        chosen=chosen,
        store=store(),
        action="publication.released",
    )
    acting = _AtClock(**vars(replace(runtime.register(), actor=g.user.login)))
    report = releases.publish(acting, inputs=paths, purpose=purpose, out=release_dir(), jobs=1)
    names = runtime.call(staff_photos.answer_names, outcomes=report.outcomes)
    found = staff_photos.Answers(report.outcomes, names)
    return _answers(chosen, found, purpose=purpose, published=True)


@dataclass
class _AtClock(Register):
    """The register acting as the user at the application's clock (publish opens its own units
    of work)."""

    @contextmanager
    def work(
        self, *, writer: bool = True, now: datetime | None = None, dry_run: bool = False
    ) -> Iterator[Context]:
        with super().work(writer=writer, now=now or runtime.now(), dry_run=dry_run) as ctx:
            yield ctx


def _answers(
    chosen: list[str], answers: staff_photos.Answers, *, purpose: str, published: bool
) -> Any:
    rows = [
        (photo_id, outcome, [_line(r, answers.names, purpose) for r in outcome.reasons])
        for photo_id, outcome in zip(dict.fromkeys(chosen), answers.outcomes, strict=False)
    ]
    released = [o.publication_id for _, o, _ in rows if o.decision == "released"]
    return render_template(
        "photo_answers.html", rows=rows, purpose=purpose, published=published, released=released
    )


def _line(reason: releases.ReasonLine, names: dict[str, str], purpose: str) -> dict[str, Any]:
    """One refusal as staff read it: who (by name, and as what), why, and what to do."""
    named = sorted(ids_in([reason.message]), key=reason.message.find)
    who_id = named[0] if named else reason.subject
    role = "guardian" if who_id and f"guardian {who_id}" in reason.message else "self"
    who = names.get(who_id, who_id[:8]) if who_id else ""
    why = WHY.get(reason.code)
    found = {"who": who, "role": _(texts.ROLES[role]), "purpose": purpose}
    text = _(why) % found if why else reason.message
    return {
        "text": text,
        "todo": _(WHAT_TO_DO[reason.code]) if reason.code in WHAT_TO_DO else "",
        "subject": reason.subject if reason.subject in names else None,
    }


@pages.get("/releases/<publication_id>")
def release(publication_id: str) -> Any:
    [(name, data)] = runtime.view(
        staff_photos.release_files, publications=[publication_id], folder=release_dir()
    )
    kind = "image/png" if name.endswith(".png") else "image/jpeg"
    return _download(data, kind, name)


@pages.get("/releases.zip")
def releases_zip() -> Any:
    found = runtime.view(
        staff_photos.release_files,
        publications=request.args.getlist("p"),
        folder=release_dir(),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in found:
            archive.writestr(name, data)
    return _download(buffer.getvalue(), "application/zip", "releases.zip")


def _download(data: bytes, kind: str, name: str) -> Any:
    return Response(
        data,
        mimetype=kind,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
