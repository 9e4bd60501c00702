"""Reading an input file once, safely: no symlink at the last component, regular files only,
a bounded read. Decoding then works on the bytes, never on a path that can change underneath."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from consentreg.errors import ImageError
from consentreg.i18n import msg
from consentreg.imaging.limits import MAX_INPUT_BYTES

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # a symlink at the last component fails with ELOOP
    | getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not hang; no effect on regular files
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def read_input(path: Path) -> bytes:
    """Return the content of the image file at `path`.

    Raises ImageError: image_invalid when the file is missing, unreadable, a symlink or not a
    regular file; image_too_large when it holds more than MAX_INPUT_BYTES.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise ImageError(
            "cannot open the image file (missing, unreadable or a symbolic link)",
            code="image_invalid",
        ) from exc
    try:
        return _read_regular_file(fd)
    finally:
        os.close(fd)


def _read_regular_file(fd: int) -> bytes:
    try:
        info = os.fstat(fd)
    except OSError as exc:
        raise ImageError("cannot inspect the image file", code="image_invalid") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ImageError("the image path is not a regular file", code="image_invalid")
    if info.st_size > MAX_INPUT_BYTES:
        raise _too_large()
    try:
        return _read_bounded(fd, MAX_INPUT_BYTES)
    except OSError as exc:
        raise ImageError("cannot read the image file", code="image_invalid") from exc


def _read_bounded(fd: int, limit: int) -> bytes:
    """Read to end of file, but never more than `limit` bytes (the file may grow meanwhile)."""
    parts: list[bytes] = []
    total = 0
    while chunk := os.read(fd, limit + 1 - total):
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large()
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _too_large() -> ImageError:
    return ImageError(
        msg("image file is larger than {value} MiB", value=MAX_INPUT_BYTES // (1024 * 1024)),
        code="image_too_large",
    )
