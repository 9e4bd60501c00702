"""Release files: written under a temporary name in the output folder, moved to their neutral
final name only after the publication record has committed, never over an existing file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from consentreg.errors import InvalidInputError

_TMP_PREFIX = ".consentreg-"


def prepare_out_dir(out: Path) -> Path:
    """Create the output folder if needed; refuse a symlink or a non-folder."""
    if out.is_symlink():
        raise InvalidInputError(f"--out {out} is a symbolic link; give the real folder")
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out} is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"--out {out} cannot be created ({exc.strerror})") from None
    return out.resolve()


def write_temporary(out_dir: Path, data: bytes) -> Path:
    """Write bytes to a new hidden temporary file in the output folder (O_EXCL, fsync)."""
    tmp = out_dir / f"{_TMP_PREFIX}{uuid.uuid4().hex}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def move_into_place(tmp: Path, final: Path) -> None:
    """Give the committed release its final name; a hard link never replaces an existing file."""
    try:
        os.link(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
