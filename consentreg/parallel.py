"""Read-only work split over processes: helpers started before the register is opened, each
given one task once the use case knows it, each answering with what it made of it.

`audit consents` answers for a whole municipality in slices of the people: the command's own
process takes slice 0 inside its unit of work, the helpers one slice each in their own read
transaction. The command's unit of work holds the writer lock (SQLite `BEGIN IMMEDIATE`, the
PostgreSQL advisory lock) before any task is sent, so no other writer can commit while the
slices are read: every slice sees the same register. Helpers are forked before this process
opens a connection, as `publish` does, because a SQLite or PostgreSQL connection must never cross
a fork. A helper never prints: a failure comes back as a value and is raised here, so the one
error handler in `main` decides what the user sees (never a traceback from a helper).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any


class Helpers:
    """Forked processes waiting for one task each."""

    def __init__(self, pipes: list[Connection], processes: list[BaseProcess]) -> None:
        self._pipes = pipes
        self._processes = processes

    def __len__(self) -> int:
        return len(self._pipes)

    def run(self, tasks: Sequence[Any]) -> Callable[[], list[Any]]:
        """Hand out one task per helper; the returned call waits for their answers, in order."""
        return self._send(tasks)

    def reply(self, replies: Sequence[Any]) -> Callable[[], list[Any]]:
        """To helpers whose work is a conversation (see `forked`): send each the reply to its
        first answer; the returned call waits for their final answers, in order."""
        return self._send(replies)

    def _send(self, values: Sequence[Any]) -> Callable[[], list[Any]]:
        if len(values) != len(self._pipes):
            raise ValueError(f"{len(values)} values for {len(self._pipes)} helpers")
        for pipe, value in zip(self._pipes, values, strict=True):
            pipe.send(value)
        return self._answers

    def _answers(self) -> list[Any]:
        answers = []
        for pipe in self._pipes:
            status, value = pipe.recv()
            if status != "ok":
                raise value
            answers.append(value)
        return answers


def default_start_method() -> str:
    """fork where the platform has it (helpers start in milliseconds and inherit the imports),
    else spawn (Windows, and macOS laptops)."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


@contextmanager
def forked(
    count: int, work: Callable[[Any], Any], *, start_method: str | None = None
) -> Iterator[Helpers]:
    """`count` helper processes that will each run `work(task)` on the task sent to them. Start
    them before anything opens the register. Helpers not given a task exit when the block ends.
    `work` and the tasks are module-level and picklable, so any start method works.

    `work` may be a generator function, for a conversation: what it yields is its first answer,
    what `Helpers.reply` sends is what the yield returns, and what it returns is its final
    answer."""
    mp: Any = multiprocessing.get_context(start_method or default_start_method())
    pipes: list[Connection] = []
    processes: list[BaseProcess] = []
    try:
        for _ in range(count):
            mine, theirs = mp.Pipe()
            # the helper closes its copies of this process's ends, or it would never see EOF
            process = mp.Process(target=_serve, args=(theirs, work, [*pipes, mine]), daemon=True)
            process.start()
            theirs.close()
            pipes.append(mine)
            processes.append(process)
        yield Helpers(pipes, processes)
    finally:
        for pipe in pipes:
            pipe.close()  # a helper still waiting for its task reads end-of-file and exits
        for helper in processes:
            helper.join(timeout=5)
            if helper.is_alive():
                helper.kill()
                helper.join()


def _serve(pipe: Connection, work: Callable[[Any], Any], others: list[Connection]) -> None:
    for other in others:
        other.close()
    try:
        task = pipe.recv()
    except EOFError:
        return
    try:
        answer: tuple[str, Any] = ("ok", work(task))
        if isinstance(answer[1], Generator):
            answer = _converse(pipe, answer[1])
    except _Gone:
        return
    except Exception as exc:  # every failure goes back to the command, as a value
        answer = ("error", _portable(exc))
    try:
        pipe.send(answer)
    except (BrokenPipeError, EOFError):  # the command gave up waiting (it failed first)
        return


class _Gone(Exception):
    """The command closed its end: it failed or finished without the helper's answer."""


def _converse(pipe: Connection, talk: Generator[Any, Any, Any]) -> tuple[str, Any]:
    """The first answer sent, the reply handed in, and the final answer returned."""
    first = next(talk)
    try:
        pipe.send(("ok", first))
        reply = pipe.recv()
    except (BrokenPipeError, EOFError):
        raise _Gone from None
    try:
        talk.send(reply)
    except StopIteration as done:
        return ("ok", done.value)
    raise RuntimeError("a helper's conversation yielded twice")


def _portable(exc: Exception) -> Exception:
    """The error itself when it is one of ours (its message is safe to show), else a generic
    one: a third-party error's message may quote data and must not cross unexamined."""
    from consentreg.errors import ConsentRegError

    if isinstance(exc, ConsentRegError):
        return exc
    return RuntimeError(f"a helper process failed ({type(exc).__name__})")
