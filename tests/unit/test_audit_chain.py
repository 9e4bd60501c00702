"""The leaf hash's text is canonical JSON, byte for byte, whatever the strings hold: it is built
by hand for speed, so these tests hold it to the formula in the module's docstring."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from consentreg.domain.audit_chain import canonical_json, format_instant, leaf_hash, leaf_text

AT = datetime(2026, 11, 22, 9, 30, 1, 5, tzinfo=UTC)
AWKWARD = [
    "",
    "plain",
    'quote " and backslash \\',
    "control \x00\x01\x1f and tab\t newline\n",
    "Ærlig Østerås Åse, émile, ñ, 中文, 😀",
    "line separators \u2028\u2029 and \x7f",
    '{"a":[1,2],"b":"x"}',
]


def _by_formula(seq: int, at: datetime, actor: str, action: str, ids: str, payload: str) -> str:
    return canonical_json(
        {
            "v": 1,
            "seq": seq,
            "at": format_instant(at),
            "actor": actor,
            "action": action,
            "object_ids": ids,
            "payload": payload,
        }
    )


@pytest.mark.parametrize("text", AWKWARD)
def test_leaf_text_is_canonical_json_for_awkward_strings(text: str) -> None:
    built = leaf_text(seq=7, at=AT, actor=text, action=text, object_ids=text, payload=text)
    assert built == _by_formula(7, AT, text, text, text, text)


def test_leaf_hash_is_sha256_of_zero_byte_and_the_text() -> None:
    other_zone = AT.astimezone(timezone(timedelta(hours=1)))  # same instant, other offset
    leaf = leaf_hash(seq=12, at=other_zone, actor="a", action="b", object_ids="{}", payload="{}")
    text = _by_formula(12, AT, "a", "b", "{}", "{}")
    assert leaf == hashlib.sha256(b"\x00" + text.encode()).digest()
    # pinned: changing the format would orphan every stored chain
    assert (
        leaf.hex()
        == hashlib.sha256(
            b'\x00{"action":"b","actor":"a","at":"2026-11-22T09:30:01.000005Z",'
            b'"object_ids":"{}","payload":"{}","seq":12,"v":1}'
        ).hexdigest()
    )


def test_a_seq_that_is_not_an_int_is_refused() -> None:
    with pytest.raises(TypeError):
        leaf_text(seq=True, at=AT, actor="a", action="b", object_ids="{}", payload="{}")
