"""The UTC timestamp column type reads back exactly what SQLAlchemy's own conversion gave, on
the fast path (SQLite's stored text) and on the fallback for anything else stored there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from consentreg.db.base import UTCDateTime

Reader = Callable[[Any], Any]


def _readers(dialect: Dialect) -> tuple[Reader, Reader]:
    column = UTCDateTime().dialect_impl(dialect)
    assert isinstance(column, UTCDateTime)
    fused = column.result_processor(dialect, None)
    default = TypeDecorator.result_processor(column, dialect, None)
    assert fused is not None
    assert default is not None
    return fused, default


@pytest.mark.parametrize(
    "stored",
    [
        "2026-08-10 22:00:00.123456",  # what SQLAlchemy writes
        "2026-08-10 22:00:00.000000",
        "2026-11-23 10:00:00+00:00",  # written behind the tool's back: the fallback parses it
        None,
    ],
)
def test_sqlite_text_reads_as_the_same_aware_utc_instant_as_before(stored: str | None) -> None:
    fused, default = _readers(sqlite.dialect())
    got = fused(stored)
    assert got == default(stored)
    if stored is not None:
        assert got.tzinfo is UTC


def test_text_that_is_no_timestamp_is_refused_as_before() -> None:
    fused, default = _readers(sqlite.dialect())
    with pytest.raises(ValueError, match="yesterday"):
        default("yesterday")
    with pytest.raises(ValueError, match="yesterday"):
        fused("yesterday")


def test_postgresql_datetimes_get_the_utc_zone() -> None:
    fused, _ = _readers(postgresql.dialect())  # type: ignore[no-untyped-call]
    naive = datetime(2026, 8, 10, 22, 0, 0, 5)
    assert fused(naive) == naive.replace(tzinfo=UTC)
    assert fused(None) is None


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 8, 10, 22, 0, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_sqlite_stores_the_text_sqlalchemy_would_have_stored(instant: datetime) -> None:
    """`recorded_at <= :at` compares this text in SQL: it must be exactly SQLAlchemy's."""
    dialect = sqlite.dialect()
    column = UTCDateTime().dialect_impl(dialect)
    assert isinstance(column, UTCDateTime)
    fused = column.bind_processor(dialect)
    default = TypeDecorator.bind_processor(column, dialect)
    assert fused is not None
    assert default is not None
    assert fused(instant) == default(instant)
    assert fused(None) is None


def test_a_naive_datetime_is_refused_before_it_reaches_sqlite() -> None:
    dialect = sqlite.dialect()
    fused = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fused is not None
    with pytest.raises(ValueError, match="naive"):
        fused(datetime(2026, 8, 10, 22, 0))
