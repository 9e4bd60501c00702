"""Oslo calendar days, `--at` parsing, birthdays and default validity (docs/rules.md R4, R7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from consentreg.domain.calendar import (
    OSLO,
    age_on,
    birthday,
    default_valid_until,
    fifteenth_birthday,
    oslo_day,
    parse_at,
    parse_date,
    start_of_day,
)
from consentreg.errors import InvalidInputError


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (utc("2024-07-31T21:59:59.999999"), date(2024, 7, 31)),  # 23:59:59 Oslo, summer time
        (utc("2024-07-31T22:00:00"), date(2024, 8, 1)),  # 00:00 Oslo
        (utc("2024-07-31T23:30:00"), date(2024, 8, 1)),
        (utc("2024-01-31T22:59:59"), date(2024, 1, 31)),  # winter time: UTC+1
        (utc("2024-01-31T23:00:00"), date(2024, 2, 1)),
        (datetime(2024, 8, 1, 0, 30, tzinfo=OSLO), date(2024, 8, 1)),
    ],
)
def test_oslo_day_is_the_calendar_day_in_oslo(instant: datetime, day: date) -> None:
    assert oslo_day(instant) == day


def test_oslo_day_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        oslo_day(datetime(2024, 8, 1, 12, 0))


@pytest.mark.parametrize(
    ("day", "instant"),
    [
        (date(2024, 8, 1), utc("2024-07-31T22:00:00")),
        (date(2024, 1, 1), utc("2023-12-31T23:00:00")),
        (date(2024, 3, 31), utc("2024-03-30T23:00:00")),  # summer time starts at 02:00 that day
        (date(2024, 10, 27), utc("2024-10-26T22:00:00")),  # summer time ends at 03:00 that day
    ],
)
def test_start_of_day_is_midnight_in_oslo_as_utc(day: date, instant: datetime) -> None:
    start = start_of_day(day)
    assert start == instant
    assert start.utcoffset() == timedelta(0)
    assert oslo_day(start) == day
    assert oslo_day(start - timedelta(microseconds=1)) == day - timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-08-01", utc("2024-07-31T22:00:00")),
        ("2024-01-15", utc("2024-01-14T23:00:00")),
        ("2024-08-01T12:00", utc("2024-08-01T10:00:00")),
        ("2024-08-01 12:00:30", utc("2024-08-01T10:00:30")),
        ("2024-08-01T12:00:00.000001", utc("2024-08-01T10:00:00.000001")),
        ("2024-01-15T12:00", utc("2024-01-15T11:00:00")),
        ("2024-08-01T12:00:00+00:00", utc("2024-08-01T12:00:00")),
        ("2024-08-01T12:00Z", utc("2024-08-01T12:00:00")),
        ("2024-08-01T12:00:00-05:00", utc("2024-08-01T17:00:00")),
        ("2024-10-27T02:30", utc("2024-10-27T00:30:00")),  # occurs twice: the first one
    ],
)
def test_parse_at_reads_a_date_or_an_iso_timestamp_as_utc(text: str, instant: datetime) -> None:
    parsed = parse_at(text)
    assert parsed == instant
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "2024-13-01",
        "2024-02-30",
        "31.07.2024",
        "2024-7-31",
        "20240731",
        " 2024-07-31",
        "2024-07-31T25:00",
        "2024-07-31T12:00+25:00",
        "2024-03-31T02:30",  # skipped by the switch to summer time
    ],
)
def test_parse_at_refuses_anything_else_and_names_the_value(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_at(text)
    assert repr(text) in str(caught.value)


def test_parse_at_escapes_control_characters_and_clips_long_values_in_its_message() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_at("2024\x1b[2J" + "x" * 100)
    message = str(caught.value)
    assert "\x1b" not in message
    assert "\\x1b" in message
    assert len(message) < 120


def test_parse_date_reads_a_strict_iso_date() -> None:
    assert parse_date("2024-02-29", field="--born") == date(2024, 2, 29)


@pytest.mark.parametrize(
    "text",
    ["", "2023-02-29", "2024-7-31", "20240731", "2024-07-31T00:00", "31/07/2024", "2024-07-31 "],
)
def test_parse_date_refuses_anything_else_names_the_field_but_not_the_value(text: str) -> None:
    with pytest.raises(InvalidInputError, match="^--born: ") as caught:
        parse_date(text, field="--born")
    assert not text.strip() or text.strip() not in str(caught.value)


@pytest.mark.parametrize(
    ("born", "turns_15"),
    [
        (date(2009, 5, 10), date(2024, 5, 10)),
        (date(2009, 12, 31), date(2024, 12, 31)),
        (date(2008, 2, 29), date(2023, 3, 1)),  # 29 February: 1 March in a common year
        (date(2005, 2, 28), date(2020, 2, 28)),
        (date(2005, 3, 1), date(2020, 3, 1)),
    ],
)
def test_fifteenth_birthday(born: date, turns_15: date) -> None:
    assert fifteenth_birthday(born) == turns_15


def test_a_29_february_birthday_falls_on_29_february_in_leap_years() -> None:
    assert birthday(date(2008, 2, 29), 16) == date(2024, 2, 29)
    assert birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2009, 5, 10), date(2024, 5, 9), 14),
        (date(2009, 5, 10), date(2024, 5, 10), 15),
        (date(2009, 5, 10), date(2024, 12, 31), 15),
        (date(2008, 2, 29), date(2023, 2, 28), 14),
        (date(2008, 2, 29), date(2023, 3, 1), 15),
        (date(2008, 2, 29), date(2024, 2, 28), 15),
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(2006, 8, 1), date(2024, 7, 31), 17),
        (date(2006, 8, 1), date(2024, 8, 1), 18),
    ],
)
def test_age_on_counts_whole_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


@pytest.mark.parametrize(
    "born", [date(2008, 2, 29), date(2012, 2, 29), date(2009, 2, 28), date(2009, 3, 1)]
)
def test_age_on_agrees_with_fifteenth_birthday_on_every_day_around_it(born: date) -> None:
    turns_15 = fifteenth_birthday(born)
    for offset in range(-400, 400):
        day = turns_15 + timedelta(days=offset)
        assert (age_on(born, day) >= 15) == (day >= turns_15), day


@pytest.mark.parametrize(
    ("given", "mmdd", "days", "until"),
    [
        (date(2024, 1, 10), None, None, date(2024, 7, 31)),  # default: the coming 31 July
        (date(2024, 7, 31), None, None, date(2024, 7, 31)),  # on the day itself: that day
        (date(2024, 8, 1), None, None, date(2025, 7, 31)),
        (date(2024, 6, 1), "06-30", None, date(2024, 6, 30)),
        (date(2024, 7, 1), "06-30", None, date(2025, 6, 30)),
        (date(2024, 12, 31), "12-31", None, date(2024, 12, 31)),
        (date(2025, 3, 1), "02-29", None, date(2026, 2, 28)),  # last day of February
        (date(2027, 3, 1), "02-29", None, date(2028, 2, 29)),
        (date(2024, 1, 10), None, 1, date(2024, 1, 10)),  # one day: the day given only
        (date(2024, 1, 10), None, 30, date(2024, 2, 8)),
        (date(2024, 1, 1), None, 366, date(2024, 12, 31)),
    ],
)
def test_default_valid_until(given: date, mmdd: str | None, days: int | None, until: date) -> None:
    assert default_valid_until(given, valid_until_mmdd=mmdd, valid_days=days) == until


@pytest.mark.parametrize(
    ("mmdd", "days", "message"),
    [
        ("07-31", 30, "not both"),
        (None, 0, "at least 1"),
        (None, -5, "at least 1"),
        ("7-31", None, "'7-31'"),
        ("13-01", None, "'13-01'"),
        ("02-30", None, "'02-30'"),
        ("0731", None, "'0731'"),
    ],
)
def test_default_valid_until_refuses_bad_settings(
    mmdd: str | None, days: int | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        default_valid_until(date(2024, 1, 10), valid_until_mmdd=mmdd, valid_days=days)


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        datetime(2026, 7, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 30, 0, 5, tzinfo=ZoneInfo("Europe/Oslo")),
    ],
)
def test_audit_timestamps_keep_their_canonical_text(instant: datetime) -> None:
    """Leaf hashes of stored events depend on this exact text: it must never change."""
    from consentreg.domain.audit_chain import format_instant

    assert format_instant(instant) == instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
