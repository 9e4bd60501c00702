"""Reading part of the audit log, on SQLite and PostgreSQL: `events_mentioning` (the access
report's processing log) finds exactly the events `LoggedEvent.mentions` picks, and `audit
subject` and `audit publications`, which replay only the events they show, answer as a replay of
the whole log does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consentreg.services.audit import views
from consentreg.services.audit.events import events_mentioning, read_log
from consentreg.services.unit_of_work import Register
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import build_register

LATER = NOW + timedelta(hours=3)


def test_the_events_naming_a_person_are_those_the_whole_log_names_them_in(
    unit_of_work: ContextFactory,
) -> None:
    register = build_register(unit_of_work)
    with unit_of_work() as ctx:
        everything = read_log(ctx)
        for key in ("child", "mother", "father"):
            pid = register[key]
            expected = [e.seq for e in everything if e.mentions(pid)]
            assert [e.seq for e in events_mentioning(ctx, pid)] == expected
            assert len(expected) >= 2, key  # registered, and at least one more
        assert events_mentioning(ctx, register["child"][:16]) == []  # part of an ID is none


@pytest.mark.parametrize("key", ["child", "mother", "father", "step"])
@pytest.mark.parametrize("hours", [None, 1, 3])
def test_a_subject_read_from_its_own_events_is_what_the_whole_log_says(
    unit_of_work: ContextFactory,
    open_register: Register,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    hours: int | None,
) -> None:
    """`audit subject` replays only the events naming the person, their publications' and the
    codes': the same view as replaying every event, as of any instant."""
    register = build_register(unit_of_work)
    as_of = None if hours is None else NOW + timedelta(hours=hours, minutes=30)
    with open_register.work(now=LATER, dry_run=True) as ctx:  # its own record rolled back
        narrow = views.subject(ctx, register[key], as_of=as_of)
    monkeypatch.setattr(views, "_subject_events", lambda ctx, _pid: read_log(ctx))
    with open_register.work(now=LATER, dry_run=True) as ctx:
        whole = views.subject(ctx, register[key], as_of=as_of)
    assert narrow == whole
    assert narrow.events


def test_publications_read_from_their_own_events_are_what_the_whole_log_says(
    unit_of_work: ContextFactory, open_register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = build_register(unit_of_work)
    with open_register.work(now=LATER, dry_run=True) as ctx:
        narrow = views.publications(ctx)
    monkeypatch.setattr(views, "_events", lambda ctx, _actions: read_log(ctx))
    with open_register.work(now=LATER, dry_run=True) as ctx:
        whole = views.publications(ctx)
    assert narrow == whole
    assert {p.id for p in narrow} == {register["release"], register["refused"]}
    assert any(p.taken_down_at is not None for p in narrow)
