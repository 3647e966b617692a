"""The demo county (``flask demo-data``): every row one the services could have written."""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from heating.areas.models import Area, AreaTarget
from heating.audit.models import AuditEvent
from heating.auth.models import ROLES, RoleGrant, User
from heating.auth.permissions import can, roles_over
from heating.certificates.models import Certificate
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.ids import canonical_id_number, luhn_ok
from heating.core.money import to_fen
from heating.demo import DEMO_PASSWORD, build_demo, demo_logins
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import DEVICE_KINDS_BY_TYPE, CaseEvent, Household
from heating.inspections.models import Inspection
from heating.payouts import bankfiles
from heating.payouts import demo as money_demo
from heating.payouts.models import (
    AccountCorrection,
    BankResultImport,
    Payment,
    PayoutBatch,
    UsageImport,
    UsageRecord,
)
from heating.payouts.recovery_models import Recovery
from heating.publicity.models import Notice, NoticeEntry, Objection
from heating.subsidies.models import SubsidyPolicy
from tests.conftest import make_app

N = 300
SEED = 7
UI_STATES = {"draft", "submitted", "returned", "approved", "withdrawn", "cancelled"}


@pytest.fixture
def demo(app):
    lines: list[str] = []
    build_demo(N, seed=SEED, echo=lines.append)
    households = db.session.scalars(select(Household).order_by(Household.id)).all()
    return households, lines


def test_id_numbers_are_valid_and_unique_among_active_cases(demo):
    households, _ = demo
    assert len(households) == N
    for hh in households:
        assert canonical_id_number(hh.id_number) == hh.id_number
    active = Counter(hh.id_number for hh in households if hh.active)
    assert max(active.values()) == 1
    # a withdrawn case re-registered later: same ID number, one of the two still active
    shared = [n for n, k in Counter(hh.id_number for hh in households).items() if k > 1]
    assert shared, "the seed should produce at least one re-registration"
    for number in shared:
        pair = sorted((h for h in households if h.id_number == number), key=lambda h: h.id)
        assert pair[0].state == "withdrawn" and pair[-1].active
        assert pair[-1].created_at > pair[0].updated_at


def test_households_hold_plausible_registration_data(demo):
    households, _ = demo
    assert {hh.state for hh in households} == UI_STATES
    assert len({hh.phone for hh in households if hh.active}) == sum(h.active for h in households)
    for hh in households:
        assert re.fullmatch(r"1[3-9][0-9]{9}", hh.phone)
        assert 1 <= hh.residents <= 8 and 1 <= hh.coal_stoves <= 3
        assert Decimal("30") <= hh.heated_area <= Decimal("200")
        assert hh.heated_area == hh.heated_area.quantize(Decimal("0.01"))
        assert hh.device_kind in DEVICE_KINDS_BY_TYPE[hh.conversion_type]
        assert len(hh.bank_account) == 19 and (luhn_ok(hh.bank_account) or hh.luhn_confirmed)
        if hh.holder_differs:
            assert hh.holder_exception_reason and hh.holder_exception_by_id
        assert hh.village.parent_id == hh.township_id and hh.township.parent_id == hh.county_id
    raw = db.session.execute(text("SELECT heated_area FROM households")).scalars().all()
    assert all(isinstance(v, int) for v in raw)  # stored as hundredths, as the ORM would
    targets = dict(db.session.execute(
        select(Area.level, func.sum(AreaTarget.target)).join(Area).group_by(Area.level)).all())
    assert targets == {"county": N, "township": N, "village": N}


def test_every_role_has_a_login_and_one_staffer_is_reviewer_and_inspector(demo):
    held = {g.role for g in db.session.scalars(select(RoleGrant))}
    assert held == set(ROLES)
    both = db.session.scalar(select(User).where(User.username == "reviewer_inspector"))
    grants = {(g.role, g.area_id) for g in both.grants}
    township = {a for _, a in grants}
    assert len(township) == 1 and {r for r, _ in grants} == {"reviewer", "inspector"}
    inspectors = db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == "inspector", RoleGrant.area_id == township.pop())).all()
    assert len(inspectors) == 2
    villages = db.session.scalars(select(Area).where(Area.level == "village")).all()
    clerked = set(db.session.scalars(select(RoleGrant.area_id).where(RoleGrant.role == "clerk")))
    assert {v.id for v in villages} <= clerked
    assert not any(u.must_change_password for u in db.session.scalars(select(User)))
    lines = demo_logins()
    assert DEMO_PASSWORD in lines[0]
    for name in ("admin", "county", "auditor", "finance", "finance02", "reviewer01", "inspector01",
                 "reviewer_inspector", "clerk001"):
        assert any(line.split()[0] == name for line in lines[1:]), name
    # the clerks line says every village has a clerk (it used to read as if most had none)
    cover = next(line for line in lines if "clerks cover" in line)
    n_clerks = len(set(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == "clerk"))))
    assert f"{n_clerks} clerks cover all {len(villages)} villages" in cover
    assert "without a clerk" not in cover


def test_every_history_replays_through_the_lifecycle(demo):
    households, _ = demo
    for hh in households:
        events = hh.events
        first = events[0]
        assert (first.action, first.from_state, first.to_state) == ("create", None, "draft")
        assert "clerk" in roles_over(first.actor, hh) and first.actor_id == hh.created_by_id
        state, at = "draft", first.at
        for event in events[1:]:
            move = lifecycle.BY_ACTION[event.action]
            assert event.from_state == state and state in move.sources
            assert event.to_state == move.target
            assert move.roles & roles_over(event.actor, hh), (event.action, event.actor)
            assert bool(event.reason) == move.reason_required
            assert event.at > at
            state, at = event.to_state, event.at
        assert state == hh.state
        submits = [e.at for e in events if e.action in ("submit", "resubmit")]
        assert hh.submitted_at == (submits[-1] if submits else None)
        approvals = [e for e in events if e.action == "approve"]
        assert (hh.approved_at, hh.approved_by_id) == (
            (approvals[-1].at, approvals[-1].actor_id) if approvals else (None, None))
        assert hh.version == len(events) + bool(hh.holder_exception_reason)
        if hh.holder_exception_reason:  # recorded by the county, before the submission
            county = db.session.get(User, hh.holder_exception_by_id)
            assert can(county, "household.holder_exception", hh)
            assert hh.submitted_at is None or hh.holder_exception_at < hh.submitted_at


def test_audit_rows_follow_each_case_and_never_hold_a_full_number(demo):
    households, _ = demo
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "household")
                              .order_by(AuditEvent.id)).all()
    by_case: dict[str, list[AuditEvent]] = {}
    for row in rows:
        by_case.setdefault(row.object_id, []).append(row)
    everything = "\n".join(f"{r.summary}{r.before}{r.after}" for r in
                           db.session.scalars(select(AuditEvent)))
    for hh in households:
        audit = by_case[str(hh.id)]
        created = json.loads(audit[0].after)
        assert audit[0].action == "household.created" and created["state"] == "draft"
        assert created["id_number"] == hh.id_masked and created["bank_account"] == hh.bank_masked
        moves = [f"household.{e.action}" for e in hh.events[1:]]
        assert [a.action for a in audit if a.action != "household.holder_exception"][1:] == moves
        assert hh.id_number not in everything and hh.bank_account not in everything
    assert not re.search(r"[0-9]{15,}", everything)
    times = db.session.scalars(select(CaseEvent.at).order_by(CaseEvent.id)).all()
    assert times == sorted(times)  # ids follow time, across cases, as in real use


def test_demo_logins_are_empty_without_demo_users(app):
    assert demo_logins() == []


def test_the_same_seed_gives_the_same_county(demo):
    households, _ = demo
    first = [(h.id_number, h.head_name, h.state, h.village.code) for h in households]
    other = make_app("sqlite://")  # a fresh in-memory database, whatever the suite runs on
    with other.app_context():
        upgrade()
        build_demo(N, seed=SEED, echo=lambda _: None)
        again = [(h.id_number, h.head_name, h.state, h.village.code) for h in
                 db.session.scalars(select(Household).order_by(Household.id))]
        db.session.remove()
    assert again == first


# --- the money side (heating.payouts.demo) -----------------------------------------------------
@pytest.fixture
def money(app):
    lines: list[str] = []
    build_demo(N, seed=SEED, echo=lines.append)
    money_demo.extend_demo(seed=SEED, echo=lines.append)
    return lines


def _count(column, *where) -> dict:
    return dict(db.session.execute(select(column, func.count()).where(*where)
                                   .group_by(column)).all())


def test_the_money_side_has_every_state_a_newcomer_should_see(money):
    assert money[-1].startswith("money: policies 4;")
    policies = db.session.scalars(select(SubsidyPolicy)).all()
    assert {p.conversion_type for p in policies} == {"electric", "gas"}
    today = local_today()
    notices = db.session.scalars(select(Notice)).all()
    assert {n.state for n in notices} == {"published", "closed"}
    assert all(n.ends_on < today for n in notices if n.state == "closed")
    assert all(n.ends_on >= today for n in notices if n.state == "published")
    assert _count(Objection.outcome) == {"dismissed": 1, "upheld": 1, "open": 1}
    upheld = db.session.scalar(select(Objection).where(Objection.outcome == "upheld"))
    assert db.session.get(Household, upheld.household_id).state == "installed"
    assert db.session.scalar(select(Certificate).where(
        Certificate.household_id == upheld.household_id)).revoked_at is not None
    dismissed = db.session.scalar(select(Objection).where(Objection.outcome == "dismissed"))
    assert dismissed.entry.state == "confirmed"
    still_open = db.session.scalar(select(Objection).where(Objection.outcome == "open"))
    assert db.session.get(Household, still_open.household_id).state == "objected"
    assert _count(Household.state)["confirmed"] > 0  # the dropped batch's cases wait again
    assert set(_count(PayoutBatch.state)) == {"draft", "approved", "exported", "reconciled",
                                              "closed", "dropped"}
    statuses = _count(Payment.status)
    assert statuses["failed"] == 2 and statuses["paid"] > 2 and statuses["voided"] > 0
    assert _count(Household.state)["paid"] == db.session.scalar(
        select(func.count()).select_from(Payment).where(
            Payment.kind == "equipment", Payment.status == "paid"))
    assert db.session.scalar(select(func.count(UsageRecord.id))) > 0
    running = db.session.scalar(select(PayoutBatch).where(PayoutBatch.kind == "running"))
    assert running.state == "approved" and running.season == money_demo.plan_for(today).season


def test_the_demo_has_open_partial_and_waiting_recoveries_made_by_findings(money):
    assert all(p.recovery_seasons == 3 for p in db.session.scalars(select(SubsidyPolicy)))
    recs = db.session.scalars(select(Recovery).order_by(Recovery.id)).all()
    assert [r.state for r in recs] == ["open", "partially_recovered", "waive_requested"]
    for rec in recs:
        assert rec.follow_up.result in ("rebound", "device_removed")
        assert rec.amount_fen == rec.payment.amount_fen and rec.payment.status == "paid"
    partial = recs[1]
    assert 0 < partial.recovered_fen < partial.amount_fen
    assert sum(r.amount_fen for r in partial.receipts) == partial.recovered_fen
    assert "recoveries open 1, partially_recovered 1, waive_requested 1" in money[-1]


def test_the_repay_batch_pays_exactly_the_failed_payments_to_the_corrected_accounts(money):
    failed = db.session.scalars(select(Payment).where(Payment.status == "failed")).all()
    repay = db.session.scalar(select(PayoutBatch).where(PayoutBatch.is_repay.is_(True)))
    assert repay.state == "reconciled"
    again = db.session.scalars(select(Payment).where(Payment.batch_id == repay.id)).all()
    assert sorted(p.repays_id for p in again) == sorted(p.id for p in failed)
    for payment in again:
        old = db.session.get(Payment, payment.repays_id)
        correction = db.session.scalar(select(AccountCorrection).where(
            AccountCorrection.payment_id == old.id))
        assert correction.state == "approved"
        assert correction.decided_by_id != correction.requested_by_id
        assert payment.status == "paid" and payment.household.state == "paid"
        assert (payment.household_id, payment.amount_fen) == (old.household_id, old.amount_fen)
        assert payment.bank_account == correction.bank_account != old.bank_account
    requesters = {c.requested_by.username for c in db.session.scalars(select(AccountCorrection))}
    assert "finance" in requesters and any(u.startswith("clerk") for u in requesters)
    # one live payment per household and kind: the failed one is dead, the re-payment lives
    live = Counter((p.household_id, p.kind, p.period) for p in db.session.scalars(
        select(Payment).where(Payment.status.not_in(("failed", "voided")))))
    assert max(live.values()) == 1


def test_batch_and_bank_file_totals_agree_to_the_fen(money, app):
    for batch in db.session.scalars(select(PayoutBatch)):
        live = [p for p in batch.payments if p.status != "voided"]
        assert (batch.payment_count, batch.total_fen) == (
            len(live), sum(p.amount_fen for p in live)), batch.number
        if batch.state == "dropped":
            assert batch.payments and not live
        if batch.state in ("approved", "draft", "dropped"):
            assert batch.csv_path is None
            continue
        assert batch.approved_by_id != batch.created_by_id  # maker–checker
        assert (batch.export_count, batch.export_total_fen) == (
            batch.payment_count, batch.total_fen)
        data = bankfiles.read_stored(batch, "csv")  # checks the stored SHA-256 too
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        header = {r[0]: r[1] for r in rows[:7] if len(r) > 1}
        table = rows[bankfiles.TABLE_HEADER_ROW + 1:]
        assert int(header["付款笔数"]) == len(table) == batch.payment_count
        assert to_fen(header["付款总金额（元）"]) == sum(to_fen(r[5]) for r in table) \
            == batch.total_fen
        assert [r[6] for r in table] == [p.reference for p in sorted(live, key=lambda p: p.seq)]
        if batch.state in ("reconciled", "closed"):
            assert all(p.status in ("paid", "failed") for p in live)
    for imp in db.session.scalars(select(BankResultImport)):
        settled = db.session.scalars(select(Payment).where(
            Payment.result_import_id == imp.id)).all()
        assert imp.paid_fen + imp.failed_fen == sum(p.amount_fen for p in settled)


def test_usage_records_are_season_one_of_paid_cases_passed_before_it(money):
    plan = money_demo.plan_for(local_today())
    records = db.session.scalars(select(UsageRecord)).all()
    assert {r.season for r in records} == {plan.season} and {r.season_no for r in records} == {1}
    assert any(r.low_usage for r in records)
    paid = db.session.scalars(select(Payment).where(Payment.kind == "running")).all()
    assert sorted(p.usage_record_id for p in paid) == sorted(r.id for r in records)
    for record in records:
        assert record.household.state == "paid"
        passed = db.session.scalars(select(Inspection.inspected_at).where(
            Inspection.household_id == record.household_id, Inspection.result == "pass")).all()
        assert max(passed).astimezone(LOCAL_TZ).date() < plan.start
    for imp in db.session.scalars(select(UsageImport)):
        assert imp.report["counts"]["reasons"] == {"unmatched": 1}


def test_the_money_story_replays_through_the_lifecycle_in_time_order(money):
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert "finance02" in users and can(users["finance02"], "payout.approve")
    assert any(line.split()[0] == "finance02" for line in demo_logins()[1:])
    for hh in db.session.scalars(select(Household).where(Household.state.not_in(UI_STATES))):
        state, at = "draft", None
        for event in hh.events:
            if event.action == "create":
                continue
            move = lifecycle.BY_ACTION[event.action]
            assert event.from_state == state and state in move.sources, (hh.id, event.action)
            actor_roles = (roles_over(event.actor, hh) if event.actor_id
                           else {lifecycle.SYSTEM})
            assert move.roles & actor_roles, (event.action, event.actor)
            assert at is None or event.at > at, (hh.id, event.action)
            state, at = event.to_state, event.at
        assert state == hh.state
    everything = "\n".join(f"{r.summary}{r.before}{r.after}" for r in
                           db.session.scalars(select(AuditEvent)))
    for hh in db.session.scalars(select(Household).where(Household.state.not_in(UI_STATES))):
        assert hh.id_number not in everything and hh.bank_account not in everything
    for correction in db.session.scalars(select(AccountCorrection)):
        assert correction.bank_account not in everything


def test_the_money_side_is_the_same_for_the_same_seed(money, tmp_path):
    def fingerprint():
        return ([(b.kind, b.state, b.is_repay, b.payment_count, b.total_fen)
                 for b in db.session.scalars(select(PayoutBatch).order_by(PayoutBatch.id))],
                [(p.household.id_number, p.status, p.amount_fen) for p in
                 db.session.scalars(select(Payment).order_by(Payment.id))],
                [(e.notice.number, e.masked_name, e.amount_fen, e.state) for e in
                 db.session.scalars(select(NoticeEntry).order_by(NoticeEntry.id))])

    first = fingerprint()
    other = make_app("sqlite://", STORAGE_DIR=str(tmp_path / "other"))
    with other.app_context():
        upgrade()
        build_demo(N, seed=SEED, echo=lambda _: None)
        money_demo.extend_demo(seed=SEED, echo=lambda _: None)
        again = fingerprint()
        db.session.remove()
    assert again == first


def test_the_clock_is_restored_after_a_story_in_the_past():
    before = now_utc()
    with money_demo.clock_at(datetime(2025, 9, 1, 9, tzinfo=LOCAL_TZ)):
        assert local_today() == date(2025, 9, 1)
        assert now_utc().astimezone(LOCAL_TZ).hour == 9
    assert now_utc() >= before and local_today() >= date(2026, 1, 1)
    # usage and running payments only for a season that has ended: in the middle of
    # 2026-2027 the last one is 2025-2026 (ended 15 March 2026)
    assert money_demo.plan_for(date(2026, 12, 4)).season == "2025-2026"
    assert money_demo.plan_for(date(2026, 11, 29)).season == "2025-2026"
    assert money_demo.plan_for(date(2026, 3, 15)).season == "2024-2025"  # its last day
    assert money_demo.plan_for(date(2026, 3, 16)).season == "2025-2026"
    late = money_demo.plan_for(date(2026, 12, 4))  # the season began over a year ago
    assert late.start == date(2025, 11, 15) and late.day(5) < late.start
    assert late.day0 == date(2025, 11, 7)
