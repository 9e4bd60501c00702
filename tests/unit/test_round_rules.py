"""The pure rules of consent rounds (issue #21): who answers, what an answer changes."""

from __future__ import annotations

from datetime import date

import pytest

from consentreg.domain import rounds
from consentreg.domain.model import EventKind

TODAY = date(2026, 11, 22)
GUARDIANS = [("mor", True), ("steg", False), ("far", True)]


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        (date(2011, 11, 23), ["mor", "far"]),  # 15 tomorrow: the guardians still answer
        (date(2011, 11, 22), ["barn"]),  # 15 today: answers themself
        (date(2022, 1, 1), ["mor", "far"]),
    ],
)
def test_the_guardians_with_responsibility_answer_until_the_15th_birthday(
    born: date, expected: list[str]
) -> None:
    found = rounds.who_answers(child_id="barn", born=born, on=TODAY, guardians=GUARDIANS)
    assert found == expected


GRANT = rounds.Latest(EventKind.GRANT, "g1", 1, date(2027, 7, 31))
OLD_GRANT = rounds.Latest(EventKind.GRANT, "g0", 1, date(2026, 7, 31))
REFUSAL = rounds.Latest(EventKind.REFUSAL, "r1", 1)


@pytest.mark.parametrize(
    ("yes", "latest", "expected"),
    [
        (True, None, [rounds.Change("p", EventKind.GRANT)]),
        (True, GRANT, []),
        (True, OLD_GRANT, [rounds.Change("p", EventKind.GRANT)]),
        (True, REFUSAL, [rounds.Change("p", EventKind.GRANT)]),
        (False, None, [rounds.Change("p", EventKind.REFUSAL)]),
        (False, GRANT, [rounds.Change("p", EventKind.WITHDRAWAL, withdraws="g1")]),
        (False, OLD_GRANT, [rounds.Change("p", EventKind.REFUSAL)]),
        (False, REFUSAL, []),
    ],
)
def test_an_answer_records_only_what_it_changes(
    yes: bool, latest: rounds.Latest | None, expected: list[rounds.Change]
) -> None:
    assert rounds.changes({"p": yes}, {"p": latest}, today=TODAY, versions={"p": 1}) == expected


def test_a_grant_for_an_older_notice_is_asked_again() -> None:
    assert rounds.current_answer(GRANT, today=TODAY, notice_version=2) is None
    assert rounds.changes({"p": True}, {"p": GRANT}, today=TODAY, versions={"p": 2}) == [
        rounds.Change("p", EventKind.GRANT)
    ]


@pytest.mark.parametrize(
    ("answered", "state"),
    [([True, True], "answered"), ([True, False], "partly answered"), ([False], "not answered")],
)
def test_a_childs_progress(answered: list[bool], state: str) -> None:
    assert rounds.child_state(answered) == state


def test_only_the_first_name_and_the_coming_31_july() -> None:
    assert rounds.first_name("Emma Sofie Nordmann") == "Emma"
    assert rounds.next_school_year_end(date(2026, 8, 1)) == date(2027, 7, 31)
    assert rounds.next_school_year_end(date(2027, 7, 31)) == date(2027, 7, 31)
