"""The publish pipeline for many inputs: each handled on its own (one bad file never stops the
rest), image work in worker processes that hold no keys and no database connection, a progress
bar on stderr, one short writer transaction per input."""

from __future__ import annotations

import hashlib
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .runtime import Register, open_register

if TYPE_CHECKING:
    from consentreg.domain.model import Decision
    from consentreg.errors import ImageError
    from consentreg.imaging import Rendition

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}


@dataclass
class Outcome:
    input: str
    decision: str
    reasons: list[dict[str, str | None]]
    output: str | None = None
    publication_id: str | None = None

    @classmethod
    def decided(
        cls,
        label: str,
        decision: Decision,
        *,
        verb: str,
        output: str | None = None,
        publication_id: str | None = None,
    ) -> Outcome:
        reasons = [
            {"code": r.code.value, "subject": r.subject_id, "message": r.message}
            for r in decision.reasons
        ]
        return cls(
            label,
            verb,
            reasons,
            output,
            publication_id,
        )

    @classmethod
    def failed(cls, label: str, error: ImageError) -> Outcome:
        return cls(label, "error", [{"code": error.code, "subject": None, "message": str(error)}])

    def as_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "decision": self.decision,
            "output": self.output,
            "publication_id": self.publication_id,
            "reasons": self.reasons,
        }


@dataclass
class InputItem:
    label: str
    data: bytes = b""
    sha256: str = ""
    error: ImageError | None = None


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files as given; folders contribute their image files (sorted, hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in IMAGE_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            files.append(path)
    return files


def read_one(path: Path) -> InputItem:
    from consentreg.errors import ImageError
    from consentreg.imaging.reading import read_input

    try:
        data = read_input(path)
    except ImageError as exc:
        return InputItem(str(path), error=exc)
    return InputItem(str(path), data, hashlib.sha256(data).hexdigest())


def read_all(paths: list[Path]) -> list[InputItem]:
    return [read_one(p) for p in paths]


class _InProcess(Executor):
    """One job: render here (no process start-up cost for a single photo)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed back through the future
            future.set_exception(exc)
        return future


@contextmanager
def _executor(jobs: int, count: int) -> Iterator[Executor]:
    if jobs <= 1 or count <= 1:
        yield _InProcess()
        return
    import multiprocessing

    # Workers are forked now, before this process reads the key file or opens a connection
    # (publish_all creates the pool first): they hold neither. All of them start at once.
    mp = multiprocessing.get_context("fork")
    workers = min(jobs, count)
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
        for _ in range(workers):  # start them now, while this process opens the register
            pool.submit(os.getpid)
        yield pool


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal and there is more than one input."""
    if total <= 1 or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("publishing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=total <= 1 or not console.is_terminal,
    ) as bar:
        task = bar.add_task("publish", total=total)
        yield lambda: bar.advance(task)


Rendered = tuple[str, "Rendition"]  # the input's SHA-256 and its release copy


def _render(path: str, max_px: int) -> Rendered:
    """Runs in a worker (picklable by name; the main process never imports Pillow for it): read
    the input once, hash it and render from those same bytes, so the SHA-256 the gate decides on
    is that of the bytes rendered. Only the path goes to the worker, not megabytes of photo."""
    from consentreg.imaging.reading import read_input
    from consentreg.imaging.rendering import render_release

    data = read_input(Path(path))
    return hashlib.sha256(data).hexdigest(), render_release(data, max_px=max_px)


def _start_early(paths: list[Path], pool: Executor) -> list[Future[Rendered]]:
    """Send the first inputs to the workers at the default size (R12) before the register is
    open, so their rendering overlaps this process's start-up. They are decided, like every
    input, by the check inside the writer transaction that records them."""
    from consentreg.domain.model import DEFAULT_MAX_PX

    if isinstance(pool, _InProcess):
        return []
    return [pool.submit(_render, str(path), DEFAULT_MAX_PX) for path in paths]


def publish_all(
    paths: list[Path], *, purpose: str, out: Path, caption: str | None, jobs: int | None
) -> list[Outcome]:
    jobs = jobs or os.cpu_count() or 1
    window = 2 * jobs if jobs > 1 else 1  # in-process: render, record, then the next
    # workers start first and get the first photos while this process opens the register
    with _executor(jobs, len(paths)) as pool:
        early = _start_early(paths[:window], pool)
        from consentreg.services.outputs import prepare_out_dir
        from consentreg.services.purposes import purpose_by_code

        with open_register() as register:
            with register.work(writer=False) as ctx:
                max_px = purpose_by_code(ctx, purpose).max_px  # unknown purpose: exit 2 first
            run = _Run(
                register,
                purpose=purpose,
                out_dir=prepare_out_dir(out),
                shown_dir=out,
                caption=caption,
                max_px=max_px,
            )
            with _progress(len(paths)) as advance:
                return run.all(paths, pool, window=window, advance=advance, early=early)


@dataclass
class _Run:
    """Publishes the inputs in order. Each is rendered and then decided by the check inside the
    writer transaction that records it; nothing is released without that check. While every
    input so far was allowed, inputs go straight to the workers (most batches: the gate's
    pre-check would only cost time). Once one is refused, each further input is first checked
    read-only, so a batch of mostly refused photos does not render them for nothing."""

    register: Register
    purpose: str
    out_dir: Path
    shown_dir: Path  # --out as the user wrote it, for messages
    caption: str | None
    max_px: int
    cautious: bool = False  # an input of this batch was refused: pre-check the rest

    def all(
        self,
        paths: list[Path],
        pool: Executor,
        *,
        window: int,
        advance: Any,
        early: list[Future[Rendered]],
    ) -> list[Outcome]:
        from consentreg.domain.model import DEFAULT_MAX_PX

        outcomes: list[Outcome | None] = [None] * len(paths)
        in_flight: deque[tuple[int, Path, Future[Rendered]]] = deque()
        for index, path in enumerate(paths):
            future = early[index] if index < len(early) else None
            if future is not None and self.max_px != DEFAULT_MAX_PX:
                future.cancel()  # rendered at the wrong size: render again
                future = None
            if future is None:
                outcome = self._precheck(read_one(path)) if self.cautious else None
                if outcome is not None:
                    outcomes[index] = outcome
                    advance()
                    continue
                future = pool.submit(_render, str(path), self.max_px)
            in_flight.append((index, path, future))
            while len(in_flight) >= window:
                self._collect(in_flight.popleft(), outcomes, advance)
        while in_flight:
            self._collect(in_flight.popleft(), outcomes, advance)
        return [o for o in outcomes if o is not None]

    def _precheck(self, item: InputItem) -> Outcome | None:
        """Read-only decision first; a refusal is recorded without any image work."""
        from consentreg.services.publishing import check

        if item.error is not None:
            return Outcome.failed(item.label, item.error)
        with self.register.work(writer=False) as ctx:
            result = check(
                ctx,
                input_sha256=item.sha256,
                purpose=self.purpose,
                at=ctx.now,
                caption=self.caption,
            )
        return None if result.decision.allowed else self._record(item.label, item.sha256, None)

    def _collect(
        self,
        entry: tuple[int, Path, Future[Rendered]],
        outcomes: list[Outcome | None],
        advance: Any,
    ) -> None:
        from consentreg.errors import ImageError

        index, path, future = entry
        try:
            sha256, rendition = future.result()
        except ImageError as exc:
            # the same answer as with a pre-check: a refusal (recorded) if the gate says no,
            # else the image error; an input that cannot even be read is an error
            outcome = self._precheck(read_one(path)) or Outcome.failed(str(path), exc)
        else:
            outcome = self._record(str(path), sha256, rendition)
        if outcome.decision == "refused":
            self.cautious = True
        outcomes[index] = outcome
        advance()

    def _record(self, label: str, sha256: str, rendition: Rendition | None) -> Outcome:
        """Re-check under the writer lock, record, commit, then move the file into place."""
        from consentreg.services.outputs import move_into_place, write_temporary
        from consentreg.services.publishing import record_decision

        tmp = write_temporary(self.out_dir, rendition.data) if rendition else None
        try:
            with self.register.work(writer=True) as ctx:
                recorded = record_decision(
                    ctx,
                    input_sha256=sha256,
                    purpose=self.purpose,
                    caption=self.caption,
                    output_sha256=rendition.sha256 if rendition else None,
                    output_size=len(rendition.data) if rendition else None,
                    output_extension=rendition.extension if rendition else "jpg",
                )
            final = self.out_dir / recorded.output_name if recorded.output_name else None
            if tmp is not None and final is not None:
                move_into_place(tmp, final)
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        return Outcome.decided(
            label,
            recorded.decision,
            verb="released" if final else "refused",
            output=str(self.shown_dir / final.name) if final else None,
            publication_id=recorded.publication_id,
        )
