"""Which tag accounts for which face (docs/rules.md, "Faces (R17)"), both sides of each
threshold."""

from __future__ import annotations

import pytest

from consentreg.domain.faces import Box, FaceTag, cover, parse_region

FACE: Box = (100, 100, 100, 100)


@pytest.mark.parametrize(
    ("region", "covers"),
    [
        ((90, 90, 120, 120), True),  # around the face
        ((100, 100, 100, 100), True),  # the same box
        ((50, 50, 400, 600), True),  # around the whole person: the face is inside
        ((150, 100, 100, 100), True),  # half of the face inside
        ((152, 100, 100, 100), True),  # 48 % inside, but IoU 0.32
        ((155, 100, 100, 100), False),  # 45 % inside, IoU 0.29
        ((160, 100, 100, 100), False),  # 40 % inside, IoU 0.25
        ((120, 120, 40, 40), True),  # a region inside the face (IoU 0.16, but all inside it)
        ((300, 300, 50, 50), False),  # elsewhere
    ],
)
def test_a_region_covers_a_face_when_half_of_it_is_inside(region: Box, covers: bool) -> None:
    found = cover([FACE], [FaceTag("p1", region)])
    assert found.covered_by == (("p1",) if covers else (None,))
    assert found.unaccounted == (0 if covers else 1)


def test_one_region_around_two_faces_covers_only_one() -> None:
    faces = [(100, 100, 50, 50), (300, 100, 50, 50)]
    found = cover(faces, [FaceTag("p1", (0, 0, 1000, 1000))])
    assert found.covered_by.count("p1") == 1
    assert found.unaccounted == 1


def test_the_closest_region_wins_each_face() -> None:
    faces = [(100, 100, 50, 50), (160, 100, 50, 50)]
    tags = [FaceTag("right", (150, 90, 70, 70)), FaceTag("left", (90, 90, 70, 70))]
    assert cover(faces, tags).covered_by == ("left", "right")


def test_tags_without_a_region_count_for_as_many_faces() -> None:
    faces = [(0, 0, 10, 10), (50, 0, 10, 10), (100, 0, 10, 10)]
    assert cover(faces, [FaceTag("a", None), FaceTag("b", None)]).unaccounted == 1
    tags = [FaceTag("a", None), FaceTag("b", None), FaceTag("c", None)]
    assert cover(faces, tags).unaccounted == 0


def test_a_region_that_covers_no_face_accounts_for_no_other_face() -> None:
    faces = [(0, 0, 10, 10)]
    assert cover(faces, [FaceTag("a", (500, 500, 10, 10))]).unaccounted == 1


def test_no_faces_need_no_tags() -> None:
    assert cover([], []).unaccounted == 0


@pytest.mark.parametrize(
    ("text", "box"),
    [
        ("10,20,30,40", (10, 20, 30, 40)),
        ("0.5,0.25,0.1,0.2", (500, 125, 100, 100)),
        ("0,0,1,1", (0, 0, 1000, 500)),
        ("1,1,2,2", (1, 1, 2, 2)),
        ("x,1,2,2", None),
    ],
)
def test_a_region_is_pixels_or_fractions_of_the_frame(text: str, box: Box | None) -> None:
    assert parse_region(text, 1000, 500) == box
