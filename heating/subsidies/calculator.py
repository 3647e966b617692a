"""The subsidy calculator: policy terms and a household's figures in, an amount out.

Pure functions on Decimal, no database: the same terms and inputs always give the same amount,
so an amount frozen on a 公示 notice or a roster can be recomputed and checked at any time.
Every amount carries a one-line explanation an official can verify with a pocket calculator
(``85% × 8,000.00 = 6,800.00 ≤ 7,400.00 → 6,800.00``) and the exact inputs it used, as
JSON-safe strings, to be stored beside it.

The equipment subsidy's explanation is numbers and symbols, so it needs no translation. The
running subsidy's is worded, because "min(1,518.73 kWh, 10,000 kWh)" is not how a clerk reads
a cap: ``按 1,518.73 千瓦时计，未超过 10,000 千瓦时上限，× 0.20 元/千瓦时 = 303.75 元``. It is
stored in Chinese (`CHINESE`); screens reword it from the stored inputs in the reader's
language with `running_explanation` and a translated `RunningWords`. Errors are
`CalculationError` with an English developer message and a stable `code` that the UI maps to
translated text.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from heating.core.money import format_number, format_yuan, round_fen, to_fen

__all__ = [
    "AREA_RATE",
    "CHINESE",
    "INVOICE_RATE",
    "Amount",
    "CalculationError",
    "PolicyTerms",
    "RunningWords",
    "equipment_subsidy",
    "running_explanation",
    "running_subsidy",
]

INVOICE_RATE = "invoice_rate"
AREA_RATE = "area_rate"
_METHODS = (INVOICE_RATE, AREA_RATE)
_UNITS = ("kWh", "m³")


class CalculationError(ValueError):
    """An amount cannot be computed from these terms and inputs.

    `code` is stable and language-independent (e.g. "missing_invoice", "season_out_of_range",
    "invalid_terms"), for the UI to translate and for tests to compare.
    """

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def _decimal(value: object, name: str, *, optional: bool = False) -> Decimal | None:
    """Accept Decimal or int, refuse float (inexact) and non-finite values."""
    if value is None:
        if optional:
            return None
        raise CalculationError(f"{name} is required", "invalid_terms")
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be Decimal or int, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise CalculationError(f"{name} must be a non-negative number, got {value!r}",
                               "invalid_terms")
    return number


@dataclass(frozen=True)
class PolicyTerms:
    """The money terms of one policy version, detached from the database.

    Validated on construction, so a policy that could never produce a sound amount (a rate of
    85 meaning 85%, a missing rate for its method) fails when it is loaded rather than on the
    thousandth household. Decimal or int values are accepted; floats are refused.
    """

    #: "invoice_rate" (share of the invoice) or "area_rate" (元 per m² of heated area)
    equipment_method: str
    #: share of the invoice as a fraction, 0.85 = 85%; required for "invoice_rate"
    equipment_rate: Decimal | None
    #: 元 per m²; required for "area_rate"
    area_rate: Decimal | None
    #: the most the equipment subsidy pays, in 元 (exact to the fen)
    equipment_cap: Decimal
    #: "kWh" (electric) or "m³" (gas)
    running_unit: str = "kWh"
    #: the most usage per season the running subsidy pays for; None = no cap
    running_cap_units: Decimal | None = None
    #: season number (1 = first season after acceptance) → 元 per unit; empty = no running subsidy
    season_rates: Mapping[int, Decimal] = field(default_factory=dict)
    #: how many seasons the running subsidy is paid
    seasons: int = 0

    def __post_init__(self) -> None:
        if self.equipment_method not in _METHODS:
            raise CalculationError(f"unknown equipment method {self.equipment_method!r}",
                                   "invalid_terms")
        rate = _decimal(self.equipment_rate, "equipment_rate",
                        optional=self.equipment_method != INVOICE_RATE)
        if rate is not None and rate > 1:
            raise CalculationError(f"equipment_rate is a fraction (0.85 = 85%), got {rate}",
                                   "invalid_terms")
        area_rate = _decimal(self.area_rate, "area_rate",
                             optional=self.equipment_method != AREA_RATE)
        cap = _decimal(self.equipment_cap, "equipment_cap")
        if cap != round_fen(cap):
            raise CalculationError(f"equipment_cap has a fraction of a fen: {cap}",
                                   "invalid_terms")
        if self.running_unit not in _UNITS:
            raise CalculationError(f"unknown running unit {self.running_unit!r}",
                                   "invalid_terms")
        running_cap = _decimal(self.running_cap_units, "running_cap_units", optional=True)
        if isinstance(self.seasons, bool) or not isinstance(self.seasons, int) \
                or self.seasons < 0:
            raise CalculationError(f"seasons must be a non-negative int, got {self.seasons!r}",
                                   "invalid_terms")
        rates: dict[int, Decimal] = {}
        for season_no, season_rate in dict(self.season_rates).items():
            if isinstance(season_no, bool) or not isinstance(season_no, int) or season_no < 1:
                raise CalculationError(f"season numbers start at 1, got {season_no!r}",
                                       "invalid_terms")
            rates[season_no] = _decimal(season_rate, f"season_rates[{season_no}]")
        # Frozen means frozen: normalise to Decimal and keep a read-only copy of the rates, so
        # the caller's dict changing later cannot change an amount.
        object.__setattr__(self, "equipment_rate", rate)
        object.__setattr__(self, "area_rate", area_rate)
        object.__setattr__(self, "equipment_cap", cap)
        object.__setattr__(self, "running_cap_units", running_cap)
        object.__setattr__(self, "season_rates", MappingProxyType(rates))


@dataclass(frozen=True)
class Amount:
    """A computed amount with its working: `value` in yuan (two places), a one-line
    `explanation`, and every input used as JSON-safe strings (`inputs`)."""

    value: Decimal
    explanation: str
    inputs: dict[str, str]

    @property
    def fen(self) -> int:
        """The value in integer fen, as stored."""
        return to_fen(self.value)


def _percent(rate: Decimal) -> str:
    """0.85 → "85%", 0.725 → "72.5%", 1 → "100%": no trailing zeros, never an exponent."""
    return format((rate * 100).normalize(), "f") + "%"


def _plain(value: Decimal, min_places: int = 2) -> str:
    """Exact, ungrouped text for `inputs`: 8000 → "8000.00", 0.85 stays "0.85"."""
    return format_number(value, min_places).replace(",", "")


def _figure(value: object, name: str) -> Decimal:
    """A household figure (invoice, area, usage): present, finite, not negative."""
    if value is None:
        raise CalculationError(f"{name} is required", f"missing_{name}")
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be Decimal or int, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise CalculationError(f"{name} is not a number: {value!r}", f"invalid_{name}")
    if number < 0:
        raise CalculationError(f"{name} must not be negative, got {value}", f"negative_{name}")
    return number


def _capped(product: Decimal, cap: Decimal) -> tuple[Decimal, str]:
    """min(product, cap) and the tail of its explanation; ≤ when the cap is not reached."""
    if product <= cap:
        return product, f"{format_yuan(product)} ≤ {format_yuan(cap)} → {format_yuan(product)}"
    return round_fen(cap), f"{format_yuan(product)} > {format_yuan(cap)} → {format_yuan(cap)}"


def equipment_subsidy(terms: PolicyTerms, *, invoice_amount: Decimal | None,
                      heated_area: Decimal | None) -> Amount:
    """The one-off equipment subsidy: min(rate × invoice, cap) or min(元/m² × area, cap).

    The product is rounded half up to the fen *before* the cap is applied, so the explanation
    shows the figure that was compared. Only the figure the method needs is required; the other
    may be None and is not recorded in `inputs`.
    """
    cap = terms.equipment_cap
    if terms.equipment_method == INVOICE_RATE:
        invoice = _figure(invoice_amount, "invoice")
        rate = terms.equipment_rate
        product = round_fen(rate * invoice)
        value, tail = _capped(product, cap)
        explanation = f"{_percent(rate)} × {format_number(invoice)} = {tail}"
        inputs = {"method": INVOICE_RATE, "rate": format(rate.normalize(), "f"),
                  "invoice": _plain(invoice), "cap": _plain(cap)}
    else:
        area = _figure(heated_area, "area")
        rate = terms.area_rate
        product = round_fen(rate * area)
        value, tail = _capped(product, cap)
        explanation = f"{format_number(rate)} 元/m² × {format_number(area)} m² = {tail}"
        inputs = {"method": AREA_RATE, "area_rate": _plain(rate), "area": _plain(area),
                  "cap": _plain(cap)}
    return Amount(value=value, explanation=explanation, inputs=inputs)


@dataclass(frozen=True)
class RunningWords:
    """How a running-subsidy explanation is worded: ``str.format`` templates with the fields
    ``usage``, ``cap``, ``rate``, ``value`` (grouped numbers) and ``unit`` (a word of
    ``units``)."""

    #: a cap the usage does not exceed (usage equal to the cap is within it)
    within_cap: str
    #: a usage over the cap: the cap is what is paid for
    over_cap: str
    #: a policy without a cap
    no_cap: str
    #: "kWh" / "m³" → the word the reader uses
    units: Mapping[str, str]


#: the wording stored with every running-subsidy amount
CHINESE = RunningWords(
    within_cap="按 {usage} {unit}计，未超过 {cap} {unit}上限，× {rate} 元/{unit} = {value} 元",
    over_cap="用量 {usage} {unit}，超过上限，按 {cap} {unit}计，× {rate} 元/{unit} = {value} 元",
    no_cap="按 {usage} {unit}计，× {rate} 元/{unit} = {value} 元",
    units=MappingProxyType({"kWh": "千瓦时", "m³": "立方米"}),
)


def running_explanation(inputs: Mapping[str, str], value: Decimal,
                        words: RunningWords = CHINESE) -> str | None:
    """The running subsidy's explanation from its stored `inputs` and amount, in `words`.

    None when `inputs` are not a running subsidy's (a record stored before inputs were kept,
    or a test fixture): the caller shows the stored explanation instead.
    """
    try:
        usage = Decimal(inputs["usage"])
        rate = Decimal(inputs["rate"])
        unit = inputs["unit"]
        cap = Decimal(inputs["cap_units"]) if inputs.get("cap_units") not in (None, "") \
            else None
        if not (usage.is_finite() and rate.is_finite()) or unit not in _UNITS \
                or (cap is not None and not cap.is_finite()):
            return None
        fields = {"usage": format_number(usage), "rate": format_number(rate),
                  "value": format_yuan(round_fen(value)), "unit": words.units.get(unit, unit),
                  "cap": "" if cap is None else format_number(cap, 0)}
    except (KeyError, TypeError, ArithmeticError, ValueError, AttributeError):
        return None
    template = (words.no_cap if cap is None
                else words.over_cap if usage > cap else words.within_cap)
    return template.format(**fields)


def running_subsidy(terms: PolicyTerms, *, season_no: int, usage: Decimal) -> Amount:
    """One season's running subsidy: min(usage, cap) × that season's unit rate, half up.

    `season_no` counts from the case's first season (see subsidies.seasons), because rates
    may taper by year; a season past the policy's count, or one without a rate, is refused
    rather than paid at some default.
    """
    if isinstance(season_no, bool) or not isinstance(season_no, int):
        raise TypeError(f"season_no must be int, not {type(season_no).__name__}")
    if not 1 <= season_no <= terms.seasons:
        raise CalculationError(
            f"season {season_no} is outside the policy's seasons 1..{terms.seasons}",
            "season_out_of_range")
    rate = terms.season_rates.get(season_no)
    if rate is None:
        raise CalculationError(f"the policy has no rate for season {season_no}",
                               "no_rate_for_season")
    used = _figure(usage, "usage")
    unit = terms.running_unit
    cap = terms.running_cap_units
    counted = used if cap is None else min(used, cap)
    value = round_fen(counted * rate)
    inputs = {"season_no": str(season_no), "usage": _plain(used), "unit": unit,
              "rate": _plain(rate)}
    if cap is not None:
        inputs["cap_units"] = _plain(cap, 0)
    explanation = running_explanation(inputs, value)
    assert explanation is not None  # inputs made just above
    return Amount(value=value, explanation=explanation, inputs=inputs)
