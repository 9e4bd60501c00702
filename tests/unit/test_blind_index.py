"""Blind indexes are looked up by value, so they must never change for a key: a register built
by an earlier version must still find its people by name and reference."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from consentreg.crypto import Keyring

KEYS = Keyring.from_master(bytes(range(32)))


@pytest.mark.parametrize(
    ("value", "index", "expected"),
    [
        ("emma", "people.name", "8e6def1b20865ff5"),  # as version 0.1.0 computed them
        ("k001", "people.ref", "21e16d32305af03c"),
    ],
)
def test_blind_index_of_a_known_key_is_stable(value: str, index: str, expected: str) -> None:
    assert KEYS.blind_index(value, index=index) == expected


@pytest.mark.parametrize("value", ["", "sæther", "ø" * 300, "a b"])
def test_blind_index_is_the_truncated_hmac_under_the_index_key(value: str) -> None:
    key = hmac.new(KEYS.index_root, b"people.name", hashlib.sha256).digest()
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]
    assert KEYS.blind_index(value, index="people.name") == expected
