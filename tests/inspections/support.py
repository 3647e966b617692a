"""Helpers for installation, inspection and certificate tests: pictures made in memory, form
data, and cases walked to a given step through the real services."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from PIL import Image
from sqlalchemy import select

from heating.areas.models import Area
from heating.auth.models import User
from heating.core.ids import company_name_key
from heating.extensions import db
from heating.households.models import Household
from heating.inspections import services
from heating.inspections.models import CHECKLIST, InstallerCompany
from tests.fixtures import make_case, make_user


def jpeg(size: tuple[int, int] = (80, 60), color: str = "red",
         taken: str | None = "2026:11:20 10:15:00", offset: str | None = None) -> bytes:
    """A small JPEG, with EXIF DateTimeOriginal when ``taken`` is given."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if taken:
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = taken  # DateTimeOriginal
        if offset:
            sub[0x9011] = offset  # OffsetTimeOriginal
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


#: a valid unified social credit code (GB 32100 check character) and a second one
CREDIT_CODE = "91139901MA00000019"
OTHER_CREDIT_CODE = "91139901MA0000002C"


def company(county: Any = None, name: str = "县供电安装公司",
            code: str = CREDIT_CODE) -> InstallerCompany:
    """The installer company ``name`` of ``county`` (default: the test world's county),
    recorded directly the first time it is asked for."""
    county = county or db.session.scalar(select(Area).where(Area.level == "county")
                                         .order_by(Area.id).limit(1))
    found = db.session.scalar(select(InstallerCompany).where(
        InstallerCompany.county_id == county.id, InstallerCompany.credit_code == code))
    if found is None:
        found = InstallerCompany(county_id=county.id, name=name,
                                 name_key=company_name_key(name), credit_code=code)
        db.session.add(found)
        db.session.commit()
    return found


def installation_form(**over: Any) -> dict[str, Any]:
    """The installation form as posted; the installer is the world county's company unless
    ``installer_company_id`` is given."""
    if "installer_company_id" not in over:
        over["installer_company_id"] = str(company().id)
    data = {"conversion_type": "electric", "device_kind": "heat_pump", "brand": "美的",
            "model": "KFR-72W", "factory_serial": "SN2026-0001", "units": "1",
            "rated_power": "7.2", "invoice_amount": "12345.67",
            "install_date": "2026-10-15", "meter_no": "E1000001"}
    data.update(over)
    return data


def installation_data(**over: Any) -> dict[str, Any]:
    data = {"conversion_type": "electric", "device_kind": "heat_pump", "brand": "美的",
            "model": "KFR-72W", "factory_serial": "SN2026-0001", "units": 1,
            "rated_power": Decimal("7.20"), "invoice_amount": Decimal("12345.67"),
            "installer": "县供电安装公司", "install_date": date(2026, 10, 15),
            "meter_no": "E1000001"}
    data.update(over)
    return data


def all_ticked(conversion_type: str = "electric", stoves: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = {item: "y" for item in CHECKLIST[conversion_type]}
    data["stoves_removed"] = str(stoves)
    return data


def installed_case(world: Any, clerk: User | None = None, **case_kw: Any) -> Household:
    """An approved case whose installation the clerk recorded (now ``installed``)."""
    village = case_kw.pop("village", world.village_a1)
    clerk = clerk or make_user("clerk", village)
    install = case_kw.pop("install", {})
    hh = make_case(village, clerk, state="approved", **case_kw)
    services.save_installation(hh, installation_data(**install), clerk)
    db.session.commit()
    return hh


def photo_files() -> dict[str, Any]:
    return {"photo_device_with_head": upload(jpeg(color="blue"), "IMG_0001.JPG"),
            "photo_stove_site": upload(png(), "stove.png")}


def passed_case(world: Any, inspector: User, post: Any, **kw: Any) -> Household:
    """An installed case passed by ``inspector`` through the inspection screen (the caller
    is logged in as the inspector)."""
    hh = installed_case(world, **kw)
    response = post(f"/inspections/case/{hh.id}/inspect",
                    dict(all_ticked(hh.conversion_type, hh.coal_stoves), result="pass",
                         **photo_files()), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(hh)
    assert hh.state == "passed"
    return hh
