"""The smoke test's database: the demo county (``flask demo-data``: households in every state,
policies, notices, objections, batches, payments, corrections, usage, certificates,
inspections, photos), plus what the demo does not make, added through the real services: a
household import, a scanned document, follow-up visits, 回头看 campaigns (one drawn, one
waiting for approval), a failed payment with and without a
correction request, a usage file preview and a policy not yet in use.  Then one user per role
(and a reviewer + inspector) whose grants cover every record the URL builders pick, and the
ids those builders use.

Built once per backend for the whole smoke module, read-only afterwards (GET views that write
audit rows or store a rendered PDF do not change what another request sees)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from heating.areas.models import Area
from heating.certificates import services as certificates
from heating.certificates.models import Certificate
from heating.core.db import writing
from heating.core.i18n import local_today
from heating.extensions import db
from heating.households.imports import services as import_services
from heating.households.lifecycle import STATES
from heating.households.models import Household
from heating.inspections import campaign_visits, campaigns, followups
from heating.inspections import services as inspections
from heating.inspections.demo import placeholder_photo
from heating.inspections.models import Inspection, Installation, InstallerCompany, Upload
from heating.payouts import bankfiles, batches, corrections, reconcile, recoveries
from heating.payouts import usage as usage_services
from heating.payouts.models import BATCH_STATES, Payment, PayoutBatch, UsageImport
from heating.payouts.recovery_models import Recovery
from heating.publicity.models import Notice
from heating.reports import publishing
from heating.subsidies import services as subsidies
from heating.subsidies.models import SubsidyPolicy
from tests.factories import luhn_account, make_id_number
from tests.fixtures import make_user
from tests.imports.helpers import grid, row, xlsx
from tests.subsidies.support import policy_data

HOUSEHOLDS = 400
#: the roles each request is made as; "reviewer+inspector" holds both over the same townships
ROLES = ("clerk", "reviewer", "inspector", "reviewer+inspector", "finance", "county",
         "auditor", "admin")


@dataclass
class Seeded:
    cookies: dict[str, str]  #: role → the session's user id (``User.get_id()``)
    ids: dict[str, Any] = field(default_factory=dict)


def seed(app: Flask) -> Seeded:
    result = app.test_cli_runner().invoke(
        args=["demo-data", "--households", str(HOUSEHOLDS), "--seed", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context(), writing():
        county = db.session.scalar(select(Area).where(Area.level == "county"))
        townships = list(db.session.scalars(select(Area).where(Area.level == "township")))
        users = _staff(county, townships)
        extras = _extras(users, county)
        db.session.commit()
        seeded = Seeded({role: u.get_id() for role, u in users.items()}, _ids(users, extras))
        db.session.remove()
    return seeded


def _staff(county: Area, townships: list[Area]) -> dict[str, Any]:
    """Township roles over every township (a clerk may be granted a township), county-wide
    roles over the county."""
    users = {}
    for role in ("clerk", "reviewer", "inspector"):
        users[role] = make_user(role, *townships, username=f"smoke_{role}")
    users["reviewer+inspector"] = make_user(["reviewer", "inspector"], *townships,
                                            username="smoke_reviewer_inspector")
    for role in ("finance", "county", "auditor", "admin"):
        users[role] = make_user(role, county, username=f"smoke_{role}")
    return users


def _first(model: Any, *where: Any) -> Any:
    found = db.session.scalar(select(model).where(*where).order_by(model.id).limit(1))
    assert found is not None, f"the smoke database has no {model.__name__} where {where}"
    return found


def _extras(users: dict[str, Any], county: Area) -> dict[str, Any]:
    clerk, inspector, finance = users["clerk"], users["inspector"], users["finance"]
    today = local_today()
    made: dict[str, Any] = {}
    # a household import, left at its preview (new rows, an error row)
    village = _first(Area, Area.level == "village")
    rows = [row(n, {"乡镇": village.parent.name, "村": village.name,
                    "身份证号": make_id_number(900 + n), "银行账号": luhn_account(900 + n)})
            for n in range(3)] + [row(3, {"乡镇": village.parent.name, "村": village.name,
                                         "身份证号": "12345"})]
    made["import"], _ = import_services.upload(xlsx(grid(rows)), "smoke.xlsx", today.year,
                                               clerk)
    # a scanned document on an open case
    open_case = _first(Household, Household.state == "submitted")
    made["document"] = inspections.store_document(
        open_case, "id_card", FileStorage(io.BytesIO(placeholder_photo("id card", (90, 90, 90))),
                                          "id.jpg"), clerk)
    # follow-up visits: one in use, one where the old stove is back (stops the running subsidy)
    paid = list(db.session.scalars(select(Household).where(Household.state == "paid")
                                   .order_by(Household.id).limit(2)))
    made["followed_up"] = paid[0]
    followups.record_follow_up(paid[0], inspector, result="ok", visited_on=today, note=None)
    followups.record_follow_up(paid[1], inspector, result="rebound", visited_on=today,
                               note="旧燃煤炉具已重新安装使用")
    # 回头看 campaigns: one drawn (a visit assigned, one recorded since the draw), one that
    # overlaps it and waits for a second county user's approval
    drawn = campaigns.create_campaign(county, campaigns.CampaignRequest(
        "冒烟测试回头看", paid[0].programme_year, rate_percent=20, first_n=1), users["county"])
    campaigns.draw(drawn, users["county"])
    rows = campaign_visits.sample_rows(drawn)
    campaign_visits.assign_visit(rows[0].visit, inspector, today, users["reviewer"], today)
    followups.record_follow_up(rows[-1].case, inspector, result="house_empty",
                               visited_on=today, note="家中无人")
    made["campaigns"] = {"drawn": drawn.id, "pending": campaigns.create_campaign(
        county, campaigns.CampaignRequest("冒烟测试复查", paid[0].programme_year,
                                          reason="复查"), users["county"]).id}
    # a failed payment: the approved equipment batch goes to the bank, two payments fail;
    # one of the two households gets a correction request, the other waits for one
    batch = _first(PayoutBatch, PayoutBatch.state == "approved", PayoutBatch.kind == "equipment")
    bankfiles.bank_file(batch, "csv", finance)
    pending = list(db.session.scalars(select(Payment).where(
        Payment.batch_id == batch.id, Payment.status == "pending").order_by(Payment.seq)))
    report = reconcile.import_results(batch, _result_file(pending, failing=2), "smoke.csv",
                                      finance)
    assert report.ok, (report.file_error, report.problems)
    failed = [p.household for p in pending[:2]]
    corrections.request_correction(failed[1], {
        "bank_name": "中国农业银行", "bank_account": luhn_account(4242, "622848"),
        "account_holder": failed[1].head_name, "luhn_confirmed": False,
        "reason": "原账户已销户"}, clerk)
    made["payment_failed"] = failed[0]
    # a usage file waiting at its preview (electric meters of paid cases, one unknown meter)
    meters = db.session.scalars(select(Installation.meter_no).join(
        Household, Household.id == Installation.household_id).where(
        Household.state == "paid", Installation.conversion_type == "electric").limit(5)).all()
    lines = [("电表号", "用量", "户主姓名")] + [(m, "1518.73", "") for m in meters] + [
        ("E0000000000", "12", "")]
    data = "\r\n".join(",".join(line) for line in lines).encode("utf-8")
    made["usage_preview"] = usage_services.upload(
        data, "smoke-usage.csv", utility="power", season=usage_services.default_season(),
        county_id=county.id, user=finance)
    # recoveries (追回): the demo's open and partly recovered ones stay, its waiver is approved
    waiting = _first(Recovery, Recovery.state == "waive_requested")
    recoveries.decide_waiver(waiting, finance, approve=True, note="同意核销")
    # a policy no amount was computed from yet (its edit form opens)
    made["unused_policy"] = subsidies.create_policy(policy_data(
        county.id, programme_year=today.year + 1, equipment_method="area_rate",
        equipment_rate_pct=None, area_rate=Decimal("100"), name="冒烟测试：按面积补贴",
        effective_from=date(today.year + 1, 1, 1)), users["county"])
    # a published monthly report (月度通报) of last November and its correction
    first = publishing.publish(county, 2025, date(2025, 11, 1), users["county"])
    made["monthly"] = [first.id, publishing.publish(
        county, 2025, date(2025, 11, 1), users["county"], "冒烟测试更正").id]
    db.session.flush()
    return made


def _result_file(payments: list[Payment], failing: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["付款参考号", "金额", "状态", "失败原因", "到账日期"])
    for n, p in enumerate(payments):
        amount = f"{p.amount_fen // 100}.{p.amount_fen % 100:02d}"
        if n < failing:
            writer.writerow([p.reference, amount, "失败", "账户已销户", ""])
        else:
            writer.writerow([p.reference, amount, "成功", "", local_today().isoformat()])
    return out.getvalue().encode("utf-8-sig")


def _ids(users: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    """What the URL builders refer to (every state of a case, of a batch …)."""
    ids: dict[str, Any] = {"case": {s: _first(Household, Household.state == s).id
                                    for s in STATES}}
    ids["case"]["paid"] = made["followed_up"].id  # the paid case with a follow-up visit
    ids["case"]["payment_failed"] = made["payment_failed"].id
    passed = db.session.get(Household, ids["case"]["passed"])
    ids["township"], ids["village"] = passed.township_id, passed.village_id
    ids["year"] = passed.programme_year
    ids["batch"] = {s: _first(PayoutBatch, PayoutBatch.state == s).id for s in BATCH_STATES}
    roster = db.session.get(PayoutBatch, ids["batch"]["closed"])
    ids["roster"] = (roster.id, batches.townships_of(roster)[0][0])
    cert = _first(Certificate, Certificate.revoked_at.is_(None))
    revoked = _first(Certificate, Certificate.revoked_at.is_not(None))
    ids["certificate"] = cert.id
    ids["certificate_village"] = db.session.get(Household, cert.household_id).village_id
    ids["verify"] = [(c.serial, certificates.token(c.serial)) for c in (cert, revoked)]
    ids["inspection"] = {r: _first(Inspection, Inspection.result == r).id
                         for r in ("pass", "fail")}
    ids["photo"] = _first(Upload, Upload.kind == "device_with_head").id
    ids["document"] = made["document"].id
    ids["notice"] = {s: _first(Notice, Notice.state == s).id for s in ("published", "closed")}
    ids["usage_import"] = _first(UsageImport).id
    ids["usage_preview"] = made["usage_preview"].token
    ids["import"] = made["import"].id
    ids["policy"] = [p.id for p in db.session.scalars(select(SubsidyPolicy)
                                                       .order_by(SubsidyPolicy.id))]
    ids["unused_policy"] = made["unused_policy"].id
    ids["user"] = users["clerk"].id
    ids["recovery"] = list(db.session.scalars(select(Recovery.id).order_by(Recovery.id)))
    ids["campaign"] = made["campaigns"]
    ids["installer"] = _first(InstallerCompany).id
    ids["monthly"] = made["monthly"]
    return ids
