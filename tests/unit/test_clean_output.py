"""What reaches the terminal is cleaned of control and bidi-override characters."""

from __future__ import annotations

from consentreg.display import _CONTROL, clean


def test_control_and_bidi_override_characters_are_replaced_tabs_and_newlines_kept() -> None:
    assert clean("Ola\u202eNordmann\x1b[2J\tok\n") == "Ola?Nordmann?[2J\tok\n"
    assert clean("Åse Ørnes, 9B") == "Åse Ørnes, 9B"
    assert clean(42) == "42"


def test_every_character_is_cleaned_exactly_as_the_pattern_says() -> None:
    """The fast path for printable text leaves nothing through that the pattern would replace."""
    for point in range(0x110000):
        char = chr(point)
        assert clean(char) == _CONTROL.sub("?", char), hex(point)
