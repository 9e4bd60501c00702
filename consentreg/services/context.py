"""What every use case receives: one session, the keys, who acts and when.

Files a use case writes (encrypted evidence) are staged under a temporary name and only moved
into place by `finish()` once the transaction has committed; `abandon()` removes them otherwise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from consentreg.crypto import Keyring


@dataclass(frozen=True)
class AuditHead:
    """The audit chain's last event as this transaction knows it."""

    seq: int
    hash: str


def new_id() -> str:
    """An opaque, random identifier (no order, no meaning): 32 hex digits of 16 random bytes, as
    a UUID's hex without its version bits (an import makes a million of them, and building a
    UUID object for each costs four times as much as the random bytes)."""
    return secrets.token_hex(16)


@dataclass
class Context:
    session: Session
    keys: Keyring
    actor: str
    now: datetime
    evidence_dir: Path
    staged_files: list[tuple[Path, Path]] = field(default_factory=list)
    audit_head: AuditHead | None = None

    def stage_file(self, final: Path, data: bytes) -> None:
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = final.with_name(final.name + ".tmp")
        tmp.write_bytes(data)
        tmp.chmod(0o600)
        self.staged_files.append((tmp, final))

    def finish(self) -> None:
        for tmp, final in self.staged_files:
            tmp.replace(final)
        self.staged_files.clear()

    def abandon(self) -> None:
        for tmp, _ in self.staged_files:
            tmp.unlink(missing_ok=True)
        self.staged_files.clear()
