"""Declarative base with the constraint naming convention (set from the first migration) and a
UTC-aware timestamp type that stores naive UTC on every engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused (a bug)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database layer")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the text SQLAlchemy would store (naive UTC, microseconds) made in one step:
        imports write three timestamps per consent."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        utc = UTC

        def to_sqlite(value: datetime | None) -> str | None:  # process_bind_param, then the text
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database layer")
            return value.astimezone(utc).isoformat(sep=" ", timespec="microseconds")[:-6]

        return to_sqlite

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """What a stored value means (the fused `result_processor` below must agree; tests hold
        it to this)."""
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - the column type guarantees it
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        """The engine's own conversion and the UTC zone in one call per value (TypeDecorator's
        `process_result_value` route makes three): registers read millions of timestamps at once.
        SQLite holds SQLAlchemy's ISO text of the naive UTC instant; one `fromisoformat` of that
        text with the offset appended gives the aware instant, several times faster than
        SQLAlchemy's pattern match followed by `replace`."""
        impl = self.impl_instance.result_processor(dialect, coltype)
        utc = UTC

        def process(value: Any) -> datetime | None:
            found: datetime | None = value if impl is None or value is None else impl(value)
            return None if found is None else found.replace(tzinfo=utc)

        if dialect.name != "sqlite":
            return process
        parse = datetime.fromisoformat

        def from_sqlite(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")
            except (TypeError, ValueError):  # not the text SQLAlchemy writes: its own parser
                return process(value)

        return from_sqlite


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
