"""The payout screens end to end: preview and create (double submit), maker–checker, bank
file downloads, result upload with its report, roster PDF, corrections and the case panel."""
from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.households.models import Household
from heating.payouts.models import AccountCorrection, Payment, PayoutBatch
from tests.fixtures import log_in, make_user, says
from tests.payouts.helpers import batch, confirmed_case, live_payments, result_csv


def _setup(world):
    clerk = make_user("clerk", world.village_a1)
    maker = make_user("finance", world.county, username="maker")
    checker = make_user("finance", world.county, username="checker")
    cases = [confirmed_case(world.village_a1, clerk, 680000),
             confirmed_case(world.village_b1, clerk, 270050)]
    return clerk, maker, checker, cases


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page).group(1)


def _create(client, post) -> PayoutBatch:
    page = client.get("/payouts/new?kind=equipment").get_data(as_text=True)
    assert "9,500.50" in page  # the preview total
    key = _key(page)
    data = {"kind": "equipment", "township_id": "0", "season": "", "idempotency_key": key}
    first = post("/payouts/new", data)
    assert first.status_code == 302
    flashed = client.get(first.location).get_data(as_text=True)
    assert "2 payments, 9,500.50 yuan" in flashed  # grouped like every amount on screen
    second = post("/payouts/new", data)  # the double submit
    assert second.status_code == 302 and second.location == first.location
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 1
    return db.session.scalar(select(PayoutBatch))


def test_create_approve_export_and_results_over_http(app, client, post, world):
    clerk, maker, checker, cases = _setup(world)
    log_in(client, maker)
    made = _create(client, post)
    assert made.payment_count == 2 and made.total_fen == 950050
    # the maker cannot approve: a clear 403
    refused = post(f"/payouts/batches/{made.id}/approve")
    assert refused.status_code == 403
    assert says(refused, "You created this batch, so you cannot approve it. Another finance "
                         "colleague must check and approve it.")
    assert db.session.get(PayoutBatch, made.id).state == "draft"
    log_in(client, checker)
    page = client.get(f"/payouts/batches/{made.id}").get_data(as_text=True)
    hh = db.session.get(Household, cases[0].id)
    assert hh.bank_account in page  # finance sees full accounts on payout screens
    assert hh.id_number not in page
    assert post(f"/payouts/batches/{made.id}/approve").status_code == 302
    assert db.session.get(PayoutBatch, made.id).state == "approved"
    first = client.get(f"/payouts/batches/{made.id}/bank.csv")
    assert first.status_code == 200 and first.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in first.headers["Content-Disposition"]
    assert first.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    again = client.get(f"/payouts/batches/{made.id}/bank.csv")
    assert again.data == first.data
    xlsx = client.get(f"/payouts/batches/{made.id}/bank.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    assert db.session.get(PayoutBatch, made.id).state == "exported"
    # once the file is frozen the payments read "sent to bank" (stored as pending)
    page = client.get(f"/payouts/batches/{made.id}?status=exported")
    assert page.status_code == 200 and says(page, "Sent to bank")
    assert made.payments[0].reference in page.get_data(as_text=True)
    pending = client.get(f"/payouts/batches/{made.id}?status=pending")
    assert made.payments[0].reference not in pending.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payout.bank_file_download")) == 3
    roster = client.get(f"/payouts/batches/{made.id}/roster/{world.town_a.id}.pdf")
    assert roster.status_code == 200 and roster.data.startswith(b"%PDF")
    assert client.get(f"/payouts/batches/{made.id}/roster/{world.county.id}.pdf"
                      ).status_code == 404
    # a result file with a wrong amount: refused whole, with the report
    pays = live_payments(made)
    bad = result_csv(pays, amount={pays[0].id: "1.00"})
    r = post(f"/payouts/batches/{made.id}/results",
             {"file": (io.BytesIO(bad), "bad.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200 and says(r, "Amount %(file)s differs from the payment's "
                                            "%(ours)s.", file="1.00", ours="6,800.00")
    assert {p.shown_status for p in db.session.scalars(select(Payment))} == {"exported"}
    good = result_csv(pays, failed={pays[0].id: "户名不符"})
    r = post(f"/payouts/batches/{made.id}/results",
             {"file": (io.BytesIO(good), "good.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302
    assert db.session.get(PayoutBatch, made.id).state == "reconciled"
    r = post(f"/payouts/batches/{made.id}/results",
             {"file": (io.BytesIO(good), "copy.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200 and "good.csv" in r.get_data(as_text=True)
    failed_case = db.session.get(Household, pays[0].household_id)
    assert failed_case.state == "payment_failed"
    # the case panel shows the failure and the way to request a correction
    log_in(client, clerk)
    panel = client.get(f"/households/{failed_case.id}").get_data(as_text=True)
    assert "户名不符" in panel and f"/payouts/cases/{failed_case.id}/correction" in panel


def test_county_user_sees_masked_accounts(app, client, post, world):
    clerk, maker, checker, cases = _setup(world)
    log_in(client, maker)
    made = _create(client, post)
    log_in(client, make_user("county", world.county))
    page = client.get(f"/payouts/batches/{made.id}").get_data(as_text=True)
    hh = db.session.get(Household, cases[0].id)
    assert hh.bank_account not in page and hh.bank_masked in page
    assert client.get(f"/payouts/batches/{made.id}/bank.csv").status_code == 403


def test_void_and_drop_over_http(app, client, post, world):
    clerk, maker, checker, cases = _setup(world)
    log_in(client, maker)
    made = _create(client, post)
    pay = live_payments(made)[0]
    assert post(f"/payouts/payments/{pay.id}/void", {"reason": ""}).status_code == 302
    assert db.session.get(Payment, pay.id).status == "pending"  # no reason: nothing changed
    post(f"/payouts/payments/{pay.id}/void", {"reason": "户主已故"})
    assert db.session.get(Payment, pay.id).status == "voided"
    assert db.session.get(PayoutBatch, made.id).payment_count == 1
    post(f"/payouts/batches/{made.id}/drop", {"reason": "重新造册"})
    assert db.session.get(PayoutBatch, made.id).state == "dropped"
    assert {db.session.get(Household, c.id).state for c in cases} == {"confirmed"}


def test_correction_request_and_four_eyes_over_http(app, client, post, world):
    clerk, maker, checker, cases = _setup(world)
    log_in(client, maker)
    made = _create(client, post)
    log_in(client, checker)
    post(f"/payouts/batches/{made.id}/approve")
    client.get(f"/payouts/batches/{made.id}/bank.csv")
    pays = live_payments(made)
    post(f"/payouts/batches/{made.id}/results",
         {"file": (io.BytesIO(result_csv(pays, failed={pays[0].id: "账户已销户"})), "r.csv")},
         content_type="multipart/form-data")
    hh = db.session.get(Household, pays[0].household_id)
    assert hh.state == "payment_failed"
    log_in(client, clerk)
    url = f"/payouts/cases/{hh.id}/correction"
    form = client.get(url)
    assert form.status_code == 200
    amount = {680000: "6,800.00", 270050: "2,700.50"}[pays[0].amount_fen]
    assert f"of {amount} yuan" in form.get_data(as_text=True)
    bad_luhn = "6222020000000000001"
    r = post(url, {"bank_name": "邮储银行", "bank_account": bad_luhn,
                   "account_holder": hh.head_name, "reason": "原账户已销户"})
    assert r.status_code == 200 and says(r, "The account number fails the card check digit. "
                                            "Check it against the card; if it is right (some "
                                            "social-security cards are), tick the box to "
                                            "confirm.")
    r = post(url, {"bank_name": "邮储银行", "bank_account": bad_luhn, "luhn_confirmed": "y",
                   "account_holder": hh.head_name, "reason": "原账户已销户"})
    assert r.status_code == 302
    corr = db.session.scalar(select(AccountCorrection))
    assert corr.state == "pending" and corr.luhn_confirmed
    log_in(client, checker)
    queue = client.get("/payouts/corrections").get_data(as_text=True)
    assert "原账户已销户" in queue
    assert post(f"/payouts/corrections/{corr.id}/approve", {"note": "核实"}).status_code == 302
    assert db.session.get(Household, hh.id).bank_account == bad_luhn
    # a re-pay batch over http pays exactly that case
    page = client.get("/payouts/new?kind=equipment&repay=y").get_data(as_text=True)
    r = post("/payouts/new", {"kind": "equipment", "township_id": "0", "season": "",
                              "repay": "y", "idempotency_key": _key(page)})
    assert r.status_code == 302
    repay = db.session.scalar(select(PayoutBatch).where(PayoutBatch.is_repay.is_(True)))
    assert [(p.household_id, p.repays_id) for p in live_payments(repay)] == [
        (hh.id, pays[0].id)]


def test_requester_cannot_decide(app, client, post, world):
    clerk, maker, checker, cases = _setup(world)
    log_in(client, maker)
    made = _create(client, post)
    pay = live_payments(made)[0]
    pay.status, pay.failure_reason = "failed", "x"
    db.session.get(Household, pay.household_id).state = "payment_failed"
    db.session.commit()
    from heating.payouts import corrections
    hh = db.session.get(Household, pay.household_id)
    corr = corrections.request_correction(
        hh, {"bank_name": "邮储银行", "bank_account": "6221880000000000005",
             "account_holder": hh.head_name, "reason": "换卡"}, maker)
    db.session.commit()
    r = post(f"/payouts/corrections/{corr.id}/approve", {"note": ""})
    assert r.status_code == 403
    assert db.session.get(AccountCorrection, corr.id).state == "pending"


def _reconciled_with_a_failure(world):
    """A batch whose bank results came back: one payment paid, one failed."""
    clerk, maker, checker, cases = _setup(world)
    made = batch(maker)
    first, second = live_payments(made)
    first.status, first.failure_reason = "failed", "户名不符"
    second.status, second.paid_on = "paid", date(2026, 3, 2)
    made.state = "reconciled"
    db.session.commit()
    return made, checker


def test_batch_page_calls_a_failed_payment_payment_failed_not_inspection_failed(
        app, client, world):
    made, checker = _reconciled_with_a_failure(world)
    log_in(client, checker, lang="zh_Hans_CN")
    page = client.get(f"/payouts/batches/{made.id}").get_data(as_text=True)
    assert "发放失败" in page and "户名不符" in page
    assert "不通过" not in page  # the inspection's word, not a payment's
    failed = db.session.scalar(
        select(Payment).where(Payment.batch_id == made.id, Payment.status == "failed"))
    panel = client.get(f"/households/{failed.household_id}").get_data(as_text=True)
    assert "户名不符" in panel and "不通过" not in panel  # the case page's payments panel
    log_in(client, checker)
    page = client.get(f"/payouts/batches/{made.id}").get_data(as_text=True)
    assert "Failed" in page


def test_batch_page_names_the_subsidy_in_the_reader_s_language(app, client, world):
    made, checker = _reconciled_with_a_failure(world)
    log_in(client, checker)
    page = client.get(f"/payouts/batches/{made.id}").get_data(as_text=True)
    assert "<dd>Equipment subsidy</dd>" in page and "设备购置补贴" not in page
    log_in(client, checker, lang="zh_Hans_CN")
    page = client.get(f"/payouts/batches/{made.id}").get_data(as_text=True)
    assert "<dd>设备补贴</dd>" in page  # as on the batch list and the subsidy pages
