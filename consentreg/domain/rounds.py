"""Consent rounds (issue #21) as pure rules: who answers for a child, what a guardian's answers
change, how far a child's round has come. Stdlib only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from consentreg.domain.calendar import DEFAULT_VALID_UNTIL_MMDD, age_on, default_valid_until
from consentreg.domain.model import EventKind

SELF_ANSWER_AGE = 15
ANSWERED, PARTLY, NOT_ANSWERED = "answered", "partly answered", "not answered"


def who_answers(
    *, child_id: str, born: date, on: date, guardians: Sequence[tuple[str, bool]]
) -> list[str]:
    """The people whose answer counts for a child on a day (DOMAIN.md R3, R4): the pupil from
    the 15th birthday, before it each guardian with parental responsibility (in the given
    order). `guardians` are (person ID, parental responsibility) pairs in force."""
    if age_on(born, on) >= SELF_ANSWER_AGE:
        return [child_id]
    return [gid for gid, responsible in guardians if responsible]


@dataclass(frozen=True)
class Latest:
    """A consenter's latest decision for one child and purpose: its kind, its ID (for a grant,
    the one a "no" withdraws), the notice version it bound to, its last valid day."""

    kind: EventKind
    id: str
    notice_version: int
    valid_until: date | None = None


def in_force(latest: Latest | None, *, today: date, notice_version: int) -> bool:
    """A grant that still counts today and binds to the notice shown now."""
    return (
        latest is not None
        and latest.kind is EventKind.GRANT
        and latest.notice_version == notice_version
        and (latest.valid_until is None or latest.valid_until >= today)
    )


def current_answer(latest: Latest | None, *, today: date, notice_version: int) -> bool | None:
    """What the guardian's page shows as their answer now: yes (a grant in force for the notice
    shown), no (a refusal or a withdrawal), or nothing (never answered, expired, or a grant for
    an older notice: to be answered again)."""
    if latest is None:
        return None
    if latest.kind is EventKind.GRANT:
        return True if in_force(latest, today=today, notice_version=notice_version) else None
    return False


@dataclass(frozen=True)
class Change:
    """One decision to record for a purpose: a grant, a refusal, or the withdrawal of the grant
    `withdraws`."""

    purpose_id: str
    kind: EventKind
    withdraws: str | None = None


def changes(
    wanted: Mapping[str, bool],
    latest: Mapping[str, Latest | None],
    *,
    today: date,
    versions: Mapping[str, int],
) -> list[Change]:
    """What a submission changes, purpose by purpose (in the order of `wanted`): a "yes" grants
    unless a grant for the current notice is in force; a "no" withdraws a grant still valid,
    records a refusal when there was no answer (or only an expired grant), and changes nothing
    when the answer was already no. An unchanged answer records nothing."""
    found = []
    for pid, yes in wanted.items():
        last = latest.get(pid)
        if yes:
            if not in_force(last, today=today, notice_version=versions[pid]):
                found.append(Change(pid, EventKind.GRANT))
        elif last is not None and last.kind is EventKind.GRANT and _still_valid(last, today):
            found.append(Change(pid, EventKind.WITHDRAWAL, withdraws=last.id))
        elif last is None or last.kind is EventKind.GRANT:
            found.append(Change(pid, EventKind.REFUSAL))
    return found


def _still_valid(latest: Latest, today: date) -> bool:
    return latest.valid_until is None or latest.valid_until >= today


def child_state(answered: Sequence[bool]) -> str:
    """A child's progress in a round from whether each recipient has answered."""
    if answered and all(answered):
        return ANSWERED
    return PARTLY if any(answered) else NOT_ANSWERED


def first_name(full_name: str) -> str:
    """The first word of a name: all a guardian's page and letter show of the child."""
    words = full_name.split()
    return words[0] if words else ""


def next_school_year_end(today: date) -> date:
    """The coming 31 July (today included): a round's and the renewal report's default end."""
    return default_valid_until(today, valid_until_mmdd=DEFAULT_VALID_UNTIL_MMDD, valid_days=None)
