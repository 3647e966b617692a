"""Numbers from requests and forms, bounded before they reach a query.

Every id column is a 32-bit INTEGER on PostgreSQL (SQLAlchemy's ``Integer``: SQLite's
INTEGER holds 64 bits): an id or page number from a URL or a form beyond 2**31 - 1 makes
PostgreSQL raise "integer out of range" (the driver casts the parameter to INTEGER) and
SQLite an OverflowError beyond 2**63 - 1, both a 500 if let through.  Everything that turns request text into a
number for a query goes through ``whole_number`` (views through ``core.web.int_arg``, select
fields of ids through ``coerce=id_choice``, ``<int:…>`` in routes through the bounded
converter in ``core.web``); decimal fields refuse NaN and infinities.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField
from wtforms.validators import ValidationError

#: the largest whole number every integer column holds on both databases (PostgreSQL INTEGER)
DB_INT_MAX = 2 ** 31 - 1
#: programme years the system takes (registration, policies, filters)
MIN_YEAR, MAX_YEAR = 2016, 2100
#: dates a form or filter takes: no record is older than 2000, and a day either side of any of
#: them stays in Python's date range (the day after a filter's end, a UTC conversion)
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(9998, 12, 31)
#: at most 19 digits: longer text is refused before ``int()`` reads it
_WHOLE = re.compile(r"[+-]?\d{1,19}")


def whole_number(value: Any, low: int = 0, high: int = DB_INT_MAX) -> int:
    """``value`` (request text, full-width digits allowed, or an int) as a whole number from
    ``low`` to ``high``; ValueError for anything else ('', '1.5', '1e3', '0x10', None)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a whole number")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not _WHOLE.fullmatch(text):
            raise ValueError("not a whole number")
        number = int(text)
    if not low <= number <= high:
        raise ValueError(f"not between {low} and {high}")
    return number


def whole_number_or(value: Any, default: int | None, low: int = 0,
                    high: int = DB_INT_MAX) -> int | None:
    """``whole_number``, or ``default`` when ``value`` is not one within the bounds."""
    try:
        return whole_number(value, low, high)
    except ValueError:
        return default


def id_choice(value: Any) -> int:
    """``coerce=`` of a select whose options are ids (0: none chosen): a value that is no id
    a database can hold is a field error ("could not coerce"), never a query."""
    return whole_number(value)


#: WTForms' own message, translated by WTForms' catalog (not extracted into ours)
_NOT_A_DECIMAL = "Not a valid decimal value."
#: no amount, area or power a form takes comes near this; beyond it quantize() fails
_DECIMAL_LIMIT = Decimal(10) ** 15


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses NaN, the infinities and absurd magnitudes ("Not a valid
    decimal value."): WTForms reads 'sNaN' as a Decimal its NumberRange cannot compare, and
    '1e309' as one that no validator can round to cents (both a 500)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not (
                self.data.is_finite() and abs(self.data) < _DECIMAL_LIMIT):
            self.data = None
            raise ValueError(self.gettext(_NOT_A_DECIMAL))


class DateBounds:
    """The validator of a date field: from MIN_DATE to MAX_DATE (NumberRange cannot compare
    dates: it asks math.isnan first)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is not None and not MIN_DATE <= field.data <= MAX_DATE:
            raise ValidationError(_l("Enter a date between %(low)s and %(high)s.",
                                     low=MIN_DATE.isoformat(), high=MAX_DATE.isoformat()))
