"""The bulk writer (COPY on PostgreSQL, executemany on SQLite) stores exactly what SQLAlchemy's
insert() stores, on both engines, and a bad row leaves nothing behind; so does a batch whose
chunks are written by a thread (the imports' overlapped batch). The bulk reader gives exactly the
values SQLAlchemy's `.all()` gives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    case,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from consentreg.db.bulk import _converted, insert_rows, read_columns
from consentreg.db.models import AuditEvent, ConsentEvent, Evidence, Person
from consentreg.services.row_batch import RowBatch
from tests import builders
from tests.conftest import ContextFactory

# what COPY's text format must escape, and what SQLite must keep as it is
AWKWARD = "tab\there, line\nbreak, carriage\rreturn, back\\slash, \\N, \\., quote ' \" æøå 🙂"
OSLO = timezone(timedelta(hours=1))


def _stored(conn: Connection, table: Table, key: str, value: object) -> dict[str, Any]:
    """The row as the driver returns it, before any SQLAlchemy type conversion."""
    found = conn.exec_driver_sql(
        f"SELECT * FROM {table.name} WHERE {key} = {'%(v)s' if conn.dialect.name == 'postgresql' else ':v'}",  # noqa: S608
        {"v": value},
    )
    row = found.mappings().one()
    return {k: v for k, v in row.items() if k != key}


def _both_ways(conn: Connection, table: Table, row: dict[str, Any], **unique: object) -> None:
    """`row` through the bulk writer, the same row with other unique values (the first of them
    its key) through insert(); both as stored, apart from those values."""
    insert_rows(conn, table, [row])
    conn.execute(insert(table), [{**row, **unique}])
    key, other = next(iter(unique.items()))
    ours, theirs = _stored(conn, table, key, row[key]), _stored(conn, table, key, other)
    assert ours == {**theirs, **{k: row[k] for k in unique if k != key}}


def test_audit_event_text_and_timestamps_are_stored_as_insert_stores_them(
    unit_of_work: ContextFactory,
) -> None:
    table = AuditEvent.__table__
    row = {
        "seq": 900001,
        "at": datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=OSLO),  # not UTC: converted
        "actor": AWKWARD,
        "action": "test.bulk",
        "object_ids": '{"a":"' + AWKWARD + '"}',
        "payload": "{}",
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    with unit_of_work() as ctx:
        _both_ways(ctx.session.connection(), table, row, seq=900002, hash="2" * 64)  # type: ignore[arg-type]
        ctx.session.rollback()


def test_people_bytes_booleans_and_nulls_are_stored_as_insert_stores_them(
    unit_of_work: ContextFactory,
) -> None:
    table = Person.__table__
    row = {
        "id": "a" * 32,
        "kind": "child",
        "unit_id": None,
        "name_ct": bytes(range(256)),  # every byte value, NUL and backslash included
        "born_ct": b"\\x00\n\t",
        "ref_ct": None,
        "ref_bidx": None,
        "protected": True,
        "created_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "created_by": "tester",
    }
    with unit_of_work() as ctx:
        _both_ways(ctx.session.connection(), table, row, id="b" * 32)  # type: ignore[arg-type]
        ctx.session.rollback()


def test_consent_event_dates_are_stored_as_insert_stores_them(
    unit_of_work: ContextFactory,
) -> None:
    table = ConsentEvent.__table__
    with unit_of_work() as ctx:
        purpose = builders.purpose(ctx)
        child, (guardian, _) = builders.family(ctx)
        row = {
            "id": "c" * 32,
            "seq": 900001,
            "subject_id": child,
            "purpose_id": purpose,
            "kind": "grant",
            "consenter_id": guardian,
            "method": "paper",
            "notice_version": 1,
            "given_on": date(2026, 8, 31),
            "effective_at": datetime(2026, 8, 30, 22, 0, tzinfo=UTC),
            "valid_from": date(2026, 9, 1),
            "valid_until": None,
            "withdraws_id": None,
            "reason_ct": None,
            "evidence_id": None,
            "recorded_at": datetime(2026, 11, 22, 10, 0, 0, 1, tzinfo=UTC),
            "recorded_by": AWKWARD,
        }
        _both_ways(ctx.session.connection(), table, row, id="d" * 32, seq=900002)  # type: ignore[arg-type]
        ctx.session.rollback()


def test_the_reader_gives_the_values_sqlalchemy_gives_for_every_column_type(
    unit_of_work: ContextFactory,
) -> None:
    """Booleans, bytes, text, NULLs, dates and UTC instants, each repeated across rows (the
    reader converts each distinct value once) and one row different in each column."""
    with unit_of_work() as ctx:
        conn = ctx.session.connection()
        people = Person.__table__
        rows = [
            {
                "id": f"{n:032x}",
                "kind": "child" if n % 2 else "adult",
                "unit_id": None,
                "name_ct": bytes([n]) * 3,
                "born_ct": b"same",
                "ref_ct": None if n else b"\\x00",
                "ref_bidx": None,
                "protected": n == 3,
                "created_at": datetime(2026, 11, 22, 9, n % 2, 0, 999999 * (n == 4), tzinfo=OSLO),
                "created_by": AWKWARD if n == 2 else "tester",
                "left_at": None if n % 3 else datetime(2026, 11, 23, 8, n, tzinfo=OSLO),
            }
            for n in range(6)
        ]
        insert_rows(conn, people, rows)  # type: ignore[arg-type]
        query = select(*people.columns).order_by(people.c.id)
        expected = [tuple(row) for row in conn.execute(query).all()]
        created_at = list(people.columns.keys()).index("created_at")
        assert {r[created_at].tzinfo for r in expected} == {UTC}  # the instants came back aware
        assert _rows(read_columns(conn, query)) == expected
        nobody = query.where(people.c.id == "none")
        assert read_columns(conn, nobody) == [() for _ in people.columns]
        ctx.session.rollback()


def test_the_reader_gives_consent_dates_as_sqlalchemy_does(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (guardian, other) = builders.family(ctx)
        builders.grant(ctx, child, guardian, until="2027-07-31")
        builders.grant(ctx, child, other, until="2027-07-31")  # the same dates again
        builders.refuse(ctx, child, child, given="2026-10-02")
        conn = ctx.session.connection()
        table = ConsentEvent.__table__
        query = select(*table.columns)
        expected = [tuple(row) for row in conn.execute(query).all()]
        assert any(isinstance(value, date) for value in expected[0])
        assert _rows(read_columns(conn, query)) == expected
        ctx.session.rollback()


def test_the_reader_gives_a_column_of_an_outer_join_that_found_nothing_as_nulls(
    unit_of_work: ContextFactory,
) -> None:
    """The register's read of consent events with their evidence digest: none has evidence."""
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (guardian, other) = builders.family(ctx)
        builders.grant(ctx, child, guardian)
        builders.grant(ctx, child, other)
        conn = ctx.session.connection()
        events, evidence = ConsentEvent.__table__, Evidence.__table__
        query = select(events.c.id, events.c.effective_at, evidence.c.sha256).outerjoin(
            evidence, evidence.c.id == events.c.evidence_id
        )
        expected = [tuple(row) for row in conn.execute(query).all()]
        assert [row[-1] for row in expected] == [None, None]
        assert _rows(read_columns(conn, query)) == expected
        ctx.session.rollback()


def test_a_driver_error_while_rows_are_fetched_comes_back_as_sqlalchemy_raises_it(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    """SQLite fails a statement at the row that fails, while the rows are fetched (here the
    second person's): the error is SQLAlchemy's, its parameters not shown, as for any statement."""
    people = Person.__table__
    with unit_of_work() as ctx:
        builders.person(ctx, "Anne Aas", "1990-01-01", kind="adult")
        builders.person(ctx, "Barn Aas", "2020-01-01")
        bad: ColumnElement[Any]
        if engine.dialect.name == "sqlite":
            bad = func.json_extract(case((people.c.kind == "adult", "{}"), else_="not json"), "$")
        else:
            bad = literal(1) / case((people.c.kind == "adult", 1), else_=0)
        query = select(people.c.id, bad)  # in the order added: the adult first, the child second
        with pytest.raises(DBAPIError) as caught:
            read_columns(ctx.session.connection(), query)
        assert "adult" not in str(caught.value)  # the statement's parameters are not shown
        ctx.session.rollback()


def test_values_are_converted_once_only_where_equal_values_are_interchangeable() -> None:
    oslo_noon = datetime(2026, 12, 1, 12, tzinfo=OSLO)
    utc_noon = oslo_noon.astimezone(UTC)  # the same instant: equal, but another text
    cases: list[tuple[list[Any], list[str]]] = [
        (["a", "a", None, "b"], ["'a'", "'a'", "None", "'b'"]),
        ([True, 1, None], ["True", "1", "None"]),  # SQLite may mix them in one column
        ([0.0, -0.0], ["0.0", "-0.0"]),
        ([oslo_noon, utc_noon], [repr(oslo_noon), repr(utc_noon)]),
        ([None, None], ["None", "None"]),
        ([[1], [1]], ["[1]", "[1]"]),  # unhashable
    ]
    for values, expected in cases:
        assert _converted(values, repr) == expected


def _rows(columns: list[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return list(zip(*columns, strict=True))


def test_a_left_out_column_takes_its_default(unit_of_work: ContextFactory) -> None:
    table = Person.__table__
    row = {
        "id": "e" * 32,
        "kind": "adult",
        "name_ct": b"x",
        "born_ct": b"y",
        "created_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "created_by": "tester",
    }  # no unit, ref or protected
    with unit_of_work() as ctx:
        conn = ctx.session.connection()
        insert_rows(conn, table, [row])  # type: ignore[arg-type]
        protected, unit = conn.execute(
            text("SELECT protected, unit_id FROM people WHERE id = :id"), {"id": row["id"]}
        ).one()
        assert (bool(protected), unit) == (False, None)
        ctx.session.rollback()


def test_a_duplicate_row_fails_the_write_and_leaves_nothing(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    table = AuditEvent.__table__
    rows = [
        {
            "seq": 900000 + i,
            "at": datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
            "actor": "tester",
            "action": "test.bulk",
            "object_ids": "{}",
            "payload": "{}",
            "prev_hash": "0" * 64,
            "hash": ("2" if i < 2 else "3") * 64,  # the third repeats the second's hash
        }
        for i in range(1, 4)
    ]
    with pytest.raises(Exception, match="(?i)unique|duplicate"), unit_of_work() as ctx:  # noqa: PT011,B017
        insert_rows(ctx.session.connection(), table, rows)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM audit_events WHERE seq > 899999")).scalar() == 0
        )


def _person(i: int) -> dict[str, Any]:
    return {
        "id": f"{i:032x}",
        "kind": "adult",
        "unit_id": None,
        "name_ct": b"x",
        "born_ct": b"y",
        "ref_ct": None,
        "ref_bidx": None,
        "protected": False,
        "created_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "created_by": "tester",
        "left_at": None,
        "caption_index": 0,
    }


def _people(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM people")).scalar_one())


def test_an_overlapped_batch_writes_every_chunk_in_order(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    """Small chunks, so most are written by the batch's thread on PostgreSQL (inline on
    SQLite); each person's audit event in the same chunk as the person."""
    with unit_of_work() as ctx, RowBatch(ctx, chunk=3, overlapped=True) as batch:
        for i in range(1, 40):
            batch.record("person.add", {"people": _person(i), "person_name_tokens": []})
            batch.maybe_flush()
    assert _people(engine) == 39
    with engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, 40))


def test_a_chunk_that_fails_in_flight_fails_the_import_and_leaves_nothing(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with (
        pytest.raises(Exception, match="(?i)unique|duplicate"),  # noqa: PT011
        unit_of_work() as ctx,
        RowBatch(ctx, chunk=2, overlapped=True) as batch,
    ):
        for i in [1, 2, 3, 4, 2, 5, 6, 7, 8]:  # the third chunk repeats person 2
            batch.add(Person, _person(i))
            batch.maybe_flush()
    assert _people(engine) == 0


def test_an_error_while_a_chunk_is_in_flight_leaves_nothing(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with (
        pytest.raises(RuntimeError, match="staging failed"),
        unit_of_work() as ctx,
        RowBatch(ctx, chunk=2, overlapped=True) as batch,
    ):
        for i in range(1, 6):
            batch.add(Person, _person(i))
            batch.maybe_flush()
        raise RuntimeError("staging failed")
    assert _people(engine) == 0
