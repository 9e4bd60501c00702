"""The publishing use cases as one library call each: `check_files` (the decision only),
`publish` (decide, record, then deliver the released copies) and `repair_releases` (finish
deliveries a crash interrupted). Every entry point calls these; none assembles them.

The life of one input in `publish`:
1. a worker process renders it (Pillow, no keys, no database connection) into memory;
2. the gate decides inside a writer transaction, which records the release as `pending` or the
   refusal, and commits;
3. only then is the copy written into the output folder under a temporary name and linked to its
   neutral final name; the next writer transaction records it as `delivered`.
No byte of an undecided or refused photo is ever written under the output folder. A kill at any
instant leaves at most a temporary file of a committed release, which the next run removes
before it delivers that release again from the original (or records it as `failed`).

Speed: workers start before the register is opened and get the first inputs at the default
size; while every input so far was allowed, inputs go straight to the workers; once one is
refused, each further one is first checked read-only, so a batch of mostly refused photos is
not rendered for nothing."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from consentreg.domain import text
from consentreg.errors import (
    ConsentRegError,
    ImageError,
    InputsRefusedError,
    InputsUnreadableError,
    InvalidInputError,
    OutputError,
)
from consentreg.i18n import msg
from consentreg.release_folder import ReleaseFolder
from consentreg.services.publishing import worker_pool

# SQLAlchemy and the models (a quarter of a second to import) are imported only once the
# workers are rendering: the register is opened while they work (`publish`)
if TYPE_CHECKING:
    from typing import TypeAlias

    from consentreg.domain.model import Decision
    from consentreg.imaging import Rendition
    from consentreg.services.publishing.repair import Repair
    from consentreg.services.unit_of_work import Context, Register

    Opener: TypeAlias = Register | AbstractContextManager[Register]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
Progress = Callable[["Outcome"], None]


@dataclass(frozen=True)
class ReasonLine:
    code: str
    subject: str | None
    message: str


@dataclass(frozen=True)
class Outcome:
    """One input's answer: released, allowed (check only), refused or error."""

    input: str
    decision: str
    output: str | None = None
    publication_id: str | None = None
    reasons: tuple[ReasonLine, ...] = ()

    @classmethod
    def decided(cls, label: str, decision: Decision, verb: str, **found: str | None) -> Outcome:
        reasons = tuple(ReasonLine(r.code.value, r.subject_id, r.message) for r in decision.reasons)
        return cls(label, verb, reasons=reasons, **found)

    @classmethod
    def failed(cls, label: str, error: ImageError) -> Outcome:
        return cls(
            label,
            "error",
            reasons=(ReasonLine(error.code, None, error.args[0] if error.args else str(error)),),
        )


@dataclass(frozen=True)
class PublishReport:
    outcomes: list[Outcome]
    repairs: list[Repair] = field(default_factory=list)
    leftovers_removed: int = 0


@dataclass(frozen=True)
class Inputs:
    """The files of a batch, and the files of its folders skipped as not images."""

    files: list[Path]
    skipped: list[Path]


def gather_inputs(paths: Sequence[Path]) -> Inputs:
    """Files as given; folders contribute their image files (sorted; hidden files ignored),
    and their other files are listed as skipped. A folder without any image file is refused
    (InvalidInputError): publishing or checking it would do nothing."""
    files: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        images = [p for p in found if p.suffix.lower() in IMAGE_SUFFIXES]
        others = [p for p in found if p.suffix.lower() not in IMAGE_SUFFIXES]
        if not images:
            what = f"{len(others)} other file(s), no image" if others else "empty"
            raise InvalidInputError(
                msg(
                    "folder {text_file_name} holds no image to publish ({what}; images are .jpg, .jpeg, .png, .webp, .heic, .heif)",
                    text_file_name=text.file_name(str(path)),
                    what=what,
                )
            )
        files += images
        skipped += others
    return Inputs(files, skipped)


def expand_inputs(paths: Sequence[Path]) -> list[Path]:
    """The files of `gather_inputs`."""
    return gather_inputs(paths).files


def require_all_passed(outcomes: Sequence[Outcome]) -> None:
    """After the answers are shown: InputsRefusedError when an input was refused, else
    InputsUnreadableError when one could not be read."""
    decisions = {o.decision for o in outcomes}
    if "refused" in decisions:
        raise InputsRefusedError(
            msg("{value} refused", value=sum(o.decision == "refused" for o in outcomes))
        )
    if "error" in decisions:
        raise InputsUnreadableError(
            msg("{value} unreadable", value=sum(o.decision == "error" for o in outcomes))
        )


def _label(path: Path) -> str:
    """The input's name as given, as text that can be shown and stored (bytes that are not
    UTF-8 become U+FFFD)."""
    return text.file_name(str(path))


def _read(path: Path) -> tuple[str, ImageError | None]:
    """The input's SHA-256, or the reason it cannot be read."""
    from consentreg.imaging.reading import read_input

    try:
        return hashlib.sha256(read_input(path)).hexdigest(), None
    except ImageError as exc:
        return "", exc


def check_files(
    ctx: Context, *, inputs: Sequence[Path], purpose: str, at: datetime, caption: str | None
) -> list[Outcome]:
    """The gate's decision for each input as of `at`; writes nothing, renders nothing."""
    from consentreg.services.publishing.gate import check

    outcomes = []
    for path in expand_inputs(inputs):
        sha256, error = _read(path)
        if error is not None:
            outcomes.append(Outcome.failed(_label(path), error))
            continue
        result = check(ctx, input_sha256=sha256, purpose=purpose, at=at, caption=caption)
        verb = "allowed" if result.decision.allowed else "refused"
        outcomes.append(Outcome.decided(_label(path), result.decision, verb))
    return outcomes


def publish(
    register: Opener,
    *,
    inputs: Sequence[Path],
    purpose: str,
    out: str | Path,
    caption: str | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    start_method: str | None = None,
    again: bool = False,
) -> PublishReport:
    """Publish every input for a purpose into the folder `out` (see the module's docstring).

    `register` is an open register or a context manager that opens one: given the latter, the
    workers start rendering while it opens. `start_method` is multiprocessing's (default: fork
    where the platform has it, else spawn). Raises OutputError when the folder cannot take a
    release (nothing is overwritten; releases before it stay delivered).

    A photo already released for the purpose and not taken down is answered `already_released`
    (naming the earlier publication) and not rendered, written or recorded again, unless
    `again`: then it gets a new copy and a publication of its own."""
    paths = expand_inputs(inputs)
    if caption is not None:
        text.check_text(caption, field="--caption", limit=text.CAPTION)
    jobs = jobs or os.cpu_count() or 1
    window = 2 * jobs if jobs > 1 else 1  # in-process: render, record, then the next
    with worker_pool.pool(jobs, len(paths), start_method) as pool:
        early = _start_early(paths[:window], pool)
        with _opened(register) as reg:
            from consentreg.services.access import require  # after the workers started
            from consentreg.services.publishing.repair import repair_releases
            from consentreg.services.purposes import purpose_by_code

            with reg.work(writer=False) as ctx:
                require(ctx, "publication.released")  # a role that may not: before any work
                max_px = purpose_by_code(ctx, purpose).max_px  # unknown purpose: first
            folder = ReleaseFolder.prepare(out)
            removed = folder.clean_leftovers()
            repairs = repair_releases(reg, folder=folder)
            run = _Run(
                reg, purpose, folder, caption, max_px, progress or (lambda _o: None), again=again
            )
            outcomes = run.all(paths, pool, window=window, early=early)
    return PublishReport(outcomes, repairs, len(removed))


def _opened(register: Opener) -> AbstractContextManager[Register]:
    from consentreg.services.unit_of_work import Register

    return nullcontext(register) if isinstance(register, Register) else register


def _start_early(paths: list[Path], pool: Executor) -> list[Future[Rendered]]:
    """The first inputs go to the workers at the default size before the register is open."""
    from consentreg.domain.model import DEFAULT_MAX_PX

    if isinstance(pool, worker_pool.InProcess):
        return []
    return [pool.submit(worker_pool.render, str(p), DEFAULT_MAX_PX) for p in paths]


Rendered = tuple[str, "Rendition"]  # the input's SHA-256 and its release copy


@dataclass
class _Run:
    """Publishes the inputs of one batch in order."""

    register: Register
    purpose: str
    folder: ReleaseFolder
    caption: str | None
    max_px: int
    progress: Progress
    again: bool = False  # release photos already out there again (publish --again)
    cautious: bool = False  # an input of this batch was refused: pre-check the rest
    arrived: list[str] = field(default_factory=list)  # delivered, not yet recorded so
    done: list[Outcome] = field(default_factory=list)

    def all(
        self, paths: list[Path], pool: Executor, *, window: int, early: list[Future[Rendered]]
    ) -> list[Outcome]:
        from consentreg.domain.model import DEFAULT_MAX_PX

        outcomes: list[Outcome | None] = [None] * len(paths)
        in_flight: deque[tuple[int, Path, Future[Rendered]]] = deque()
        try:
            for index, path in enumerate(paths):
                future = early[index] if index < len(early) else None
                if future is not None and self.max_px != DEFAULT_MAX_PX:
                    future.cancel()  # rendered at the wrong size: render again
                    future = None
                if future is None:
                    outcome = self._precheck(path) if self.cautious else None
                    if outcome is not None:
                        self._finish(outcomes, index, outcome)
                        continue
                    future = pool.submit(worker_pool.render, str(path), self.max_px)
                in_flight.append((index, path, future))
                while len(in_flight) >= window:
                    self._collect(in_flight.popleft(), outcomes)
            while in_flight:
                self._collect(in_flight.popleft(), outcomes)
        finally:
            for _, _, pending in in_flight:
                pending.cancel()
            self._record_arrivals()
        return [o for o in outcomes if o is not None]

    def _finish(self, outcomes: list[Outcome | None], index: int, outcome: Outcome) -> None:
        if outcome.decision == "refused":
            self.cautious = True
        outcomes[index] = outcome
        self.done.append(outcome)
        self.progress(outcome)

    def _precheck(self, path: Path) -> Outcome | None:
        """Read-only decision first; a refusal is recorded without any image work."""
        from consentreg.services.publishing.gate import check

        sha256, error = _read(path)
        if error is not None:
            return Outcome.failed(_label(path), error)
        with self.register.work(writer=False) as ctx:
            result = check(
                ctx,
                input_sha256=sha256,
                purpose=self.purpose,
                at=ctx.now,
                caption=self.caption,
                again=self.again,
            )
        return None if result.decision.allowed else self._record(path, sha256, None)

    def _collect(
        self, entry: tuple[int, Path, Future[Rendered]], outcomes: list[Outcome | None]
    ) -> None:
        index, path, future = entry
        try:
            sha256, rendition = future.result()
        except ImageError as exc:
            # a refusal (recorded) if the gate says no, else the image error
            outcome = self._precheck(path) or Outcome.failed(_label(path), exc)
        else:
            outcome = self._record(path, sha256, rendition)
        self._finish(outcomes, index, outcome)

    def _record(self, path: Path, sha256: str, rendition: Rendition | None) -> Outcome:
        """Re-check under the writer lock and record (with the arrivals so far); commit; then
        deliver the copy."""
        from consentreg.services.publishing.deliveries import mark_delivered
        from consentreg.services.publishing.gate import record_decision

        with self.register.work(writer=True) as ctx:
            if self.arrived:
                mark_delivered(ctx, publication_ids=self.arrived)
            recorded = record_decision(
                ctx,
                input_sha256=sha256,
                purpose=self.purpose,
                caption=self.caption,
                output_sha256=rendition.sha256 if rendition else None,
                output_size=len(rendition.data) if rendition else None,
                output_extension=rendition.extension if rendition else "jpg",
                output_dir=str(self.folder.path),
                input_path=text.file_name(os.path.abspath(path)),
                again=self.again,
            )
        self.arrived = []
        found = {"publication_id": recorded.publication_id}
        if recorded.output_name is None or rendition is None:
            return Outcome.decided(_label(path), recorded.decision, "refused", **found)
        self._deliver(recorded.publication_id, recorded.output_name, rendition.data)
        output = os.path.join(self.folder.shown, recorded.output_name)
        return Outcome.decided(_label(path), recorded.decision, "released", output=output, **found)

    def _deliver(self, publication_id: str, name: str, data: bytes) -> None:
        try:
            self.folder.deliver(name, data)
        except OutputError as exc:
            self._void(publication_id)
            released = sum(o.decision == "released" for o in self.done)
            raise OutputError(
                msg(
                    "{exc}; {released} released before it are in the folder, the rest of the batch was not published",
                    exc=exc,
                    released=released,
                )
            ) from None
        self.arrived.append(publication_id)

    def _void(self, publication_id: str) -> None:
        from consentreg.services.publishing.deliveries import mark_failed

        with self.register.work(writer=True) as ctx:
            mark_failed(ctx, publication_id=publication_id, reason="output_not_written")

    def _record_arrivals(self) -> None:
        """Deliveries not yet recorded, in one transaction; if even that fails (the run is
        ending on an error), the next run finds the files and records them."""
        from consentreg.services.publishing.deliveries import mark_delivered

        if not self.arrived:
            return
        try:
            with self.register.work(writer=True) as ctx:
                mark_delivered(ctx, publication_ids=self.arrived)
        except ConsentRegError:
            return
        self.arrived = []
