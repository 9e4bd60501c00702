"""The audit chain's hashing, pure and versioned so `audit verify` can recompute it.

leaf  = SHA-256(0x00 || canonical JSON of (seq, at, actor, action, object_ids, payload))
chain = SHA-256("consentreg/chain/v1" || previous chain hash || leaf)
Canonical JSON: sorted keys, no spaces, UTF-8, timestamps as YYYY-MM-DDTHH:MM:SS.ffffffZ.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from json.encoder import encode_basestring as _string  # what json.dumps uses for a str
from typing import Any

GENESIS = "0" * 64
_CHAIN_TAG = b"consentreg/chain/v1"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """One encoder for every call (json.dumps with options builds a new one each time)."""
    return _CANONICAL.encode(value)


def format_instant(instant: datetime) -> str:
    """YYYY-MM-DDTHH:MM:SS.ffffffZ (isoformat gives the same text as strftime, several times
    faster; verification formats millions of them). The last instant formatted is remembered:
    an import's events all carry the command's one `now` object."""
    global _last_instant
    given, text = _last_instant  # one tuple, read and replaced whole: safe between threads
    if instant is not given:
        text = instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        text += "Z"
        _last_instant = (instant, text)
    return text


_last_instant: tuple[datetime | None, str] = (None, "")


def leaf_text(
    *, seq: int, at: datetime, actor: str, action: str, object_ids: str, payload: str
) -> str:
    """The canonical JSON a leaf hashes, with the keys in sorted order. Built by hand rather than
    through `canonical_json` (verification makes millions of them); the text is identical, as
    tests/unit/test_audit_chain.py checks: strings are escaped by the json module's own encoder."""
    if type(seq) is not int:  # bool is an int too, and would print as True
        raise TypeError("seq must be an int")
    return (
        f'{{"action":{_string(action)},"actor":{_string(actor)},"at":"{format_instant(at)}",'
        f'"object_ids":{_string(object_ids)},"payload":{_string(payload)},"seq":{seq},"v":1}}'
    )


def leaf_hash(
    *, seq: int, at: datetime, actor: str, action: str, object_ids: str, payload: str
) -> bytes:
    """`object_ids` and `payload` are the canonical JSON texts as stored."""
    text = leaf_text(
        seq=seq, at=at, actor=actor, action=action, object_ids=object_ids, payload=payload
    )
    return hashlib.sha256(b"\x00" + text.encode()).digest()


def chain_hash(prev_hash: str, leaf: bytes) -> str:
    return hashlib.sha256(_CHAIN_TAG + bytes.fromhex(prev_hash) + leaf).hexdigest()
