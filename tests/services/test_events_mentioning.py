"""`events_mentioning` (the access report's processing log, read without parsing the whole log)
on SQLite and PostgreSQL: exactly the events `LoggedEvent.mentions` picks, in order."""

from __future__ import annotations

from consentreg.services.audit.events import events_mentioning, read_log
from tests.conftest import ContextFactory
from tests.services.test_audit_verify import build_register


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
