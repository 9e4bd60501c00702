"""The backup file: a clear header, then the register as a stream of sealed chunks.

```
magic            18 bytes   b"consentreg backup\\n"
format version    1 byte    1
revision length   1 byte    n
revision          n bytes   the Alembic revision of the register backed up (ASCII)
salt             32 bytes   random; the file's own key is HKDF(register keys, salt)
key check        16 bytes   a fingerprint of the register's keys (consentreg.crypto)
chunks           until the end of the file, each:
  length          4 bytes   big-endian length L of the sealed chunk (16 < L <= 1 MiB + 16)
  sealed          L bytes   AES-256-GCM of at most 1 MiB of the stream; associated data: the
                            whole header, the chunk's index (8 bytes) and a final flag (1 byte)
```

The last chunk, and only it, carries the final flag; nothing may follow it. A chunk cut short,
dropped, moved, repeated or changed, a header changed, bytes added after the last chunk: each
fails to authenticate (BackupDamagedError). A key check that differs is a backup of another
register, or the wrong key file (BackupKeyError). The decrypted stream is JSON lines (`rows`).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from consentreg.crypto import (
    BACKUP_CHUNK,
    BACKUP_KEY_CHECK_BYTES,
    BACKUP_SALT_BYTES,
    BACKUP_TAG_BYTES,
    BackupCipher,
    Keyring,
    backup_key_check,
)
from consentreg.errors import (
    BackupDamagedError,
    BackupKeyError,
    NotABackupError,
    TamperedDataError,
)
from consentreg.i18n import N_, msg

MAGIC = b"consentreg backup\n"
FORMAT_VERSION = 1
KEY_MISMATCH = N_("this backup belongs to another register or the key is wrong")


@dataclass(frozen=True)
class Header:
    revision: str
    salt: bytes
    key_check: bytes

    def encode(self) -> bytes:
        rev = self.revision.encode("ascii")
        return MAGIC + bytes([FORMAT_VERSION, len(rev)]) + rev + self.salt + self.key_check

    @classmethod
    def new(cls, keys: Keyring, revision: str) -> Header:
        return cls(revision, os.urandom(BACKUP_SALT_BYTES), backup_key_check(keys))


def _damaged(what: str) -> BackupDamagedError:
    return BackupDamagedError(
        msg("the backup file is damaged or was changed ({what}); nothing was written", what=what)
    )


def read_header(fh: BinaryIO) -> Header:
    """The header, checked as far as it can be without the key; NotABackupError otherwise."""
    start = fh.read(len(MAGIC) + 2)
    if start[: len(MAGIC)] != MAGIC or len(start) < len(MAGIC) + 2:
        raise NotABackupError("the file is not a consentreg backup; nothing was written")
    version, rev_length = start[len(MAGIC)], start[len(MAGIC) + 1]
    if version != FORMAT_VERSION:
        raise NotABackupError(
            msg(
                "the backup is in format {version}, this consentreg reads format {FORMAT_VERSION}: restore it with the consentreg that made it; nothing was written",
                version=version,
                FORMAT_VERSION=FORMAT_VERSION,
            )
        )
    rest = fh.read(rev_length + BACKUP_SALT_BYTES + BACKUP_KEY_CHECK_BYTES)
    if len(rest) < rev_length + BACKUP_SALT_BYTES + BACKUP_KEY_CHECK_BYTES:
        raise _damaged("its header is cut short")
    try:
        revision = rest[:rev_length].decode("ascii")
    except UnicodeDecodeError:
        raise _damaged("its header names no revision") from None
    salt = rest[rev_length : rev_length + BACKUP_SALT_BYTES]
    return Header(revision, salt, rest[rev_length + BACKUP_SALT_BYTES :])


def check_key(header: Header, keys: Keyring) -> None:
    if not hmac.compare_digest(header.key_check, backup_key_check(keys)):
        raise BackupKeyError(KEY_MISMATCH)


class SealedWriter:
    """Writes the header, then seals what is written in chunks of BACKUP_CHUNK bytes; `close`
    seals the rest as the final chunk. Holds at most one chunk and one written piece."""

    def __init__(self, fh: BinaryIO, keys: Keyring, header: Header) -> None:
        raw = header.encode()
        fh.write(raw)
        self._fh, self._cipher = fh, BackupCipher(keys, salt=header.salt, header=raw)
        self._buffer = bytearray()
        self._index = 0
        self.bytes_in = 0

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.bytes_in += len(data)
        while len(self._buffer) > BACKUP_CHUNK:  # more than a chunk: this one is not the last
            self._emit(bytes(self._buffer[:BACKUP_CHUNK]), final=False)
            del self._buffer[:BACKUP_CHUNK]

    def close(self) -> None:
        self._emit(bytes(self._buffer), final=True)
        self._buffer.clear()

    def _emit(self, data: bytes, *, final: bool) -> None:
        sealed = self._cipher.seal(self._index, data, final=final)
        self._fh.write(len(sealed).to_bytes(4, "big") + sealed)
        self._index += 1


def _read_exactly(fh: BinaryIO, size: int, what: str) -> bytes:
    data = fh.read(size)
    if len(data) != size:
        raise _damaged(f"it ends inside {what}")
    return data


def opened_chunks(fh: BinaryIO, keys: Keyring, header: Header) -> Iterator[bytes]:
    """Each chunk's plaintext, in order, after the header has been read; every chunk is
    authenticated before it is given out, and the stream must end with the final chunk."""
    cipher = BackupCipher(keys, salt=header.salt, header=header.encode())
    index, pending = 0, fh.read(1)
    while True:
        if not pending:
            raise _damaged(f"it ends after chunk {index - 1} without its last chunk")
        length = int.from_bytes(pending + _read_exactly(fh, 3, f"the length of chunk {index}"))
        if not BACKUP_TAG_BYTES <= length <= BACKUP_CHUNK + BACKUP_TAG_BYTES:
            raise _damaged(f"chunk {index} has an impossible length")
        sealed = _read_exactly(fh, length, f"chunk {index}")
        pending = fh.read(1)
        final = not pending
        try:
            yield cipher.open(index, sealed, final=final)
        except TamperedDataError:
            raise _damaged(f"chunk {index} does not authenticate") from None
        if final:
            return
        index += 1


def lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The stream's lines (without their newline); a stream must end with a newline."""
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        raise _damaged("its last line is incomplete")
