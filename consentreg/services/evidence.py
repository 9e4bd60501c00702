"""Evidence files (scans, PDFs, e-mails) and where their bytes live: in the register itself.

An evidence file is checked and hashed when it is given (`evidence_or_problem`), then stored in
the transaction of the consent it proves (`store_evidence`): its name, SHA-256 and size as an
`evidence` row of that consent, its bytes once per content as an `evidence_blobs` row and
encrypted chunks of 1 MiB in `evidence_chunks` (consentreg.crypto.ChunkCipher binds the blob,
the chunk's index and the count). Files are read, encrypted, decrypted and hashed a chunk at a
time: a scan of 100 MB never sits in memory whole.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy import insert, select

from consentreg.crypto import ChunkCipher, StreamHash
from consentreg.db.models import Evidence, EvidenceBlob, EvidenceChunk
from consentreg.domain import text
from consentreg.errors import InvalidInputError, PersonErasedError, TamperedDataError
from consentreg.i18n import msg
from consentreg.services.unit_of_work import Context, new_id

CHUNK_BYTES = 1024 * 1024
MAX_EVIDENCE_BYTES = 100 * 1024 * 1024
LIMIT_TEXT = "100 MB"

# Kernel and device files: they read as something (/proc/self/environ, /dev/urandom), and
# none of them is a scan, a PDF or an e-mail
_NOT_DOCUMENTS = (Path("/proc"), Path("/sys"), Path("/dev"))


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file that was checked and hashed: where it is (symbolic links resolved), its
    base name as shown, its size and SHA-256, and which file it was (device, inode), so that
    storing it later reads the same file and can tell when it changed in between."""

    path: Path
    name: str
    size: int
    sha256: str
    identity: tuple[int, int]


def read_evidence(path: Path) -> EvidenceFile:
    """Check and hash an evidence file, or fail with exit 2 naming the problem (not the
    content)."""
    found = evidence_or_problem(path)
    if isinstance(found, str):
        raise InvalidInputError(msg("evidence file {path} {found}", path=path, found=found))
    return found


def evidence_or_problem(path: Path) -> EvidenceFile | str:
    """An evidence file checked and hashed, or what is wrong with it as a phrase ("is empty"):
    it must be a non-empty regular file of at most 100 MB, outside /proc, /sys and /dev (after
    following symbolic links), that reads as many bytes as its size says (a kernel file
    elsewhere says 0 or 4096). Checked on the opened file, so it cannot be swapped between the
    check and the read."""
    try:
        real = path.resolve(strict=True)
    except OSError:
        return "does not exist or cannot be reached"
    for root in _NOT_DOCUMENTS:
        if real == root or root in real.parents:
            return f"is under {root}: not a document"
    try:
        fd = os.open(real, _READ_FLAGS)  # non-blocking: a FIFO must not hang the command
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return "is not a regular file (a folder, a device or a pipe)"
    with os.fdopen(fd, "rb") as fh:
        return _hashed(fh, real, text.file_name(path.name))


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _hashed(fh: BinaryIO, real: Path, name: str) -> EvidenceFile | str:
    info = os.fstat(fh.fileno())
    if info.st_size > MAX_EVIDENCE_BYTES:
        return f"is larger than {LIMIT_TEXT}, the limit for evidence"
    digest = StreamHash()
    try:
        for piece in _pieces(fh, limit=MAX_EVIDENCE_BYTES + 1):
            digest.update(piece)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if digest.size == 0:
        return "is empty"
    if digest.size > MAX_EVIDENCE_BYTES:
        return f"is larger than {LIMIT_TEXT}, the limit for evidence"
    if digest.size != info.st_size:
        return "does not read as its size says (a kernel file, or it changed while read)"
    return EvidenceFile(real, name, digest.size, digest.hexdigest(), (info.st_dev, info.st_ino))


def _pieces(fh: BinaryIO, *, limit: int) -> Iterator[bytes]:
    """The file's bytes, CHUNK_BYTES at a time (the last piece shorter), at most `limit`."""
    left = limit
    while left > 0:
        piece = fh.read(min(CHUNK_BYTES, left))
        if not piece:
            return
        left -= len(piece)
        yield piece


class StoredEvidence(NamedTuple):
    """The rows one evidence file adds to a consent's event: its `evidence` row, and its blob
    row when its content was not stored before (None: it was; the blob is shared)."""

    evidence: dict[str, Any]
    blob: dict[str, Any] | None


def store_evidence(
    ctx: Context,
    evidence: EvidenceFile,
    *,
    before_write: Callable[[], None] | None = None,
    owner: str | None = None,
) -> StoredEvidence:
    """Store an evidence file's bytes in this transaction, unless the same content is stored
    already; returns the rows to record with the consent event it proves (the blob and its
    chunks are written here, the `evidence` row is the caller's to write). `before_write` runs
    before the session is used (a batch waits there for the rows its thread is writing). With
    `owner` (the subject, who has a data key of their own) the name and the bytes are under
    that key, and a content is stored once per owner."""
    eid = new_id()
    name_ct = ctx.keys.encrypt(
        evidence.name, table="evidence", column="name", row_id=eid, person=owner
    )
    if before_write is not None:
        before_write()
    blob = None
    if blob_for(ctx, evidence.sha256, owner=owner) is None:
        try:
            with _reopened(evidence) as fh:
                blob = write_blob(
                    ctx,
                    sha256=evidence.sha256,
                    size=evidence.size,
                    pieces=_pieces(fh, limit=evidence.size + 1),
                    owner=owner,
                )
        except (_ContentChanged, OSError):
            raise InvalidInputError(
                msg(
                    "evidence file {evidence_path} changed or went away after it was checked; nothing was recorded",
                    evidence_path=evidence.path,
                )
            ) from None
    row = {
        "id": eid,
        "sha256": evidence.sha256,
        "size": evidence.size,
        "name_ct": name_ct,
        "created_at": ctx.now,
        "created_by": ctx.actor,
    }
    return StoredEvidence(row, blob)


class _ContentChanged(Exception):
    """The bytes stored are not those that were checked."""


def _reopened(evidence: EvidenceFile) -> BinaryIO:
    fd = os.open(evidence.path, _READ_FLAGS)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != evidence.identity:
        os.close(fd)
        raise _ContentChanged
    return os.fdopen(fd, "rb")


def blob_for(ctx: Context, sha256: str, *, owner: str | None = None) -> EvidenceBlob | None:
    """The stored blob of this content under `owner`'s key (None: the register's), if any."""
    person = EvidenceBlob.person_id.is_(None) if owner is None else EvidenceBlob.person_id == owner
    return ctx.session.scalars(
        select(EvidenceBlob).where(EvidenceBlob.sha256 == sha256, person)
    ).first()


def blob_key(ctx: Context, blob: EvidenceBlob) -> bytes | None:
    """The key of a blob's chunks; None when they were under an erased person's key."""
    if blob.person_id is None:
        return ctx.keys.blob_key
    return ctx.keys.person_blob_key(blob.person_id)


def chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK_BYTES))


def write_blob(
    ctx: Context,
    *,
    sha256: str,
    size: int,
    pieces: Iterable[bytes],
    key: bytes | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Write a new blob of `size` bytes hashing to `sha256`, given as pieces of CHUNK_BYTES
    (the last shorter), encrypted chunk by chunk under `key` (default: `owner`'s data key, or
    the register's blob key); returns its row. Raises _ContentChanged when the pieces are not
    those bytes (the transaction must then be rolled back)."""
    if key is None and owner is not None:
        key = ctx.keys.person_blob_key(owner)
    bid, count = new_id(), chunk_count(size)
    row = {
        "id": bid,
        "sha256": sha256,
        "size": size,
        "chunks": count,
        "created_at": ctx.now,
        "created_by": ctx.actor,
        "person_id": owner,
    }
    ctx.session.execute(insert(EvidenceBlob), [row])
    cipher = ChunkCipher(key or ctx.keys.blob_key, blob_id=bid, count=count)
    digest, index = StreamHash(), 0
    for piece in pieces:
        if index >= count or len(piece) != min(CHUNK_BYTES, size - digest.size):
            raise _ContentChanged
        digest.update(piece)
        chunk = {"blob_id": bid, "idx": index, "data": cipher.seal(index, piece)}
        ctx.session.execute(insert(EvidenceChunk), [chunk])
        index += 1
    if index != count or digest.size != size or digest.hexdigest() != sha256:
        raise _ContentChanged
    return row


def blob_pieces(ctx: Context, blob: EvidenceBlob, *, key: bytes | None = None) -> Iterator[bytes]:
    """A stored blob's plaintext, a chunk at a time; TamperedDataError (exit 7) for a chunk
    missing, altered, moved from another blob or place, or a blob cut short. The caller checks
    the SHA-256 of what it read against the blob's; PersonErasedError when the chunks were under
    an erased person's key."""
    key = key or blob_key(ctx, blob)
    if key is None:
        raise PersonErasedError(f"evidence blob {blob.id} was erased with person {blob.person_id}")
    cipher = ChunkCipher(key, blob_id=blob.id, count=blob.chunks)
    query = (
        select(EvidenceChunk.idx, EvidenceChunk.data)
        .where(EvidenceChunk.blob_id == blob.id)
        .order_by(EvidenceChunk.idx)
        .execution_options(yield_per=1)
    )
    expected = 0
    with ctx.session.execute(query) as rows:  # closed also when the reader stops early
        for index, data in rows:
            if index != expected:
                raise TamperedDataError(
                    msg(
                        "evidence blob {blob_id}: chunk {expected} is missing",
                        blob_id=blob.id,
                        expected=expected,
                    )
                )
            yield _opened(cipher, blob, index, data)
            expected += 1
    if expected != blob.chunks:
        raise TamperedDataError(
            msg(
                "evidence blob {blob_id} has {expected} of its {blob_chunks} chunks (cut short)",
                blob_id=blob.id,
                expected=expected,
                blob_chunks=blob.chunks,
            )
        )


def _opened(cipher: ChunkCipher, blob: EvidenceBlob, index: int, data: bytes) -> bytes:
    try:
        return cipher.open(index, bytes(data))
    except TamperedDataError:
        raise TamperedDataError(
            msg(
                "evidence blob {blob_id}: chunk {index} does not decrypt in its place (altered, moved, or another register's key)",
                blob_id=blob.id,
                index=index,
            )
        ) from None


def blob_problem(ctx: Context, blob: EvidenceBlob) -> str | None:
    """What is wrong with a stored blob (decrypted and hashed, streaming), or None."""
    digest = StreamHash()
    try:
        for piece in blob_pieces(ctx, blob):
            digest.update(piece)
    except TamperedDataError as exc:
        return str(exc)
    if digest.size != blob.size or digest.hexdigest() != blob.sha256:
        return f"evidence blob {blob.id} does not hash to its SHA-256 (altered or swapped)"
    return None


class EvidenceProblem(NamedTuple):
    table: str
    row: str
    message: str


def evidence_problems(ctx: Context) -> Iterator[EvidenceProblem]:
    """Every evidence row whose bytes are not stored, and every stored blob that does not
    decrypt, in order and whole, to the bytes its SHA-256 names."""
    missing = (
        select(Evidence.id)
        .outerjoin(EvidenceBlob, EvidenceBlob.sha256 == Evidence.sha256)
        .where(EvidenceBlob.id.is_(None))
        .order_by(Evidence.id)
    )
    for eid in ctx.session.scalars(missing).all():
        yield EvidenceProblem(
            "evidence",
            eid,
            f"evidence {eid}: its bytes are not in the register (deleted, or still a file on"
            " the PC that recorded it: run `consentreg db upgrade` there)",
        )
    blobs = ctx.session.scalars(select(EvidenceBlob).order_by(EvidenceBlob.id)).all()
    for blob in blobs:
        if blob_key(ctx, blob) is None:  # erased with its person: unreadable by design
            continue
        problem = blob_problem(ctx, blob)
        if problem is not None:
            yield EvidenceProblem("evidence_blobs", blob.id, problem)
