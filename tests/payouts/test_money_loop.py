"""Bank file (frozen), bank results (all or nothing), account corrections (four eyes) and the
re-pay batch, at service level; totals agree to the fen."""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.households.models import Household
from heating.payouts import bankfiles, batches, corrections, reconcile
from heating.payouts.models import BankResultImport, Payment
from heating.payouts.services import PayoutError
from tests.factories import luhn_account
from tests.fixtures import en, make_user
from tests.payouts.helpers import batch, confirmed_case, live_payments, result_csv


@pytest.fixture
def people(world):
    return (make_user("clerk", world.village_a1), make_user("finance", world.county),
            make_user("finance", world.county), make_user("county", world.county))


@pytest.fixture
def approved(world, people):
    clerk, fin, checker, _ = people
    amounts = [680000, 270050, 1409_50, 1640902]
    cases = [confirmed_case(world.village_a1 if i % 2 else world.village_b1, clerk, fen)
             for i, fen in enumerate(amounts)]
    made = batch(fin)
    batches.approve(made, checker)
    db.session.commit()
    return made, cases


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_bank_file_layout_totals_and_frozen_bytes(app, world, people, approved):
    _, fin, checker, _ = people
    made, cases = approved
    with pytest.raises(PayoutError):  # the draft stage is over, but a county user cannot
        bankfiles.bank_file(made, "csv", people[3])
    db.session.rollback()
    data = bankfiles.bank_file(made, "csv", fin)
    db.session.commit()
    rows = _csv_rows(data)
    assert rows[1] == ["批次号", made.number]
    assert rows[3] == ["付款笔数", "4"]
    total = 680000 + 270050 + 140950 + 1640902
    assert rows[4] == ["付款总金额（元）", "27319.02"]
    assert rows[5] == ["金额大写", "人民币贰万柒仟叁佰壹拾玖元零贰分"]
    assert rows[bankfiles.TABLE_HEADER_ROW] == list(bankfiles.COLUMNS)
    table = rows[bankfiles.TABLE_HEADER_ROW + 1:]
    assert [r[0] for r in table] == ["1", "2", "3", "4"]
    by_ref = {p.reference: p for p in live_payments(made)}
    for r in table:
        p = by_ref[r[6]]
        hh = db.session.get(Household, p.household_id)
        assert r[2] == hh.id_number and r[4] == hh.bank_account  # full numbers for the bank
        assert r[5] == f"{p.amount_fen // 100}.{p.amount_fen % 100:02d}"
    assert sum(int(r[5].replace(".", "")) for r in table) == total == made.total_fen
    assert made.state == "exported" and made.export_total_fen == total
    assert {p.shown_status for p in made.payments} == {"exported"}
    assert {p.status for p in made.payments} == {"pending"}  # no per-payment write at the freeze
    assert hashlib.sha256(data).hexdigest() == made.csv_sha256
    # re-download: identical bytes, even after a case's account changed
    hh = db.session.get(Household, cases[0].id)
    hh.bank_account = luhn_account(999)
    db.session.commit()
    assert bankfiles.bank_file(made, "csv", checker) == data
    xlsx = bankfiles.bank_file(made, "xlsx", fin)
    assert bankfiles.bank_file(made, "xlsx", fin) == xlsx
    db.session.commit()
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_index(0).to_python()
    assert sheet[bankfiles.TABLE_HEADER_ROW + 1][2] == table[0][2]  # text, not 4.1e17
    assert isinstance(sheet[bankfiles.TABLE_HEADER_ROW + 1][4], str)
    downloads = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payout.bank_file_download"))
    assert downloads == 4
    # a tampered stored file is never served
    path = Path(app.config["STORAGE_DIR"]) / made.csv_path
    path.chmod(0o640)
    path.write_bytes(data + b"x")
    with pytest.raises(bankfiles.StorageError):
        bankfiles.bank_file(made, "csv", fin)


def test_formula_guard_in_bank_file():
    h = bankfiles.BankFileHeader("FF-1", "设备购置补贴", 1, 100, date(2026, 1, 1))
    data = bankfiles.render_csv(h, [("=HYPERLINK(1)", "11010519491231002X", "@bank", "6222020000000000001",
                                     100, "FF-1-00001")])
    assert "'=HYPERLINK(1)" in data.decode("utf-8-sig") and "'@bank" in data.decode("utf-8-sig")


def _exported(made, fin):
    bankfiles.bank_file(made, "csv", fin)
    db.session.commit()
    return live_payments(made)


@pytest.mark.parametrize("case", ["unknown", "amount", "status", "date", "duplicate"])
def test_result_file_rejections_change_nothing(world, people, approved, case):
    _, fin, _, _ = people
    made, _ = approved
    pays = _exported(made, fin)
    kw = {}
    if case == "unknown":
        kw["extra"] = [["FF-000000-2026-99999-00001", "1.00", "成功", "", "2026-03-02"]]
    elif case == "amount":
        kw["amount"] = {pays[1].id: "2700.51"}
    elif case == "status":
        kw["extra"] = [[pays[0].reference, "6800.00", "处理中", "", ""]]
        pays = pays[1:]
    elif case == "date":
        kw["paid_on"] = "2026-13-45"
    else:
        kw["extra"] = [[pays[0].reference, f"{pays[0].amount_fen / 100:.2f}", "成功", "",
                        "2026-03-02"]]
    report = reconcile.import_results(made, result_csv(pays, **kw), "r.csv", fin)
    assert not report.ok and report.problems
    db.session.rollback()
    assert {p.shown_status for p in db.session.scalars(select(Payment))} == {"exported"}
    assert db.session.scalar(select(func.count()).select_from(BankResultImport)) == 0
    assert {h.state for h in db.session.scalars(select(Household))} == {"rostered"}


def test_results_failures_correction_and_repay(world, people, approved):
    clerk, fin, checker, county = people
    made, cases = approved
    pays = _exported(made, fin)
    failed = {pays[1].id: "账户已销户", pays[2].id: "户名不符"}
    data = result_csv(pays, failed=failed)
    report = reconcile.import_results(made, data, "results.csv", fin)
    assert report.ok, report.problems
    db.session.commit()
    imp = report.imported
    assert (imp.paid_count, imp.failed_count) == (2, 2)
    assert imp.paid_fen + imp.failed_fen == made.total_fen == made.export_total_fen
    assert made.state == "reconciled"
    states = {p.household_id: db.session.get(Household, p.household_id).state for p in pays}
    assert sorted(states.values()) == ["paid", "paid", "payment_failed", "payment_failed"]
    assert db.session.get(Payment, pays[1].id).failure_reason == "账户已销户"
    # the same file again: already imported, nothing changes
    again = reconcile.import_results(made, data, "results-copy.csv", fin)
    assert again.already is not None and not again.ok
    # a different file touching a settled payment: rejected whole
    other = reconcile.import_results(made, result_csv(pays[:1], paid_on="2026-03-03"), "x.csv",
                                     fin)
    assert not other.ok and "already settled" in en(other.problems[0].message)
    db.session.rollback()
    # corrections: requested by the clerk, approved by someone else
    f1 = db.session.get(Household, pays[1].household_id)
    f2 = db.session.get(Household, pays[2].household_id)
    new1, new2 = luhn_account(501), luhn_account(502)
    with pytest.raises(PayoutError):  # the holder must be the head
        corrections.request_correction(f1, {"bank_name": "邮储银行", "bank_account": new1,
                                            "account_holder": "别人", "reason": "换卡"}, fin)
    c1 = corrections.request_correction(f1, {"bank_name": "邮储银行", "bank_account": new1,
                                             "account_holder": f1.head_name,
                                             "reason": "原账户已销户"}, fin)
    c2 = corrections.request_correction(f2, {"bank_name": "农商银行", "bank_account": new2,
                                             "account_holder": f2.head_name,
                                             "reason": "户名更正"}, fin)
    db.session.commit()
    with pytest.raises(PayoutError) as err:
        corrections.request_correction(f1, {"bank_name": "x", "bank_account": new1,
                                            "account_holder": f1.head_name, "reason": "r"}, fin)
    assert "already awaiting" in en(err.value.message)
    with pytest.raises(PayoutError) as err:
        corrections.approve_correction(c1, fin)
    assert "another finance or county" in en(err.value.message)
    db.session.rollback()
    # nothing to re-pay before approval
    with pytest.raises(PayoutError):
        batch(checker, repay=True)
    db.session.rollback()
    corrections.approve_correction(c1, county, "已核实")
    corrections.reject_correction(c2, checker, "账号仍有误")
    db.session.commit()
    assert db.session.get(Household, f1.id).bank_account == new1
    assert db.session.get(Household, f2.id).bank_account != new2
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                       "household.bank_corrected"))
    assert new1 not in (audit.before + audit.after) and new1[-4:] in audit.after
    repay = batch(checker, repay=True)
    rp = live_payments(repay)
    assert [(p.household_id, p.repays_id, p.amount_fen, p.bank_account) for p in rp] == [
        (f1.id, pays[1].id, pays[1].amount_fen, new1)]
    assert repay.is_repay and repay.total_fen == pays[1].amount_fen
    assert db.session.get(Household, f1.id).state == "rostered"
    assert db.session.get(Household, f2.id).state == "payment_failed"
    # the re-pay batch goes round the same loop
    batches.approve(repay, fin)
    bankfiles.bank_file(repay, "csv", fin)
    db.session.commit()
    done = reconcile.import_results(repay, result_csv(live_payments(repay)), "r2.csv", fin)
    assert done.ok
    db.session.commit()
    assert db.session.get(Household, f1.id).state == "paid" and repay.state == "reconciled"
    batches.close_batch(repay, fin)
    db.session.commit()
    assert repay.state == "closed"


def test_xlsx_result_file(world, people, approved):
    _, fin, _, _ = people
    made, _ = approved
    pays = _exported(made, fin)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["reference", "amount", "status", "reason", "paid date"])
    for i, p in enumerate(pays, start=1):
        sheet.write_row(i, 0, [p.reference, p.amount_fen / 100, "success", "", "2026-03-02"])
    book.close()
    report = reconcile.import_results(made, out.getvalue(), "r.xlsx", fin)
    assert report.ok, report.problems
    db.session.commit()
    assert report.imported.paid_fen == made.total_fen
