"""The demo county (``flask demo-data``): every row one the services could have written."""
from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from heating.areas.models import Area, AreaTarget
from heating.audit.models import AuditEvent
from heating.auth.models import ROLES, RoleGrant, User
from heating.auth.permissions import can, roles_over
from heating.core.ids import canonical_id_number, luhn_ok
from heating.demo import DEMO_PASSWORD, build_demo, demo_logins
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import DEVICE_KINDS_BY_TYPE, CaseEvent, Household
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
    for name in ("admin", "county", "auditor", "finance", "reviewer01", "inspector01",
                 "reviewer_inspector", "clerk001"):
        assert any(line.split()[0] == name for line in lines[1:]), name


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
