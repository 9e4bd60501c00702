"""The index of audit events by the people they name (consentreg.services.audit.mentions): a
person's history and access report come from it, so it must hold exactly the events that name
each person, and `audit verify` must notice when it does not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from consentreg.db.base import Base
from consentreg.db.models import AuditMention, Person, Unit
from consentreg.services import rounds
from consentreg.services.audit import views
from consentreg.services.audit.events import events_mentioning, read_log, record_query
from consentreg.services.audit.kinds import KINDS
from consentreg.services.audit.mentions import PERSON_KEYS
from consentreg.services.audit.verify import verify_log
from consentreg.services.unit_of_work import Context
from tests.conftest import ContextFactory
from tests.services.test_audit_verify import Register, build_register, seq_of, tamper


def _more_views(ctx: Context, register: Register) -> None:
    """Events of the kinds `build_register` has none of: a consent round's links (to the
    guardians), and recorded views naming people in lists."""
    unit = str(ctx.session.scalar(select(Unit.code).limit(1)))
    started = rounds.start_round(ctx, unit=unit, purposes=["facebook"])
    rounds.issue_links(ctx, round_id=started.id)
    views.subject(ctx, register["child"])
    record_query(ctx, "names", ids={"people": sorted([register["mother"], register["father"]])})
    record_query(ctx, "unit", ids={"unit": None, "subjects": [register["staff"]]})


def _flat(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_index_names_every_person_each_event_names_and_no_one_else(
    unit_of_work: ContextFactory,
) -> None:
    register = build_register(unit_of_work)
    with unit_of_work() as ctx:
        _more_views(ctx, register)
    with unit_of_work() as ctx:
        people = set(ctx.session.scalars(select(Person.id)))
        log = read_log(ctx)
        indexed: dict[int, set[str]] = {}
        for row in ctx.session.execute(select(AuditMention.seq, AuditMention.object_id)):
            indexed.setdefault(row.seq, set()).add(row.object_id)
        # whatever the key: every person ID among an event's object IDs, from the log itself
        named = {
            e.seq: found
            for e in log
            if (found := {v for value in e.ids.values() for v in _flat(value) if v in people})
        }
        assert indexed == named
        assert {e.action for e in log if e.seq in named} >= {
            "person.add",
            "guardian.add",
            "consent.grant",
            "consent.withdrawal",
            "photo.tag",
            "round.link",
            "audit.query",
        }
        for person in people:
            assert [e.seq for e in events_mentioning(ctx, person)] == [
                e.seq for e in log if e.mentions(person)
            ]


def test_the_person_keys_are_those_the_event_kinds_use_for_people() -> None:
    """An ID column referring to people, wherever an event kind carries it among its object IDs,
    is indexed; and the recorded views' keys for the people they showed."""
    by_kinds = set()
    for kind in KINDS:
        for part in kind.parts:
            table = Base.metadata.tables[part.table]
            for f in part.fields:
                column = table.c[f.column]
                refers = (part.table, f.column) == ("people", "id") or any(
                    fk.column.table.name == "people" for fk in column.foreign_keys
                )
                if refers and f.where == "ids":
                    by_kinds.add(f.name)
                elif refers and f.where == "item":
                    by_kinds.add(str(part.each).removeprefix("ids:"))
    assert set(PERSON_KEYS) == by_kinds | {"subject", "subjects", "people"}


def test_verify_reports_an_index_row_deleted_or_added(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    """A deleted row would hide an event from a parent's access report; an added one would show
    them an event about someone else."""
    register = build_register(unit_of_work)
    grant = seq_of(engine, "consent.grant", register["grant_mother"])
    refusal = seq_of(engine, "consent.refusal", register["refusal"])
    tamper(
        engine,
        "DELETE FROM audit_mentions WHERE seq = :grant AND object_id = :mother",
        "INSERT INTO audit_mentions (object_id, seq) VALUES (:child, :refusal)",
        grant=grant,
        mother=register["mother"],
        child=register["child"],
        refusal=refusal,
    )
    with unit_of_work() as ctx:
        report = verify_log(ctx)
        found = {(f.kind, f.seq, f.row) for f in report.findings}
        assert found == {
            ("index_missing", grant, f"{register['mother']}/{grant}"),
            ("index_extra", refusal, f"{register['child']}/{refusal}"),
        }


def test_the_index_is_append_only(unit_of_work: ContextFactory, engine: Engine) -> None:
    build_register(unit_of_work)
    for statement in ("DELETE FROM audit_mentions", "UPDATE audit_mentions SET seq = seq + 1"):
        with (
            pytest.raises(DBAPIError, match="audit_mentions is append-only"),
            engine.begin() as conn,
        ):
            conn.execute(text(statement))
