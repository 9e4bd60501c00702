"""Encryption at rest, blind indexes and signing: the only module that imports `cryptography`.

Keys: one 32-byte master key in a file of mode 0600 (created by `init`); sub-keys are derived
with HKDF for each use, so an index key never encrypts and a field key never indexes.

Field format: version byte 0x01 || 12-byte random nonce || AES-256-GCM ciphertext+tag, with the
table, column and row id bound as associated data: a value copied into another row or column
does not decrypt.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentreg.config import file_error
from consentreg.errors import ConfigError

# TamperedDataError lived here before it moved to consentreg.errors: still importable from here
from consentreg.errors import TamperedDataError as TamperedDataError

_FIELD_VERSION = b"\x01"
_NONCE_BYTES = 12
# Blind indexes are truncated to 64 bits: enough to make false positives rare at municipal scale
# (10^5-10^6 values), and every hit is confirmed by decrypting, so a collision never misleads.
BLIND_INDEX_HEX = 16


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_private_file(path: Path, what: str) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist: run `consentreg init`") from None
    except OSError as exc:
        raise _unreadable(path, what, exc) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{what} {path} is not a regular file")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{what} {path} is readable by group or others (mode {stat.S_IMODE(info.st_mode):o});"
            f" run `chmod 600 {path}`"
        )


def _unreadable(path: Path, what: str, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot read the {what} {path} ({exc.strerror or type(exc).__name__})")


def _read_private_file(path: Path, what: str) -> bytes:
    _check_private_file(path, what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, what, exc) from None


def _write_private_file(path: Path, content: bytes, *, what: str) -> None:
    """Write a new file of mode 0600 whole, or not at all: a file half-written (a full disk) is
    removed, so that the next `init` writes it again instead of finding a broken key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise file_error(exc, folder=path.parent, doing=f"create the {what} {path}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise file_error(exc, folder=path.parent, doing=f"write the {what} {path}") from None


def create_key_file(path: Path) -> bool:
    """Create a new master key file (mode 0600); False if one already exists."""
    if path.exists():
        return False
    _write_private_file(path, base64.b64encode(os.urandom(32)) + b"\n", what="key file")
    return True


def create_signing_key_file(path: Path) -> bool:
    """Create the Ed25519 key that signs audit checkpoints; False if one exists."""
    if path.exists():
        return False
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private_file(path, pem, what="signing key file")
    return True


def _hkdf(master: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(master)


@dataclass(frozen=True)
class Keyring:
    """Derived keys for one installation. Build with `Keyring.load(path)`."""

    field_key: bytes
    blob_key: bytes
    index_root: bytes

    @classmethod
    def load(cls, path: Path) -> Keyring:
        data = _read_private_file(path, "key file")
        try:
            master = base64.b64decode(data.strip(), validate=True)
        except ValueError:
            raise ConfigError(f"key file {path} is not a consentreg key") from None
        if len(master) != 32:
            raise ConfigError(f"key file {path} is not a consentreg key")
        return cls.from_master(master)

    @classmethod
    def from_master(cls, master: bytes) -> Keyring:
        return cls(
            field_key=_hkdf(master, "consentreg/field/v1"),
            blob_key=_hkdf(master, "consentreg/blob/v1"),
            index_root=_hkdf(master, "consentreg/bidx/v1"),
        )

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> bytes:
        return self.encrypt_bytes(plaintext.encode(), aad=_field_aad(table, column, row_id))

    def decrypt(self, token: bytes, *, table: str, column: str, row_id: str) -> str:
        return self.decrypt_bytes(token, aad=_field_aad(table, column, row_id)).decode()

    def field_decryptor(self, *, table: str, column: str) -> Callable[[bytes, str], str]:
        """`decrypt` for one column of many rows, as `decryptor(token, row_id)`: the cipher and
        the column's associated-data prefix are looked up once (a register read decrypts a
        hundred thousand birth dates)."""
        cipher, prefix = _cipher(self.field_key), _field_aad(table, column, "")
        return lambda token, row_id: _open(cipher, token, prefix + row_id.encode()).decode()

    def encrypt_bytes(self, data: bytes, *, aad: bytes, key: bytes | None = None) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FIELD_VERSION + nonce + _cipher(key or self.field_key).encrypt(nonce, data, aad)

    def decrypt_bytes(self, token: bytes, *, aad: bytes, key: bytes | None = None) -> bytes:
        return _open(_cipher(key or self.field_key), token, aad)

    def encrypt_blob(self, data: bytes, *, blob_id: str) -> bytes:
        """Encrypt a whole evidence file as releases before revision 0007 stored them in
        `$CONSENTREG_HOME/evidence` (kept to read and test those files); the blob id is bound
        as associated data."""
        return self.encrypt_bytes(
            data, aad=b"consentreg/blob/v1|" + blob_id.encode(), key=self.blob_key
        )

    def decrypt_blob(self, token: bytes, *, blob_id: str) -> bytes:
        return self.decrypt_bytes(
            token, aad=b"consentreg/blob/v1|" + blob_id.encode(), key=self.blob_key
        )

    def blind_index(self, value: str, *, index: str) -> str:
        """Keyed HMAC of an already normalised value; one derived key per index name. (The
        one-shot `hmac.digest` is OpenSSL's HMAC in one call; an import computes four per
        person.)"""
        key = hmac.digest(self.index_root, index.encode(), "sha256")
        return hmac.digest(key, value.encode(), "sha256").hex()[:BLIND_INDEX_HEX]


@functools.lru_cache(maxsize=8)
def _cipher(key: bytes) -> AESGCM:
    """One cipher object per key: building one costs more than decrypting a short field, and
    a register read decrypts a hundred thousand of them."""
    return AESGCM(key)


def _open(cipher: AESGCM, token: bytes, aad: bytes) -> bytes:
    if token[:1] != _FIELD_VERSION or len(token) < 1 + _NONCE_BYTES + 16:
        raise TamperedDataError("an encrypted value has an unknown format")
    nonce, body = token[1 : 1 + _NONCE_BYTES], token[1 + _NONCE_BYTES :]
    try:
        return cipher.decrypt(nonce, body, aad)
    except InvalidTag:
        raise TamperedDataError(
            "an encrypted value does not belong where it is stored (wrong key or tampering)"
        ) from None


class ChunkCipher:
    """The chunks of one stored evidence blob: each chunk is AES-256-GCM on its own, with the
    blob's ID, the chunk's index and the number of chunks bound as associated data, so a chunk
    moved to another blob or place, a chunk left out or a blob cut short does not decrypt. The
    key is explicit (today the register's blob key; a person's own key once erasure exists)."""

    def __init__(self, key: bytes, *, blob_id: str, count: int) -> None:
        self._cipher, self._count = AESGCM(key), count
        self._prefix = f"consentreg/chunk/v1|{blob_id}|{count}|".encode()

    def seal(self, index: int, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FIELD_VERSION + nonce + self._cipher.encrypt(nonce, data, self._aad(index))

    def open(self, index: int, token: bytes) -> bytes:
        return _open(self._cipher, token, self._aad(index))

    def _aad(self, index: int) -> bytes:
        if not 0 <= index < self._count:
            raise TamperedDataError(f"chunk {index} is outside the blob's {self._count} chunks")
        return self._prefix + str(index).encode()


class StreamHash:
    """SHA-256 of data given piece by piece (the plaintext of a large scan)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _field_aad(table: str, column: str, row_id: str) -> bytes:
    return f"consentreg/field/v1|{table}|{column}|{row_id}".encode()


class Signer:
    """Ed25519 signatures for audit checkpoints."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def load(cls, path: Path) -> Signer:
        data = _read_private_file(path, "signing key file")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise ConfigError(f"signing key file {path} is not an Ed25519 key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"signing key file {path} is not an Ed25519 key")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def public_key_bytes(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
