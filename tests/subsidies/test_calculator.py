"""Tests for heating.subsidies.calculator: pure, no database.

Policies are DOMAIN.md's published examples; the property tests compare against the rule
written out here with integer fen arithmetic, not against the code under test.
"""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heating.subsidies.calculator import (
    Amount,
    CalculationError,
    PolicyTerms,
    RunningWords,
    equipment_subsidy,
    running_explanation,
    running_subsidy,
)

D = Decimal

# Hebei, rates as they come out of the policy table (1/10,000 scale): Decimal(8500)/10000 …
HEBEI_ELECTRIC = PolicyTerms(
    equipment_method="invoice_rate", equipment_rate=D(8500) / 10_000, area_rate=None,
    equipment_cap=D("7400"), running_unit="kWh", running_cap_units=D(10_000),
    season_rates={1: D(2000) / 10_000, 2: D(2000) / 10_000, 3: D(2000) / 10_000}, seasons=3)
HEBEI_GAS = PolicyTerms(
    equipment_method="invoice_rate", equipment_rate=D("0.70"), area_rate=None,
    equipment_cap=D("2700.00"), running_unit="m³", running_cap_units=D(1200),
    season_rates={1: D("1"), 2: D("1"), 3: D("1")}, seasons=3)
BEIJING_HEAT_PUMP = PolicyTerms(
    equipment_method="area_rate", equipment_rate=None, area_rate=D("100"),
    equipment_cap=D("12000"))
TAPERING = PolicyTerms(
    equipment_method="invoice_rate", equipment_rate=D("0.725"), area_rate=None,
    equipment_cap=D("2000"), running_unit="m³", running_cap_units=None,
    season_rates={1: D("1.20"), 2: D("0.80"), 3: D("0.40")}, seasons=3)


def eq(terms, invoice=None, area=None) -> Amount:
    return equipment_subsidy(terms, invoice_amount=None if invoice is None else D(invoice),
                             heated_area=None if area is None else D(area))


# ---------- equipment subsidy ----------

def test_hebei_electric_under_cap():
    amount = eq(HEBEI_ELECTRIC, "8000")
    assert amount.value == D("6800.00")
    assert str(amount.value) == "6800.00"
    assert amount.fen == 680_000
    assert amount.explanation == "85% × 8,000.00 = 6,800.00 ≤ 7,400.00 → 6,800.00"
    assert amount.inputs == {"method": "invoice_rate", "rate": "0.85", "invoice": "8000.00",
                             "cap": "7400.00"}


def test_hebei_electric_capped():
    amount = eq(HEBEI_ELECTRIC, "10000")
    assert amount.value == D("7400.00")
    assert str(amount.value) == "7400.00"
    assert amount.explanation == "85% × 10,000.00 = 8,500.00 > 7,400.00 → 7,400.00"


def test_hebei_gas():
    assert eq(HEBEI_GAS, "3000").explanation == "70% × 3,000.00 = 2,100.00 ≤ 2,700.00 → 2,100.00"
    capped = eq(HEBEI_GAS, "4500.50")
    assert capped.value == D("2700.00")
    assert capped.explanation == "70% × 4,500.50 = 3,150.35 > 2,700.00 → 2,700.00"


def test_cap_boundary_is_inclusive():
    # 85% × 8,705.88 = 7,399.998 → 7,400.00 after rounding: equal to the cap, so "≤"
    at_cap = eq(HEBEI_ELECTRIC, "8705.88")
    assert at_cap.value == D("7400.00")
    assert at_cap.explanation == "85% × 8,705.88 = 7,400.00 ≤ 7,400.00 → 7,400.00"
    just_over = eq(HEBEI_ELECTRIC, "8705.89")  # 7,400.0065 → 7,400.01
    assert just_over.value == D("7400.00")
    assert just_over.explanation == "85% × 8,705.89 = 7,400.01 > 7,400.00 → 7,400.00"
    exact = eq(HEBEI_GAS, "3857.15")  # 70% = 2,700.005 → 2,700.01 > cap
    assert exact.explanation.endswith("= 2,700.01 > 2,700.00 → 2,700.00")


def test_rounding_is_half_up_at_half_a_fen():
    # 70% × 0.15 = 0.105 → 0.11 (banker's rounding would give 0.10)
    assert eq(HEBEI_GAS, "0.15").value == D("0.11")
    # 85% × 0.01 = 0.0085 → 0.01
    assert eq(HEBEI_ELECTRIC, "0.01").value == D("0.01")
    # 72.5% × 0.02 = 0.0145 → 0.01 (below half)
    assert eq(TAPERING, "0.02").value == D("0.01")
    # 72.5% × 1,000.10 = 725.0725 → 725.07
    assert eq(TAPERING, "1000.10").value == D("725.07")


def test_percent_shown_without_trailing_zeros():
    assert eq(TAPERING, "1000").explanation == "72.5% × 1,000.00 = 725.00 ≤ 2,000.00 → 725.00"
    whole = PolicyTerms(equipment_method="invoice_rate", equipment_rate=D("1.0000"),
                        area_rate=None, equipment_cap=D("500"))
    assert eq(whole, "400").explanation == "100% × 400.00 = 400.00 ≤ 500.00 → 400.00"
    assert eq(whole, "400").inputs["rate"] == "1"


def test_beijing_area_rate():
    capped = eq(BEIJING_HEAT_PUMP, area="120.5")
    assert capped.value == D("12000.00")
    assert capped.explanation == "100.00 元/m² × 120.50 m² = 12,050.00 > 12,000.00 → 12,000.00"
    assert capped.inputs == {"method": "area_rate", "area_rate": "100.00", "area": "120.50",
                             "cap": "12000.00"}
    under = eq(BEIJING_HEAT_PUMP, area="85.25")
    assert under.value == D("8525.00")
    assert under.explanation == "100.00 元/m² × 85.25 m² = 8,525.00 ≤ 12,000.00 → 8,525.00"


def test_only_the_needed_figure_is_required():
    # the area is irrelevant to an invoice-rate policy and is not recorded
    amount = equipment_subsidy(HEBEI_ELECTRIC, invoice_amount=D("100"), heated_area=D("-1"))
    assert "area" not in amount.inputs
    assert eq(BEIJING_HEAT_PUMP, invoice="-5", area="10").value == D("1000.00")


@pytest.mark.parametrize("terms, invoice, area, code", [
    (HEBEI_ELECTRIC, None, "100", "missing_invoice"),
    (HEBEI_ELECTRIC, "-0.01", None, "negative_invoice"),
    (HEBEI_ELECTRIC, "NaN", None, "invalid_invoice"),
    (BEIJING_HEAT_PUMP, "8000", None, "missing_area"),
    (BEIJING_HEAT_PUMP, None, "-3", "negative_area"),
    (BEIJING_HEAT_PUMP, None, "Infinity", "invalid_area"),
])
def test_missing_or_bad_figures(terms, invoice, area, code):
    with pytest.raises(CalculationError) as caught:
        eq(terms, invoice, area)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)  # an English developer message


def test_zero_figures_give_zero():
    assert eq(HEBEI_ELECTRIC, "0").value == D("0.00")
    assert eq(BEIJING_HEAT_PUMP, area="0").explanation == \
        "100.00 元/m² × 0.00 m² = 0.00 ≤ 12,000.00 → 0.00"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        equipment_subsidy(HEBEI_ELECTRIC, invoice_amount=8000.0, heated_area=None)
    with pytest.raises(TypeError):
        running_subsidy(HEBEI_ELECTRIC, season_no=1, usage=100.5)


# ---------- running subsidy ----------

def test_hebei_running_capped():
    amount = running_subsidy(HEBEI_ELECTRIC, season_no=1, usage=D("12000"))
    assert amount.value == D("2000.00")
    assert amount.explanation == ("用量 12,000.00 千瓦时，超过上限，按 10,000 千瓦时计，"
                                  "× 0.20 元/千瓦时 = 2,000.00 元")
    assert amount.inputs == {"season_no": "1", "usage": "12000.00", "unit": "kWh",
                             "rate": "0.20", "cap_units": "10000"}
    assert amount.fen == 200_000


def test_hebei_running_under_cap():
    amount = running_subsidy(HEBEI_ELECTRIC, season_no=3, usage=D("4321.5"))
    assert amount.value == D("864.30")
    assert amount.explanation == ("按 4,321.50 千瓦时计，未超过 10,000 千瓦时上限，"
                                  "× 0.20 元/千瓦时 = 864.30 元")


def test_gas_running():
    amount = running_subsidy(HEBEI_GAS, season_no=2, usage=D("1500"))
    assert amount.value == D("1200.00")
    assert amount.explanation == ("用量 1,500.00 立方米，超过上限，按 1,200 立方米计，"
                                  "× 1.00 元/立方米 = 1,200.00 元")
    at_cap = running_subsidy(HEBEI_GAS, season_no=1, usage=D("1200"))
    assert at_cap.value == D("1200.00")
    assert at_cap.explanation.startswith("按 1,200.00 立方米计，未超过 1,200 立方米上限")


def test_tapering_rates_without_cap():
    values = [running_subsidy(TAPERING, season_no=n, usage=D("800")) for n in (1, 2, 3)]
    assert [a.value for a in values] == [D("960.00"), D("640.00"), D("320.00")]
    assert values[1].explanation == "按 800.00 立方米计，× 0.80 元/立方米 = 640.00 元"
    assert "cap_units" not in values[1].inputs


def test_running_rounds_half_up():
    terms = PolicyTerms(equipment_method="invoice_rate", equipment_rate=D("0.85"),
                        area_rate=None, equipment_cap=D("7400"), running_unit="kWh",
                        season_rates={1: D("0.125")}, seasons=1)
    # 0.125 × 0.2 = 0.025 → 0.03; 0.125 × 0.1 = 0.0125 → 0.01
    assert running_subsidy(terms, season_no=1, usage=D("0.2")).value == D("0.03")
    assert running_subsidy(terms, season_no=1, usage=D("0.1")).value == D("0.01")
    assert running_subsidy(terms, season_no=1, usage=D("1000.5")).explanation == \
        "按 1,000.50 千瓦时计，× 0.125 元/千瓦时 = 125.06 元"


@pytest.mark.parametrize("season_no, code", [
    (0, "season_out_of_range"), (4, "season_out_of_range"), (-1, "season_out_of_range"),
])
def test_season_outside_the_policy(season_no, code):
    with pytest.raises(CalculationError) as caught:
        running_subsidy(HEBEI_ELECTRIC, season_no=season_no, usage=D("100"))
    assert caught.value.code == code


def test_running_explanation_reads_as_words_a_clerk_uses():
    """The issue's example: not "min(1,518.73 kWh, 10,000 kWh) × 0.20 元/kWh"."""
    amount = running_subsidy(HEBEI_ELECTRIC, season_no=1, usage=D("1518.73"))
    assert amount.explanation == ("按 1,518.73 千瓦时计，未超过 10,000 千瓦时上限，"
                                  "× 0.20 元/千瓦时 = 303.75 元")
    assert "min(" not in amount.explanation and "kWh" not in amount.explanation


def test_running_explanation_rewords_stored_inputs_in_other_words():
    inputs = {"season_no": "1", "usage": "12000.00", "unit": "kWh", "rate": "0.20",
              "cap_units": "10000"}
    words = RunningWords(within_cap="{usage}≤{cap}{unit}", over_cap="{usage}>{cap}{unit}·{value}",
                         no_cap="{usage}{unit}", units={"kWh": "kWh"})
    assert running_explanation(inputs, D("2000.00"), words) == "12,000.00>10,000kWh·2,000.00"
    assert running_explanation({**inputs, "usage": "10000"}, D("2000"), words) == \
        "10,000.00≤10,000kWh"
    assert running_explanation({k: v for k, v in inputs.items() if k != "cap_units"},
                               D("2400"), words) == "12,000.00kWh"


@pytest.mark.parametrize("inputs", [
    {}, {"usage": "12000.00"}, {"usage": "x", "unit": "kWh", "rate": "0.20"},
    {"usage": "1", "unit": "MJ", "rate": "0.20"}, {"usage": "NaN", "unit": "kWh", "rate": "1"},
    {"method": "invoice_rate", "rate": "0.85", "invoice": "8000.00", "cap": "7400.00"},
])
def test_running_explanation_of_inputs_it_cannot_read_is_none(inputs):
    assert running_explanation(inputs, D("1.00")) is None


def test_season_without_rate_or_without_running_subsidy():
    gap = PolicyTerms(equipment_method="area_rate", equipment_rate=None, area_rate=D("100"),
                      equipment_cap=D("12000"), season_rates={1: D("0.2"), 3: D("0.1")},
                      seasons=3)
    with pytest.raises(CalculationError) as caught:
        running_subsidy(gap, season_no=2, usage=D("100"))
    assert caught.value.code == "no_rate_for_season"
    with pytest.raises(CalculationError) as caught:
        running_subsidy(BEIJING_HEAT_PUMP, season_no=1, usage=D("100"))  # no running subsidy
    assert caught.value.code == "season_out_of_range"


@pytest.mark.parametrize("usage, code", [
    (None, "missing_usage"), (D("-1"), "negative_usage"), (D("NaN"), "invalid_usage"),
])
def test_bad_usage(usage, code):
    with pytest.raises(CalculationError) as caught:
        running_subsidy(HEBEI_ELECTRIC, season_no=1, usage=usage)
    assert caught.value.code == code


def test_season_no_must_be_int():
    with pytest.raises(TypeError):
        running_subsidy(HEBEI_ELECTRIC, season_no="1", usage=D("1"))
    with pytest.raises(TypeError):
        running_subsidy(HEBEI_ELECTRIC, season_no=True, usage=D("1"))


# ---------- policy terms ----------

def terms(**changes):
    base = dict(equipment_method="invoice_rate", equipment_rate=D("0.85"), area_rate=None,
                equipment_cap=D("7400"), running_unit="kWh", running_cap_units=None,
                season_rates={1: D("0.2")}, seasons=1)
    base.update(changes)
    return PolicyTerms(**base)


@pytest.mark.parametrize("changes", [
    {"equipment_method": "flat"},
    {"equipment_rate": None},  # invoice method needs its rate
    {"equipment_rate": D("85")},  # a percentage typed as a number
    {"equipment_rate": D("-0.1")},
    {"equipment_method": "area_rate", "area_rate": None},
    {"equipment_cap": D("-1")},
    {"equipment_cap": D("7400.001")},
    {"running_unit": "kwh"},
    {"running_cap_units": D("-5")},
    {"seasons": -1},
    {"seasons": True},
    {"season_rates": {0: D("0.2")}},
    {"season_rates": {1: D("-0.2")}},
    {"season_rates": {"1": D("0.2")}},
    {"season_rates": {1: None}},
])
def test_invalid_terms_are_refused(changes):
    with pytest.raises(CalculationError) as caught:
        terms(**changes)
    assert caught.value.code == "invalid_terms"


def test_terms_refuse_floats_and_are_frozen():
    with pytest.raises(TypeError):
        terms(equipment_rate=0.85)
    with pytest.raises(TypeError):
        terms(season_rates={1: 0.2})
    rates = {1: D("0.2")}
    frozen = terms(season_rates=rates, equipment_cap=7400, running_cap_units=10_000)
    rates[1] = D("5")  # the caller's dict changing later changes nothing
    assert frozen.season_rates[1] == D("0.2")
    with pytest.raises(TypeError):
        frozen.season_rates[1] = D("9")
    with pytest.raises(AttributeError):
        frozen.equipment_cap = D("1")
    assert frozen.equipment_cap == D("7400") and isinstance(frozen.equipment_cap, Decimal)
    assert frozen == terms(season_rates={1: D("0.2")}, equipment_cap=D("7400"),
                           running_cap_units=D("10000"))


# ---------- properties, against integer-fen arithmetic ----------

def oracle_fen(rate_e4: int, figure_fen: int) -> int:
    """rate (in 1/10,000) × figure (in fen), rounded half up to the fen, in integers only."""
    numerator = rate_e4 * figure_fen  # fen × 10,000
    return (numerator + 5_000) // 10_000


@given(rate_e4=st.integers(0, 10_000), invoice_fen=st.integers(0, 10**9),
       cap_fen=st.integers(0, 10**7))
def test_equipment_property(rate_e4, invoice_fen, cap_fen):
    policy = PolicyTerms(equipment_method="invoice_rate", equipment_rate=D(rate_e4) / 10_000,
                         area_rate=None, equipment_cap=D(cap_fen).scaleb(-2))
    amount = equipment_subsidy(policy, invoice_amount=D(invoice_fen).scaleb(-2),
                               heated_area=None)
    assert 0 <= amount.value <= policy.equipment_cap
    assert amount.fen == min(oracle_fen(rate_e4, invoice_fen), cap_fen)
    assert amount.value.as_tuple().exponent == -2
    assert amount.explanation.endswith(f"→ {amount.value:,.2f}")
    assert (" > " in amount.explanation) == (oracle_fen(rate_e4, invoice_fen) > cap_fen)


@given(rate_fen=st.integers(0, 100_000), area_hundredths=st.integers(0, 200_000),
       cap_fen=st.integers(0, 10**7))
def test_area_property(rate_fen, area_hundredths, cap_fen):
    policy = PolicyTerms(equipment_method="area_rate", equipment_rate=None,
                         area_rate=D(rate_fen).scaleb(-2), equipment_cap=D(cap_fen).scaleb(-2))
    amount = equipment_subsidy(policy, invoice_amount=None,
                               heated_area=D(area_hundredths).scaleb(-2))
    # fen × hundredths = fen × 100, so round half up at 50
    expected = (rate_fen * area_hundredths + 50) // 100
    assert 0 <= amount.value <= policy.equipment_cap
    assert amount.fen == min(expected, cap_fen)


@given(rate_e4=st.integers(0, 50_000), usage_hundredths=st.integers(0, 10**8),
       cap=st.one_of(st.none(), st.integers(0, 20_000)))
def test_running_property(rate_e4, usage_hundredths, cap):
    policy = PolicyTerms(equipment_method="area_rate", equipment_rate=None, area_rate=D(1),
                         equipment_cap=D(0), running_cap_units=None if cap is None else D(cap),
                         season_rates={1: D(rate_e4) / 10_000}, seasons=1)
    amount = running_subsidy(policy, season_no=1, usage=D(usage_hundredths).scaleb(-2))
    counted = usage_hundredths if cap is None else min(usage_hundredths, cap * 100)
    # rate in 1/10,000 元 × usage in 1/100 unit = 1/1,000,000 元; one fen = 10,000 of those
    expected_fen = (rate_e4 * counted + 5_000) // 10_000
    assert amount.value >= 0
    assert amount.fen == expected_fen
    if cap is not None:
        assert amount.fen <= (rate_e4 * cap * 100 + 5_000) // 10_000
    assert amount.explanation.endswith(f"= {amount.value:,.2f} 元")
    assert ("超过上限" in amount.explanation) == (cap is not None and usage_hundredths > cap * 100)
