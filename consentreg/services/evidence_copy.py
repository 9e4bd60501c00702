"""`consent evidence`: a stored scan written back to a file, and the reading recorded.

The scan is decrypted chunk by chunk into a new hidden file (mode 0600) next to the one asked
for, and its SHA-256 checked; the reading is recorded as an `evidence.read` event (the consent's
and the evidence's IDs, never the file's name) and committed; only then does the file get its
name, by a hard link that never replaces an existing file. A failure on the way leaves no file.
`evidence_bytes` reads the scan into memory instead, for the web application's download.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from consentreg.config import file_error
from consentreg.crypto import StreamHash
from consentreg.db.models import ConsentEvent, Evidence, Person
from consentreg.errors import ConsentRegError, InvalidInputError, NotFoundError, TamperedDataError
from consentreg.files import new_output
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.evidence import blob_for, blob_pieces
from consentreg.services.lookup import by_id
from consentreg.services.unit_of_work import Context, Register


@dataclass(frozen=True)
class EvidenceCopy:
    """A stored scan written to `path`: whose consent, which evidence, its size and SHA-256."""

    consent_id: str
    evidence_id: str
    sha256: str
    size: int
    path: Path


def save_evidence(
    register: Register, *, consent_id: str, out: Path, now: datetime | None = None
) -> EvidenceCopy:
    """Write the scan stored for a consent (a whole ID or a unique prefix) to `out`, a new
    file; record the reading. InvalidInputError (exit 2) when `out` exists or its folder does
    not; NotFoundError (exit 4) for an unknown consent or one without evidence;
    TamperedDataError (exit 7) when the stored scan is damaged."""
    target = new_output(out)
    tmp = target.parent / f".consentreg-evidence-{secrets.token_hex(8)}.tmp"
    try:
        with _created(tmp) as fh, register.work(now=now) as ctx:
            copy = _write_copy(ctx, consent_id, fh, target)
        _link(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return copy


@dataclass(frozen=True)
class EvidenceBytes:
    """A stored scan read into memory (the web application's download): whose consent, which
    evidence, its SHA-256 and its bytes."""

    consent_id: str
    evidence_id: str
    sha256: str
    content: bytes


def evidence_bytes(ctx: Context, *, consent_id: str) -> EvidenceBytes:
    """The scan stored for a consent, checked against its SHA-256, and the reading recorded as
    an `evidence.read` event in this unit of work (errors as `save_evidence`)."""
    buffer = io.BytesIO()
    consent, evidence = _copy_into(ctx, consent_id, buffer)
    return EvidenceBytes(consent.id, evidence.id, evidence.sha256, buffer.getvalue())


def _write_copy(ctx: Context, consent_id: str, fh: BinaryIO, target: Path) -> EvidenceCopy:
    consent, evidence = _copy_into(ctx, consent_id, fh)
    fh.flush()
    os.fsync(fh.fileno())
    return EvidenceCopy(consent.id, evidence.id, evidence.sha256, evidence.size, target)


def _copy_into(ctx: Context, consent_id: str, fh: BinaryIO) -> tuple[ConsentEvent, Evidence]:
    """Write a consent's stored scan to `fh`, check it, and record the reading."""
    consent = by_id(ctx, ConsentEvent, consent_id, what="consent")
    subject_unit = ctx.session.scalar(select(Person.unit_id).where(Person.id == consent.subject_id))
    require(ctx, "evidence.read", units=[subject_unit])
    evidence = ctx.session.get(Evidence, consent.evidence_id) if consent.evidence_id else None
    if evidence is None:
        raise NotFoundError(
            msg("consent {consent_id} has no evidence stored with it", consent_id=consent.id)
        )
    blob = blob_for(ctx, evidence.sha256, owner=consent.subject_id) or blob_for(
        ctx, evidence.sha256
    )
    if blob is None:
        raise TamperedDataError(
            msg(
                "evidence {evidence_id} of consent {consent_id}: its bytes are not in the register (run `consentreg audit verify`)",
                evidence_id=evidence.id,
                consent_id=consent.id,
            )
        )
    digest = StreamHash()
    for piece in blob_pieces(ctx, blob):
        digest.update(piece)
        fh.write(piece)
    if digest.size != evidence.size or digest.hexdigest() != evidence.sha256:
        raise TamperedDataError(
            msg(
                "evidence {evidence_id} of consent {consent_id} does not hash to its SHA-256 (run `consentreg audit verify`)",
                evidence_id=evidence.id,
                consent_id=consent.id,
            )
        )
    audit_log.record(
        ctx,
        "evidence.read",
        {},
        ids={"consent": consent.id, "evidence": evidence.id},
        payload={"sha256": evidence.sha256},
    )
    return consent, evidence


@contextlib.contextmanager
def _created(tmp: Path) -> Iterator[BinaryIO]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as exc:
        raise _output_error(tmp.parent, exc) from None
    with os.fdopen(fd, "wb") as fh:
        try:
            yield fh
        except OSError as exc:
            raise _output_error(tmp.parent, exc) from None


def _link(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise InvalidInputError(
            msg(
                "-o {target} appeared while the scan was written; nothing was written over it",
                target=target,
            )
        ) from None
    except OSError as exc:
        raise _output_error(target.parent, exc) from None


def _output_error(folder: Path, exc: OSError) -> ConsentRegError:
    return file_error(exc, folder=folder, doing="write the scan")
