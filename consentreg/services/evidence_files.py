"""Evidence files an older release kept in this PC's `$CONSENTREG_HOME/evidence`, moved into the
register (`consentreg init` and `consentreg db upgrade` call this after upgrading the schema).

Each file was one evidence row's bytes, AES-GCM under the register's blob key with the evidence
ID bound (`<evidence id>.bin`; `.bin.tmp` when the program was stopped between its commit and the
file's rename). Each is decrypted, checked against the SHA-256 its evidence row holds, stored as
a blob (unless that content is stored already) with an `evidence.adopt` event, committed, and
only then removed. A `.bin.tmp` no consent of this register refers to belongs to a consent that
was never committed: it is removed. Anything else is left where it is and named. Running it
again does nothing more.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from consentreg.config import Settings
from consentreg.crypto import sha256_hex
from consentreg.db.models import Evidence
from consentreg.domain import text
from consentreg.errors import TamperedDataError
from consentreg.services.audit import log as audit_log
from consentreg.services.evidence import CHUNK_BYTES, blob_for, write_blob
from consentreg.services.unit_of_work import Context, Register, open_register

_SUFFIXES = (".bin", ".bin.tmp")


@dataclass
class Adoption:
    """What moving the evidence files in did: scans stored, files removed (stored now, stored
    before, or left by a consent never committed), and files left in place with the reason."""

    folder: Path
    adopted: int = 0
    removed: int = 0
    kept: list[str] = field(default_factory=list)


def adopt_evidence_files(settings: Settings, *, now: datetime | None = None) -> Adoption:
    """Move this PC's evidence files into the register (see the module's description); opens
    the register only when there is a file to move."""
    done = Adoption(settings.evidence_dir)
    files = _candidates(settings.evidence_dir)
    if not files:
        return done
    with open_register(settings) as register:
        for path in files:
            _adopt(register, path, done, now)
    with contextlib.suppress(OSError):
        settings.evidence_dir.rmdir()  # only when nothing is left in it
    return done


def _candidates(folder: Path) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [p for p in entries if p.name.endswith(_SUFFIXES) and p.is_file()]


def _adopt(register: Register, path: Path, done: Adoption, now: datetime | None) -> None:
    with register.work(now=now) as ctx:
        kept = _store(ctx, path)
    if kept is None:
        path.unlink(missing_ok=True)  # committed: the register holds the scan now
        done.removed += 1
    elif kept == "adopted":
        path.unlink(missing_ok=True)
        done.adopted += 1
        done.removed += 1
    else:
        done.kept.append(f"{text.file_name(path.name)}: {kept}")


def _store(ctx: Context, path: Path) -> str | None:
    """'adopted' when the file's scan was stored now; None when the file can go (stored before,
    or left by a consent never committed); else why the file stays."""
    evidence_id = path.name.split(".", 1)[0]
    row = ctx.session.get(Evidence, evidence_id) if text.is_key(evidence_id) else None
    if row is None:
        if path.name.endswith(".tmp"):
            return None
        return "no consent in this register has this evidence"
    if blob_for(ctx, row.sha256) is not None:
        return None
    try:
        data = ctx.keys.decrypt_blob(path.read_bytes(), blob_id=evidence_id)
    except TamperedDataError:
        return "does not decrypt with this register's key"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if sha256_hex(data) != row.sha256 or len(data) != row.size:
        return "its bytes are not those its consent recorded"
    view = memoryview(data)
    pieces = (bytes(view[i : i + CHUNK_BYTES]) for i in range(0, len(data), CHUNK_BYTES))
    blob = write_blob(ctx, sha256=row.sha256, size=len(data), pieces=pieces)
    audit_log.record(ctx, "evidence.adopt", {"evidence_blobs": blob}, ids={"evidence": row.id})
    return "adopted"
