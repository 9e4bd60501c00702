"""consentreg.i18n: the language chosen as gettext would (and by --lang / CONSENTREG_LANG), and
messages that keep their English text while rendering in bokmål on display."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest

from consentreg import i18n
from consentreg.errors import InvalidInputError
from consentreg.i18n import choose, joined, localize, msg


@pytest.fixture
def bokmaal() -> Iterator[None]:
    i18n.use("nb")
    yield
    i18n.use("en")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "nb_NO.UTF-8"}, "nb"),
        ({"LANG": "no_NO"}, "nb"),
        ({"LANG": "nn_NO.UTF-8"}, "nb"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "nb_NO.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL before LANG
        ({"LANG": "C", "LC_MESSAGES": "nb_NO.UTF-8"}, "nb"),
        ({"LANG": "C", "LANGUAGE": "sv:nb:en"}, "nb"),  # LANGUAGE first, a list
        ({"LANG": "nb_NO.UTF-8", "LANGUAGE": "en_GB:nb"}, "en"),
        ({"LANG": "C", "CONSENTREG_LANG": "nb"}, "nb"),
        ({"LANG": "nb_NO.UTF-8", "CONSENTREG_LANG": "en"}, "en"),
    ],
)
def test_the_language_follows_the_environment_as_gettext_reads_it(
    environ: dict[str, str], expected: str
) -> None:
    assert choose(None, environ) == expected


def test_an_explicit_choice_wins() -> None:
    assert choose("en", {"LANG": "nb_NO.UTF-8", "CONSENTREG_LANG": "nb"}) == "en"
    assert choose("nb", {"LANG": "C"}) == "nb"


def test_a_message_is_english_text_and_bokmaal_on_display(bokmaal: None) -> None:
    del bokmaal
    who = msg("guardian {id}", id="ab12cd34")
    reason = msg("{who} has not consented", who=who)
    assert reason == "guardian ab12cd34 has not consented"  # logs, --json, str()
    assert localize(reason) == "foresatt ab12cd34 har ikke samtykket"
    error = InvalidInputError(msg("unit {code!r} already exists", code="bhg"))
    assert str(error) == "unit 'bhg' already exists"
    assert localize(error.args[0]) == "enheten 'bhg' finnes allerede"


def test_a_list_of_messages_is_rendered_item_by_item(bokmaal: None) -> None:
    del bokmaal
    items = joined("; ", [msg("missing {columns}", columns="navn"), "as {is}"])
    assert items == "missing navn; as {is}"
    assert localize(items) == "mangler navn; as {is}"


def test_a_message_crosses_process_boundaries() -> None:
    reason = msg("{who} has refused", who=msg("subject {id}", id="x1"))
    back = pickle.loads(pickle.dumps(reason))  # noqa: S301 - our own object
    assert back == reason
    assert back.template == reason.template
    i18n.use("nb")
    try:
        assert localize(back) == "person x1 har sagt nei"
    finally:
        i18n.use("en")


def test_a_broken_translation_shows_the_english_text(
    bokmaal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    del bokmaal

    class Broken:
        def gettext(self, _message: str) -> str:
            return "{nope}"

    monkeypatch.setattr(i18n, "translations", lambda _language: Broken())
    assert localize(msg("unit {code!r} already exists", code="bhg")) == "unit 'bhg' already exists"


def test_english_is_the_catalog_of_no_translation() -> None:
    i18n.use("en")
    assert localize(msg("guardian {id}", id="x")) == "guardian x"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.use("de")


def test_the_names_of_a_language_the_option_takes() -> None:
    assert all(i18n.known(v) for v in ("nb", "no", "nn", "en", "nb_NO.UTF-8", "EN", "en-GB"))
    assert not any(i18n.known(v) for v in ("xx", "de", "english", "norsk"))
