"""Accountability to the fen (issue 11, item 7, first half): on the 20,000-household demo with
its money story, the dashboard's money, the ledger export's totals and the paid lines of the
bank's stored result files agree, per township and for the county, in every programme year.

The bank side is read from the stored result files themselves (the bytes the bank sent,
checked against their SHA-256) with the stdlib csv module, not from the payments table the
import wrote, so a payment marked paid without a bank line, or a line applied twice, shows."""
from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

from sqlalchemy import select

from heating.auth.models import User
from heating.core.storage import read_checked
from heating.demo import build_demo
from heating.extensions import db
from heating.households.models import Household
from heating.payouts import demo as money_demo
from heating.payouts.models import BankResultImport, Payment
from heating.payouts.reconcile import PAID
from heating.reports import dashboard
from tests.fixtures import log_in

HOUSEHOLDS = 20_000


def _fen(text: str) -> int:
    return int((Decimal(text.strip() or "0") * 100).to_integral_exact())


def _bank_paid() -> Counter:
    """(programme year, township id) → fen of the equipment lines the bank reported paid."""
    lines: dict[str, int] = {}
    for imp in db.session.scalars(select(BankResultImport).order_by(BankResultImport.id)):
        data = read_checked(imp.path, imp.sha256, f"bank results {imp.id}")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        header = rows[0]
        ref, amount, status = (header.index(h) for h in ("付款参考号", "金额", "状态"))
        for row in rows[1:]:
            if row[status].strip().lower() in PAID:
                assert row[ref] not in lines, f"{row[ref]} reported paid twice"
                lines[row[ref]] = _fen(row[amount])
    assert lines, "the demo's bank paid nothing"
    out: Counter = Counter()
    found = db.session.execute(
        select(Payment.reference, Payment.kind, Payment.status, Payment.amount_fen,
               Household.programme_year, Household.township_id)
        .join(Household, Household.id == Payment.household_id)
        .where(Payment.reference.in_(list(lines)))).all()
    assert len(found) == len(lines)
    for reference, kind, status, fen, year, township in found:
        assert status == "paid" and fen == lines[reference], reference
        if kind == "equipment":
            out[year, township] += lines[reference]
    return out


def _ledger(client) -> tuple[Counter, Counter]:
    """(year, township name) → fen paid and fen recovered, from the county's ledger CSV."""
    response = client.get("/exports/households.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert len(rows) == HOUSEHOLDS
    paid: Counter = Counter()
    recovered: Counter = Counter()
    for row in rows:
        key = (int(row["年度"]), row["乡镇"])
        paid[key] += _fen(row["已发放设备补贴(元)"])
        recovered[key] += _fen(row["已追回金额(元)"])
    return paid, recovered


def test_dashboard_ledger_and_bank_lines_agree_to_the_fen(app, client):
    build_demo(HOUSEHOLDS, seed=3, echo=lambda _: None)
    money_demo.extend_demo(seed=3, echo=lambda _: None)
    db.session.commit()
    county = db.session.scalar(select(User).where(User.username == "county"))
    log_in(client, county)
    bank = _bank_paid()
    ledger_paid, ledger_recovered = _ledger(client)
    county_paid = 0
    for year in dashboard.years_for(county):
        board = dashboard.build(county, year)
        for row in board.rows:
            key = (year, row.name)
            assert row.money["paid"] == ledger_paid[key] == bank[year, row.area_id], key
            assert row.recovered == ledger_recovered[key], key
            assert row.net == row.money["paid"] - row.recovered
        assert board.total.money["paid"] == sum(r.money["paid"] for r in board.rows)
        assert board.total.money["paid"] == sum(v for (y, _), v in bank.items() if y == year)
        assert board.total.recovered == sum(v for (y, _), v in ledger_recovered.items()
                                            if y == year)
        county_paid += board.total.money["paid"]
    assert county_paid == sum(bank.values()) == sum(ledger_paid.values()) > 0
