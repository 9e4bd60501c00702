"""The folder released copies go to (`publish --out`). A file appears there only after its
publication record has committed: it is written under a temporary name (O_EXCL, fsync) and then
hard-linked to its neutral final name, which never replaces an existing file.

A temporary name carries the writing process's ID, so a later run removes the leftovers of a
process that was killed, never those of one still writing. Everything that goes wrong with the
folder is an OutputError naming the folder as the user wrote it and the system's reason."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from consentreg.errors import OutputError
from consentreg.files import sync_folder
from consentreg.i18n import msg

_TMP_PREFIX = ".consentreg-"
# .consentreg-<pid>-<random>.tmp; .consentreg-<random>.tmp from versions before 0.2
_STALE_AFTER_S = 3600
_LEFTOVER = re.compile(r"^\.consentreg-(?:(\d+)-)?[0-9a-f]{32}\.tmp$")


@dataclass(frozen=True)
class ReleaseFolder:
    path: Path  # the real folder, resolved
    shown: str  # as the user wrote it, for messages and output lines
    # the folder's file system's clock when it was prepared (a leftover's age is measured by
    # the clock that stamped it: a process's own clock may differ, or jump)
    now: float = 0.0

    @classmethod
    def prepare(cls, out: str | Path) -> ReleaseFolder:
        """Create the folder if needed; refuse an empty name, a symbolic link anywhere on the way
        and a folder this process cannot write into, before anything is decided."""
        shown = str(out)
        if not shown.strip():
            raise OutputError("--out is empty: give the folder for released copies")
        given = Path(os.path.abspath(shown))
        link = _first_symlink(given)
        if link is not None:
            raise OutputError(
                msg(
                    "--out {shown} passes through the symbolic link {link}; give the real folder",
                    shown=shown,
                    link=link,
                )
            )
        if given.exists() and not given.is_dir():
            raise OutputError(msg("--out {shown} is not a folder", shown=shown))
        try:
            given.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _failure(shown, "cannot be created", exc) from None
        return cls(given, shown, cls._probe(given, shown))

    @classmethod
    def _probe(cls, path: Path, shown: str) -> float:
        """Write and remove an empty temporary file: a read-only or inaccessible folder is
        found before the first decision is recorded. Returns the file's time stamp."""
        tmp = cls(path, shown)._temporary_name()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                stamped = os.fstat(fd).st_mtime
            finally:
                os.close(fd)
            tmp.unlink()
        except OSError as exc:
            raise _failure(shown, "is not writable", exc) from None
        return stamped

    def clean_leftovers(self) -> list[str]:
        """Remove temporary files of runs that were killed; returns their names."""
        removed = []
        with contextlib.suppress(OSError), os.scandir(self.path) as entries:
            for entry in entries:
                match = _LEFTOVER.match(entry.name)
                if match is None or not entry.is_file(follow_symlinks=False):
                    continue
                live = match.group(1) is not None and _alive(int(match.group(1)))
                if live and not _stale(entry, self.now):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
        return removed

    def holds(self, name: str, sha256: str) -> bool:
        """Whether the folder has a regular file of that name with exactly those bytes."""
        try:
            data = (self.path / name).read_bytes()
        except OSError:
            return False
        return hashlib.sha256(data).hexdigest() == sha256

    def deliver(self, name: str, data: bytes) -> Path:
        """Give committed release bytes their final name; never replaces an existing file. An
        existing file with exactly these bytes (another run delivered it) counts as delivered."""
        final = self.path / name
        tmp = self._temporary_name()
        try:
            self._write(tmp, data)
            os.link(tmp, final)
        except FileExistsError:
            if not self.holds(name, hashlib.sha256(data).hexdigest()):
                raise OutputError(
                    msg(
                        "--out {shown} already holds another file named {name}; nothing was overwritten",
                        shown=self.shown,
                        name=name,
                    )
                ) from None
        except OSError as exc:
            raise _failure(self.shown, "cannot take the released copy", exc) from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        sync_folder(self.path)
        return final

    def _temporary_name(self) -> Path:
        return self.path / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(16)}.tmp"

    @staticmethod
    def _write(tmp: Path, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        flags |= getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def _first_symlink(path: Path) -> Path | None:
    """The first component of an absolute path that is a symbolic link, if any."""
    for candidate in [*reversed(path.parents), path]:
        if candidate.is_symlink():
            return candidate
    return None


def _stale(entry: os.DirEntry[str], now: float) -> bool:
    """Older than any write takes (by the file system's clock): its process ID may belong to
    another program by now."""
    try:
        return entry.stat(follow_symlinks=False).st_mtime < now - _STALE_AFTER_S
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its file alone
    return True


def _failure(shown: str, what: str, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(
        msg("--out {shown} {what} ({reason})", shown=shown, what=what, reason=reason)
    )
