"""The policy form reads numbers as clerks type them, exactly (Decimal, never float)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from heating.subsidies.forms import PolicyForm


@pytest.fixture
def request_ctx(app):
    with app.test_request_context(method="POST"):
        yield


def make(values: dict[str, str]) -> PolicyForm:
    form = PolicyForm(formdata=MultiDict(values), meta={"csrf": False})
    form.county_id.choices = []
    form.validate()
    return form


def read(field: str, value: str) -> tuple[object, list]:
    with force_locale("en"):
        form = make({field: value})
        return form[field].data, [str(e) for e in form[field].errors]


@pytest.mark.parametrize("typed,expected", [
    ("85", Decimal("85")), ("72.5", Decimal("72.5")), ("７２.５％", Decimal("72.5")),
    ("85%", Decimal("85")), (" 85 ", Decimal("85")),
])
def test_percent(request_ctx, typed, expected):
    data, errors = read("equipment_rate_pct", typed)
    assert data == expected and isinstance(data, Decimal) and errors == []


@pytest.mark.parametrize("typed,expected", [
    ("7,400.00", Decimal("7400.00")), ("¥7400", Decimal("7400")), ("7400元", Decimal("7400")),
    ("7400.000", Decimal("7400.000")),  # exactly 7,400.00: trailing zeros are harmless
])
def test_cap(request_ctx, typed, expected):
    data, errors = read("equipment_cap", typed)
    assert data == expected and errors == []


@pytest.mark.parametrize("typed,message", [
    ("74,00", "Enter a number"), ("1e3", "Enter a number"), ("NaN", "Enter a number"),
    ("-5", "Enter a number"), ("7400.001", "At most 2 decimal places."),
])
def test_cap_refused(request_ctx, typed, message):
    data, errors = read("equipment_cap", typed)
    assert data is None and any(message in e for e in errors)


def test_season_rate_allows_four_places(request_ctx):
    form = make({"season_rates-0": "0.1825", "season_rates-1": "0.18251"})
    assert form.season_rates.entries[0].data == Decimal("0.1825")
    assert form.season_rates.entries[1].data is None
    assert form.season_rates.entries[1].errors
