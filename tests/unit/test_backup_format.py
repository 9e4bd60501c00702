"""The backup file format (consentreg.services.backup.sealed): chunks that are dropped, moved,
repeated, cut off or added after the last one, and a changed header, all fail to open; another
register's key is told apart from damage."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest

from consentreg.crypto import BACKUP_CHUNK, Keyring
from consentreg.errors import BackupDamagedError, BackupKeyError, NotABackupError
from consentreg.services.backup.sealed import (
    KEY_MISMATCH,
    Header,
    SealedWriter,
    check_key,
    lines,
    opened_chunks,
    read_header,
)

KEYS = Keyring.from_master(bytes(range(32)))
STREAM = b"".join(b"%d %s\n" % (i, os.urandom(300).hex().encode()) for i in range(5000))


def sealed(data: bytes = STREAM) -> bytes:
    out = io.BytesIO()
    writer = SealedWriter(out, KEYS, Header.new(KEYS, "0006"))
    for start in range(0, len(data), 70_000):
        writer.write(data[start : start + 70_000])
    writer.close()
    return out.getvalue()


def opened(data: bytes, keys: Keyring = KEYS) -> bytes:
    fh = io.BytesIO(data)
    header = read_header(fh)
    check_key(header, keys)
    return b"".join(opened_chunks(fh, keys, header))


def split(data: bytes) -> tuple[bytes, list[bytes]]:
    """The header and each chunk with its length prefix."""
    fh = io.BytesIO(data)
    read_header(fh)
    head, chunks = data[: fh.tell()], []
    while prefix := fh.read(4):
        chunks.append(prefix + fh.read(int.from_bytes(prefix)))
    return head, chunks


def test_a_stream_comes_back_whole_in_chunks_of_one_mebibyte() -> None:
    data = sealed()
    _, chunks = split(data)
    assert len(chunks) == -(-len(STREAM) // BACKUP_CHUNK)
    assert opened(data) == STREAM
    assert list(lines(iter([STREAM[:10], STREAM[10:]]))) == STREAM.split(b"\n")[:-1]


@pytest.mark.parametrize(("size", "chunks"), [(0, 1), (BACKUP_CHUNK, 1), (BACKUP_CHUNK + 1, 2)])
def test_the_last_chunk_is_never_empty_unless_the_stream_is(size: int, chunks: int) -> None:
    data = sealed(b"x" * size)
    assert len(split(data)[1]) == chunks
    assert opened(data) == b"x" * size


def _rebuilt(head: bytes, chunks: list[bytes]) -> bytes:
    return head + b"".join(chunks)


DAMAGE: dict[str, Callable[[bytes, list[bytes]], bytes]] = {
    "the last chunk dropped": lambda h, c: _rebuilt(h, c[:-1]),
    "a middle chunk dropped": lambda h, c: _rebuilt(h, [c[0], *c[2:]]),
    "two chunks swapped": lambda h, c: _rebuilt(h, [c[1], c[0], *c[2:]]),
    "a chunk repeated": lambda h, c: _rebuilt(h, [c[0], *c]),
    "a chunk added after the last": lambda h, c: _rebuilt(h, [*c, c[0]]),
    "cut inside a chunk": lambda h, c: _rebuilt(h, c)[:-5],
    "a tag bit flipped": lambda h, c: _rebuilt(h, c)[:-1] + bytes([_rebuilt(h, c)[-1] ^ 1]),
    "the salt changed": lambda h, c: h[:-48] + bytes([h[-48] ^ 1]) + h[-47:] + b"".join(c),
    "an impossible length": lambda h, c: h + b"\xff\xff\xff\xff" + b"".join(c),
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_a_damaged_file_fails_to_open(how: str) -> None:
    head, chunks = split(sealed())
    with pytest.raises(BackupDamagedError):
        opened(DAMAGE[how](head, chunks))


def test_another_registers_key_is_named_as_such() -> None:
    with pytest.raises(BackupKeyError, match=f"^{KEY_MISMATCH}$"):
        opened(sealed(), Keyring.from_master(bytes(32)))


@pytest.mark.parametrize(
    "data", [b"", b"PK\x03\x04 a zip file", b"consentreg backup\n\x02\x04", b"consentreg back"]
)
def test_a_file_without_the_header_is_not_a_backup(data: bytes) -> None:
    with pytest.raises(NotABackupError):
        opened(data)
