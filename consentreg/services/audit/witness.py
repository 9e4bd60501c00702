"""Checkpoints witnessed outside the database: a copy of each signed checkpoint in a folder the
database's owner cannot rewrite (`CONSENTREG_WITNESS_DIR`, another share), one subfolder per
register. `audit verify` checks the newest one there, so a log whose tail was cut off and whose
stored checkpoints were deleted with it still fails.

File names sort by log size: `<size, 12 digits>-<checkpoint id>.checkpoint`. The folder is only
added to, never rewritten: a name that exists is never written over."""

from __future__ import annotations

import os
import re
from pathlib import Path

from consentreg.config import file_error
from consentreg.errors import ConfigError
from consentreg.i18n import msg

_NAME = re.compile(r"([0-9]{12})-([0-9a-f]{32})\.checkpoint")


def register_folder(witness_dir: Path, register_id: str) -> Path:
    return witness_dir / register_id


def witness(
    witness_dir: Path, register_id: str, *, size: int, checkpoint_id: str, note: str
) -> Path:
    """Leave a copy of a signed checkpoint in the witness folder (a new file, fsynced)."""
    if not witness_dir.is_dir():
        raise ConfigError(
            msg("CONSENTREG_WITNESS_DIR {witness_dir} is not a folder", witness_dir=witness_dir)
        )
    folder = register_folder(witness_dir, register_id)
    path = folder / f"{size:012d}-{checkpoint_id}.checkpoint"
    try:
        folder.mkdir(exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(note)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise file_error(exc, folder=folder, doing="witness the checkpoint") from None
    return path


def newest(witness_dir: Path, register_id: str) -> tuple[Path, bytes] | None:
    """The witnessed checkpoint of the largest log size, with its bytes; None when there is
    none yet. A witness folder that cannot be read is an error, not "none"."""
    if not witness_dir.is_dir():
        raise ConfigError(
            msg("CONSENTREG_WITNESS_DIR {witness_dir} is not a folder", witness_dir=witness_dir)
        )
    folder = register_folder(witness_dir, register_id)
    try:
        names = (
            sorted(n for n in os.listdir(folder) if _NAME.fullmatch(n)) if folder.exists() else []
        )
        if not names:
            return None
        path = folder / names[-1]
        return path, path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            msg(
                "cannot read the witness folder {folder} ({exc_strerror})",
                folder=folder,
                exc_strerror=exc.strerror,
            )
        ) from None
