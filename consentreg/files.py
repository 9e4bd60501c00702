"""The register's own small files (key files, key exports, backups, releases): written whole or
not at all, readable by their owner only, never over an existing file, made durable."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from consentreg.config import file_error
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg


def write_new_private(path: Path, content: bytes, *, what: str) -> None:
    """Create `path` (mode 0600) with `content`, fsynced; an existing file (or link) is never
    written over (InvalidInputError); a file half-written (a full disk) is removed, so that the
    next try finds nothing broken. Other failures are file_error's."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InvalidInputError(msg("{path} already exists: not overwritten", path=path)) from None
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


def new_output(out: Path) -> Path:
    """The absolute path of an `-o` file that must be new: InvalidInputError (exit 2) when a
    file (or a link) has that name, or its folder does not exist."""
    target = out.absolute()
    if os.path.lexists(target):
        raise InvalidInputError(msg("-o {out} exists; nothing was written over it", out=out))
    if not target.parent.is_dir():
        raise InvalidInputError(
            msg(
                "-o {out}: the folder {target_parent} does not exist",
                out=out,
                target_parent=target.parent,
            )
        )
    return target


def sync_folder(path: Path) -> None:
    """Make a new name in the folder durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
