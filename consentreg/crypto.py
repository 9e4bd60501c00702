"""Encryption at rest, blind indexes and signing: the only module that imports `cryptography`.

Keys: one 32-byte master key in a file of mode 0600 (created by `init`); sub-keys are derived
with HKDF for each use, so an index key never encrypts and a field key never indexes.

Field format: version byte 0x01 || 12-byte random nonce || AES-256-GCM ciphertext+tag, with the
table, column and row id bound as associated data: a value copied into another row or column
does not decrypt.

A person's data (schema 0016, docs/architecture.md "Erasure") is under a data key of their own,
wrapped by a key derived from the master key: version byte 0x02 || the number of people || each
person's ID (a length byte and ASCII) || nonce || ciphertext+tag. With one person the key is
their data key itself; with several (a caption) it is derived from all of theirs, so erasing any
of them makes it unreadable. The people named are bound as associated data too. Once a
person's key is destroyed, `decrypt` answers ERASED instead of the value.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from consentreg.errors import ConfigError, InvalidInputError

# TamperedDataError lived here before it moved to consentreg.errors: still importable from here
from consentreg.errors import TamperedDataError as TamperedDataError
from consentreg.files import write_new_private
from consentreg.i18n import msg

_FIELD_VERSION = b"\x01"
_PERSON_VERSION = b"\x02"
PERSON_KEY_BYTES = 32
# what a value encrypted under an erased person's key reads as, everywhere it is shown
ERASED = "(erased)"
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
        raise ConfigError(
            msg("{what} {path} does not exist: run `consentreg init`", what=what, path=path)
        ) from None
    except OSError as exc:
        raise _unreadable(path, what, exc) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(msg("{what} {path} is not a regular file", what=what, path=path))
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            msg(
                "{what} {path} is readable by group or others (mode {stat_S_IMODE:o}); run `chmod 600 {path}`",
                what=what,
                path=path,
                stat_S_IMODE=stat.S_IMODE(info.st_mode),
            )
        )


def _unreadable(path: Path, what: str, exc: OSError) -> ConfigError:
    return ConfigError(
        msg(
            "cannot read the {what} {path} ({value})",
            what=what,
            path=path,
            value=exc.strerror or type(exc).__name__,
        )
    )


def _read_private_file(path: Path, what: str) -> bytes:
    _check_private_file(path, what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, what, exc) from None


def new_master_key() -> bytes:
    return os.urandom(32)


def write_key_file(path: Path, master: bytes) -> None:
    """Write a master key file (mode 0600); the file must not exist yet."""
    write_new_private(path, base64.b64encode(master) + b"\n", what="key file")


def create_key_file(path: Path) -> bool:
    """Create a new master key file (mode 0600); False if one already exists."""
    if path.exists():
        return False
    write_key_file(path, new_master_key())
    return True


def read_master_key(path: Path) -> bytes:
    """The 32 bytes of a master key file (checked private, as `Keyring.load` does)."""
    data = _read_private_file(path, "key file")
    try:
        master = base64.b64decode(data.strip(), validate=True)
    except ValueError:
        raise ConfigError(msg("key file {path} is not a consentreg key", path=path)) from None
    if len(master) != 32:
        raise ConfigError(msg("key file {path} is not a consentreg key", path=path))
    return master


def new_signing_key_pem() -> bytes:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_signing_key_file(path: Path, pem: bytes) -> None:
    write_new_private(path, pem, what="signing key file")


def create_signing_key_file(path: Path) -> bool:
    """Create the Ed25519 key that signs audit checkpoints; False if one exists."""
    if path.exists():
        return False
    write_signing_key_file(path, new_signing_key_pem())
    return True


def _hkdf(master: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(master)


@dataclass(frozen=True)
class Keyring:
    """Derived keys for one installation. Build with `Keyring.load(path)`."""

    field_key: bytes
    blob_key: bytes
    index_root: bytes
    # names the key without revealing it: the register stores it and every command compares
    fingerprint: str
    backup_root: bytes  # each backup file's key is derived from it with the file's salt
    person_wrap_key: bytes = b""  # wraps each person's data key (`person_keys.wrapped_key`)
    # the person keys one unit of work has used (`bound`); None outside a unit of work
    persons: PersonKeys | None = None

    @classmethod
    def load(cls, path: Path) -> Keyring:
        return cls.from_master(read_master_key(path))

    @classmethod
    def from_master(cls, master: bytes) -> Keyring:
        return cls(
            field_key=_hkdf(master, "consentreg/field/v1"),
            blob_key=_hkdf(master, "consentreg/blob/v1"),
            index_root=_hkdf(master, "consentreg/bidx/v1"),
            fingerprint=_hkdf(master, "consentreg/fingerprint/v1").hex(),
            backup_root=_hkdf(master, "consentreg/backup-root/v1"),
            person_wrap_key=_hkdf(master, "consentreg/person-wrap/v1"),
        )

    def bound(self, fetch: Callable[[Sequence[str]], Mapping[str, bytes | None]]) -> Keyring:
        """This keyring for one unit of work: person keys are fetched by `fetch` (person ID ->
        wrapped key, None once erased) when a value under one is first read, then kept."""
        return replace(self, persons=PersonKeys(self.person_wrap_key, fetch))

    def _persons(self) -> PersonKeys:
        if self.persons is None:
            raise ConfigError("person keys are read only within a unit of work")
        return self.persons

    def new_person_key(self, person_id: str) -> bytes:
        """A new data key for a new person, known to this unit of work; returns it wrapped
        (for `person_keys.wrapped_key`)."""
        raw = os.urandom(PERSON_KEY_BYTES)
        self._persons().add(person_id, raw)
        return self.wrap_person_key(raw, person_id)

    def unwrap_person_key(self, wrapped: bytes, person_id: str) -> bytes:
        """A person's data key; TamperedDataError when this is not the register's key."""
        return self.decrypt_bytes(wrapped, aad=_wrap_aad(person_id), key=self.person_wrap_key)

    def wrap_person_key(self, raw: bytes, person_id: str) -> bytes:
        return self.encrypt_bytes(raw, aad=_wrap_aad(person_id), key=self.person_wrap_key)

    def person_key_state(self, person_id: str) -> str:
        """ "own" (the person has a data key), "erased", or "register" (registered before
        schema 0016: their data is under the register's key)."""
        return self._persons().state(person_id)

    def person_blob_key(self, person_id: str) -> bytes | None:
        """The key of a person's evidence chunks; None once the person is erased."""
        raw = self._persons().raw(person_id)
        return None if raw is None else _subkey(raw, "consentreg/person-blob/v1")

    def encrypt(
        self,
        plaintext: str,
        *,
        table: str,
        column: str,
        row_id: str,
        person: str | Sequence[str] | None = None,
    ) -> bytes:
        """Encrypt a field; with `person` (an ID, or the IDs of everyone it is about) under
        that person's data key, so that erasing them makes it unreadable."""
        aad = _field_aad(table, column, row_id)
        if person is None or (not isinstance(person, str) and not person):
            return self.encrypt_bytes(plaintext.encode(), aad=aad)
        ids = [person] if isinstance(person, str) else sorted(set(person))
        head = _person_header(ids)
        cipher = self._person_field_cipher(ids)
        if cipher is None:
            raise ConfigError(f"person {ids[0]} is erased: nothing can be encrypted for them")
        nonce = os.urandom(_NONCE_BYTES)
        return head + nonce + cipher.encrypt(nonce, plaintext.encode(), aad + head)

    def _person_field_cipher(self, ids: Sequence[str]) -> AESGCM | None:
        """The cipher of values about these people: one person's own data key as it is (the
        cheapest to open: `audit consents` reads a birth date under each of 100,000 keys), or
        for several a key derived from all of theirs; None when any of them is erased."""
        persons = self._persons()
        if len(ids) == 1:
            return persons.field_cipher(ids[0])
        raws = [persons.raw(pid) for pid in ids]
        if any(raw is None for raw in raws):
            return None
        return _cipher(_subkey(b"".join(raw or b"" for raw in raws), "consentreg/people-field/v1"))

    def _open_person(self, token: bytes, aad: bytes) -> str:
        ids, offset = _parse_person_header(token)
        cipher = self._person_field_cipher(ids)
        if cipher is None:
            return ERASED
        return _open(cipher, _FIELD_VERSION + token[offset:], aad + token[:offset]).decode()

    def decrypt(self, token: bytes, *, table: str, column: str, row_id: str) -> str:
        """The value; ERASED for a value under the key of a person who was erased."""
        aad = _field_aad(table, column, row_id)
        if token[:1] == _PERSON_VERSION:
            return self._open_person(bytes(token), aad)
        return self.decrypt_bytes(token, aad=aad).decode()

    def field_decryptor(self, *, table: str, column: str) -> Callable[[bytes, str], str]:
        """`decrypt` for one column of many rows, as `decryptor(token, row_id)`: the cipher and
        the column's associated-data prefix are looked up once (a register read decrypts a
        hundred thousand birth dates)."""
        cipher, prefix = _cipher(self.field_key), _field_aad(table, column, "")

        def decrypt(token: bytes, row_id: str) -> str:
            if token[:1] == _PERSON_VERSION:
                return self._open_person(bytes(token), prefix + row_id.encode())
            return _open(cipher, token, prefix + row_id.encode()).decode()

        return decrypt

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

    def blind_indexer(self, *, index: str) -> Callable[[str], str]:
        """`blind_index` for many values of one index, its key derived once (a caption is
        looked up by a few hundred keys)."""
        key = hmac.digest(self.index_root, index.encode(), "sha256")
        return lambda value: hmac.digest(key, value.encode(), "sha256").hex()[:BLIND_INDEX_HEX]

    def blind_index(self, value: str, *, index: str) -> str:
        """Keyed HMAC of an already normalised value; one derived key per index name. (The
        one-shot `hmac.digest` is OpenSSL's HMAC in one call; an import computes four per
        person.)"""
        key = hmac.digest(self.index_root, index.encode(), "sha256")
        return hmac.digest(key, value.encode(), "sha256").hex()[:BLIND_INDEX_HEX]


class PersonKeys:
    """The person data keys of one unit of work: fetched (wrapped) when first needed, unwrapped
    when first used, then kept until the unit of work ends. A person's data key is the
    AES-256-GCM key of their fields; their evidence chunks use a key derived from it."""

    def __init__(
        self, wrap_key: bytes, fetch: Callable[[Sequence[str]], Mapping[str, bytes | None]]
    ) -> None:
        self._wrap_key, self._fetch = wrap_key, fetch
        # "own" (a key of their own), "erased", "register" (none: registered before 0016)
        self._states: dict[str, str] = {}
        self._wrapped: dict[str, bytes] = {}
        self._raw: dict[str, bytes] = {}
        self._ciphers: dict[str, AESGCM] = {}

    def prefetch(self, person_ids: Sequence[str]) -> None:
        """Fetch the keys of these people in one query (a few thousand at a time)."""
        missing = [p for p in person_ids if p not in self._states]
        if missing:
            self._load(missing)

    def state(self, person_id: str) -> str:
        """ "own", "erased", or "register" (no key: registered before schema 0016)."""
        if person_id not in self._states:
            self._load([person_id])
        return self._states[person_id]

    def add(self, person_id: str, raw: bytes) -> None:
        """A new person's key, made in this unit of work."""
        self._states[person_id], self._raw[person_id] = "own", raw

    def forget(self, person_id: str) -> None:
        """The person was erased in this unit of work."""
        self._states[person_id] = "erased"
        for cache in (self._wrapped, self._raw, self._ciphers):
            cache.pop(person_id, None)

    def raw(self, person_id: str) -> bytes | None:
        """The person's data key; None once erased."""
        state = self.state(person_id)
        if state == "register":
            raise TamperedDataError(f"person {person_id} has data under a key the register lacks")
        if state == "erased":
            return None
        raw = self._raw.get(person_id)
        if raw is None:
            wrapped = self._wrapped[person_id]
            raw = self._raw[person_id] = _open(
                _cipher(self._wrap_key), wrapped, _wrap_aad(person_id)
            )
        return raw

    def field_cipher(self, person_id: str) -> AESGCM | None:
        """The cipher of the person's fields (their data key itself); None once erased."""
        cipher = self._ciphers.get(person_id)
        if cipher is None:
            raw = self.raw(person_id)
            if raw is None:
                return None
            cipher = self._ciphers[person_id] = AESGCM(raw)
        return cipher

    def _load(self, person_ids: Sequence[str]) -> None:
        found = self._fetch(person_ids)
        for pid in person_ids:
            wrapped = found.get(pid)
            if pid not in found:
                self._states[pid] = "register"
            elif wrapped is None:
                self._states[pid] = "erased"
            else:
                self._states[pid], self._wrapped[pid] = "own", bytes(wrapped)


def _wrap_aad(person_id: str) -> bytes:
    return f"consentreg/person-key/v1|{person_id}".encode()


def _person_header(ids: Sequence[str]) -> bytes:
    head = bytearray(_PERSON_VERSION + bytes([len(ids)]))
    for pid in ids:
        raw = pid.encode("ascii")
        head += bytes([len(raw)]) + raw
    return bytes(head)


def _parse_person_header(token: bytes) -> tuple[list[str], int]:
    """The people a person-key token is under, and where its nonce starts."""
    try:
        count, offset, ids = token[1], 2, []
        for _ in range(count):
            size = token[offset]
            ids.append(token[offset + 1 : offset + 1 + size].decode("ascii"))
            offset += 1 + size
    except (IndexError, UnicodeDecodeError):
        raise TamperedDataError("an encrypted value has an unknown format") from None
    if not ids or len(token) < offset + _NONCE_BYTES + 16:
        raise TamperedDataError("an encrypted value has an unknown format")
    return ids, offset


def person_ids_of(token: bytes) -> list[str]:
    """The people whose keys a value is under (none: the register's key)."""
    return _parse_person_header(bytes(token))[0] if token[:1] == _PERSON_VERSION else []


@functools.lru_cache(maxsize=64)
def _subkey(raw: bytes, info: str) -> bytes:
    return _hkdf(raw, info)


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
            raise TamperedDataError(
                msg(
                    "chunk {index} is outside the blob's {count} chunks",
                    index=index,
                    count=self._count,
                )
            )
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
        return cls.from_pem(_read_private_file(path, "signing key file"), label=str(path))

    @classmethod
    def from_pem(cls, data: bytes, *, label: str = "") -> Signer:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise ConfigError(
                msg("signing key file {label} is not an Ed25519 key", label=label)
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(msg("signing key file {label} is not an Ed25519 key", label=label))
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


# --- key export: the master key sealed under a passphrase, to bring another PC in -------------

_EXPORT_MAGIC = "consentreg key export v1"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**17, 8, 1  # about 128 MiB and a third of a second per try
_SALT_BYTES = 16
MIN_PASSPHRASE = 12


def _passphrase_key(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(passphrase.encode())


def _export_aad(register_id: str) -> bytes:
    return f"{_EXPORT_MAGIC}|{register_id}".encode()


def seal_master_key(master: bytes, *, register_id: str, passphrase: str) -> bytes:
    """A key export: the register's ID in clear (so that a file for another register is named as
    such before any passphrase is tried) and the master key under AES-256-GCM with a key derived
    from the passphrase by scrypt; the ID is bound as associated data."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInputError(
            msg(
                "the passphrase must have at least {MIN_PASSPHRASE} characters",
                MIN_PASSPHRASE=MIN_PASSPHRASE,
            )
        )
    salt, nonce = os.urandom(_SALT_BYTES), os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_passphrase_key(passphrase, salt)).encrypt(
        nonce, master, _export_aad(register_id)
    )
    body = base64.b64encode(salt + nonce + sealed).decode()
    return f"{_EXPORT_MAGIC}\nregister {register_id}\n{body}\n".encode()


def export_register_id(data: bytes) -> str:
    """The register a key export is for; InvalidInputError when the file is not one."""
    return _parse_export(data)[0]


def _parse_export(data: bytes) -> tuple[str, bytes]:
    not_one = InvalidInputError("the key file is not a consentreg key export (or it is damaged)")
    try:
        lines = data.decode("ascii").splitlines()
    except UnicodeDecodeError:
        raise not_one from None
    if len(lines) != 3 or lines[0] != _EXPORT_MAGIC or not lines[1].startswith("register "):
        raise not_one
    register_id = lines[1].removeprefix("register ")
    try:
        raw = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise not_one from None
    if len(register_id) != 32 or len(raw) != _SALT_BYTES + _NONCE_BYTES + 32 + 16:
        raise not_one
    return register_id, raw


def open_master_key(data: bytes, *, passphrase: str) -> tuple[str, bytes]:
    """(register ID, master key) from a key export; InvalidInputError when the passphrase does
    not open it (a typo, or the file was altered: AES-GCM cannot tell which)."""
    register_id, raw = _parse_export(data)
    salt, nonce = raw[:_SALT_BYTES], raw[_SALT_BYTES : _SALT_BYTES + _NONCE_BYTES]
    body = raw[_SALT_BYTES + _NONCE_BYTES :]
    try:
        master = AESGCM(_passphrase_key(passphrase, salt)).decrypt(
            nonce, body, _export_aad(register_id)
        )
    except InvalidTag:
        raise InvalidInputError(
            "the passphrase does not open the key file (a typo?), or the file was altered"
        ) from None
    return register_id, master


# --- backups (docs/shared-server.md, "Backup and restore") --------------------------------------
#
# A backup file is sealed in chunks of at most BACKUP_CHUNK bytes, each with AES-256-GCM under a
# key of its own file: HKDF(the keyring's backup root, itself HKDF of the master key under a label
# of its own, salt = the file's random salt), so a backup key is never a field, blob or index key. The nonce is the
# chunk's index and final flag (unique, since every file has its own key), and the associated data
# is the file's header, the index and the flag: a chunk moved, dropped, added after the last one or
# cut off, or a header changed, fails to open.

BACKUP_CHUNK = 1 << 20
BACKUP_TAG_BYTES = 16
BACKUP_SALT_BYTES = 32
BACKUP_KEY_CHECK_BYTES = 16


def _backup_ikm(keys: Keyring) -> bytes:
    return keys.backup_root


def backup_key_check(keys: Keyring) -> bytes:
    """A short fingerprint of the register's keys, stored in every backup's header, so that a
    backup read with another register's key is told apart from a damaged one (it reveals nothing
    of the key)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=BACKUP_KEY_CHECK_BYTES,
        salt=None,
        info=b"consentreg/backup/key-check/v1",
    ).derive(_backup_ikm(keys))


class BackupCipher:
    """Seals and opens the chunks of one backup file (its salt and its header)."""

    def __init__(self, keys: Keyring, *, salt: bytes, header: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=salt, info=b"consentreg/backup/v1"
        ).derive(_backup_ikm(keys))
        self._aead = AESGCM(key)
        self._header = header

    def _nonce_and_aad(self, index: int, final: bool) -> tuple[bytes, bytes]:
        flag = b"\x01" if final else b"\x00"
        position = index.to_bytes(8, "big") + flag
        return b"\x00\x00\x00" + position, self._header + position

    def seal(self, index: int, data: bytes, *, final: bool) -> bytes:
        nonce, aad = self._nonce_and_aad(index, final)
        return self._aead.encrypt(nonce, data, aad)

    def open(self, index: int, sealed: bytes, *, final: bool) -> bytes:
        """The chunk's plaintext; TamperedDataError when it is not the chunk sealed at this index
        with this flag under this header and key."""
        nonce, aad = self._nonce_and_aad(index, final)
        try:
            return self._aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise TamperedDataError(
                msg("backup chunk {index} does not authenticate", index=index)
            ) from None


# --- the person keys file (docs/architecture.md, "Erasure"): the wrapped data keys of everyone
# not erased, sealed under a key derived from the master key, beside the backups, rewritten in
# place by every backup and every erasure; the data backups hold no person key.

_PERSON_KEYS_MAGIC = "consentreg person keys v1"


def _person_keys_file_key(keys: Keyring) -> bytes:
    return _hkdf(keys.backup_root, "consentreg/person-keys-file/v1")


def seal_person_keys(keys: Keyring, content: bytes, *, register_id: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    aad = f"{_PERSON_KEYS_MAGIC}|{register_id}".encode()
    sealed = AESGCM(_person_keys_file_key(keys)).encrypt(nonce, content, aad)
    body = base64.b64encode(nonce + sealed).decode()
    return f"{_PERSON_KEYS_MAGIC}\nregister {register_id}\n{body}\n".encode()


def open_person_keys(keys: Keyring, data: bytes) -> tuple[str, bytes]:
    """(register ID, content) of a person keys file; InvalidInputError when the file is not
    one, BackupKeyError when this key does not open it (another register's, or altered)."""
    from consentreg.errors import BackupKeyError

    not_one = InvalidInputError("the person keys file is not one (or it is damaged)")
    try:
        lines = data.decode("ascii").splitlines()
        if len(lines) != 3 or lines[0] != _PERSON_KEYS_MAGIC:
            raise not_one
        register_id = lines[1].removeprefix("register ")
        raw = base64.b64decode(lines[2], validate=True)
    except (UnicodeDecodeError, ValueError):
        raise not_one from None
    aad = f"{_PERSON_KEYS_MAGIC}|{register_id}".encode()
    try:
        content = AESGCM(_person_keys_file_key(keys)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad
        )
    except (InvalidTag, ValueError):
        raise BackupKeyError(
            "the person keys file belongs to another register or the key is wrong (or it was"
            " altered)"
        ) from None
    return register_id, content
