"""Tests for heating.subsidies.seasons: pure, no database."""
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heating.subsidies.seasons import (
    first_season_after,
    parse_season,
    season_dates,
    season_key,
    season_number,
)


def test_season_key_and_parse():
    assert season_key(2025) == "2025-2026"
    assert parse_season("2025-2026") == 2025
    assert parse_season("1999-2000") == 1999


@pytest.mark.parametrize("bad", [
    "2025-2027", "2025-2025", "2026-2025", "2025/2026", "2025–2026", "25-26", "2025-26",
    " 2025-2026", "2025-2026 ", "２０２５-２０２６", "", "2025", "2025-2026-2027", "9999-10000",
])
def test_parse_season_refuses_bad_keys(bad):
    with pytest.raises(ValueError):
        parse_season(bad)


def test_bad_types():
    with pytest.raises(TypeError):
        parse_season(2025)
    with pytest.raises(TypeError):
        season_key("2025")
    with pytest.raises(TypeError):
        season_key(True)
    with pytest.raises(ValueError):
        season_key(9999)  # the next year would have five digits
    with pytest.raises(ValueError):
        season_key(999)


@given(st.integers(1000, 9998))
def test_key_round_trip(year):
    assert parse_season(season_key(year)) == year


def test_default_season_dates():
    assert season_dates("2025-2026") == (date(2025, 11, 15), date(2026, 3, 15))


def test_season_dates_from_policy():
    assert season_dates("2025-2026", "11-01", "03-31") == (date(2025, 11, 1), date(2026, 3, 31))
    # a leap year's February does not move the last day
    assert season_dates("2027-2028", "11-15", "02-28") == (date(2027, 11, 15), date(2028, 2, 28))
    # a season that does not cross New Year ends in its first year
    assert season_dates("2025-2026", "01-01", "03-15") == (date(2025, 1, 1), date(2025, 3, 15))
    assert season_dates("2025-2026", "12-31", "01-01") == (date(2025, 12, 31), date(2026, 1, 1))


@pytest.mark.parametrize("start, end", [
    ("02-29", "03-15"),  # not in every year
    ("11-15", "02-29"),
    ("11-31", "03-15"),
    ("13-01", "03-15"),
    ("00-10", "03-15"),
    ("11-00", "03-15"),
    ("11-5", "03-15"),
    ("1115", "03-15"),
    ("11/15", "03-15"),
    ("11-15", "11-15"),  # a one-day season is a typo
])
def test_season_dates_refuses_bad_month_days(start, end):
    with pytest.raises(ValueError):
        season_dates("2025-2026", start, end)


def test_season_dates_refuses_bad_key():
    with pytest.raises(ValueError):
        season_dates("2025-2027")


@pytest.mark.parametrize("passed_on, season", [
    (date(2025, 11, 14), "2025-2026"),  # the day before the season starts
    (date(2025, 11, 15), "2026-2027"),  # the start day itself: that season has started
    (date(2025, 11, 16), "2026-2027"),
    (date(2025, 12, 31), "2026-2027"),
    (date(2026, 1, 10), "2026-2027"),  # mid-season: the next one
    (date(2025, 6, 1), "2025-2026"),
    (date(2025, 1, 1), "2025-2026"),
    (date(2024, 2, 29), "2024-2025"),
])
def test_first_season_after(passed_on, season):
    assert first_season_after(passed_on) == season


def test_first_season_after_with_policy_start():
    assert first_season_after(date(2025, 10, 31), "11-01") == "2025-2026"
    assert first_season_after(date(2025, 11, 1), "11-01") == "2026-2027"
    with pytest.raises(ValueError):
        first_season_after(date(2025, 1, 1), "02-29")


def test_first_season_after_refuses_datetimes():
    # a UTC timestamp must be turned into a Beijing date by the caller
    with pytest.raises(TypeError):
        first_season_after(datetime(2025, 11, 14, 20, 0))
    with pytest.raises(TypeError):
        first_season_after("2025-11-14")


@given(st.dates(min_value=date(1001, 1, 1), max_value=date(9997, 12, 31)))
def test_first_season_starts_strictly_after_and_is_the_first(passed_on):
    key = first_season_after(passed_on)
    start, _ = season_dates(key)
    assert start > passed_on
    previous_start, _ = season_dates(season_key(parse_season(key) - 1))
    assert previous_start <= passed_on
    assert start - passed_on <= timedelta(days=366)


def test_season_number():
    assert season_number("2025-2026", "2025-2026") == 1
    assert season_number("2025-2026", "2027-2028") == 3
    assert season_number("2025-2026", "2024-2025") == 0
    assert season_number("2025-2026", "2023-2024") == -1
    with pytest.raises(ValueError):
        season_number("2025-2026", "2027-2029")
    with pytest.raises(ValueError):
        season_number("bad", "2025-2026")


def test_case_counting_from_inspection():
    first = first_season_after(date(2025, 9, 20))
    assert [season_number(first, k) for k in ("2025-2026", "2026-2027", "2027-2028")] == [1, 2, 3]
