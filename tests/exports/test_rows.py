"""The ledger's per-row conversions, without a database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from heating.households.exports import LocalMinutes, _two_places


@pytest.mark.parametrize("stored,shown", [
    ("2025-08-16 00:32:06.000000", "2025-08-16 08:32"),  # SQLite text, UTC
    ("2025-08-16 19:59:59", "2025-08-17 03:59"),  # across midnight, no microseconds
    ("2024-02-28 16:00:00.000000", "2024-02-29 00:00"),  # leap day
    ("2025-12-31 16:30:00.000000", "2026-01-01 00:30"),  # new year
    ("2025-08-16T00:32:06+00:00", "2025-08-16 08:32"),  # text with an offset: slow path
    (datetime(2025, 8, 16, 0, 32, 6, tzinfo=timezone.utc), "2025-08-16 08:32"),  # PostgreSQL
    (datetime(2025, 8, 16, 2, 32, tzinfo=timezone(timedelta(hours=2))), "2025-08-16 08:32"),
    (None, None),
])
def test_registration_time_in_beijing_to_the_minute(stored, shown):
    minutes = LocalMinutes()
    assert minutes(stored) == shown
    assert minutes(stored) == shown  # the cached hour gives the same answer


def test_cached_hours_keep_their_minutes():
    minutes = LocalMinutes()
    assert minutes("2025-08-16 00:32:06.000000") == "2025-08-16 08:32"
    assert minutes("2025-08-16 00:05:59.000000") == "2025-08-16 08:05"
    assert list(minutes.hours) == ["2025-08-16 00"]


@pytest.mark.parametrize("hundredths,text", [(8055, "80.55"), (8000, "80.00"), (5, "0.05"),
                                              (100000, "1000.00"), (None, None)])
def test_areas_with_two_places(hundredths, text):
    assert _two_places(hundredths) == text
