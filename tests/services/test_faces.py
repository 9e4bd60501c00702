"""R17, every face counts (docs/rules.md, "Faces (R17)"): faces are found at `photo add`, and
the gate refuses a photo whose faces outnumber what its tags account for, naming the boxes no
tag covers. Real faces (scikit-image's public-domain astronaut) for detection, synthetic scenes
for photos without anyone."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import update

from consentreg.db.models import Photo
from consentreg.errors import FaceDetectorMissingError, InvalidInputError, NotFoundError
from consentreg.imaging import faces as detection
from consentreg.services import faces, photos
from consentreg.services.audit.verify import failure_message, verify_log
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate
from tests import builders, face_images
from tests.conftest import NOW, ContextFactory
from tests.face_images import LEFT_HEAD, RIGHT_HEAD, region


@pytest.fixture
def children(unit_of_work: ContextFactory) -> list[str]:
    """Two children, each with a guardian's consent: only the faces can refuse."""
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        found = []
        for _ in range(2):
            child, (mother,) = builders.family(ctx, guardians=1)
            builders.grant(ctx, child, mother)
            found.append(child)
    return found


def _add(unit_of_work: ContextFactory, data: bytes) -> str:
    with unit_of_work() as ctx:
        (pid,) = photos.add_photos(
            ctx, files=[PhotoInput("IMG_1.jpg", data)], photographer="Kari Lærer"
        )
    return pid


def _tag_and_complete(
    unit_of_work: ContextFactory, pid: str, tags: Sequence[tuple[str, str | None, bool]]
) -> None:
    with unit_of_work() as ctx:
        for person, where, identifiable in tags:
            photos.tag_photo(
                ctx, photo_id=pid, subject=person, region=where, identifiable=identifiable
            )
        photos.complete_photo(ctx, photo_id=pid)


def _reasons(unit_of_work: ContextFactory, data: bytes) -> list[tuple[str, str]]:
    with unit_of_work(writer=False) as ctx:
        found = gate.check(
            ctx, input_sha256=hashlib.sha256(data).hexdigest(), purpose="facebook", at=NOW
        )
    return [(r.code.value, r.message) for r in found.decision.reasons]


def _faces(unit_of_work: ContextFactory, pid: str) -> list[photos.FaceView]:
    with unit_of_work(writer=False) as ctx:
        view = photos.show_photo(ctx, photo_id=pid)
    assert view.faces is not None
    return view.faces


def _inside(box: tuple[int, int, int, int], around: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    return (
        around[0] <= x
        and around[1] <= y
        and x + w <= sum(around[::2])
        and y + h <= sum(around[1::2])
    )


def test_photo_add_finds_both_faces_where_they_are(unit_of_work: ContextFactory) -> None:
    pid = _add(unit_of_work, face_images.two_faces())
    found = _faces(unit_of_work, pid)
    assert len(found) == 2
    assert _inside(found[0].box, LEFT_HEAD)
    assert _inside(found[1].box, RIGHT_HEAD)
    assert all(f.score >= detection.MIN_SCORE and f.covered_by is None for f in found)


def test_one_face_tagged_of_two_is_refused_naming_the_other_box(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    _tag_and_complete(unit_of_work, pid, [(children[0], region(LEFT_HEAD), True)])
    left, right = _faces(unit_of_work, pid)
    ((code, message),) = _reasons(unit_of_work, data)
    assert code == "faces_untagged"
    assert f"face 2 at {region(right.box)}" in message
    assert region(left.box) not in message
    assert _faces(unit_of_work, pid)[0].covered_by == children[0]


def test_both_faces_tagged_by_region_is_allowed(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    tags = [(children[0], region(LEFT_HEAD), True), (children[1], region(RIGHT_HEAD), True)]
    _tag_and_complete(unit_of_work, pid, tags)
    assert _reasons(unit_of_work, data) == []
    assert [f.covered_by for f in _faces(unit_of_work, pid)] == children


def test_a_person_tagged_not_identifiable_accounts_for_a_face(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    tags = [(children[0], region(LEFT_HEAD), True), (children[1], None, False)]
    _tag_and_complete(unit_of_work, pid, tags)
    assert _reasons(unit_of_work, data) == []


def test_tags_without_a_region_account_for_faces_by_count(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    _tag_and_complete(unit_of_work, pid, [(children[0], None, True)])
    ((code, message),) = _reasons(unit_of_work, data)
    assert code == "faces_untagged"
    assert "face 1 at" in message
    assert "face 2 at" in message
    _tag_and_complete(unit_of_work, pid, [(children[1], None, True)])
    assert _reasons(unit_of_work, data) == []


def test_a_region_around_the_whole_group_covers_one_face_only(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    _tag_and_complete(unit_of_work, pid, [(children[0], "0,0,900,500", True)])
    assert [code for code, _ in _reasons(unit_of_work, data)] == ["faces_untagged"]


def test_a_region_given_as_fractions_of_the_frame_covers_the_face(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    tags = [(children[0], "0.05,0.2,0.25,0.45", True), (children[1], "0.65,0.25,0.25,0.45", True)]
    _tag_and_complete(unit_of_work, pid, tags)
    assert _reasons(unit_of_work, data) == []


def test_a_photo_without_faces_is_unaffected(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.no_face()
    pid = _add(unit_of_work, data)
    assert _faces(unit_of_work, pid) == []
    _tag_and_complete(unit_of_work, pid, [(children[0], None, True)])
    assert _reasons(unit_of_work, data) == []


def _as_before_face_detection(unit_of_work: ContextFactory, pid: str) -> None:
    """The photo as revision 0009 left one registered before it: never looked at."""
    with unit_of_work() as ctx:
        ctx.session.execute(
            update(Photo).where(Photo.id == pid).values(faces=None, face_detector=None)
        )


def test_a_photo_registered_before_face_detection_is_refused_until_detected(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    _tag_and_complete(unit_of_work, pid, [(children[0], region(LEFT_HEAD), True)])
    _as_before_face_detection(unit_of_work, pid)
    ((code, message),) = _reasons(unit_of_work, data)
    assert code == "faces_unchecked"
    assert "photo detect" in message
    with unit_of_work() as ctx:
        (done,) = faces.detect_photos(ctx, files=[PhotoInput("IMG_1.jpg", data)])
    assert (done.photo_id, done.faces, done.done) == (pid, 2, True)
    assert [code for code, _ in _reasons(unit_of_work, data)] == ["faces_untagged"]
    with unit_of_work() as ctx:
        (again,) = faces.detect_photos(ctx, files=[PhotoInput("IMG_1.jpg", data)])
    assert not again.done


def test_photo_detect_refuses_a_file_that_is_not_registered(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx, pytest.raises(NotFoundError, match="stranger.jpg"):
        faces.detect_photos(ctx, files=[PhotoInput("stranger.jpg", face_images.no_face())])


def test_without_the_detector_photos_are_registered_unchecked_and_refused(
    unit_of_work: ContextFactory, children: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> detection.Detector:
        raise FaceDetectorMissingError("face detection is not installed")

    monkeypatch.setattr(detection, "load_detector", missing)
    data = face_images.no_face()
    with unit_of_work() as ctx:
        added = photos.register_photos(
            ctx, files=[PhotoInput("IMG_1.jpg", data)], photographer="Kari Lærer"
        )
    assert added.unchecked == added.ids
    _tag_and_complete(unit_of_work, added.ids[0], [(children[0], None, True)])
    assert [code for code, _ in _reasons(unit_of_work, data)] == ["faces_unchecked"]
    with unit_of_work() as ctx, pytest.raises(FaceDetectorMissingError):
        faces.detect_photos(ctx, files=[PhotoInput("IMG_1.jpg", data)])


def test_the_faces_are_logged_and_verified(
    unit_of_work: ContextFactory, children: list[str]
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    _as_before_face_detection(unit_of_work, pid)
    with unit_of_work() as ctx:
        report = verify_log(ctx)
    assert not report.ok  # the row no longer holds what photo.add logged
    with unit_of_work() as ctx:
        ctx.session.execute(
            update(Photo).where(Photo.id == pid).values(faces="[]", face_detector="forged")
        )
    with unit_of_work() as ctx:
        assert not verify_log(ctx).ok
    other = face_images.two_faces(background=(10, 20, 30))
    pid2 = _add(unit_of_work, other)
    _as_before_face_detection(unit_of_work, pid2)
    with unit_of_work() as ctx:
        ctx.session.execute(
            update(Photo).where(Photo.id == pid).values(faces=None, face_detector=None)
        )
    # found again by photo detect: the photo.faces events replay to what the rows hold
    with unit_of_work() as ctx:
        faces.detect_photos(ctx, files=[PhotoInput("a.jpg", data), PhotoInput("b.jpg", other)])
    with unit_of_work() as ctx:
        report = verify_log(ctx)
    assert report.ok, failure_message(report)


def test_the_preview_is_a_new_private_file(
    unit_of_work: ContextFactory, children: list[str], tmp_path: Path
) -> None:
    data = face_images.two_faces()
    pid = _add(unit_of_work, data)
    _tag_and_complete(unit_of_work, pid, [(children[0], region(LEFT_HEAD), True)])
    out = tmp_path / "preview.jpg"
    with unit_of_work(writer=False) as ctx:
        preview = faces.write_preview(ctx, data=data, out=out)
    assert preview.photo_id == pid
    assert preview.drawn_on_photo
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"\xff\xd8\xff")
    assert [f.covered_by for f in preview.faces or []] == [children[0], None]
    before = out.read_bytes()
    with unit_of_work(writer=False) as ctx, pytest.raises(InvalidInputError, match="exists"):
        faces.write_preview(ctx, photo=pid, out=out)
    assert out.read_bytes() == before
    blank = tmp_path / "blank.jpg"
    with unit_of_work(writer=False) as ctx:
        assert not faces.write_preview(ctx, photo=pid, out=blank).drawn_on_photo
    assert stat.S_IMODE(blank.stat().st_mode) == 0o600
