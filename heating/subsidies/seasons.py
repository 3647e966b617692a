"""Heating seasons, keyed by their two years ("2025-2026").

A season straddles New Year, so neither year alone names it; the key is what power and gas
companies print on their usage files and what payments are recorded against. Its first and last
day come from the policy as "MM-DD" (DOMAIN.md: 11-15 to 03-15 by default), both inclusive.

Running subsidies are counted in seasons from the case's own first season, because policies
pay a fixed number of seasons and rates may taper by year; `first_season_after` and
`season_number` turn calendar seasons into that count. Pure functions, no database.
"""
from __future__ import annotations

import re
from datetime import date, datetime

__all__ = [
    "DEFAULT_END",
    "DEFAULT_START",
    "first_season_after",
    "parse_season",
    "recovery_window",
    "season_dates",
    "season_key",
    "season_number",
]

DEFAULT_START = "11-15"
DEFAULT_END = "03-15"

_KEY = re.compile(r"([0-9]{4})-([0-9]{4})")
_MMDD = re.compile(r"([0-9]{2})-([0-9]{2})")
_MIN_YEAR, _MAX_YEAR = 1000, 9998  # both years of a key stay four digits


def season_key(start_year: int) -> str:
    """2025 → "2025-2026"."""
    if isinstance(start_year, bool) or not isinstance(start_year, int):
        raise TypeError(f"start_year must be int, not {type(start_year).__name__}")
    if not _MIN_YEAR <= start_year <= _MAX_YEAR:
        raise ValueError(f"start year out of range: {start_year}")
    return f"{start_year}-{start_year + 1}"


def parse_season(key: str) -> int:
    """"2025-2026" → 2025. Strict (ASCII digits, no spaces, second year = first + 1), because a
    key is an identifier: "2025-2027" is a typo, not a two-year season."""
    if not isinstance(key, str):
        raise TypeError(f"season key must be str, not {type(key).__name__}")
    match = _KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"season key must look like 2025-2026, got {key!r}")
    first, second = int(match[1]), int(match[2])
    if second != first + 1 or not _MIN_YEAR <= first <= _MAX_YEAR:
        raise ValueError(f"season key must name two consecutive years, got {key!r}")
    return first


def _month_day(mmdd: str) -> tuple[int, int]:
    """"11-15" → (11, 15). A day that is missing in some years (02-29) is refused: a season
    boundary must exist every year."""
    if not isinstance(mmdd, str):
        raise TypeError(f"month-day must be str, not {type(mmdd).__name__}")
    match = _MMDD.fullmatch(mmdd)
    if match is None:
        raise ValueError(f"month-day must look like 11-15, got {mmdd!r}")
    month, day = int(match[1]), int(match[2])
    try:
        date(2001, month, day)  # 2001 is not a leap year
    except ValueError:
        raise ValueError(f"no such day in every year: {mmdd!r}") from None
    return month, day


def season_dates(key: str, start_mmdd: str = DEFAULT_START,
                 end_mmdd: str = DEFAULT_END) -> tuple[date, date]:
    """First and last day (both inclusive) of a season.

    The season starts in its key's first year; it ends in the next year when the end comes
    before the start in the calendar (11-15 → 03-15), otherwise in the same year. Equal start
    and end are refused: a one-day season is surely a policy typo.
    """
    year = parse_season(key)
    start_md, end_md = _month_day(start_mmdd), _month_day(end_mmdd)
    if start_md == end_md:
        raise ValueError(f"season start and end are the same day: {start_mmdd}")
    end_year = year + 1 if end_md < start_md else year
    return date(year, *start_md), date(end_year, *end_md)


def first_season_after(passed_on: date, start_mmdd: str = DEFAULT_START) -> str:
    """The key of the first season that starts strictly after the inspection passed.

    DOMAIN.md: "season 1 of a case is the first season that starts after its inspection
    passed". A pass on the start day itself does not count that season (the household did not
    heat with the new device for all of it), so 2025-11-15 → "2026-2027" and
    2025-11-14 → "2025-2026". Takes a local (Beijing) date; a datetime is refused because a
    UTC timestamp near midnight would fall on the wrong day.
    """
    if isinstance(passed_on, datetime) or not isinstance(passed_on, date):
        raise TypeError(f"passed_on must be a date, not {type(passed_on).__name__}")
    month, day = _month_day(start_mmdd)
    year = passed_on.year
    if passed_on >= date(year, month, day):
        year += 1
    return season_key(year)


def season_number(first_key: str, key: str) -> int:
    """Position of season `key` counted from the case's season 1 (`first_key`): 1, 2, …;
    0 or less means the season is before the case's first one."""
    return parse_season(key) - parse_season(first_key) + 1


def recovery_window(paid_on: date, seasons: int, start_mmdd: str = DEFAULT_START,
                    end_mmdd: str = DEFAULT_END) -> tuple[str, date]:
    """The equipment-subsidy recovery window of a payment: (key of its season 1, last day).

    "Within N seasons of payment" (a policy's ``recovery_seasons``): season 1 is the first
    heating season whose last day is on or after the payment's ``paid_on`` date — the season
    running on the day the money arrived, or the next one when it arrived between seasons —
    and the window ends on the last day (inclusive) of season N.  A follow-up visit dated from
    ``paid_on`` to that day, both inclusive, opens a recovery.  Example, seasons 11-15 to
    03-15 and N = 3: paid 2025-12-20 → season 1 is 2025-2026, the window ends 2028-03-15;
    paid 2026-03-16 → season 1 is 2026-2027, the window ends 2029-03-15.
    """
    if isinstance(paid_on, datetime) or not isinstance(paid_on, date):
        raise TypeError(f"paid_on must be a date, not {type(paid_on).__name__}")
    if isinstance(seasons, bool) or not isinstance(seasons, int) or seasons < 1:
        raise ValueError(f"seasons must be a whole number from 1, got {seasons!r}")
    for year in (paid_on.year - 1, paid_on.year, paid_on.year + 1):
        if season_dates(season_key(year), start_mmdd, end_mmdd)[1] >= paid_on:
            break
    last = season_dates(season_key(year + seasons - 1), start_mmdd, end_mmdd)[1]
    return season_key(year), last
