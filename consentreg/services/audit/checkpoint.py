"""Signed checkpoints in the C2SP `tlog-checkpoint` / `signed-note` format (as Go sumdb, Sigstore
and transparency-dev witnesses use), Ed25519 via consentreg.crypto.

    consentreg/<16 hex of SHA-256(public key)>      origin, also the key name
    <log size, decimal>
    <base64 RFC 6962 Merkle root over the events' leaf hashes>
    head <hex chain hash of the last event>          extension line
    time <YYYY-MM-DDTHH:MM:SS.ffffffZ>               extension line
    <blank line>
    — <key name> <base64(4-byte key ID || signature)>

Key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. Signatures by unknown keys
are ignored; a note with no signature by a trusted key (the register's list of signing keys, one
per PC, or the one key an auditor pins), or a failing one, is rejected. The verifier key is
exported as `<name>+<hex key ID>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from consentreg.crypto import Signer, verify_signature

# CheckpointError lived here before it moved to consentreg.errors: still importable from here
from consentreg.errors import CheckpointError as CheckpointError
from consentreg.errors import ConfigError
from consentreg.i18n import msg

ORIGIN_PREFIX = "consentreg/"
ED25519 = b"\x01"
EM_DASH = "\u2014"
_SIZE = re.compile(r"0|[1-9][0-9]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIGNATURE = re.compile(rf"{EM_DASH} (\S+) ([A-Za-z0-9+/=]+)")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Checkpoint:
    """A parsed, signature-checked checkpoint."""

    origin: str
    size: int
    root: bytes
    head: str | None
    time: str | None


@dataclass(frozen=True)
class VerifierKey:
    """The public half of the signing key, as auditors pin it."""

    name: str
    key_id: str
    public_key: bytes

    @property
    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id}+{encoded}"


def log_origin(public_key: bytes) -> str:
    """This installation's log identity, derived from its signing key."""
    return ORIGIN_PREFIX + hashlib.sha256(public_key).hexdigest()[:16]


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(public_key: bytes) -> VerifierKey:
    name = log_origin(public_key)
    return VerifierKey(name, key_id(name, public_key).hex(), public_key)


def parse_verifier_key(text: str) -> VerifierKey:
    """Read a key exported by `audit public-key`; ConfigError (exit 2) when it is not one."""
    parts = text.strip().split("+", 2)  # base64 may contain "+" itself
    try:
        raw = base64.b64decode(parts[2], validate=True) if len(parts) == 3 else b""
    except binascii.Error:
        raw = b""
    if len(raw) != 33 or raw[:1] != ED25519:
        raise ConfigError("the public key file is not a consentreg verifier key")
    key = verifier_key(raw[1:])
    if (parts[0], parts[1]) != (key.name, key.key_id):
        raise ConfigError("the public key file's name or key ID does not match its key")
    return key


def format_body(*, origin: str, size: int, root: bytes, head: str, time: str) -> str:
    root_b64 = base64.b64encode(root).decode()
    return f"{origin}\n{size}\n{root_b64}\nhead {head}\ntime {time}\n"


def sign_note(body: str, signer: Signer) -> str:
    """The body followed by one signature line by this installation's key."""
    key = verifier_key(signer.public_key_bytes())
    signature = bytes.fromhex(key.key_id) + signer.sign(body.encode())
    return f"{body}\n{EM_DASH} {key.name} {base64.b64encode(signature).decode()}\n"


def _split(data: bytes) -> tuple[str, list[str]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("checkpoint is not valid UTF-8") from None
    if _CONTROL.search(text):
        raise CheckpointError("checkpoint contains a control character")
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint does not end with a newline")
    body, blank, signatures = text.partition("\n\n")
    if not blank:
        raise CheckpointError("checkpoint has no blank line before its signatures")
    if "\n\n" in signatures or signatures.startswith("\n"):
        raise CheckpointError("checkpoint has more than one blank line")
    lines = signatures.removesuffix("\n").split("\n") if signatures else []
    if not lines:
        raise CheckpointError("checkpoint has no signature")
    return body + "\n", lines


def _check_signatures(body: str, lines: list[str], keys: Sequence[VerifierKey]) -> VerifierKey:
    """The trusted key whose signature verifies; a note signed by none of them is rejected, and
    so is one with a failing signature by one of them."""
    by_name = {(k.name, k.key_id): k for k in keys}
    verified: VerifierKey | None = None
    for line in lines:
        match = _SIGNATURE.fullmatch(line)
        if match is None:
            raise CheckpointError("checkpoint has a malformed signature line")
        try:
            signature = base64.b64decode(match[2], validate=True)
        except binascii.Error:
            raise CheckpointError("checkpoint signature is not base64") from None
        if len(signature) < 5:
            raise CheckpointError("checkpoint signature is too short")
        key = by_name.get((match[1], signature[:4].hex()))
        if key is None:
            continue  # another key's signature: ignored, as the spec says
        if not verify_signature(key.public_key, signature[4:], body.encode()):
            raise CheckpointError(
                msg(
                    "checkpoint signature by trusted key {key_name} does not verify",
                    key_name=key.name,
                )
            )
        verified = verified or key
    if verified is None:
        raise CheckpointError("checkpoint carries no signature by a trusted key")
    return verified


def _parse_body(body: str) -> Checkpoint:
    lines = body.removesuffix("\n").split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs an origin, a size and a root")
    origin, size, root_b64, *extensions = lines
    if not _SIZE.fullmatch(size):
        raise CheckpointError("checkpoint size is not a decimal number without leading zeros")
    try:
        root = base64.b64decode(root_b64, validate=True)
    except binascii.Error:
        raise CheckpointError("checkpoint root is not base64") from None
    if len(root) != 32:
        raise CheckpointError("checkpoint root is not 32 bytes")
    extra = {name: value for name, _, value in (line.partition(" ") for line in extensions)}
    head = extra.get("head")
    if head is not None and not _HEX64.fullmatch(head):
        raise CheckpointError("checkpoint head is not a SHA-256 in hex")
    return Checkpoint(origin, int(size), root, head, extra.get("time"))


def parse_checkpoint(data: bytes, *, keys: VerifierKey | Sequence[VerifierKey]) -> Checkpoint:
    """Parse a signed note strictly and check it is signed by one of the trusted keys (the
    register's list, or the one key an auditor pinned), with that key's origin."""
    trusted = [keys] if isinstance(keys, VerifierKey) else list(keys)
    body, signatures = _split(data)
    key = _check_signatures(body, signatures, trusted)
    checkpoint = _parse_body(body)
    if checkpoint.origin != key.name:
        raise CheckpointError("checkpoint origin is not the signing key's log origin")
    return checkpoint
