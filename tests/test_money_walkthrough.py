"""Issue 5's "done when", walked through the screens: from passed cases a reviewer publishes a
公示 notice, one objection sends a case back, the rest confirm after the period; finance creates
a batch, a colleague approves it, the bank file downloads with the right totals and capitals,
a result file with two failures is imported, the two households' accounts are corrected and
approved, and a re-pay batch pays exactly those two.  Every step is in the audit log and the
totals on the batch, the bank file and the results agree to the fen."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.core.money import fen_in_capitals, from_fen
from heating.extensions import db
from heating.households.models import Household
from heating.payouts.models import AccountCorrection, BankResultImport, Payment, PayoutBatch
from heating.publicity.models import Notice, NoticeEntry, Objection
from tests.factories import luhn_account
from tests.fixtures import log_in, make_user
from tests.payouts.helpers import result_csv
from tests.publicity.support import make_policy, passed_case

INVOICES = ("8000", "9000", "6000", "10000", "7000")


def _bank_csv(data: bytes) -> tuple[dict[str, str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    head = {r[0]: r[1] for r in rows[:8] if len(r) == 2}
    table = rows[rows.index(["序号", "姓名", "身份证号", "开户银行", "银行账号", "金额",
                             "付款参考号"]) + 1:]
    return head, table


def _upload(post, url: str, data: bytes, name: str):
    return post(url, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_from_passed_cases_to_a_repaid_household(app, client, post, world):
    make_policy(world)
    cases = [passed_case(world, invoice=amount) for amount in INVOICES]
    reviewer = make_user("reviewer", world.town_a)
    finance1 = make_user("finance", world.county, username="finance1")
    finance2 = make_user("finance", world.county, username="finance2")
    clerk = make_user("clerk", world.village_a1, username="clerk_a1")

    # 1. the reviewer publishes the notice: amounts frozen, masked PDF
    log_in(client, reviewer)
    page = client.get(f"/publicity/new?township={world.town_a.id}&village={world.village_a1.id}")
    assert page.status_code == 200
    response = post("/publicity/new", {
        "township_id": world.town_a.id, "village_id": world.village_a1.id, "year": 2026,
        "case_ids": [c.id for c in cases], "title": "东河村清洁取暖补贴公示",
        "starts_on": page_default_start(page), "period_days": 7,
        "objection_phone": "0310-1234567", "issuing_office": "东河镇人民政府"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    notice = db.session.scalar(select(Notice))
    assert {e.household_id for e in notice.entries} == {c.id for c in cases}
    frozen = {e.household_id: e.amount_fen for e in notice.entries}
    assert frozen[cases[0].id] == 680000  # 85% × 8,000.00 = 6,800.00 ≤ 7,400.00
    assert frozen[cases[3].id] == 740000  # capped
    pdf = client.get(f"/publicity/{notice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # 2. one objection, upheld: the case goes back for re-inspection
    objected = cases[4]
    entry = db.session.scalar(select(NoticeEntry).where(NoticeEntry.household_id == objected.id))
    assert post(f"/publicity/entries/{entry.id}/objections",
                {"raised_by": "同村村民", "reason": "煤炉未拆除"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Household, objected.id).state == "objected"
    objection = db.session.scalar(select(Objection))
    assert post(f"/publicity/objections/{objection.id}/uphold",
                {"reason": "现场核实煤炉仍在使用"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Household, objected.id).state == "installed"

    # 3. the daily job confirms the rest after the period
    runner = app.test_cli_runner()
    day_after = (notice.ends_on + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["confirm-notices", "--date", day_after])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    paid_cases = cases[:4]
    assert [db.session.get(Household, c.id).state for c in paid_cases] == ["confirmed"] * 4

    # 4. finance creates a batch (a double submit gives the same batch); a colleague approves
    log_in(client, finance1)
    form = {"kind": "equipment", "township_id": 0, "season": "", "note": "第一批",
            "idempotency_key": "walkthrough-batch-1"}
    assert post("/payouts/new", form).status_code == 302
    assert post("/payouts/new", form).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 1
    batch = db.session.scalar(select(PayoutBatch))
    expected_total = sum(frozen[c.id] for c in paid_cases)
    assert (batch.payment_count, batch.total_fen) == (4, expected_total)
    assert post(f"/payouts/batches/{batch.id}/approve").status_code == 403  # maker ≠ checker
    log_in(client, finance2)
    assert post(f"/payouts/batches/{batch.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(PayoutBatch, batch.id).state == "approved"

    # 5. the bank file: totals and capitals right, identical on a second download
    first = client.get(f"/payouts/batches/{batch.id}/bank.csv")
    assert first.status_code == 200
    head, table = _bank_csv(first.data)
    assert head["付款笔数"] == "4" and head["付款总金额（元）"] == f"{from_fen(expected_total)}"
    assert head["金额大写"] == fen_in_capitals(expected_total)
    assert sum(int(round(float(r[5]) * 100)) for r in table) == expected_total
    assert client.get(f"/payouts/batches/{batch.id}/bank.csv").data == first.data

    # 6. the bank's results: two failures
    payments = list(db.session.scalars(select(Payment).where(Payment.batch_id == batch.id)
                                       .order_by(Payment.seq)))
    failed = {payments[0].id: "户名与账号不符", payments[2].id: "账户已销户"}
    response = _upload(post, f"/payouts/batches/{batch.id}/results",
                       result_csv(payments, failed=failed), "results.csv")
    assert response.status_code == 302
    imp = db.session.scalar(select(BankResultImport))
    assert (imp.paid_count, imp.failed_count) == (2, 2)
    assert imp.paid_fen + imp.failed_fen == expected_total
    db.session.expire_all()
    failed_ids = {p.household_id for p in payments if p.id in failed}
    states = {c.id: db.session.get(Household, c.id).state for c in paid_cases}
    assert {i for i, s in states.items() if s == "payment_failed"} == failed_ids
    assert {i for i, s in states.items() if s == "paid"} == {c.id for c in paid_cases} - failed_ids

    # 7. the clerk asks for the corrected accounts; a finance user who did not ask approves
    log_in(client, clerk)
    new_accounts = {}
    for n, case_id in enumerate(sorted(failed_ids)):
        new_accounts[case_id] = luhn_account(900_000 + n, prefix="622848")
        hh = db.session.get(Household, case_id)
        response = post(f"/payouts/cases/{case_id}/correction", {
            "bank_name": "中国农业银行", "bank_account": new_accounts[case_id],
            "account_holder": hh.head_name, "reason": "银行退票：账户已销户，户主提供新卡"})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    log_in(client, finance1)
    for corr in db.session.scalars(select(AccountCorrection)):
        assert post(f"/payouts/corrections/{corr.id}/approve", {"note": "已核对"}
                    ).status_code == 302
    db.session.expire_all()
    for case_id, account in new_accounts.items():
        assert db.session.get(Household, case_id).bank_account == account

    # 8. the re-pay batch pays exactly those two, to the corrected accounts
    assert post("/payouts/new", {"kind": "equipment", "township_id": 0, "season": "",
                                 "repay": "y", "idempotency_key": "walkthrough-repay"}
                ).status_code == 302
    repay = db.session.scalar(select(PayoutBatch).where(PayoutBatch.is_repay.is_(True)))
    repaid = list(db.session.scalars(select(Payment).where(Payment.batch_id == repay.id)))
    assert {p.household_id for p in repaid} == failed_ids
    assert {p.repays_id for p in repaid} == set(failed)
    assert {p.household_id: p.bank_account for p in repaid} == new_accounts
    assert repay.total_fen == sum(frozen[i] for i in failed_ids)
    log_in(client, finance2)
    assert post(f"/payouts/batches/{repay.id}/approve").status_code == 302
    head, _ = _bank_csv(client.get(f"/payouts/batches/{repay.id}/bank.csv").data)
    assert head["付款总金额（元）"] == f"{from_fen(repay.total_fen)}"
    assert _upload(post, f"/payouts/batches/{repay.id}/results", result_csv(repaid),
                   "repay-results.csv").status_code == 302
    db.session.expire_all()
    assert [db.session.get(Household, c.id).state for c in paid_cases] == ["paid"] * 4
    live = db.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.status == "paid"))
    assert live == 4  # each household paid exactly once
    paid_total = db.session.scalar(select(func.sum(Payment.amount_fen)).where(
        Payment.status == "paid"))
    assert paid_total == expected_total

    # 9. every step is in the audit log
    actions = set(db.session.scalars(select(AuditEvent.action)))
    for action in ("household.publicize", "household.object", "household.uphold",
                   "household.confirm", "household.roster", "household.pay",
                   "household.payment_fail", "household.repay"):
        assert action in actions, action
    audited = " ".join(sorted(actions))
    for word in ("notice", "batch", "bank", "result", "correction"):
        assert word in audited, (word, audited)


def page_default_start(page) -> str:
    """The start date the publish form proposes (today in Beijing)."""
    found = re.search(r'name="starts_on"[^>]*value="([0-9-]+)"', page.get_data(as_text=True))
    assert found, "the form proposes a start date"
    return found.group(1)
