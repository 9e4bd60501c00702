"""What reaches a reader never carries a hidden character raw: in text each control, format,
separator or unassigned character is shown as its escape; in JSON it is a \\u escape (the same
string to a parser); instants are printed in Oslo time with their offset."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime

import pytest

from consentreg.display import clean, instant, table, to_json

HOSTILE = [
    "Ola\nNordmann",  # a newline splits a row
    "Ola\r\nNordmann",
    "K001\u2028X",  # line separator
    "Emma\u202eNEROJ",  # right-to-left override: reverses how the rest reads
    "Ali\u2066x\u2069",  # isolates
    "\x1b[2J\x1b[31mrød",  # terminal escapes
    "Kari\x85Hansen",  # C1 next line
    "Sæ\u00adther",  # soft hyphen
    "Em\u200bma",  # zero-width space
    "\ufeffBOM",
    "tab\there",
    "nul\x00byte",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_shown_visibly_escaped_in_text(value: str) -> None:
    shown = clean(value)
    assert shown.isprintable()
    assert "\\" in shown  # the reader sees that something was there
    assert [line for line in table(["REF"], [[value]]) if line] == ["REF", shown]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_escaped_in_json_and_reads_back_the_same(value: str) -> None:
    text = to_json({"name": value})
    assert all(c.isprintable() or c in "\n " for c in text), (
        text
    )  # only the document's own line breaks and indentation
    assert json.loads(text) == {"name": value}


def test_names_keep_their_letters() -> None:
    for name in (
        "Åse Ørnes, 9B",
        "Emma Sæther-Hansen",
        "Zoë O'Neil",
        "Ola\u00a0Nordmann",
        "李小龍",
    ):
        assert clean(name) == name
    assert clean(42) == "42"


def test_every_hidden_character_is_escaped_and_every_other_kept() -> None:
    """The fast path for printable text agrees with the categories, over every code point."""
    hidden = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
    for point in range(0x110000):
        char = chr(point)
        shown = clean(char)
        if unicodedata.category(char) in hidden:
            assert shown.startswith("\\"), hex(point)
            assert shown.isprintable(), hex(point)
        else:
            assert shown == char, hex(point)


def test_instants_are_printed_in_oslo_time_with_their_offset() -> None:
    assert instant(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)) == "2026-12-07T02:00:00+01:00"
    assert instant(datetime(2026, 7, 7, 1, 0, tzinfo=UTC)) == "2026-07-07T03:00:00+02:00"
    assert '"2026-12-07T02:00:00+01:00"' in to_json({"at": datetime(2026, 12, 7, 1, tzinfo=UTC)})
