"""Test data for the usage-file tests: a policy row, paid cases with an installation (meter)
and a passed inspection on a given Beijing date, and usage files as CSV or XLSX bytes."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from heating.core.i18n import LOCAL_TZ
from heating.extensions import db
from heating.households.models import Household
from heating.inspections.models import Inspection, Installation
from heating.subsidies.models import PolicySeasonRate, SubsidyPolicy
from tests.fixtures import make_case
from tests.imports.helpers import csv_bytes, xlsx

D = Decimal
__all__ = ["D", "csv_bytes", "make_policy", "paid_case", "usage_csv", "usage_xlsx", "xlsx"]


def make_policy(county: Any, actor: Any, *, conversion_type: str = "electric",
                seasons: int = 3, rates: dict[int, str] | None = None,
                cap: int | None = 10_000, year: int = 2026, season_start: str = "11-15",
                device_kind: str = "") -> SubsidyPolicy:
    """A running-subsidy policy row (equipment terms are irrelevant here): by default 0.20,
    0.15 and 0.10 元 per unit in seasons 1–3 (tapering), capped at 10,000 units."""
    rates = rates or {1: "0.20", 2: "0.15", 3: "0.10"}
    policy = SubsidyPolicy(
        county_id=county.id, programme_year=year, conversion_type=conversion_type,
        device_kind=device_kind, version=1, name=f"{year} {conversion_type}", reference="",
        equipment_method="invoice_rate", equipment_rate_e4=8500, equipment_cap_fen=740_000,
        running_cap_units=cap, season_start=season_start, season_end="03-15",
        seasons=seasons, effective_from=date(2025, 1, 1), created_by_id=actor.id)
    policy.season_rates = [PolicySeasonRate(season_no=n, unit_rate_e4=int(D(r) * 10_000))
                           for n, r in rates.items()]
    db.session.add(policy)
    db.session.commit()
    return policy


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), LOCAL_TZ)


def paid_case(village: Any, clerk: Any, inspector: Any, meter: str, *,
              passed_on: date = date(2025, 10, 1), state: str = "paid",
              conversion_type: str = "electric", **kw: Any) -> Household:
    """A case in ``state`` (default paid) whose installation carries ``meter`` and whose
    inspection passed on ``passed_on`` (Beijing date)."""
    kind = "gas_boiler" if conversion_type == "gas" else "heat_pump"
    case = make_case(village, clerk, state=state, conversion_type=conversion_type,
                     device_kind=kind, approved_at=_utc(date(2025, 6, 1)), **kw)
    inst = Installation(
        household_id=case.id, conversion_type=conversion_type, device_kind=kind, brand="美的",
        model="M1", factory_serial=f"S{case.id}", units=1, rated_power=D("7"),
        invoice_amount=D("8000"), installer="安装公司", install_date=date(2025, 9, 1),
        meter_no=meter, recorded_by_id=clerk.id, updated_by_id=clerk.id)
    db.session.add(inst)
    db.session.flush()
    if passed_on is not None:
        db.session.add(Inspection(
            household_id=case.id, installation_id=inst.id, result="pass",
            conversion_type=conversion_type, checklist={"device_running": True},
            stoves_registered=1, stoves_removed=1, inspector_id=inspector.id,
            inspected_at=_utc(passed_on), installation_snapshot=inst.snapshot()))
    db.session.commit()
    return case


def usage_csv(rows: list[tuple[Any, ...]], header: tuple[str, ...] = ("电表号", "用量", "户主姓名"),
              encoding: str = "utf-8") -> bytes:
    return csv_bytes([list(header)] + [list(r) for r in rows], encoding=encoding)


def usage_xlsx(rows: list[tuple[Any, ...]],
               header: tuple[str, ...] = ("燃气户号", "用量(m³)", "户主姓名"),
               title: str | None = None) -> bytes:
    table = ([[title]] if title else []) + [list(header)] + [list(r) for r in rows]
    return xlsx(table)
