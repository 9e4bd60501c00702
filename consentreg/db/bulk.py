"""Many rows at once, as fast as each engine gives and takes them.

Writes (`insert_rows`) go into one table by PostgreSQL's COPY (psycopg's
`Cursor.copy`), SQLite's `executemany` of one prepared INSERT. A municipality's import writes two
million rows; SQLAlchemy's `insert()` with a list of dicts builds and converts a parameter dict
per row in Python, and on PostgreSQL sends them as INSERT statements the client waits for.

The values stored are exactly those `insert(table)` stores: each column's own bind conversion
(SQLAlchemy's, for this dialect) is applied, and a missing key takes the column's scalar default,
or NULL (tests/services/test_bulk.py holds both writers to SQLAlchemy's).

Reads (`read_columns`) return the values SQLAlchemy's `.all()` would give, column by column, each
converted by its own result processor but each distinct value converted once: a register read
fetches hundreds of thousands of rows whose timestamps and dates are a few hundred distinct values
(the tests hold it to `.all()` on both engines).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from operator import methodcaller
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, Select, Table
from sqlalchemy.exc import DBAPIError, StatementError


class _Plan(NamedTuple):
    defaults: tuple[tuple[str, Any], ...]  # (key, value if a row leaves the key out), in order
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)
    statement: str


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name) into `table` in the connection's transaction."""
    if not rows:
        return
    plan = _plan(table, connection.dialect)
    values = _values(plan, rows)
    if connection.dialect.name == "postgresql":
        _copy(connection, plan.statement, values)
    else:
        connection.exec_driver_sql(plan.statement, values)


def read_columns(connection: Connection, query: Select[*tuple[Any, ...]]) -> list[Sequence[Any]]:
    """Every row of `query`, column by column (one sequence per selected column, each as long as
    the result): the values `connection.execute(query).all()` gives, for callers that build their
    own values from whole columns at C speed (`map`, `zip`)."""
    result = connection.execute(query)
    dialect, cursor = connection.dialect, result.cursor
    converters = [
        (i, convert)
        for i, (column, described) in enumerate(
            zip(query.selected_columns, cursor.description, strict=True)
        )
        if (convert := column.type.dialect_impl(dialect).result_processor(dialect, described[1]))
        is not None
    ]
    try:
        rows = cursor.fetchall()
    except dialect.loaded_dbapi.Error as exc:  # SQLite fails rows as it steps
        raise _as_sqlalchemy(connection, str(query), exc) from exc
    finally:
        result.close()
    if not rows:
        return [() for _ in query.selected_columns]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for position, convert in converters:
        columns[position] = _converted(columns[position], convert)
    return columns


# types whose equal values are interchangeable (floats are not: -0.0 == 0.0; nor are Decimals,
# 1.0 == 1.00, nor aware datetimes of other offsets)
_INTERCHANGEABLE = frozenset({str, bytes, int, bool, date, datetime})


def _converted(values: Sequence[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`convert` applied to each value, once per distinct value when that is the same thing:
    result processors are pure, so equal values of one interchangeable type (and None) convert
    equally. Anything else (mixed types, which SQLite allows: True == 1; aware datetimes;
    unhashable values) is converted value by value."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:  # NULL throughout
        return [convert(None)] * len(values)
    if len(kinds) != 1 or not kinds <= _INTERCHANGEABLE:
        return list(map(convert, values))
    distinct = set(values)
    if datetime in kinds and any(v is not None and v.tzinfo is not None for v in distinct):
        return list(map(convert, values))
    done = {value: convert(value) for value in distinct}
    return list(map(done.__getitem__, values))


def _copy(connection: Connection, statement: str, values: list[tuple[Any, ...]]) -> None:
    """COPY through the connection's psycopg connection; its errors raised as SQLAlchemy raises
    them for an INSERT (IntegrityError and so on, parameters hidden)."""
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in values:
                copy.write_row(row)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy(connection, statement, exc) from exc


def _as_sqlalchemy(connection: Connection, statement: str, exc: Exception) -> StatementError:
    """A driver's error as SQLAlchemy raises it for a statement it ran (IntegrityError,
    OperationalError and so on), the parameters hidden."""
    dialect = connection.dialect
    return DBAPIError.instance(
        statement, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
    )


def _values(plan: _Plan, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row as a tuple in the statement's column order, converted as insert() would: a key
    a row leaves out takes the column's default. Built a column at a time (`map`, `zip`)."""
    columns = [list(map(methodcaller("get", key, default), rows)) for key, default in plan.defaults]
    for position, convert in plan.converters:
        columns[position] = _bound(columns[position], convert)
    return list(zip(*columns, strict=True))


def _bound(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """`convert` (a bind processor) applied to each value, once per object: bind processors are
    pure, so the same object converts to the same value, and an import's rows share their
    timestamps and dates as objects (the command's one `now`, dates parsed once per text).
    `values` holds every object for the call, so no id is reused meanwhile."""
    distinct = {id(value): value for value in values}
    done = {key: convert(value) for key, value in distinct.items()}
    return list(map(done.__getitem__, map(id, values)))


_PLANS: dict[tuple[Table, type[Dialect]], _Plan] = {}


def _plan(table: Table, dialect: Dialect) -> _Plan:
    """The statement and conversions for the table on this kind of engine, made once."""
    key = (table, type(dialect))
    if key not in _PLANS:
        _PLANS[key] = _make_plan(table, dialect)
    return _PLANS[key]


def _make_plan(table: Table, dialect: Dialect) -> _Plan:
    quote = dialect.identifier_preparer
    columns = list(table.columns)
    defaults = tuple(
        (c.key, c.default.arg if c.default is not None and c.default.is_scalar else None)  # type: ignore[attr-defined]
        for c in columns
    )
    converters = tuple(
        (i, convert)
        for i, c in enumerate(columns)
        if (convert := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    listed = ", ".join(quote.format_column(c) for c in columns)
    if dialect.name == "postgresql":
        statement = f"COPY {quote.format_table(table)} ({listed}) FROM STDIN"
    else:
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {quote.format_table(table)} ({listed}) VALUES ({marks})"  # noqa: S608
    return _Plan(defaults, converters, statement)
