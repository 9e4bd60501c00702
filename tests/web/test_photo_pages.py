"""The photo pages through Flask's test client, on SQLite and PostgreSQL: upload (one or
several, face detection as `photo add`), the photo page with its face boxes, tagging by name,
untagging, confirming complete, check and publish for a purpose with refusals by name, release
downloads (one file, a zip); oversized, non-image and damaged uploads, a form posted twice, a
stale form, another unit's photo by ID, an auditor's and a registrar's limits, hostile names as
text, and every view recorded."""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Engine, func, select, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from consentreg.db.models import Photo, PhotoSubject, Publication
from consentreg.services import access, accounts
from tests import face_images
from tests.conftest import ContextFactory
from tests.web.conftest import HOSTILE, PASSWORD, form_of, hidden_fields, log_in


@pytest.fixture
def publisher(staff: dict[str, str], unit_of_work: ContextFactory) -> str:
    with unit_of_work(actor="ada") as ctx:
        access.add_user(ctx, login="pia", role="publisher")
        accounts.set_password(ctx, login="pia", password=PASSWORD)
    return "pia"


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _views(engine: Engine) -> list[tuple[dict[str, Any], str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT object_ids, payload FROM audit_events WHERE action = 'audit.query'")
        ).all()
    return [(json.loads(ids), str(json.loads(payload)["view"])) for ids, payload in rows]


def _store(app: Flask) -> Path:
    return Path(app.extensions["consentreg"][0].settings.home) / "web-photos"


def upload(
    client: FlaskClient,
    files: list[tuple[bytes, str]],
    *,
    unit: str = "bhg",
    fields: dict[str, str] | None = None,
) -> TestResponse:
    fields = fields or form_of(client, "/photos", "/photos")
    data = [
        *fields.items(),
        ("unit", unit),
        ("photographer", "Kari Lærer"),
        *(("photos", FileStorage(io.BytesIO(content), name)) for content, name in files),
    ]
    boundary, body = encode_multipart(MultiDict(data))  # in memory: nothing spooled to a file
    return client.post(
        "/photos", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def uploaded(client: FlaskClient, content: bytes | None = None, name: str = "IMG_1.jpg") -> str:
    """Upload one photo (two faces by default): its ID."""
    answer = upload(client, [(content or face_images.two_faces(), name)])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return str(answer.headers["Location"]).rsplit("/", 1)[-1]


def _page(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def _log_out(client: FlaskClient) -> None:
    client.post("/logout", data=hidden_fields(_page(client, "/"), "/logout"))


def tag(
    client: FlaskClient, photo: str, person: str, face: str = "", identifiable: str = "1"
) -> TestResponse:
    fields = form_of(client, f"/photos/{photo}", f"/photos/{photo}/tags")
    return client.post(
        f"/photos/{photo}/tags",
        data={**fields, "person": person, "face": face, "identifiable": identifiable},
    )


def test_a_registrar_uploads_a_photo_and_sees_its_faces_boxed_and_marked_untagged(
    client: FlaskClient, app: Flask, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    form = _page(client, "/photos")
    assert 'value="bhg"' in form
    assert 'value="blaa"' not in form
    photo = uploaded(client)
    page = _page(client, f"/photos/{photo}")
    assert "Bildene er registrert." in page
    assert page.count("<rect ") == 2
    assert "style=" not in page
    assert page.count(f'href="/photos/{photo}?face=') >= 2  # each box a link to tag it
    assert page.count("ikke tagget") >= 2
    assert "Emma Nordmann" in page
    assert "Per Blå" not in page
    stored = list(_store(app).iterdir())
    assert len(stored) == 1
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    with engine.connect() as conn:
        faces = conn.execute(select(Photo.faces)).scalar_one()
    assert len(json.loads(faces or "[]")) == 2  # faces found as `photo add` finds them


def test_the_preview_is_a_downscaled_jpeg_without_metadata(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    log_in(client, "rita")
    big = Image.new("RGB", (3000, 2000), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    buf = io.BytesIO()
    big.save(buf, "JPEG", exif=exif.tobytes())
    photo = uploaded(client, buf.getvalue(), "big.jpg")
    answer = client.get(f"/photos/{photo}/preview.jpg")
    assert answer.status_code == 200
    assert answer.mimetype == "image/jpeg"
    assert b"SecretCam" not in answer.data
    assert b"Exif" not in answer.data
    with Image.open(io.BytesIO(answer.data)) as im:
        assert max(im.size) == 1024
        assert not im.getexif()


def test_several_photos_upload_at_once(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    files = [(face_images.no_face((i * 40, 160, 60)), f"scene{i}.jpg") for i in range(3)]
    answer = upload(client, files)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/photos")
    assert _count(engine, Photo) == 3


def test_tagging_a_face_by_name_covers_it_and_untagging_uncovers_it(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    assert tag(client, photo, staff["emma"], face="1").status_code == 302
    page = _page(client, f"/photos/{photo}")
    assert page.count("ikke tagget") >= 1
    assert "✓ Emma Nordmann" in page
    with engine.connect() as conn:
        region = conn.execute(select(PhotoSubject.region)).scalar_one()
    assert region is not None
    assert len(region.split(",")) == 4
    fields = form_of(client, f"/photos/{photo}", f"/photos/{photo}/untag")
    answer = client.post(f"/photos/{photo}/untag", data={**fields, "person": staff["emma"]})
    assert answer.status_code == 302
    assert _count(engine, PhotoSubject) == 0


def test_a_tag_not_identifiable_and_confirming_complete(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    assert tag(client, photo, staff["hostile"], face="2", identifiable="0").status_code == 302
    page = _page(client, f"/photos/{photo}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hacker" in page
    assert "<script>" not in page
    fields = form_of(client, f"/photos/{photo}", f"/photos/{photo}/complete")
    assert client.post(f"/photos/{photo}/complete", data=fields).status_code == 302
    with engine.connect() as conn:
        assert conn.execute(select(Photo.complete)).scalar_one() is True
        assert conn.execute(select(PhotoSubject.identifiable)).scalar_one() is False


def test_a_person_of_another_unit_cannot_be_tagged_by_guessing_the_id(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    assert tag(client, photo, staff["per"], face="1").status_code == 400
    assert _count(engine, PhotoSubject) == 0


def large_two_faces() -> bytes:
    """The two faces in a scene twice as large (1800x1000): larger than a release may be."""
    with Image.open(io.BytesIO(face_images.two_faces())) as im:
        out = io.BytesIO()
        im.resize((1800, 1000)).save(out, "JPEG", quality=90)
        return out.getvalue()


def _publish_ready(client: FlaskClient, staff: dict[str, str]) -> str:
    """As rita: a photo of Emma (face 1) and the hostile name not identifiable (face 2), complete."""
    log_in(client, "rita")
    photo = uploaded(client, large_two_faces())
    tag(client, photo, staff["emma"], face="1")
    tag(client, photo, staff["hostile"], face="2", identifiable="0")
    fields = form_of(client, f"/photos/{photo}", f"/photos/{photo}/complete")
    client.post(f"/photos/{photo}/complete", data=fields)
    _log_out(client)
    return photo


def _post_publish(
    client: FlaskClient, photos: list[str], purpose: str, action: str
) -> TestResponse:
    page = _page(client, f"/photos/{photos[0]}")
    fields = hidden_fields(page, "/photos/check")
    return client.post(f"/photos/{action}", data={**fields, "photo": photos, "purpose": purpose})


def test_a_publisher_publishes_and_downloads_a_downscaled_copy_without_metadata(
    client: FlaskClient, staff: dict[str, str], publisher: str, engine: Engine, app: Flask
) -> None:
    photo = _publish_ready(client, staff)
    log_in(client, publisher)
    checked = _post_publish(client, [photo], "facebook", "check")
    assert checked.status_code == 200
    assert "kan publiseres" in checked.get_data(as_text=True)
    assert _count(engine, Publication) == 0  # a check writes no decision
    answer = _post_publish(client, [photo], "facebook", "publish")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "publisert" in html
    link = re.search(r'href="(/releases/[0-9a-f]{32})"', html)
    assert link
    copy = client.get(link.group(1))
    assert copy.status_code == 200
    assert copy.mimetype == "image/jpeg"
    assert "attachment" in copy.headers["Content-Disposition"]
    with Image.open(io.BytesIO(copy.data)) as im:
        assert im.format == "JPEG"
        assert not im.getexif()
        assert im.size == (1280, 711)  # downscaled to the purpose's limit
    released = list(
        (Path(app.extensions["consentreg"][0].settings.home) / "web-releases").iterdir()
    )
    assert [p.name for p in released] == [link.group(1).rsplit("/", 1)[-1] + ".jpg"]
    # posted again (a double click): nothing is released twice
    again = _post_publish(client, [photo], "facebook", "publish")
    assert "allerede publisert" in again.get_data(as_text=True)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).where(Publication.decision == "released")
            ).scalar_one()
            == 1
        )


def test_several_releases_download_as_one_zip(
    client: FlaskClient, staff: dict[str, str], publisher: str
) -> None:
    first = _publish_ready(client, staff)
    log_in(client, "rita")
    second = uploaded(client, face_images.no_face())
    fields = form_of(client, f"/photos/{second}", f"/photos/{second}/complete")
    client.post(f"/photos/{second}/complete", data=fields)
    _log_out(client)
    log_in(client, publisher)
    html = _post_publish(client, [first, second], "facebook", "publish").get_data(as_text=True)
    link = re.search(r'href="(/releases\.zip\?[^"]+)"', html)
    assert link, html
    answer = client.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert answer.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        names = archive.namelist()
        assert len(names) == 2
        assert all(re.fullmatch(r"[0-9a-f]{32}\.jpg", n) for n in names)
        assert all(archive.read(n)[:3] == b"\xff\xd8\xff" for n in names)


def test_a_refusal_names_the_guardian_and_says_what_to_do(
    client: FlaskClient, staff: dict[str, str], publisher: str, engine: Engine
) -> None:
    photo = _publish_ready(client, staff)
    log_in(client, publisher)
    answer = _post_publish(client, [photo], "yearbook", "publish")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Kari Nordmann (foresatt) har ikke samtykket til yearbook" in html
    assert "registrer samtykke" in html.lower()
    with engine.connect() as conn:
        decisions = conn.execute(select(Publication.decision)).scalars().all()
    assert decisions == ["refused"]
    assert ({"people": sorted([staff["mor"], staff["far"], staff["emma"]])}, "names") in [
        ({"people": sorted(ids.get("people", []))}, view) for ids, view in _views(engine)
    ]


def test_a_hostile_name_in_a_refusal_is_shown_as_text(
    client: FlaskClient, staff: dict[str, str], publisher: str
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    tag(client, photo, staff["hostile"], face="1")
    _log_out(client)
    log_in(client, publisher)
    html = _post_publish(client, [photo], "facebook", "check").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hacker" in html
    assert HOSTILE not in html


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"just some text, not a photo", 415, "Filen er ikke et bilde"),
        (face_images.no_face()[:2000], 400, "kunne ikke leses"),
        (b"\x00" * (12 * 1024 * 1024), 413, "Filen er for stor"),
    ],
    ids=["not-an-image", "damaged", "oversized"],
)
def test_a_bad_upload_is_refused_clearly_and_nothing_is_written(
    client: FlaskClient,
    app: Flask,
    staff: dict[str, str],
    engine: Engine,
    content: bytes,
    status: int,
    words: str,
) -> None:
    log_in(client, "rita")
    answer = upload(client, [(face_images.no_face(), "good.jpg"), (content, "<b>bad</b>.jpg")])
    html = answer.get_data(as_text=True)
    assert answer.status_code == status
    assert words in html
    assert "<b>bad</b>" not in html
    assert _count(engine, Photo) == 0
    assert not _store(app).exists() or not list(_store(app).iterdir())


def test_an_upload_without_a_file_or_into_another_unit_is_refused(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    assert upload(client, []).status_code == 400
    assert upload(client, [(face_images.no_face(), "a.jpg")], unit="blaa").status_code == 403
    assert _count(engine, Photo) == 0


def test_an_upload_posted_twice_registers_once(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    fields = form_of(client, "/photos", "/photos")
    content = face_images.no_face()
    first = upload(client, [(content, "a.jpg")], fields=fields)
    second = upload(client, [(content, "a.jpg")], fields=fields)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(engine, Photo) == 1


def test_a_stale_tag_form_is_refused_with_409(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    stale = form_of(client, f"/photos/{photo}", f"/photos/{photo}/tags")
    tag(client, photo, staff["emma"], face="1")
    answer = client.post(
        f"/photos/{photo}/tags", data={**stale, "person": staff["hostile"], "face": "2"}
    )
    assert answer.status_code == 409
    assert _count(engine, PhotoSubject) == 1


def test_another_units_photo_is_not_found_by_its_id(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    fields = form_of(client, f"/photos/{photo}", f"/photos/{photo}/tags")
    _log_out(client)
    log_in(client, "otto")
    assert client.get(f"/photos/{photo}").status_code == 404
    assert client.get(f"/photos/{photo}/preview.jpg").status_code == 404
    assert photo[:8] not in _page(client, "/photos")
    fields = {**fields, "csrf_token": hidden_fields(_page(client, "/"), "/logout")["csrf_token"]}
    answer = client.post(f"/photos/{photo}/tags", data={**fields, "person": staff["per"]})
    assert answer.status_code == 404
    assert _count(engine, PhotoSubject) == 0


def test_an_auditor_reads_the_photo_page_and_may_change_nothing(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    fields = form_of(client, f"/photos/{photo}", f"/photos/{photo}/tags")
    _log_out(client)
    log_in(client, "aud")
    page = _page(client, f"/photos/{photo}")
    assert f"/photos/{photo}/tags" not in page
    assert "/photos/publish" not in page
    assert "<svg" in page
    fields = {**fields, "csrf_token": hidden_fields(page, "/logout")["csrf_token"]}
    answer = client.post(f"/photos/{photo}/tags", data={**fields, "person": staff["emma"]})
    assert answer.status_code == 403
    assert _count(engine, PhotoSubject) == 0


def test_a_registrar_may_not_publish(client: FlaskClient, staff: dict[str, str]) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    page = _page(client, f"/photos/{photo}")
    assert "/photos/publish" not in page
    fields = hidden_fields(page, "/logout")
    answer = client.post("/photos/publish", data={**fields, "photo": photo, "purpose": "facebook"})
    assert answer.status_code == 403


def test_the_photo_page_is_recorded_as_a_view_of_the_people_shown(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    photo = uploaded(client)
    tag(client, photo, staff["emma"], face="1")
    _page(client, f"/photos/{photo}")
    ids, _view = [v for v in _views(engine) if v[1] == "photo"][-1]
    assert ids["photo"] == photo
    assert ids["subjects"] == [staff["emma"]]
