"""Demo data for installations, inspections and certificates (``flask demo-data`` runs this
after the households are built, through ``heating.payouts.demo.extend_demo``: between last
autumn's money story and today's).

A seeded sample of the current year's approved cases is walked through the real services,
by the demo staff who may make each move: the village clerk records the installation, the
township reviewer assigns the township's inspector, the inspector takes two generated
placeholder photos and passes or fails the case (a failed case is sometimes reworked and
waits for its new inspection).  Everything is therefore legal by construction: events, audit
rows, separation of duties, gapless certificate serials.  These moves happen "now", after the
households' history, which ends the evening before.  Certificates are issued without a PDF:
the first download renders it and stores those bytes for good.
"""
from __future__ import annotations

import io
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any, Callable

from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from heating.areas.models import Area
from heating.auth.models import RoleGrant, User
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.ids import credit_check_char
from heating.extensions import db
from heating.households.models import DEVICE_KINDS_BY_TYPE, Household
from heating.households.services import transition
from heating.inspections import assignments, installers, services
from heating.inspections.models import CHECKLIST, InstallerCompany

#: what becomes of the sampled cases, with weights
OUTCOMES = (("installed", 20), ("assigned", 20), ("overdue", 5), ("failed", 10),
            ("reworked", 10), ("passed", 35))
#: share of the approved cases of the current year that get an installation, and a cap
SHARE = 0.4
LIMIT = 250
_DEVICES = {
    "gas_boiler": (("威能", "VUW-24"), ("林内", "RBS-24E"), ("万和", "L1PB26")),
    "heat_pump": (("美的", "KFR-72W"), ("格力", "KFR-120W"), ("海尔", "KF120-N")),
    "storage_heater": (("艾美特", "HC22"), ("先锋", "DQ-2000")),
    "direct_heater": (("美的", "HDY22"), ("格力", "NDYC-21")),
    "other_electric": (("志高", "ZG-3000"),),
}
_POWER = {"gas_boiler": "24", "heat_pump": "7.2", "storage_heater": "3",
          "direct_heater": "2.2", "other_electric": "3"}
#: the demo county's installer companies: name, the 9 characters of the credit code after
#: "91" and the county's 6 digits (the check character is computed), contact
_COMPANIES = (("县燃气工程有限公司", "MA0000011", "张工"), ("县供电服务公司", "MA0000022", "李经理"),
              ("绿源暖通安装有限公司", "MA0000033", "王师傅"),
              ("恒温节能科技有限公司", "MA0000044", ""))
#: a name typed before companies were records, matching none (the county resolves it)
_UNLISTED = "鑫达电器安装部"
_FAULTS = ("燃煤炉具未拆除", "未安装专用断路器", "燃气泄漏报警器未安装", "设备不能正常运行",
           "管道压力试验未做")
_FIXED = "已按验收意见整改完毕，请重新验收"


def placeholder_photo(label: str, color: tuple[int, int, int]) -> bytes:
    """A 640×480 JPEG standing in for a photo taken on site (EXIF time: now)."""
    image = Image.new("RGB", (640, 480), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 600, 440), outline="white", width=6)
    draw.text((60, 60), f"DEMO {label}", fill="white")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = now_utc().astimezone(LOCAL_TZ).strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70, exif=exif)
    return out.getvalue()


def _staff() -> dict[tuple[str, int], User]:
    """(role, area id) → one demo user holding only that role there."""
    found: dict[tuple[str, int], User] = {}
    for grant in db.session.scalars(select(RoleGrant).order_by(RoleGrant.id)):
        if len({g.role for g in grant.user.grants}) == 1:
            found.setdefault((grant.role, grant.area_id), grant.user)
    return found


def extend_demo(seed: int, echo: Callable[[str], Any]) -> None:
    rng = random.Random(seed * 7919 + 4)
    year = local_today().year
    approved = list(db.session.scalars(
        select(Household).where(Household.state == "approved",
                                Household.programme_year == year).order_by(Household.id)))
    if not approved:
        return
    sample = rng.sample(approved, min(LIMIT, int(len(approved) * SHARE)))
    staff = _staff()
    photos = {"device_with_head": placeholder_photo("device + head", (40, 90, 140)),
              "stove_site": placeholder_photo("stove removed", (120, 90, 60))}
    names, weights = zip(*OUTCOMES)
    done: dict[str, int] = {}
    for hh in sample:
        outcome = rng.choices(names, weights)[0]
        clerk = staff.get(("clerk", hh.village_id))
        reviewer = staff.get(("reviewer", hh.township_id))
        inspector = staff.get(("inspector", hh.township_id))
        if clerk is None or reviewer is None or inspector is None:
            continue
        _walk(rng, hh, outcome, clerk, reviewer, inspector, photos)
        done[outcome] = done.get(outcome, 0) + 1
    db.session.commit()
    echo("installations and inspections: " + ", ".join(f"{k} {v}" for k, v in
                                                         sorted(done.items())))


def demo_companies(county_id: int) -> list[InstallerCompany]:
    """The county's installer companies, recorded by its county user the first time."""
    found = installers.companies_of(county_id, active_only=True)
    if found:
        return found
    county = db.session.get(Area, county_id)
    actor = _staff().get(("county", county_id))
    if county is None or actor is None:
        return []
    for name, org, contact in _COMPANIES:
        first17 = f"91{county.code[:6]}{org}"
        installers.create_company(county, {
            "name": name, "credit_code": first17 + credit_check_char(first17),
            "contact_name": contact,
            "contact_phone": f"0399-55{org[-3:]}00" if contact else "", "active": True},
            actor)
    return installers.companies_of(county_id, active_only=True)


def _installation(rng: random.Random, hh: Household) -> dict[str, Any]:
    kind = (hh.device_kind if hh.device_kind in DEVICE_KINDS_BY_TYPE[hh.conversion_type]
            else DEVICE_KINDS_BY_TYPE[hh.conversion_type][0])
    brand, model = rng.choice(_DEVICES[kind])
    amount = Decimal(rng.randrange(380000, 1650000)) / 100
    return {"conversion_type": hh.conversion_type, "device_kind": kind, "brand": brand,
            "model": model, "factory_serial": f"SN{rng.randrange(10**9, 10**10)}",
            "units": 1, "rated_power": Decimal(_POWER[kind]), "invoice_amount": amount,
            **_installer(rng, hh),
            "install_date": local_today() - timedelta(days=rng.randint(2, 40)),
            "meter_no": ("G" if hh.conversion_type == "gas" else "E")
            + str(rng.randrange(10**9, 10**10))}


def _installer(rng: random.Random, hh: Household) -> dict[str, Any]:
    """A company of the county; one case in 23 names an installer as free text that matches
    no company (left for the county to resolve)."""
    company = rng.choice(demo_companies(hh.county_id) or [None])
    if company is None or hh.id % 23 == 0:
        return {"installer": _UNLISTED, "installer_company_id": None}
    return {"installer": company.name, "installer_company_id": company.id}


def _walk(rng: random.Random, hh: Household, outcome: str, clerk: User, reviewer: User,
          inspector: User, photos: dict[str, bytes]) -> None:
    services.save_installation(hh, _installation(rng, hh), clerk)
    if outcome == "installed":
        return
    today = local_today()
    visit = today + timedelta(days=rng.randint(0, 6))
    assignment = assignments.assign(hh, inspector, visit, reviewer, today)
    if outcome in ("assigned", "overdue"):
        if outcome == "overdue":  # planned earlier, not yet visited
            assignment.visit_date = today - timedelta(days=rng.randint(1, 5))
        return
    for kind, data in photos.items():
        services.store_photo(hh, kind, FileStorage(io.BytesIO(data), "demo.jpg"), inspector)
    items = dict.fromkeys(CHECKLIST[hh.conversion_type], True)
    if outcome == "passed":
        services.record_inspection(hh, inspector, result="pass", checklist=items,
                                   stoves_removed=hh.coal_stoves, reasons=None)
        return
    items[rng.choice(list(items))] = False
    services.record_inspection(hh, inspector, result="fail", checklist=items,
                               stoves_removed=hh.coal_stoves, reasons=rng.choice(_FAULTS))
    if outcome == "reworked":
        transition(hh, "rework", clerk, _FIXED, context=services.guard_context(hh, clerk))
        assignment.visit_date = today + timedelta(days=rng.randint(0, 3))
    db.session.flush()
