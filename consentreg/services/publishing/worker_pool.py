"""Worker processes for the pixel work of a batch: they hold no keys and no database connection,
and receive only a path and a size. Works with every multiprocessing start method: the default
is fork where the platform has it (the workers start in milliseconds, before the register is
opened), spawn elsewhere (Windows and macOS laptops); the tests run a batch under spawn."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentreg.imaging import Rendition


def render(path: str, max_px: int) -> tuple[str, Rendition]:
    """What a worker runs (importable by name, as spawn requires): the input's SHA-256 and its
    release copy, both from one read of the file."""
    from consentreg.imaging.rendering import render_file

    return render_file(path, max_px)


class InProcess(Executor):
    """One job: render here (no process start-up cost for a single photo)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed back through the future
            future.set_exception(exc)
        return future


def default_start_method() -> str:
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


@contextmanager
def pool(jobs: int, count: int, start_method: str | None = None) -> Iterator[Executor]:
    """`jobs` workers (at most one per input), all started at once; in-process for one."""
    if jobs <= 1 or count <= 1:
        yield InProcess()
        return
    context = multiprocessing.get_context(start_method or default_start_method())
    workers = min(jobs, count)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        for _ in range(workers):  # start them now, while the caller opens the register
            executor.submit(os.getpid)
        yield executor
