"""consentreg.domain.text: the checks every user-supplied text passes before it reaches either
database engine; both sides of every boundary."""

from __future__ import annotations

import pytest

from consentreg.domain import text
from consentreg.errors import InvalidInputError


@pytest.mark.parametrize(
    "value",
    [
        "Solsikken barnehage",
        "x" * 200,
        "Åse Ødegård-Bråten",
        "名前 · اسم",  # other scripts are text too
        "a\u00a0b",  # a no-break space: not a control character
    ],
)
def test_a_one_line_text_within_its_limit_passes_unchanged(value: str) -> None:
    assert text.check_line(value, field="--title", limit=200) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x" * 201, "--title is longer than 200 characters"),
        ("a\x00b", "--title contains a NUL character"),
        ("a\tb", "--title contains a control character (U+0009)"),
        ("a\nb", "--title contains a control character (U+000A)"),
        ("a\x1b[31mb", "--title contains a control character (U+001B)"),
        ("a\x7fb", "--title contains a control character (U+007F)"),
        ("a\x85b", "--title contains a control character (U+0085)"),
        ("a\x9fb", "--title contains a control character (U+009F)"),
        ("a\udcffb", "--title is not valid UTF-8 text"),
    ],
)
def test_a_one_line_text_is_refused_naming_the_field_never_the_value(
    value: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        text.check_line(value, field="--title", limit=200)
    assert str(caught.value) == problem


@pytest.mark.parametrize("value", ["line one\nline two", "a\tb", "windows\r\nlines\r\n", "x" * 50])
def test_a_multi_line_text_may_hold_tab_and_line_breaks(value: str) -> None:
    assert text.check_text(value, field="the notice text", limit=50) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x" * 51, "is longer than 50 characters"),
        ("a\x00b", "contains a NUL character"),
        ("a\x0bb", "contains a control character (U+000B)"),
        ("a\x0cb", "contains a control character (U+000C)"),
        ("a\x1bb", "contains a control character (U+001B)"),
        ("a\x80b", "contains a control character (U+0080)"),
    ],
)
def test_a_multi_line_text_refuses_nul_and_other_controls(value: str, problem: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        text.check_text(value, field="the notice text", limit=50)
    assert str(caught.value) == f"the notice text {problem}"


def test_a_problem_can_be_had_as_a_phrase_for_a_report_that_names_the_column() -> None:
    assert text.line_problem("ok", limit=2) is None
    assert text.line_problem("too long", limit=2) == "is longer than 2 characters"
    assert text.line_problem("a\x00", limit=9) == "contains a NUL character"


@pytest.mark.parametrize(
    ("value", "is_key"),
    [
        ("0123456789abcdef0123456789abcdef", True),
        ("facebook", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("face\x00book", False),
        ("facebook\n", False),
        ("\udcff", False),
    ],
)
def test_only_a_text_that_could_be_stored_is_looked_up(value: str, is_key: bool) -> None:
    assert text.is_key(value) is is_key


def test_the_limits_are_the_columns_lengths() -> None:
    from consentreg.db.models import Photo, PhotoSubject, Purpose, Unit

    def length(column: object) -> int:
        return int(column.type.length)  # type: ignore[attr-defined]

    assert length(Unit.__table__.c.code) == text.CODE
    assert length(Purpose.__table__.c.code) == text.CODE
    assert length(Unit.__table__.c.name) == text.NAME
    assert length(Purpose.__table__.c.title) == text.TITLE
    assert length(PhotoSubject.__table__.c.region) == text.REGION
    assert Photo.__table__.c.photographer_ct is not None  # encrypted: a bound of our own


def test_a_file_name_that_was_not_utf8_becomes_storable_text() -> None:
    latin1 = b"foto-\xe6\xf8.jpg".decode("utf-8", "surrogateescape")
    assert not text.is_utf8(latin1)
    assert text.file_name(latin1) == "foto-\ufffd\ufffd.jpg"
    assert text.file_name("foto-æø.jpg") == "foto-æø.jpg"
