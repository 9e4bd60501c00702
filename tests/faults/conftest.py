"""Fault tests run the real entry point in-process (`cli.main.run`), as tests/cli does, against
registers that are damaged, read-only, full, too new or out of reach. Every fault must end in one
line "Error: ..." with its documented code, never exit 1, and leave nothing half-written.

Mounting (a tmpfs for a full file system, a read-only bind mount for a read-only home) needs
root; where it is impossible the tests that need it are skipped, saying so."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, Result, cli, home, in_process

__all__ = ["Invoke", "Result", "cli", "home"]  # the CLI tests' fixtures, re-exported

Mount = Callable[..., AbstractContextManager[Path]]


def one_error_line(result: Result, code: int, *fragments: str) -> str:
    """The command failed with `code` and said so in exactly one line naming each fragment."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert ("internal error" in lines[0]) == (code == 1)  # only a bug is one
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    """The command line in-process with the environment as the test set it (no `init`)."""
    monkeypatch.delenv("CONSENTREG_KEY_FILE", raising=False)
    return in_process(capsys)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


def _umount(path: Path) -> None:
    """Unmount; a mount still busy (a file left open) is detached lazily, never left behind."""
    done = subprocess.run(["umount", str(path)], check=False, capture_output=True, timeout=30)
    if done.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def can_mount(tmp_path_factory: pytest.TempPathFactory) -> bool:
    """Whether this machine lets the tests mount (root, and mount(2) allowed: not in every
    container)."""
    probe = tmp_path_factory.mktemp("mount-probe")
    try:
        _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
    except (OSError, subprocess.SubprocessError):
        return False
    _umount(probe)
    return True


@pytest.fixture
def tmpfs(can_mount: bool, tmp_path: Path) -> Iterator[Mount]:
    """`with tmpfs(size_kb) as folder:` a small file system of its own, unmounted after."""
    if not can_mount:
        pytest.skip("cannot mount a tmpfs here (needs root and mount(2))")
    mounted: list[Path] = []

    @contextmanager
    def mount(size_kb: int) -> Iterator[Path]:
        folder = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        _mount("-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(folder))
        mounted.append(folder)
        yield folder

    yield mount
    for folder in mounted:
        _umount(folder)


@pytest.fixture
def read_only(can_mount: bool) -> Mount:
    """`with read_only(folder):` the folder bind-mounted read-only over itself, for the block."""
    if not can_mount:
        pytest.skip("cannot bind-mount read-only here (needs root and mount(2))")

    @contextmanager
    def mount(folder: Path) -> Iterator[Path]:
        _mount("--bind", str(folder), str(folder))
        try:
            _mount("-o", "remount,ro,bind", str(folder))
            yield folder
        finally:
            _umount(folder)

    return mount


def fill(folder: Path, *, leave_kb: int) -> Path:
    """Fill the file system holding `folder` until at most `leave_kb` kilobytes are free."""
    filler = folder / f"filler-{uuid.uuid4().hex[:6]}"
    with filler.open("wb", buffering=0) as fh:
        while (free := shutil.disk_usage(folder).free) > leave_kb * 1024:
            try:
                fh.write(b"\xff" * min(64 * 1024, free - leave_kb * 1024))
            except OSError:  # full before the count said so
                break
    return filler
