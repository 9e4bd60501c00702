"""Checkpoint arithmetic and format, no database: the RFC 6962 known answers for the Merkle
roots, and the signed-note probes (after C2SP signed-note and sigstore's known-bad notes), each
rejected with its own message."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from consentreg.crypto import Signer, create_signing_key_file
from consentreg.errors import ConfigError
from consentreg.services.audit.checkpoint import (
    CheckpointError,
    format_body,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from consentreg.services.audit.events import merkle_root, merkle_roots

RFC6962_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
RFC6962_LEAVES.append("606162636465666768696a6b6c6d6e6f")
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _rfc_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 read literally: MTH(D[n]) = H(1 || MTH(D[0:k]) || MTH(D[k:n]))."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(
        b"\x01" + _reference_root(leaves[:k]) + _reference_root(leaves[k:])
    ).digest()


def test_merkle_roots_reproduce_the_rfc_6962_known_answers() -> None:
    leaves = [_rfc_leaf(bytes.fromhex(h)) for h in RFC6962_LEAVES]
    roots = merkle_roots(leaves, range(9))
    assert [roots[n].hex() for n in range(9)] == RFC6962_ROOTS
    assert merkle_root([]).hex() == RFC6962_ROOTS[0]


def test_merkle_roots_of_every_size_agree_with_the_recursive_definition() -> None:
    leaves = [_rfc_leaf(i.to_bytes(2, "big")) for i in range(70)]
    roots = merkle_roots(leaves, range(1, 71))
    assert all(roots[n] == _reference_root(leaves[:n]) for n in range(1, 71))
    assert 71 not in merkle_roots(leaves, [71])


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    path = tmp_path / "signing.key"
    create_signing_key_file(path)
    return Signer.load(path)


@pytest.fixture
def other_signer(tmp_path: Path) -> Signer:
    path = tmp_path / "other.key"
    create_signing_key_file(path)
    return Signer.load(path)


def _note(signer: Signer, *, size: str = "5", origin: str | None = None) -> str:
    key = verifier_key(signer.public_key_bytes())
    root = base64.b64encode(bytes(32)).decode()
    body = f"{origin or key.name}\n{size}\n{root}\nhead {'ab' * 32}\ntime 2026-11-22T10:00:00.000000Z\n"
    return sign_note(body, signer)


def test_a_well_formed_note_parses_and_an_unknown_extra_signature_is_ignored(
    signer: Signer, other_signer: Signer
) -> None:
    note = _note(signer)
    foreign = sign_note(note.split("\n\n")[0] + "\n", other_signer).split("\n\n")[1]
    checkpoint = parse_checkpoint(
        (note + foreign).encode(), keys=verifier_key(signer.public_key_bytes())
    )
    assert (checkpoint.size, checkpoint.root, checkpoint.head) == (5, bytes(32), "ab" * 32)


def _flip_signature_bit(note: str) -> str:
    body, line = note.split("\n\n")
    dash, name, sig = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 0x01
    return f"{body}\n\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"


def _wrong_key_hint(note: str) -> str:
    body, line = note.split("\n\n")
    dash, name, sig = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[0] ^= 0xFF
    return f"{body}\n\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"


PROBES = {
    "one bit flipped in the signature": (_flip_signature_bit, "does not verify"),
    "a key ID hint that is not the pinned key's": (_wrong_key_hint, "no signature by a trusted"),
    "no blank line": (lambda n: n.replace("\n\n", "\n"), "no blank line"),
    "two blank lines": (lambda n: n.replace("\n\n", "\n\n\n"), "more than one blank line"),
    "no final newline": (lambda n: n.rstrip("\n"), "does not end with a newline"),
    "no signature": (lambda n: n.split("\n\n")[0] + "\n\n", "no signature"),
    "a control character": (lambda n: n.replace("time ", "time\x07"), "control character"),
    "a malformed signature line": (lambda n: n.replace("\u2014 ", "- "), "malformed signature"),
}


@pytest.mark.parametrize("probe", list(PROBES))
def test_every_corrupted_note_is_rejected_with_its_own_message(signer: Signer, probe: str) -> None:
    corrupt, message = PROBES[probe]
    key = verifier_key(signer.public_key_bytes())
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint(corrupt(_note(signer)).encode(), keys=key)


@pytest.mark.parametrize(
    ("size", "message"),
    [("05", "leading zeros"), ("-5", "leading zeros"), ("five", "leading zeros")],
)
def test_a_size_that_is_not_a_plain_decimal_is_rejected(
    signer: Signer, size: str, message: str
) -> None:
    key = verifier_key(signer.public_key_bytes())
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint(_note(signer, size=size).encode(), keys=key)


def test_invalid_utf8_a_short_root_another_origin_and_another_key_are_rejected(
    signer: Signer, other_signer: Signer
) -> None:
    key = verifier_key(signer.public_key_bytes())
    short_root = sign_note(
        format_body(origin=key.name, size=1, root=bytes(31), head="ab" * 32, time="t"), signer
    )
    cases = {
        b"\xff\xfe" + _note(signer).encode(): "not valid UTF-8",
        short_root.encode(): "not 32 bytes",
        _note(signer, origin="consentreg/elsewhere").encode(): "origin",
        _note(other_signer).encode(): "no signature by a trusted key",
    }
    for data, message in cases.items():
        with pytest.raises(CheckpointError, match=message):
            parse_checkpoint(data, keys=key)


def test_a_verifier_key_round_trips_and_a_forged_one_is_refused(signer: Signer) -> None:
    key = verifier_key(signer.public_key_bytes())
    assert parse_verifier_key(key.text + "\n") == key
    name, _, encoded = key.text.split("+", 2)
    with pytest.raises(ConfigError):
        parse_verifier_key(f"{name}+{'0' * 8}+{encoded}")
    with pytest.raises(ConfigError):
        parse_verifier_key("not a key")
