"""From case data to the renderer: what a certificate shows (frozen at issue as JSON), the
data classes of ``heating.certificates.render`` filled from it and from the case, and where
issued PDFs are kept.  PDF wording is literal Chinese; screens use the Babel catalog.

Where a case has a print spelling (印刷用名, ``Household.print_name``), every document prints
it for the head's name (and for an account holder who is the head), with a note that the
registered name differs."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from flask import current_app

from heating.areas.models import Area
from heating.certificates.render import (
    AcceptanceRecordData,
    ApplicationFormData,
    CertificateData,
    CheckItem,
    Photo,
)
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.paperwork import CN_CONVERSION, CN_DEVICE, printed_name
from heating.extensions import db
from heating.households.models import Household

#: literal Chinese for the documents (the screens translate the codes through Babel)
CN_PREVIOUS = {"coal_stove": "燃煤炉", "coal_boiler": "燃煤锅炉", "coal_kang": "燃煤火炕",
               "other": "其他"}
CN_CHECK = {
    "device_running": "设备已安装并正常运行",
    "stove_removed": "燃煤炉具已拆除",
    "leak_alarm": "已安装燃气泄漏报警器",
    "pressure_test": "管道压力试验合格",
    "line_upgraded": "线路已增容改造",
    "dedicated_breaker": "已安装专用断路器",
    "head_confirmed": "户主现场确认",
}
CN_PHOTO = {"device_with_head": "设备与户主合影", "stove_site": "原燃煤炉具拆除现场"}


def _printed_holder(hh: Household) -> str:
    holder = hh.account_holder or ""
    return printed_name(hh) if hh.print_name and holder.strip() == hh.head_name.strip() else holder


def local_date(dt: datetime) -> date:
    return dt.astimezone(LOCAL_TZ).date()


def _county(hh: Household) -> Area | None:
    return db.session.get(Area, hh.county_id)


def issuer(county_name: str) -> str:
    return current_app.config["CERTIFICATE_ISSUER"].format(county=county_name)


def certificate_content(hh: Household, inspection: Any, installation: Any, serial: str,
                        issued_at: datetime) -> dict[str, Any]:
    """Everything the certificate shows, as plain JSON values.  The ID number is masked here:
    a certificate never holds it in full."""
    county = _county(hh)
    county_name = county.name if county else ""
    inspectors = [inspection.inspector.display_name] + [
        n for n in (inspection.other_inspectors or "").replace("，", ",").replace("、", ",")
        .split(",") if n.strip()]
    return {
        "serial": serial,
        "issued_on": local_date(issued_at).isoformat(),
        "programme_year": hh.programme_year,
        "county_name": county_name,
        "township_name": hh.township.name,
        "village_name": hh.village.name,
        "village_code": hh.village.code,
        "head_name": hh.head_name,
        "id_masked": hh.id_masked,
        "group_name": hh.group_name,
        "house_no": hh.house_no,
        "conversion_type": installation.conversion_type,
        "conversion_type_label": CN_CONVERSION[installation.conversion_type],
        "device_kind": installation.device_kind,
        "device_kind_label": CN_DEVICE[installation.device_kind],
        "brand": installation.brand,
        "model": installation.model,
        "factory_serial": installation.factory_serial,
        "inspected_on": local_date(inspection.inspected_at).isoformat(),
        "inspectors": [n.strip() for n in inspectors],
        "issuer": issuer(county_name),
    }


def certificate_data(content: dict[str, Any], token: str, url: str, case_no: str = "",
                     print_name: str | None = None) -> CertificateData:
    """The certificate as it prints now: the frozen content, with the case's print spelling
    (``print_name``, read from the case: the frozen content keeps the registered name) for
    the head's name when there is one."""
    return CertificateData(
        serial=content["serial"], issue_date=date.fromisoformat(content["issued_on"]),
        household_name=print_name or content["head_name"], id_masked=content["id_masked"],
        township=content["township_name"], village=content["village_name"],
        group_name=content["group_name"], house_no=content["house_no"],
        conversion_type=content["conversion_type_label"],
        device_kind=content["device_kind_label"], brand=content["brand"],
        model=content["model"], factory_serial=content["factory_serial"],
        inspection_date=date.fromisoformat(content["inspected_on"]),
        inspectors=tuple(content["inspectors"]), verify_url=url, token=token,
        county=content["county_name"], issuer=content["issuer"],
        print_name_used=bool(print_name), case_no=case_no)


def application_data(hh: Household, *, phone: str, printed_on: date | None = None
                     ) -> ApplicationFormData:
    """The application form as registered (ID and bank number masked; the phone as the
    reader may see it)."""
    county = _county(hh)
    return ApplicationFormData(
        case_no=str(hh.id), programme_year=hh.programme_year, head_name=printed_name(hh),
        id_masked=hh.id_masked, township=hh.township.name, village=hh.village.name,
        county=county.name if county else "", phone=phone, group_name=hh.group_name,
        house_no=hh.house_no, residents=hh.residents, heated_area=hh.heated_area,
        previous_heating=CN_PREVIOUS.get(hh.previous_heating, ""), coal_stoves=hh.coal_stoves,
        low_income=hh.low_income, conversion_type=CN_CONVERSION[hh.conversion_type],
        device_kind=CN_DEVICE[hh.device_kind], bank_name=hh.bank_name or "",
        bank_masked=hh.bank_masked, account_holder=_printed_holder(hh),
        printed_on=printed_on or local_today(), print_name_used=bool(hh.print_name))


def acceptance_data(hh: Household, inspection: Any, thumbnails: Iterable[tuple[str, bytes]]
                    ) -> AcceptanceRecordData:
    """The acceptance record of one inspection, from what the inspection stored (the
    installation as the inspector saw it)."""
    snap = inspection.installation_snapshot
    items = []
    for item, ok in inspection.checklist.items():
        count = inspection.stoves_removed if item == "stove_removed" else None
        items.append(CheckItem(CN_CHECK[item], bool(ok), count))
    inspectors = [inspection.inspector.display_name] + [
        n.strip() for n in (inspection.other_inspectors or "").replace("，", ",")
        .replace("、", ",").split(",") if n.strip()]
    passed = inspection.result == "pass"
    return AcceptanceRecordData(
        record_no=f"{hh.id}-{inspection.id}", head_name=printed_name(hh), id_masked=hh.id_masked,
        township=hh.township.name, village=hh.village.name, group_name=hh.group_name,
        house_no=hh.house_no, conversion_type=CN_CONVERSION[inspection.conversion_type],
        device_kind=CN_DEVICE.get(snap.get("device_kind"), ""), brand=snap.get("brand", ""),
        model=snap.get("model", ""), factory_serial=snap.get("factory_serial", ""),
        installer=snap.get("installer", ""),
        install_date=date.fromisoformat(snap["install_date"]) if snap.get("install_date")
        else None,
        inspection_date=local_date(inspection.inspected_at), inspectors=tuple(inspectors),
        checklist=tuple(items),
        photos=tuple(Photo(CN_PHOTO.get(kind, kind), data) for kind, data in thumbnails),
        passed=passed, remark=(inspection.reasons or "").strip() if passed else "",
        reasons=() if passed else tuple(line.strip() for line in
                                        (inspection.reasons or "").splitlines() if line.strip()),
        print_name_used=bool(hh.print_name), case_no=str(hh.id))
