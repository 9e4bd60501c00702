"""Alembic migrations on both engines: one head, upgrade from empty, a full down/up round trip,
and the ORM models matching the migrated DDL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from consentreg.db.base import Base
from consentreg.db.engine import make_engine
from consentreg.db.models import Person, PersonKey
from consentreg.db.schema import (
    HEAD_REVISION,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from consentreg.domain.caption import NAME_KEYS_VERSION
from consentreg.domain.model import EventKind
from consentreg.errors import SchemaOutOfDateError
from consentreg.services import consents, people
from consentreg.services.audit.events import record_query
from consentreg.services.audit.standing import register_at
from consentreg.services.audit.verify import verify_log
from consentreg.services.caption_index import replace_caption_keys
from consentreg.services.corrections import correct_person, leave_person
from consentreg.services.evidence import evidence_problems
from consentreg.services.people import decrypt_name
from consentreg.services.unit_of_work import new_id
from tests import builders
from tests.conftest import ContextFactory


@pytest.fixture
def empty_engine(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """The per-test database, taken back to empty (base) first."""
    engine = make_engine(db_url)
    downgrade(engine, "base")
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_there_is_a_single_head_revision_and_the_schema_check_knows_it(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert script.get_heads() == [HEAD_REVISION]


def test_upgrade_from_empty_builds_every_table(empty_engine: Engine) -> None:
    assert _tables(empty_engine) == set()
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)


def test_every_revision_downgrades_and_upgrades_again(empty_engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_engine))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(empty_engine, revision)
    for previous in [*reversed(revisions[:-1]), "base"]:
        downgrade(empty_engine, previous)
    assert _tables(empty_engine) == set()
    upgrade(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)


def test_the_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_foreign_keys_are_enforced_at_run_time(engine: Engine) -> None:
    with pytest.raises(Exception, match="(?i)foreign key"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO photo_subjects (photo_id, person_id, identifiable, tagged_at, tagged_by)"
                " VALUES ('nope', 'nope', true, CURRENT_TIMESTAMP, 't')"
            )
        )


def test_a_database_behind_head_is_refused_until_upgraded(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    from consentreg.db.schema import require_head

    with pytest.raises(SchemaOutOfDateError, match="consentreg db upgrade"):
        require_head(engine)
    engine.dispose()


def _round_trip(engine: Engine, revision: str) -> None:
    """Down to `revision` and back up to head, keeping the person keys (0016) of the people
    this version's code wrote: a downgrade below 0016 drops them (their data would be lost),
    so they are put back as that code wrote them."""
    with engine.connect() as conn:
        keys = [dict(r) for r in conn.execute(select(PersonKey.__table__)).mappings()]
    downgrade(engine, revision)
    upgrade(engine)
    with engine.begin() as conn:
        if keys and revision < "0016":
            conn.execute(insert(PersonKey), keys)


def _put_back_caption_index(unit_of_work: ContextFactory) -> None:
    """The caption index (0013) of people written by this version's code, which its events
    carry, as that code wrote it: the round trip below 0013 dropped it."""
    with unit_of_work() as ctx:
        for person in ctx.session.scalars(select(Person)):
            replace_caption_keys(ctx, person.id, decrypt_name(ctx, person))
            person.caption_index = NAME_KEYS_VERSION


def test_a_register_from_before_corrections_upgrades_with_nobody_left_and_verifies(
    engine: Engine, unit_of_work: ContextFactory
) -> None:
    """Revision 0009 on a register with people, guardians and consents: nobody has left, no
    correction exists, the log still verifies, and the people can be corrected afterwards."""
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        child, (mother, _father) = builders.family(ctx)
        builders.grant(ctx, child, mother)
    _round_trip(engine, "0008")
    _put_back_caption_index(unit_of_work)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM people WHERE left_at IS NULL")).scalar() == 3
    with unit_of_work() as ctx:
        assert verify_log(ctx).ok
        correct_person(ctx, child, unit="bhg", born=date(2021, 3, 15))
        leave_person(ctx, mother)
    with unit_of_work() as ctx:
        assert verify_log(ctx).ok


def test_guardianships_from_before_start_dates_upgrade_as_from_birth_and_still_count(
    engine: Engine, unit_of_work: ContextFactory
) -> None:
    """Revision 0014 on a register with guardianships: each reads as "from the child's birth"
    (NULL, the birth date being encrypted), the log still verifies, and a check at an instant
    before the guardianship was entered still counts its guardian."""
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        child, (mother, father) = builders.family(ctx)
        builders.grant(ctx, child, mother)
    _round_trip(engine, "0013")
    with engine.connect() as conn:
        starts = conn.execute(text("SELECT starts_on FROM guardianships")).scalars().all()
    assert starts == [None, None]
    with unit_of_work() as ctx:
        assert verify_log(ctx).ok
        found = register_at(ctx, datetime(2022, 1, 1, tzinfo=UTC))
    assert {g.person_id for g in found.guardians[child]} == {mother, father}


def test_evidence_stays_append_only_through_revision_0016(
    engine: Engine, unit_of_work: ContextFactory
) -> None:
    """0016 rebuilds `evidence_blobs` on SQLite (its unique SHA-256 becomes an index): the
    append-only guards are made again, and a blob stored before (under the register's key, for
    a person from before 0016) keeps its bytes readable."""
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        mother = builders.person(ctx, "Kari Nordmann", "1988-01-01", kind="adult")
        child, enc = new_id(), ctx.keys.encrypt
        ctx.session.add(
            Person(
                id=child,
                kind="child",
                name_ct=enc("Gammel Person", table="people", column="name", row_id=child),
                born_ct=enc("2020-01-01", table="people", column="born", row_id=child),
                created_at=ctx.now,
                created_by=ctx.actor,
            )
        )
        people.add_guardian(ctx, child=child, guardian=mother)
        with builders.scan(b"signed form\n") as evidence:
            consents.record_decision(
                ctx, subject=child, purpose="facebook", by=mother, kind=EventKind.GRANT,
                evidence=evidence,
            )  # fmt: skip
    _round_trip(engine, "0015")
    for statement in ("UPDATE evidence_blobs SET size = 0", "DELETE FROM evidence_blobs"):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    with unit_of_work() as ctx:
        assert list(evidence_problems(ctx)) == []


def test_revision_0017_indexes_the_log_by_person_as_the_writers_do(
    engine: Engine, unit_of_work: ContextFactory
) -> None:
    """0017 fills the index of events by the people they name from the log in SQL (both
    engines' JSON functions): the very rows the writers put in, a person named twice by one
    event once, people in lists of IDs included; the log verifies afterwards."""
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        child, (mother, father) = builders.family(ctx)
        builders.grant(ctx, child, mother)
        pupil = builders.person(ctx, "Ola Nordmann", "2008-01-01")
        builders.grant(ctx, pupil, pupil)  # the subject is the consenter
        record_query(ctx, "names", ids={"people": [mother, father], "subject": child})

    def index() -> list[tuple[str, int]]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT object_id, seq FROM audit_mentions"))
            return sorted((r.object_id, r.seq) for r in rows)

    written = index()
    assert {person for person, _seq in written} == {child, mother, father, pupil}
    _round_trip(engine, "0016")
    assert index() == written
    with unit_of_work() as ctx:
        assert verify_log(ctx).ok
