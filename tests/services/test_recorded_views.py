"""Views read without the writer lock (the web application's pages, `web.runtime.view`): the
library reads in a read-only transaction and keeps the views of personal data it would record
(`ctx.views`); they are recorded afterwards in a short writer transaction. Meanwhile others can
write (on SQLite the writer lock is one for the whole register), and no change can slip into
the read-only transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from consentreg.db.models import AuditEvent
from consentreg.services import people
from consentreg.services.audit.events import record_views
from consentreg.services.audit.views import subject
from consentreg.services.unit_of_work import RecordedView
from tests import builders
from tests.conftest import ContextFactory


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_a_view_reads_without_blocking_a_writer_and_is_recorded_after(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        builders.unit(ctx)
        child = builders.person(ctx, "Kari Nordmann", "2021-03-14", unit_code="bhg")
    before = _events(engine)
    with unit_of_work(writer=False) as ctx:
        ctx.views = []
        shown = subject(ctx, child)
        # a registrar saves meanwhile: with the view holding the writer lock this would wait
        # for it (SQLite: the busy timeout, then "busy")
        with unit_of_work() as other:
            builders.person(other, "Åse Nordmann", "1988-01-01", kind="adult")
        kept = ctx.views
    assert shown.person["id"] == child
    assert kept == [RecordedView("subject", {"subject": child}, kept[0].payload)]
    assert _events(engine) == before + 1  # the registrar's person, not yet the view
    with unit_of_work() as ctx:
        record_views(ctx, kept)
    with engine.connect() as conn:
        ids, action = conn.execute(
            text("SELECT object_ids, action FROM audit_events ORDER BY seq DESC")
        ).first()  # type: ignore[misc]
    assert (action, json.loads(ids)) == ("audit.query", {"subject": child})


def test_no_change_can_be_made_inside_a_view(unit_of_work: ContextFactory, engine: Engine) -> None:
    with unit_of_work() as ctx:
        builders.unit(ctx)
        child = builders.person(ctx, "Kari Nordmann", "2021-03-14", unit_code="bhg")
    before = _events(engine)
    # refused by the audit log's writer, or sooner by PostgreSQL's read-only transaction
    refused = (RuntimeError, DBAPIError)
    with pytest.raises(refused, match="read-only"), unit_of_work(writer=False) as ctx:
        ctx.views = []
        people.set_protected(ctx, child, protected=True, reason="sperret adresse")
    assert _events(engine) == before
