"""Calendar days in Europe/Oslo, the boundaries consent rules are measured in (stdlib only).

Instants are timezone-aware datetimes (returned in UTC); days are `date`s in Oslo. A consent is
valid from the start of its first day through the end of its last day (docs/rules.md R7); a person
decides for themself from the start of their 15th birthday (R4).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from consentreg.errors import InvalidInputError
from consentreg.i18n import msg

OSLO = ZoneInfo("Europe/Oslo")

SELF_CONSENT_AGE = 15
DEFAULT_VALID_UNTIL_MMDD = "07-31"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")
_MONTH_DAY = re.compile(r"([0-9]{2})-([0-9]{2})")
_SHOWN_MAX = 40


@lru_cache(maxsize=4096)  # the rules ask it for the same instant once per person judged
def oslo_day(instant: datetime) -> date:
    """The calendar day in Oslo at an aware instant (equal instants: the same day, whatever
    their time zones, so equal keys share one answer)."""
    if instant.tzinfo is None:
        raise ValueError("oslo_day needs a timezone-aware datetime")
    return instant.astimezone(OSLO).date()


@lru_cache(maxsize=4096)  # an import's consents share some hundreds of dates
def start_of_day(day: date) -> datetime:
    """00:00 in Oslo on `day`, as an aware UTC instant."""
    return datetime.combine(day, time.min, tzinfo=OSLO).astimezone(UTC)


def parse_at(text: str) -> datetime:
    """`YYYY-MM-DD` (the start of that day in Oslo) or an ISO timestamp, as an aware UTC instant.

    A timestamp without an offset is Oslo local time; a local time skipped by the switch to summer
    time is refused, and one that occurs twice in autumn means the first (summer time) occurrence.
    """
    if _DATE.fullmatch(text):
        return start_of_day(_to_date(text, what="date"))
    if not _TIMESTAMP.fullmatch(text):
        raise InvalidInputError(
            msg(
                "invalid date or timestamp {value}: expected YYYY-MM-DD or an ISO timestamp",
                value=_shown(text),
            )
        )
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(msg("invalid timestamp {value}", value=_shown(text))) from None
    if parsed.tzinfo is None:
        return _from_oslo_local(parsed, text)
    return parsed.astimezone(UTC)


def parse_date(text: str, *, field: str) -> date:
    """A strict `YYYY-MM-DD` date; `field` names the input in the error message. The value is
    not repeated there: a mistyped birth date is still personal data."""
    if not _DATE.fullmatch(text):
        raise InvalidInputError(msg("{field}: not a date, expected YYYY-MM-DD", field=field))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            msg("{field}: no such day (expected YYYY-MM-DD)", field=field)
        ) from None


@lru_cache(maxsize=65536)  # a municipality's people share some thousands of birthdays
def fifteenth_birthday(born: date) -> date:
    """The day someone born on `born` turns 15 (29 February births: 1 March in common years)."""
    return birthday(born, SELF_CONSENT_AGE)


def birthday(born: date, years: int) -> date:
    """The day someone born on `born` turns `years` old (29 Feb births: 1 March in common years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def age_on(born: date, day: date) -> int:
    """Age in whole years on `day` (consistent with `birthday`, 29 February births included)."""
    before_birthday = (day.month, day.day) < (born.month, born.day)
    return day.year - born.year - int(before_birthday)


@lru_cache(maxsize=4096)  # the same few dates and purpose settings, row after row of an import
def default_valid_until(
    given: date, *, valid_until_mmdd: str | None, valid_days: int | None
) -> date:
    """The last valid day (inclusive) of a consent given on `given`.

    With `valid_until_mmdd` ("07-31"): the coming occurrence of that month-day on or after `given`
    ("02-29" means the last day of February). With `valid_days`: a window of that many days starting
    on `given`. With neither: the coming 31 July (end of the school year).
    """
    if valid_until_mmdd is not None and valid_days is not None:
        raise InvalidInputError(
            "give either a yearly end date (MM-DD) or a number of days, not both"
        )
    if valid_days is not None:
        if valid_days < 1:
            raise InvalidInputError(
                msg("valid days must be at least 1, got {valid_days}", valid_days=valid_days)
            )
        return given + timedelta(days=valid_days - 1)
    month, day = _parse_month_day(valid_until_mmdd or DEFAULT_VALID_UNTIL_MMDD)
    this_year = _month_day_in(given.year, month, day)
    return this_year if this_year >= given else _month_day_in(given.year + 1, month, day)


def _parse_month_day(text: str) -> tuple[int, int]:
    match = _MONTH_DAY.fullmatch(text)
    if match is None:
        raise InvalidInputError(
            msg("invalid month-day {value}, expected MM-DD", value=_shown(text))
        )
    month, day = int(match[1]), int(match[2])
    try:
        date(2000, month, day)  # a leap year, so 02-29 is accepted
    except ValueError:
        raise InvalidInputError(msg("invalid month-day {value}", value=_shown(text))) from None
    return month, day


def _month_day_in(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year: the last day of February
        return date(year, 2, 28)


def _to_date(text: str, *, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            msg("{what}: no such day {value}", what=what, value=_shown(text))
        ) from None


def _from_oslo_local(local: datetime, text: str) -> datetime:
    instant = local.replace(tzinfo=OSLO).astimezone(UTC)
    if instant.astimezone(OSLO).replace(tzinfo=None) != local:
        raise InvalidInputError(
            msg("{value} does not exist in Europe/Oslo (summer time gap)", value=_shown(text))
        )
    return instant


def _shown(text: str) -> str:
    """The bad value for an error message: quoted, control characters escaped, length capped."""
    clipped = text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "..."
    return repr(clipped)
