"""Recovery (追回) of the equipment subsidy: when a follow-up finding opens one (rebound or
device removed, within N seasons of payment, only where the policy says so), receipts (partial,
never more than outstanding), the waiver's maker–checker, scope, totals, the ledger."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heating.audit.models import AuditEvent
from heating.core.i18n import LOCAL_TZ
from heating.extensions import db
from heating.inspections import followups
from heating.payouts import recoveries
from heating.payouts.demo import clock_at
from heating.payouts.recoveries import IllegalMove, next_state
from heating.payouts.recovery_models import Recovery
from heating.payouts.services import PayoutError
from heating.subsidies.seasons import recovery_window
from tests.factories import AreaFactory
from tests.fixtures import en, log_in, make_user
from tests.payouts.recovery_helpers import (
    paid_cases,
    people,
    recoveries_of,
    set_recovery,
    visit,
)

PAID_ON = date(2026, 1, 10)


# --- pure rules -------------------------------------------------------------------------------

@pytest.mark.parametrize("paid_on,n,first,last", [
    (date(2025, 12, 20), 3, "2025-2026", date(2028, 3, 15)),  # paid during a season: it counts
    (date(2026, 3, 15), 1, "2025-2026", date(2026, 3, 15)),  # the season's last day
    (date(2026, 3, 16), 1, "2026-2027", date(2027, 3, 15)),  # between seasons: the next one
    (date(2026, 11, 15), 2, "2026-2027", date(2028, 3, 15)),
])
def test_the_recovery_window(paid_on, n, first, last):
    assert recovery_window(paid_on, n) == (first, last)


def test_the_window_follows_the_policy_season_dates():
    assert recovery_window(date(2026, 4, 1), 1, "10-01", "04-30") == ("2025-2026",
                                                                    date(2026, 4, 30))
    assert recovery_window(date(2026, 6, 1), 1, "01-01", "03-31") == ("2027-2028",
                                                                    date(2027, 3, 31))
    with pytest.raises(ValueError):
        recovery_window(date(2026, 1, 1), 0)


def test_the_state_table():
    amounts = {"amount_fen": 1000}
    assert next_state("open", "receive", recovered_fen=400, **amounts) == "partially_recovered"
    assert next_state("open", "receive", recovered_fen=1000, **amounts) == "recovered"
    assert next_state("partially_recovered", "receive", recovered_fen=1000,
                      **amounts) == "recovered"
    assert next_state("partially_recovered", "request_waiver", recovered_fen=400,
                      **amounts) == "waive_requested"
    assert next_state("waive_requested", "reject_waiver", recovered_fen=400,
                      **amounts) == "partially_recovered"
    assert next_state("waive_requested", "reject_waiver", recovered_fen=0, **amounts) == "open"
    assert next_state("waive_requested", "approve_waiver", recovered_fen=0,
                      **amounts) == "waived"
    for state, action in (("recovered", "receive"), ("waived", "request_waiver"),
                          ("waive_requested", "receive"), ("open", "approve_waiver")):
        with pytest.raises(IllegalMove):
            next_state(state, action, recovered_fen=0, **amounts)
    with pytest.raises(IllegalMove):  # a receipt never leaves it open
        next_state("open", "receive", recovered_fen=0, **amounts)


# --- opening ----------------------------------------------------------------------------------

@pytest.fixture
def p(world):
    found = people(world)
    set_recovery(world.county, found.county, 1)  # paid 2026-01-10: window ends 2026-03-15
    return found


def test_a_rebound_within_the_period_opens_a_frozen_audited_recovery(world, p):
    case, = paid_cases(world, p, [(world.village_a1, 680_050)], PAID_ON)
    visit(case, p.inspector, "rebound", date(2026, 3, 15))
    rec, = recoveries_of(case)
    assert (rec.state, rec.amount_fen, rec.recovered_fen) == ("open", 680_050, 0)
    assert rec.payment.kind == "equipment" and rec.paid_on == PAID_ON
    assert rec.window_ends == date(2026, 3, 15)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "recovery.opened"))
    assert audit.object_id == str(rec.id) or int(audit.object_id) == rec.id
    assert audit.actor_id == p.inspector.id
    # the amount is frozen: a later change to the payment row does not move it
    rec.payment.amount_fen = 1
    db.session.commit()
    assert db.session.get(Recovery, rec.id).amount_fen == 680_050


def test_device_removed_opens_one_too_but_other_results_do_not(world, p):
    removed, empty, fine = paid_cases(world, p, [(world.village_a1, 500_000)] * 3, PAID_ON)
    visit(removed, p.county, "device_removed", date(2026, 2, 1), note="热泵已拆除")
    visit(empty, p.inspector, "house_empty", date(2026, 2, 1), note="无人居住")
    visit(fine, p.inspector, "ok", date(2026, 2, 1))
    assert [r.state for r in recoveries_of(removed)] == ["open"]
    assert recoveries_of(empty) == [] and recoveries_of(fine) == []


def test_no_recovery_after_the_period_or_before_the_payment(world, p):
    late, = paid_cases(world, p, [(world.village_a1, 500_000)], PAID_ON)
    visit(late, p.inspector, "rebound", date(2026, 3, 16))  # one day after season 1 ended
    assert recoveries_of(late) == []
    early, = paid_cases(world, p, [(world.village_a2, 500_000)], PAID_ON)
    visit(early, p.inspector, "rebound", date(2026, 1, 9))  # before the money arrived
    assert recoveries_of(early) == []


def test_no_recovery_when_the_policy_says_nothing(world, p):
    set_recovery(world.county, p.county, None)
    case, = paid_cases(world, p, [(world.village_a1, 500_000)], PAID_ON)
    visit(case, p.inspector, "rebound", date(2026, 2, 1))
    assert recoveries_of(case) == []


def test_one_recovery_per_payment_and_one_worked_per_case(world, p):
    case, = paid_cases(world, p, [(world.village_a1, 500_000)], PAID_ON)
    visit(case, p.inspector, "rebound", date(2026, 2, 1))
    visit(case, p.inspector, "ok", date(2026, 2, 10))
    visit(case, p.inspector, "device_removed", date(2026, 3, 1), note="拆除")
    rec, = recoveries_of(case)
    # the database refuses a second recovery being worked for the case
    db.session.add(Recovery(household_id=case.id, payment_id=rec.payment_id + 999,
                            follow_up_id=rec.follow_up_id, policy_id=rec.policy_id,
                            state="open", amount_fen=1, recovered_fen=0, waived_fen=0,
                            paid_on=PAID_ON, window_ends=PAID_ON, opened_by_id=p.county.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- receipts ---------------------------------------------------------------------------------

def _open(world, p, fen=500_000):
    case, = paid_cases(world, p, [(world.village_a1, fen)], PAID_ON)
    visit(case, p.inspector, "rebound", date(2026, 2, 1))
    return recoveries_of(case)[0]


def test_partial_receipts_add_up_until_recovered(world, p):
    rec = _open(world, p)
    recoveries.receive(rec, p.maker, received_on=date(2026, 3, 1), amount=Decimal("1500.00"))
    db.session.commit()
    assert (rec.state, rec.recovered_fen, rec.outstanding_fen) == (
        "partially_recovered", 150_000, 350_000)
    recoveries.receive(rec, p.checker, received_on=date(2026, 4, 1), amount=Decimal("3499.99"),
                       reference="SJ-0002")
    db.session.commit()
    assert (rec.state, rec.outstanding_fen) == ("partially_recovered", 1)
    recoveries.receive(rec, p.maker, received_on=date(2026, 4, 2), amount=Decimal("0.01"))
    db.session.commit()
    assert (rec.state, rec.recovered_fen, rec.outstanding_fen) == ("recovered", 500_000, 0)
    assert rec.closed_at is not None and len(rec.receipts) == 3
    assert db.session.query(AuditEvent).filter_by(action="recovery.received").count() == 3
    with pytest.raises(PayoutError):
        recoveries.receive(rec, p.maker, received_on=date(2026, 4, 3), amount=Decimal("1"))


def test_more_than_outstanding_is_refused_and_nothing_changes(world, p):
    rec = _open(world, p)
    recoveries.receive(rec, p.maker, received_on=date(2026, 3, 1), amount=Decimal("4000"))
    db.session.commit()
    with pytest.raises(PayoutError) as err:
        recoveries.receive(rec, p.maker, received_on=date(2026, 3, 2),
                           amount=Decimal("1000.01"))
    assert en(err.value.message) == ("1,000.01 yuan is more than the 1,000.00 yuan still "
                                     "outstanding. Nothing was recorded.")
    db.session.rollback()
    assert (rec.recovered_fen, len(rec.receipts)) == (400_000, 1)
    for bad in (Decimal("0"), Decimal("-5"), Decimal("1.001"), None):
        with pytest.raises(PayoutError):
            recoveries.receive(rec, p.maker, received_on=date(2026, 3, 2), amount=bad)
        db.session.rollback()
    with pytest.raises(PayoutError):  # before the payment
        recoveries.receive(rec, p.maker, received_on=date(2025, 12, 1), amount=Decimal("1"))
    db.session.rollback()
    with pytest.raises(PayoutError):  # county staff read recoveries, finance records them
        recoveries.receive(rec, p.county, received_on=date(2026, 3, 2), amount=Decimal("1"))
    db.session.rollback()
    assert db.session.get(Recovery, rec.id).recovered_fen == 400_000


# --- waiver -----------------------------------------------------------------------------------

def test_a_waiver_needs_a_second_person(world, p):
    rec = _open(world, p)
    recoveries.receive(rec, p.maker, received_on=date(2026, 3, 1), amount=Decimal("1000"))
    recoveries.request_waiver(rec, p.maker, "户主已故，无可追回财产")
    db.session.commit()
    assert rec.state == "waive_requested"
    with pytest.raises(PayoutError):  # no receipt while the waiver waits
        recoveries.receive(rec, p.checker, received_on=date(2026, 3, 2), amount=Decimal("1"))
    db.session.rollback()
    with pytest.raises(PayoutError) as err:
        recoveries.decide_waiver(rec, p.maker, approve=True)
    assert "another finance or county user" in en(err.value.message)
    db.session.rollback()
    # the database holds the line too
    rec.state, rec.waiver_decided_by_id = "waived", p.maker.id
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    recoveries.decide_waiver(rec, p.checker, approve=False, note="请先联系继承人")
    db.session.commit()
    assert (rec.state, rec.waiver_requested_by_id) == ("partially_recovered", None)
    recoveries.request_waiver(rec, p.maker, "继承人已放弃继承，经县财政局研究同意")
    recoveries.decide_waiver(rec, p.county, approve=True)
    db.session.commit()
    assert (rec.state, rec.waived_fen, rec.outstanding_fen) == ("waived", 400_000, 0)
    actions = [a for a, in db.session.execute(select(AuditEvent.action).where(
        AuditEvent.action.like("recovery.%")).order_by(AuditEvent.id))]
    assert actions == ["recovery.opened", "recovery.received", "recovery.waiver_requested",
                       "recovery.waiver_rejected", "recovery.waiver_requested",
                       "recovery.waived"]


def test_waiver_over_http_requester_gets_403(app, client, post, world, p):
    rec = _open(world, p)
    log_in(client, p.maker)
    assert post(f"/payouts/recoveries/{rec.id}/waiver",
                {"reason": "户主已故"}).status_code == 302
    response = post(f"/payouts/recoveries/{rec.id}/waiver/approve")
    assert response.status_code == 403
    assert db.session.get(Recovery, rec.id).state == "waive_requested"
    log_in(client, p.checker)
    assert post(f"/payouts/recoveries/{rec.id}/waiver/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(Recovery, rec.id).state == "waived"


# --- screens, scope, totals, ledger -----------------------------------------------------------

def test_receipt_form_bad_input_says_why_and_changes_nothing(app, client, post, world, p):
    rec = _open(world, p)
    log_in(client, p.maker, lang="zh_Hans_CN")
    url = f"/payouts/recoveries/{rec.id}/receipts"
    for amount, text in (("abc", "请输入以元为单位"), ("6000", "仍未追回"), ("", "请输入追回金额")):
        response = post(url, {"received_on": "2026-03-01", "amount": amount})
        assert response.status_code == 200, amount
        assert text in response.get_data(as_text=True), amount
    response = post(url, {"received_on": "not a date", "amount": "10"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Recovery, rec.id).recovered_fen == 0
    response = post(url, {"received_on": "2026-03-01", "amount": "１,０００.５０元"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Recovery, rec.id).recovered_fen == 100_050


def test_list_and_page_are_scoped(app, client, world, p):
    rec = _open(world, p)
    elsewhere = make_user("finance", _other_county(), username="rc_far")
    log_in(client, elsewhere)
    assert client.get(f"/payouts/recoveries/{rec.id}").status_code == 404
    assert rec.household.head_name not in client.get("/payouts/recoveries").get_data(
        as_text=True)
    log_in(client, p.maker)
    page = client.get(f"/payouts/recoveries/{rec.id}")
    assert page.status_code == 200 and "5,000.00" in page.get_data(as_text=True)
    listing = client.get("/payouts/recoveries").get_data(as_text=True)
    assert rec.household.head_name in listing
    case_page = client.get(f"/households/{rec.household_id}").get_data(as_text=True)
    assert 'id="recoveries"' in case_page


def _other_county():
    area = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    return area


def test_open_recoveries_come_first(world, p):
    a, b = paid_cases(world, p, [(world.village_a1, 100_000), (world.village_a2, 200_000)],
                      PAID_ON)
    visit(a, p.inspector, "rebound", date(2026, 2, 1))
    visit(b, p.inspector, "rebound", date(2026, 2, 2))
    first = recoveries_of(a)[0]
    recoveries.receive(first, p.maker, received_on=date(2026, 3, 1), amount=Decimal("1000"))
    db.session.commit()
    rows, total = recoveries.recoveries_for(p.maker)
    assert total == 2 and [r.household_id for r in rows] == [b.id, a.id]


def test_recovery_totals_per_township(world, p):
    a, b, c = paid_cases(world, p, [(world.village_a1, 100_000), (world.village_a2, 200_000),
                                    (world.village_b1, 300_000)], PAID_ON)
    for hh in (a, b, c):
        visit(hh, p.inspector, "rebound", date(2026, 2, 1))
    ra, rb, rc = (recoveries_of(hh)[0] for hh in (a, b, c))
    recoveries.receive(ra, p.maker, received_on=date(2026, 3, 1), amount=Decimal("1000"))
    recoveries.receive(rb, p.maker, received_on=date(2026, 3, 1), amount=Decimal("500"))
    recoveries.request_waiver(rb, p.maker, "困难户")
    recoveries.decide_waiver(rb, p.checker, approve=True)
    db.session.commit()
    totals = recoveries.recovery_totals(p.county)
    assert {k: totals[k] for k in ("count", "open_count", "opened_fen", "recovered_fen",
                                   "waived_fen", "outstanding_fen")} == {
        "count": 3, "open_count": 1, "opened_fen": 600_000, "recovered_fen": 150_000,
        "waived_fen": 150_000, "outstanding_fen": 300_000}
    town_a, town_b = totals["townships"][world.town_a.id], totals["townships"][world.town_b.id]
    assert (town_a["opened_fen"], town_a["recovered_fen"], town_a["outstanding_fen"]) == (
        300_000, 150_000, 0)
    assert (town_b["opened_fen"], town_b["outstanding_fen"]) == (300_000, 300_000)
    reviewer_b = make_user("reviewer", world.town_b, username="rc_rev_b")
    assert recoveries.recovery_totals(reviewer_b)["opened_fen"] == 300_000
    assert recoveries.recovery_totals(p.county, programme_year=2025)["count"] == 0


def test_ledger_export_has_recovered_and_outstanding(app, client, post, world, p):
    rec = _open(world, p)
    recoveries.receive(rec, p.maker, received_on=date(2026, 3, 1), amount=Decimal("1234.56"))
    db.session.commit()
    log_in(client, p.county)
    response = client.get("/exports/households.csv")
    assert response.status_code == 200, response.status_code
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    mine = next(r for r in rows if r["案件编号"] == str(rec.household_id))
    assert (mine["已追回金额(元)"], mine["待追回金额(元)"]) == ("1234.56", "3765.44")
    others = [r for r in rows if r["案件编号"] != str(rec.household_id)]
    assert all(r["已追回金额(元)"] == "" for r in others)


def test_the_recovery_shares_the_follow_up_transaction(world, p):
    case, = paid_cases(world, p, [(world.village_a1, 500_000)], PAID_ON)
    followups.record_follow_up(case, p.inspector, result="rebound", visited_on=date(2026, 2, 1),
                               note="复烧")
    assert len(recoveries_of(case)) == 1  # flushed with the visit …
    db.session.rollback()
    assert recoveries_of(case) == []  # … and gone with it


def test_recovery_totals_as_of_a_past_day(world, p):
    """As of the end of a Beijing day, from what was recorded by then (recorded_at)."""
    set_recovery(world.county, p.county, 3)
    a, b = paid_cases(world, p, [(world.village_a1, 100_000), (world.village_a2, 200_000)],
                      PAID_ON)
    with clock_at(datetime(2026, 2, 1, 10, tzinfo=LOCAL_TZ)):
        visit(a, p.inspector, "rebound", date(2026, 2, 1))
    ra = recoveries_of(a)[0]
    with clock_at(datetime(2026, 3, 1, 23, 30, tzinfo=LOCAL_TZ)):  # 15:30 UTC the same day
        recoveries.receive(ra, p.maker, received_on=date(2026, 3, 1), amount=Decimal("400"))
        db.session.commit()
    with clock_at(datetime(2026, 4, 1, 10, tzinfo=LOCAL_TZ)):
        visit(b, p.inspector, "rebound", date(2026, 4, 1))
        rb = recoveries_of(b)[0]
        recoveries.request_waiver(rb, p.maker, "困难户")
        recoveries.decide_waiver(rb, p.checker, approve=True)
        recoveries.receive(ra, p.maker, received_on=date(2026, 4, 1), amount=Decimal("600"))
        db.session.commit()

    def figures(day=None):
        t = recoveries.recovery_totals(p.county, as_of=day)
        return (t["count"], t["open_count"], t["opened_fen"], t["recovered_fen"],
                t["waived_fen"], t["outstanding_fen"])

    assert figures(date(2026, 1, 31)) == (0, 0, 0, 0, 0, 0)
    assert figures(date(2026, 2, 28)) == (1, 1, 100_000, 0, 0, 100_000)
    assert figures(date(2026, 3, 1)) == (1, 1, 100_000, 40_000, 0, 60_000)
    assert figures(date(2026, 3, 31)) == (1, 1, 100_000, 40_000, 0, 60_000)
    assert figures(date(2026, 4, 1)) == figures() == (2, 0, 300_000, 100_000, 200_000, 0)
