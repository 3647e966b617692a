"""Checking a policy's terms as the county office enters them, and turning them into the
stored scaled integers (share of the invoice in 1/10,000, money in fen, unit rates in
1/10,000 元). Every refusal is a `SubsidyError` naming the form field it belongs to.
Plain data in, plain data out: no database."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from heating.core.refusals import Refusal
from heating.households.models import CONVERSION_TYPES, DEVICE_KINDS_BY_TYPE
from heating.subsidies.calculator import INVOICE_RATE
from heating.subsidies.models import EQUIPMENT_METHODS, RATE_SCALE
from heating.subsidies.seasons import season_dates

MAX_SEASONS = 10
#: sanity bounds that catch a misplaced decimal point, not policy limits
MAX_CAP = Decimal("1000000")
MAX_AREA_RATE = Decimal("10000")
MAX_UNIT_RATE = Decimal("100")
MAX_RUNNING_CAP = 1_000_000


class SubsidyError(Refusal):
    """A rule refused, or an amount cannot be computed; ``message`` is for the user,
    ``field`` names the form field it belongs to, ``code`` is stable for callers and tests."""

    def __init__(self, message: Any, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message, field)
        self.code = code


def _scaled(value: Any, scale: int, field: str, label: Any) -> int:
    """An exact Decimal times ``scale`` as an integer, or a message naming the field."""
    number = Decimal(value)
    scaled = number * scale
    if not number.is_finite() or scaled != scaled.to_integral_value():
        places = len(str(scale)) - 1
        raise SubsidyError(_l("%(label)s: at most %(places)s decimal places.", label=label,
                              places=places), field)
    return int(scaled)


def _positive(value: Any, field: str, label: Any, limit: Decimal) -> Decimal:
    if value is None:
        raise SubsidyError(_l("%(label)s: enter a value.", label=label), field)
    number = Decimal(value)
    if not number.is_finite() or number <= 0 or number > limit:
        raise SubsidyError(_l("%(label)s must be more than 0 and at most %(limit)s.",
                              label=label, limit=limit), field)
    return number


def _equipment_columns(data: dict[str, Any]) -> dict[str, Any]:
    method = data.get("equipment_method")
    if method not in EQUIPMENT_METHODS:
        raise SubsidyError(_l("Choose how the equipment subsidy is computed."),
                           "equipment_method")
    columns: dict[str, Any] = {"equipment_method": method, "equipment_rate_e4": None,
                               "area_rate_fen": None}
    if method == INVOICE_RATE:
        pct = _positive(data.get("equipment_rate_pct"), "equipment_rate_pct",
                        _l("Share of the invoice"), Decimal(100))
        columns["equipment_rate_e4"] = _scaled(pct, 100, "equipment_rate_pct",
                                               _l("Share of the invoice"))
    else:
        rate = _positive(data.get("area_rate"), "area_rate", _l("Rate per m²"), MAX_AREA_RATE)
        columns["area_rate_fen"] = _scaled(rate, 100, "area_rate", _l("Rate per m²"))
    cap = data.get("equipment_cap")
    if cap is None or not Decimal(cap).is_finite() or Decimal(cap) < 0 \
            or Decimal(cap) > MAX_CAP:
        raise SubsidyError(_l("Enter the cap in yuan: 0 or more, at most %(limit)s.",
                              limit=MAX_CAP), "equipment_cap")
    columns["equipment_cap_fen"] = _scaled(cap, 100, "equipment_cap", _l("Cap"))
    return columns


def _running_columns(data: dict[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    seasons = data.get("seasons") or 0
    if not isinstance(seasons, int) or not 0 <= seasons <= MAX_SEASONS:
        raise SubsidyError(_l("Seasons paid: a whole number from 0 to %(n)s.", n=MAX_SEASONS),
                           "seasons")
    cap = data.get("running_cap_units")
    if cap is not None and (not isinstance(cap, int) or not 0 < cap <= MAX_RUNNING_CAP):
        raise SubsidyError(_l("The usage cap is a whole number of kWh or m³ above 0, or empty "
                              "for no cap."), "running_cap_units")
    start, end = data.get("season_start") or "", data.get("season_end") or ""
    try:
        season_dates("2025-2026", start, end)
    except (TypeError, ValueError):
        raise SubsidyError(_l("Season start and end are two different days written as MM-DD, "
                              "e.g. 11-15 and 03-15."), "season_start") from None
    given = {int(k): v for k, v in (data.get("season_rates") or {}).items() if v is not None}
    extra = sorted(k for k in given if not 1 <= k <= seasons)
    if extra:
        raise SubsidyError(_l("Season %(n)s has a rate but the policy pays %(seasons)s "
                              "seasons: clear it or raise the number of seasons.",
                              n=extra[0], seasons=seasons), "season_rates")
    rates = {}
    for season_no in range(1, seasons + 1):
        label = _l("Rate for season %(n)s", n=season_no)
        rate = _positive(given.get(season_no), "season_rates", label, MAX_UNIT_RATE)
        rates[season_no] = _scaled(rate, RATE_SCALE, "season_rates", label)
    return ({"seasons": seasons, "running_cap_units": cap, "season_start": start,
             "season_end": end}, rates)


def _identity(data: dict[str, Any]) -> dict[str, Any]:
    year, kind, ctype = data.get("programme_year"), data.get("device_kind") or "", \
        data.get("conversion_type")
    if not isinstance(year, int) or not 2016 <= year <= 2100:
        raise SubsidyError(_l("Enter a programme year between 2016 and 2100."),
                           "programme_year")
    if ctype not in CONVERSION_TYPES:
        raise SubsidyError(_l("Choose the conversion type."), "conversion_type")
    if kind and kind not in DEVICE_KINDS_BY_TYPE[ctype]:
        raise SubsidyError(_l("This device kind does not match the conversion type."),
                           "device_kind")
    return {"county_id": data.get("county_id"), "programme_year": year,
            "conversion_type": ctype, "device_kind": kind}


def validated(data: dict[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """Columns and season rates (scaled integers) from the service data, or SubsidyError."""
    columns = _identity(data)
    name = (data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise SubsidyError(_l("Enter a name of at most 100 characters."), "name")
    reference = (data.get("reference") or "").strip()
    if len(reference) > 100:
        raise SubsidyError(_l("The policy document number is at most 100 characters."),
                           "reference")
    start, end = data.get("effective_from"), data.get("effective_to")
    if not isinstance(start, date) or not 2000 <= start.year <= 2100:
        raise SubsidyError(_l("Enter the date the policy takes effect."), "effective_from")
    if end is not None and end < start:
        raise SubsidyError(_l("The policy cannot end before it takes effect."),
                           "effective_to")
    columns.update(name=name, reference=reference, effective_from=start, effective_to=end,
                   note=(data.get("note") or "").strip() or None)
    columns.update(_equipment_columns(data))
    running, rates = _running_columns(data)
    columns.update(running)
    columns["recovery_seasons"] = _recovery_seasons(data)
    return columns, rates


def _recovery_seasons(data: dict[str, Any]) -> int | None:
    """None (no recovery) or 1 … MAX_SEASONS."""
    value = data.get("recovery_seasons")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEASONS:
        raise SubsidyError(_l("Recovery period: a whole number of heating seasons from 1 to "
                              "%(n)s, or empty for no recovery.", n=MAX_SEASONS),
                           "recovery_seasons")
    return value
