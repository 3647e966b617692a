"""Helpers for 公示 tests: a county policy and passed cases (installation, passed inspection and
certificate written directly: the inspection screens have their own tests)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from heating.auth.models import User
from heating.certificates import services as certificates
from heating.core.db import now_utc
from heating.extensions import db
from heating.households.models import Household
from heating.inspections.models import Inspection, Installation
from heating.subsidies.models import SubsidyPolicy
from tests.fixtures import make_case, make_user

#: 85% of the invoice, at most 7,400.00 (Hebei, electric)
RATE_E4, CAP_FEN = 8500, 740000


def make_policy(world: Any, **kw: Any) -> SubsidyPolicy:
    author = make_user("county", world.county)
    values = dict(county_id=world.county.id, programme_year=2026, conversion_type="electric",
                  device_kind="", version=1, name="2026年煤改电设备补贴",
                  reference="示政〔2026〕1号", equipment_method="invoice_rate",
                  equipment_rate_e4=RATE_E4, equipment_cap_fen=CAP_FEN,
                  effective_from=date(2020, 1, 1), created_by_id=author.id)
    values.update(kw)
    policy = SubsidyPolicy(**values)
    db.session.add(policy)
    db.session.commit()
    return policy


def passed_case(world: Any, village: Any = None, invoice: str = "8000", clerk: User | None = None,
                **kw: Any) -> Household:
    """A passed case with its installation, passed inspection and certificate."""
    village = village or world.village_a1
    clerk = clerk or make_user("clerk", village)
    kw.setdefault("approved_at", datetime(2026, 9, 1, 2, 0, tzinfo=timezone.utc))
    hh = make_case(village, clerk, state="passed", **kw)
    inst = Installation(
        household_id=hh.id, conversion_type=hh.conversion_type, device_kind=hh.device_kind,
        brand="美的", model="M1", factory_serial=f"S{hh.id}", units=1,
        rated_power=Decimal("7"), invoice_amount=Decimal(invoice), installer="安装公司",
        install_date=date(2026, 10, 1), meter_no=f"E{hh.id}", recorded_by_id=clerk.id,
        updated_by_id=clerk.id)
    db.session.add(inst)
    db.session.flush()
    inspector = make_user("inspector", village.parent)
    insp = Inspection(household_id=hh.id, installation_id=inst.id, result="pass",
                      conversion_type=inst.conversion_type,
                      checklist={"device_running": True}, stoves_registered=1,
                      stoves_removed=1, inspector_id=inspector.id, inspected_at=now_utc(),
                      installation_snapshot=inst.snapshot())
    db.session.add(insp)
    db.session.flush()
    certificates.issue(hh, insp, inst, inspector)
    db.session.commit()
    return hh
