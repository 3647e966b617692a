"""Batch creation, idempotency, maker–checker, drop and void (service level)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from heating.audit.models import AuditEvent
from heating.auth import permissions
from heating.extensions import db
from heating.households.models import CaseEvent, Household
from heating.payouts import bankfiles, batches, reconcile, services
from heating.payouts.models import Payment, PayoutBatch, UsageImport, UsageRecord
from heating.payouts.services import PayoutError
from tests.fixtures import en, make_case, make_user
from tests.payouts.helpers import batch, confirmed_case, live_payments, policy, result_csv


@pytest.fixture
def people(world):
    clerk = make_user("clerk", world.village_a1)
    fin = make_user("finance", world.county, username="fin_maker")
    checker = make_user("finance", world.county, username="fin_checker")
    return clerk, fin, checker


def test_batch_pays_confirmed_cases_with_their_frozen_amounts(world, people):
    clerk, fin, _ = people
    a = confirmed_case(world.village_a1, clerk, 680000)
    b = confirmed_case(world.village_b1, clerk, 270050)
    waiting = make_case(world.village_a1, clerk, state="passed")  # not confirmed: left out
    made = batch(fin)
    assert made.state == "draft" and made.kind == "equipment"
    assert (made.payment_count, made.total_fen) == (2, 950050)
    assert made.number.startswith("FF-139901-")
    pays = live_payments(made)
    assert {p.household_id for p in pays} == {a.id, b.id}
    assert [p.seq for p in pays] == [1, 2]
    assert pays[0].reference == f"{made.number}-00001"
    by_case = {p.household_id: p for p in pays}
    assert by_case[a.id].amount_fen == 680000 and by_case[a.id].period == "equipment"
    assert by_case[a.id].payee_name == a.head_name
    assert by_case[a.id].bank_account == a.bank_account
    assert by_case[a.id].bank_hash == a.bank_hash
    db.session.expire_all()
    assert db.session.get(Household, a.id).state == "rostered"
    assert db.session.get(Household, waiting.id).state == "passed"
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.household_id == a.id,
                                                        CaseEvent.action == "roster")).all()
    assert len(events) == 1 and events[0].actor_id == fin.id
    assert events[0].from_state == "confirmed" and events[0].reason == made.number
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "household.roster",
                                                        AuditEvent.object_id == str(a.id))).all()
    assert len(audit) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payout.batch_created")) == 1


def test_township_limit_and_second_batch_finds_nothing(world, people):
    clerk, fin, _ = people
    a = confirmed_case(world.village_a1, clerk)
    b = confirmed_case(world.village_b1, clerk)
    first = batch(fin, township_id=world.town_a.id)
    assert [p.household_id for p in live_payments(first)] == [a.id]
    second = batch(fin)
    assert [p.household_id for p in live_payments(second)] == [b.id]
    with pytest.raises(PayoutError):
        batch(fin)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 2


def test_same_idempotency_key_returns_the_same_batch(world, people):
    clerk, fin, _ = people
    confirmed_case(world.village_a1, clerk)
    key = services.new_idempotency_key()
    first = batch(fin, idempotency_key=key)
    confirmed_case(world.village_a1, clerk)  # a new case does not make the resubmit differ
    again = batch(fin, idempotency_key=key)
    assert again.id == first.id and again.payment_count == 1
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 1


def test_scope_and_role(world, people):
    clerk, fin, _ = people
    confirmed_case(world.village_a1, clerk)
    county_user = make_user("county", world.county)
    with pytest.raises(PayoutError):
        batch(county_user)
    with pytest.raises(PayoutError):
        batch(fin, kind="running", season="2025-2027")
    with pytest.raises(PayoutError):
        batch(fin, idempotency_key="short")


def test_maker_checker(world, people):
    clerk, fin, checker = people
    confirmed_case(world.village_a1, clerk)
    made = batch(fin)
    with pytest.raises(PayoutError) as err:
        batches.approve(made, fin)
    assert "created this batch" in en(err.value.message)
    db.session.rollback()
    assert not permissions.may_approve_batch(fin, made)
    assert permissions.may_approve_batch(checker, made)
    batches.approve(made, checker)
    db.session.commit()
    assert made.state == "approved" and made.approved_by_id == checker.id


def test_database_refuses_self_approval(world, people):
    clerk, fin, _ = people
    confirmed_case(world.village_a1, clerk)
    made = batch(fin)
    with pytest.raises(IntegrityError):
        db.session.execute(PayoutBatch.__table__.update().where(PayoutBatch.id == made.id)
                           .values(approved_by_id=fin.id))
    db.session.rollback()


def test_drop_draft_returns_cases_to_confirmed(world, people):
    clerk, fin, checker = people
    a = confirmed_case(world.village_a1, clerk)
    made = batch(fin)
    with pytest.raises(PayoutError):
        batches.drop_batch(made, fin, "")
    db.session.rollback()
    batches.drop_batch(made, fin, "金额有误")
    db.session.commit()
    assert made.state == "dropped" and (made.payment_count, made.total_fen) == (0, 0)
    assert {p.status for p in made.payments} == {"voided"}
    assert db.session.get(Household, a.id).state == "confirmed"
    # the case can be paid again in a new batch: the voided payment holds no slot
    again = batch(fin)
    assert [p.household_id for p in live_payments(again)] == [a.id]
    batches.approve(again, checker)
    with pytest.raises(PayoutError):
        batches.drop_batch(again, fin, "晚了")


def test_void_payment_updates_totals_and_case(world, people):
    clerk, fin, checker = people
    a = confirmed_case(world.village_a1, clerk, 100000)
    b = confirmed_case(world.village_a1, clerk, 200000)
    made = batch(fin)
    batches.approve(made, checker)
    db.session.commit()
    pay_a = next(p for p in made.payments if p.household_id == a.id)
    batches.void_payment(pay_a, fin, "户主已故")
    db.session.commit()
    assert (made.payment_count, made.total_fen) == (1, 200000)
    assert pay_a.status == "voided" and pay_a.void_reason == "户主已故"
    assert db.session.get(Household, a.id).state == "confirmed"
    assert db.session.get(Household, b.id).state == "rostered"


def test_unique_index_refuses_a_second_live_payment(world, people):
    clerk, fin, _ = people
    a = confirmed_case(world.village_a1, clerk)
    made = batch(fin)
    p = made.payments[0]
    with pytest.raises(IntegrityError):
        db.session.execute(Payment.__table__.insert().values(
            batch_id=made.id, household_id=a.id, kind="equipment", period="equipment", seq=99,
            reference="X-1", amount_fen=1, status="pending", payee_name="x", bank_name="x",
            bank_account=p.bank_account, bank_hash=p.bank_hash))
    db.session.rollback()


def _usage(hh, fin, season, fen):
    imp = UsageImport(sha256=f"{hh.id:032d}{season:0>32}", filename="u.csv", path="x", utility="power",
                      season=season, county_id=hh.county_id, imported_by_id=fin.id,
                      row_count=1, matched_count=1, report={})
    db.session.add(imp)
    db.session.flush()
    rec = UsageRecord(import_id=imp.id, household_id=hh.id, season=season, season_no=1,
                      meter_no="M1", usage=Decimal("3000.00"), amount_fen=fen,
                      explanation="x", inputs={}, policy_id=policy(hh.village.parent.parent,
                                                                   fin).id)
    db.session.add(rec)
    db.session.commit()
    return rec


def test_running_batch_pays_usage_records_once_and_leaves_cases_paid(world, people):
    clerk, fin, checker = people
    paid = make_case(world.village_a1, clerk, state="paid")
    not_paid = make_case(world.village_a1, clerk, state="rostered")
    rec = _usage(paid, fin, "2025-2026", 60000)
    _usage(not_paid, fin, "2025-2026", 50000)
    _usage(paid, fin, "2024-2025", 70000)
    made = batch(fin, kind="running", season="2025-2026")
    pays = live_payments(made)
    assert [(p.household_id, p.usage_record_id, p.period, p.amount_fen) for p in pays] == [
        (paid.id, rec.id, "2025-2026", 60000)]
    assert made.season == "2025-2026" and made.total_fen == 60000
    with pytest.raises(PayoutError):  # the season is paid: nothing left
        batch(fin, kind="running", season="2025-2026")
    db.session.rollback()
    batches.approve(made, checker)
    bankfiles.bank_file(made, "csv", fin)
    db.session.commit()
    report = reconcile.import_results(made, result_csv(pays, failed={pays[0].id: "销户"}),
                                      "r.csv", fin)
    assert report.ok
    db.session.commit()
    assert db.session.get(Payment, pays[0].id).status == "failed"
    assert db.session.get(Household, paid.id).state == "paid"  # a record, not a case state
