"""The helper processes of `audit consents` (consentreg/parallel.py): they answer in order, a failure comes
back as the command's own error (never a traceback, never a third-party message), and helpers
that were never given a task leave on their own when the command ends. A helper's work may be a
conversation: a first answer, a reply, a final answer."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from consentreg.errors import NotFoundError
from consentreg.parallel import forked


def _square(n: int) -> int:
    return n * n


def _fail(kind: str) -> None:
    if kind == "ours":
        raise NotFoundError("unknown unit 'x'")
    raise OSError("/home/kari/Emma Nordmann.jpg is gone")


def _talk(n: int) -> Generator[int, int, str]:
    told = yield n * n
    if told < 0:
        raise NotFoundError(f"told {told}")
    return f"{n} told {told}"


def test_a_conversation_gives_a_first_answer_takes_a_reply_and_gives_a_final_answer() -> None:
    with forked(2, _talk) as helpers:
        assert helpers.run([2, 3])() == [4, 9]
        assert helpers.reply([13, 14])() == ["2 told 13", "3 told 14"]


def test_a_failure_after_the_reply_comes_back_as_the_final_answer() -> None:
    with forked(1, _talk) as helpers:
        assert helpers.run([2])() == [4]
        with pytest.raises(NotFoundError, match="told -1"):
            helpers.reply([-1])()


def _talk_big(n: int) -> Generator[bytes, None, None]:
    yield bytes(n)  # more than a pipe holds: the helper waits until it is read


def _talk_twice(n: int) -> Generator[int, int, None]:
    yield n
    yield n


def _talk_failing_first(kind: str) -> Generator[int, int, None]:
    _fail(kind)
    yield 0


def test_a_helper_left_without_its_reply_leaves_when_the_command_ends() -> None:
    with forked(2, _talk) as helpers:
        assert helpers.run([2, 3])() == [4, 9]
        processes = list(helpers._processes)
    assert [p.exitcode for p in processes] == [0, 0]


def test_a_command_failing_before_it_reads_a_first_answer_leaves_its_helpers_quiet(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(NotFoundError), forked(2, _talk_big) as helpers:
        helpers.run([10_000_000, 10_000_000])
        processes = list(helpers._processes)
        raise NotFoundError("the command failed first")
    assert [p.exitcode for p in processes] == [0, 0]
    assert capfd.readouterr().err == ""  # no traceback from a helper


def test_a_failure_before_the_first_answer_comes_back_as_the_first_answer() -> None:
    with forked(1, _talk_failing_first) as helpers, pytest.raises(NotFoundError):
        helpers.run(["ours"])()


def test_a_conversation_that_yields_twice_fails_as_a_helper_failure() -> None:
    with forked(1, _talk_twice) as helpers:
        assert helpers.run([5])() == [5]
        with pytest.raises(RuntimeError, match="a helper process failed"):
            helpers.reply([1])()


def test_helpers_answer_their_tasks_in_order() -> None:
    with forked(3, _square) as helpers:
        assert len(helpers) == 3
        assert helpers.run([2, 3, 4])() == [4, 9, 16]


def test_our_errors_come_back_as_they_are_and_others_without_their_message() -> None:
    with forked(1, _fail) as helpers, pytest.raises(NotFoundError, match="unknown unit 'x'"):
        helpers.run(["ours"])()
    with forked(1, _fail) as helpers, pytest.raises(RuntimeError) as caught:
        helpers.run(["theirs"])()
    assert str(caught.value) == "a helper process failed (OSError)"


def test_helpers_never_given_a_task_leave_when_the_command_ends() -> None:
    with forked(3, _square) as helpers:
        processes = list(helpers._processes)
    # they read end-of-file and return: exit code 0, not killed after the grace period
    assert [p.exitcode for p in processes] == [0, 0, 0]
