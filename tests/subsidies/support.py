"""Test data for the subsidies tests: policy data as the form sends it to the service, an
installation with an invoice, and an amount frozen on a notice (as the publicity domain
would freeze it)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from heating.extensions import db
from heating.households.models import Household
from heating.inspections.models import Installation
from heating.publicity.models import Notice, NoticeEntry
from heating.subsidies import services
from heating.subsidies.models import SubsidyPolicy

D = Decimal


def policy_data(county_id: int, **overrides: Any) -> dict[str, Any]:
    """Hebei 2026 electric: 85% of the invoice ≤ 7,400 元; 0.20 元/kWh ≤ 10,000 kWh, 3 seasons."""
    data: dict[str, Any] = {
        "county_id": county_id, "programme_year": 2026, "conversion_type": "electric",
        "device_kind": "", "name": "2026年煤改电补贴", "reference": "冀政办〔2026〕1号",
        "equipment_method": "invoice_rate", "equipment_rate_pct": D("85"), "area_rate": None,
        "equipment_cap": D("7400.00"), "seasons": 3, "running_cap_units": 10_000,
        "season_rates": {1: D("0.2"), 2: D("0.2"), 3: D("0.15")},
        "season_start": "11-15", "season_end": "03-15",
        "effective_from": date(2026, 1, 1), "effective_to": None, "note": "",
    }
    data.update(overrides)
    return data


def make_policy(county_id: int, actor: Any, **overrides: Any) -> SubsidyPolicy:
    policy = services.create_policy(policy_data(county_id, **overrides), actor)
    db.session.commit()
    return policy


def add_installation(case: Household, invoice: Decimal = D("8000.00")) -> Installation:
    inst = Installation(
        household_id=case.id, conversion_type=case.conversion_type,
        device_kind=case.device_kind, brand="美的", model="M1", factory_serial=f"S{case.id}",
        units=1, rated_power=D("7"), invoice_amount=invoice, installer="安装公司",
        install_date=date(2026, 10, 1), meter_no=f"E{case.id}",
        recorded_by_id=case.created_by_id, updated_by_id=case.created_by_id)
    db.session.add(inst)
    db.session.commit()
    return inst


def freeze_on_notice(case: Household, policy: SubsidyPolicy, reviewer: Any,
                     amount_fen: int = 680_000, explanation: str = "frozen-explanation",
                     number: str = "GS-139901001-2026-001", state: str = "listed"
                     ) -> NoticeEntry:
    """A notice entry as publicity freezes it (straight into the tables)."""
    today = date(2026, 11, 1)
    notice = Notice(number=number, title="公示", village_id=case.village_id,
                    township_id=case.township_id, county_id=case.county_id,
                    programme_year=case.programme_year, period_days=7, starts_on=today,
                    ends_on=today + timedelta(days=6), objection_phone="0311-1234567",
                    issuing_office="东河镇人民政府", published_by_id=reviewer.id)
    db.session.add(notice)
    db.session.flush()
    entry = NoticeEntry(notice_id=notice.id, household_id=case.id, seq=1, state=state,
                        masked_name="王*一", masked_id="139901********0011",
                        village_name="东河村", conversion_type=case.conversion_type,
                        device_kind=case.device_kind, amount_fen=amount_fen,
                        explanation=explanation, inputs={}, policy_id=policy.id,
                        case_version=case.version)
    db.session.add(entry)
    db.session.commit()
    return entry
