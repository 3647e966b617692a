"""Installation, assignment, worklist, inspection screen, stored pictures, acceptance record.

The URL builders create what a route needs (an installation, an inspection, a stored picture)
for the cell's case: each cell runs on a fresh database."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app

from heating.core.db import now_utc
from heating.extensions import db
from heating.inspections.models import Inspection, Installation, Upload
from heating.inspections.photos import store_picture
from tests.fixtures import make_user
from tests.inspections.support import installation_form, jpeg

ANON = "anonymous"
INSPECT_ROLES = {"inspector", "reviewer", "county"}
DOCUMENT_VIEWERS = {"clerk", "reviewer", "finance", "county", "auditor"}


def with_installation(ctx: Any) -> int:
    hh = ctx.case
    db.session.add(Installation(
        household_id=hh.id, conversion_type=hh.conversion_type, device_kind=hh.device_kind,
        brand="美的", model="M1", factory_serial=f"S{hh.id}", units=1,
        rated_power=Decimal("7"), invoice_amount=Decimal("9000"), installer="安装公司",
        install_date=date(2026, 10, 1), meter_no=f"E{hh.id}", recorded_by_id=hh.created_by_id,
        updated_by_id=hh.created_by_id))
    db.session.commit()
    return hh.id


def with_inspection(ctx: Any) -> Inspection:
    with_installation(ctx)
    hh = ctx.case
    inst = db.session.query(Installation).filter_by(household_id=hh.id).one()
    inspector = make_user("inspector", ctx.world.town_a)
    insp = Inspection(household_id=hh.id, installation_id=inst.id, result="pass",
                      conversion_type=inst.conversion_type,
                      checklist={"device_running": True}, stoves_registered=1,
                      stoves_removed=1, inspector_id=inspector.id, inspected_at=now_utc(),
                      installation_snapshot=inst.snapshot())
    db.session.add(insp)
    db.session.commit()
    return insp


def with_picture(ctx: Any, kind: str) -> int:
    stored = store_picture(jpeg(), current_app.config["STORAGE_DIR"])
    upload = Upload(household_id=ctx.case.id, kind=kind, path=stored.path,
                    thumb_path=stored.thumb_path, sha256=stored.sha256,
                    content_type=stored.content_type, size=stored.size, width=stored.width,
                    height=stored.height, uploaded_by_id=ctx.case.created_by_id)
    db.session.add(upload)
    db.session.commit()
    return upload.id


def _inspector_id(ctx: Any) -> str:
    return str(make_user("inspector", ctx.world.town_a, username="matrix_inspector").id)


def cells(h: Any) -> dict[str, list[Any]]:
    def photo_or_doc(kind: str, roles: set[str]) -> Any:
        return h.allowed(roles)

    return {
        "inspections.worklist": [
            h.Cell("GET", lambda c: "/inspections/",
                   h.allowed({"inspector", "reviewer", "county"}, scoped=False))],
        "inspections.installation": [
            h.Cell("GET", lambda c: f"/inspections/case/{c.case.id}/installation",
                   h.allowed({"clerk"}), case_state="approved", name="form"),
            h.Cell("POST", lambda c: f"/inspections/case/{c.case.id}/installation",
                   h.allowed({"clerk"}, 302), case_state="approved", name="record",
                   data=lambda c: installation_form()),
        ],
        "inspections.assign": [
            h.Cell("POST", lambda c: f"/inspections/case/{c.case.id}/assign",
                   h.allowed({"reviewer", "county"}, 302), case_state="installed",
                   data=lambda c: {"inspector_id": _inspector_id(c),
                                   "visit_date": date.today().isoformat()})],
        "inspections.inspect": [
            h.Cell("GET", lambda c: f"/inspections/case/{with_installation(c)}/inspect",
                   h.allowed({"inspector"}), case_state="installed", name="screen"),
            h.Cell("POST", lambda c: f"/inspections/case/{with_installation(c)}/inspect",
                   h.allowed({"inspector"}, 302), case_state="installed", name="fail",
                   data=lambda c: {"result": "fail", "reasons": "漏水", "stoves_removed": "0"}),
        ],
        "inspections.upload_document": [
            h.Cell("POST", lambda c: f"/inspections/case/{c.case.id}/documents",
                   h.allowed({"clerk"}, 302), data=lambda c: {"kind": "id_card"})],
        "inspections.picture": [
            h.Cell("GET", lambda c: f"/inspections/uploads/{with_picture(c, 'stove_site')}",
                   h.allowed(h.CASE_ROLES), name="photo"),
            h.Cell("GET", lambda c: f"/inspections/uploads/{with_picture(c, 'id_card')}",
                   h.allowed(DOCUMENT_VIEWERS), name="id card"),
        ],
        "inspections.thumbnail": [
            h.Cell("GET",
                   lambda c: f"/inspections/uploads/{with_picture(c, 'device_with_head')}/thumb",
                   h.allowed(h.CASE_ROLES))],
        "inspections.record_pdf": [
            h.Cell("GET", lambda c: f"/inspections/{with_inspection(c).id}/record.pdf",
                   h.allowed(h.CASE_ROLES), case_state="passed")],
    }
