"""The helper processes of `audit consents` (cli/parts.py): they answer in order, a failure comes
back as the command's own error (never a traceback, never a third-party message), and helpers
that were never given a task leave on their own when the command ends."""

from __future__ import annotations

import pytest

from cli.parts import forked
from consentreg.errors import NotFoundError


def _square(n: int) -> int:
    return n * n


def _fail(kind: str) -> None:
    if kind == "ours":
        raise NotFoundError("unknown unit 'x'")
    raise OSError("/home/kari/Emma Nordmann.jpg is gone")


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
