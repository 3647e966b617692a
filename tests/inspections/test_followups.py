"""Follow-up visits (回头看): who may record one and when, the latest visit deciding whether the
running subsidy stops, the append-only table and the case-page panel (the campaigns that draw
the cases to visit: test_campaigns.py)."""
from __future__ import annotations

import html
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from heating.audit.models import AuditEvent
from heating.core.i18n import local_today
from heating.extensions import db
from heating.households.models import Household
from heating.households.services import CaseError
from heating.inspections import followups
from heating.inspections.models import FollowUp
from tests.fixtures import en, log_in, make_case, make_user, says
from tests.payouts.usage_helpers import paid_case

PASSED = date(2025, 10, 1)


@pytest.fixture
def people(world):
    clerk = make_user("clerk", world.village_a1, username="clerk1")
    inspector = make_user("inspector", world.town_a, username="insp1")
    return clerk, inspector


@pytest.fixture
def case(world, people):
    clerk, inspector = people
    return paid_case(world.village_a1, clerk, inspector, "E1001", passed_on=PASSED)


def _visit(case, actor, result="ok", on=date(2026, 1, 10), note=None):
    visit = followups.record_follow_up(case, actor, result=result, visited_on=on, note=note)
    db.session.commit()
    return visit


def _count():
    return db.session.scalar(select(func.count()).select_from(FollowUp))


# --- the service ---------------------------------------------------------------------------------

def test_an_inspector_records_a_rebound_the_case_stays_paid_and_it_is_audited(world, people,
                                                                               case):
    _, inspector = people
    visit = _visit(case, inspector, "rebound", note="  灶台重新使用，屋内有散煤  ")
    assert (visit.result, visit.visited_on, visit.note, visit.recorded_by_id) == (
        "rebound", date(2026, 1, 10), "灶台重新使用，屋内有散煤", inspector.id)
    assert db.session.get(Household, case.id).state == "paid"
    assert followups.current_follow_up(case).id == visit.id
    assert followups.stops_running_subsidy(case.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "followup.recorded"))
    assert event.object_type == "household" and event.object_id == str(case.id)
    assert event.actor_id == inspector.id
    facts = json.loads(event.after)
    assert facts["result"] == "rebound" and facts["running_subsidy_stopped"] is True
    assert facts["visited_on"] == "2026-01-10"


def test_county_staff_may_record_and_an_ok_needs_no_note(world, people, case):
    county = make_user("county", world.county)
    visit = _visit(case, county, "ok")
    assert visit.note is None and not followups.stops_running_subsidy(case.id)


@pytest.mark.parametrize("role,area", [("clerk", "village_a1"), ("reviewer", "town_a"),
                                       ("finance", "county"), ("auditor", "county"),
                                       ("inspector", "town_b")])
def test_other_roles_and_other_townships_are_refused(world, case, role, area):
    user = make_user(role, getattr(world, area))
    with pytest.raises(CaseError) as refused:
        followups.record_follow_up(case, user, result="ok", visited_on=date(2026, 1, 10),
                                   note=None)
    assert "Only an inspector" in en(refused.value.message)
    assert _count() == 0


@pytest.mark.parametrize("state", ["confirmed", "rostered", "payment_failed", "withdrawn"])
def test_only_paid_cases_get_follow_ups(world, people, state):
    clerk, inspector = people
    hh = paid_case(world.village_a1, clerk, inspector, "E2001", state=state)
    with pytest.raises(CaseError) as refused:
        followups.record_follow_up(hh, inspector, result="ok", visited_on=date(2026, 1, 10),
                                   note=None)
    assert "paid cases only" in en(refused.value.message)
    assert _count() == 0


@pytest.mark.parametrize("kw,field,words", [
    ({"result": "rebound", "note": "  "}, "note", "a note is required"),
    ({"result": "device_removed", "note": None}, "note", "a note is required"),
    ({"result": "house_empty", "note": ""}, "note", "a note is required"),
    ({"result": "broken"}, "result", "Choose what the visit found"),
    ({"visited_on": None}, "visited_on", "Enter the date"),
    ({"visited_on": "tomorrow"}, "visited_on", "cannot be in the future"),
    ({"visited_on": PASSED - timedelta(days=1)}, "visited_on",
     "before the inspection passed (2025-10-01)"),
    ({"note": "x" * 2001}, "note", "too long"),
])
def test_bad_input_is_refused_with_its_field_and_nothing_is_written(world, people, case, kw,
                                                                     field, words):
    _, inspector = people
    args = {"result": "ok", "visited_on": date(2026, 1, 10), "note": None, **kw}
    if args["visited_on"] == "tomorrow":
        args["visited_on"] = local_today() + timedelta(days=1)
    with pytest.raises(CaseError) as refused:
        followups.record_follow_up(case, inspector, **args)
    assert refused.value.field == field
    assert words in en(refused.value.message)
    db.session.rollback()
    assert _count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "followup.recorded")) == 0


def test_the_visit_may_be_on_the_day_the_inspection_passed_or_today(world, people, case):
    _, inspector = people
    _visit(case, inspector, on=PASSED)
    _visit(case, inspector, on=local_today())
    assert _count() == 2


# --- the latest visit decides ----------------------------------------------------------------------

def test_a_later_ok_visit_resumes_and_a_back_dated_one_does_not(world, people, case):
    _, inspector = people
    _visit(case, inspector, "device_removed", on=date(2026, 1, 10), note="热泵已拆除")
    assert followups.stops_running_subsidy(case.id)
    _visit(case, inspector, "ok", on=date(2026, 1, 5))  # visited before the removal was seen
    assert followups.stops_running_subsidy(case.id)
    assert followups.current_follow_up(case).result == "device_removed"
    _visit(case, inspector, "ok", on=date(2026, 2, 1))  # after rework: in use again
    assert not followups.stops_running_subsidy(case.id)
    assert [v.visited_on for v in followups.follow_ups_of(case)] == [
        date(2026, 2, 1), date(2026, 1, 10), date(2026, 1, 5)]


def test_on_the_same_day_the_later_record_decides(world, people, case):
    _, inspector = people
    _visit(case, inspector, "ok", on=date(2026, 1, 10))
    _visit(case, inspector, "rebound", on=date(2026, 1, 10), note="复烧")
    assert followups.stops_running_subsidy(case.id)


def test_house_empty_does_not_stop_the_running_subsidy(world, people, case):
    _, inspector = people
    _visit(case, inspector, "house_empty", note="外出务工")
    assert not followups.stops_running_subsidy(case.id)


def test_bulk_lookup_returns_exactly_the_stopped_households(world, people):
    clerk, inspector = people
    cases = [paid_case(world.village_a1, clerk, inspector, f"E3{i:03d}") for i in range(5)]
    rebound, removed, resumed, empty, untouched = cases
    _visit(rebound, inspector, "rebound", note="复烧")
    _visit(removed, inspector, "device_removed", note="拆除")
    _visit(resumed, inspector, "rebound", on=date(2026, 1, 1), note="复烧")
    _visit(resumed, inspector, "ok", on=date(2026, 1, 20))
    _visit(empty, inspector, "house_empty", note="无人")
    ids = [c.id for c in cases]
    assert followups.running_subsidy_stopped(ids) == {rebound.id, removed.id}
    assert followups.running_subsidy_stopped([rebound.id, untouched.id]) == {rebound.id}
    assert followups.running_subsidy_stopped([]) == set()
    # the long-list path (no IN list) gives the same answer
    many = ids + list(range(100_000, 100_000 + followups._IN_LIMIT))
    assert followups.running_subsidy_stopped(many) == {rebound.id, removed.id}


# --- the table is append-only ---------------------------------------------------------------------

def test_the_database_refuses_to_change_or_delete_a_visit(world, people, case):
    _, inspector = people
    visit = _visit(case, inspector, "rebound", note="复烧")
    for statement in (f"UPDATE follow_ups SET result = 'ok' WHERE id = {visit.id}",
                      f"UPDATE follow_ups SET note = 'x' WHERE id = {visit.id}",
                      f"DELETE FROM follow_ups WHERE id = {visit.id}"):
        with pytest.raises(DBAPIError) as refused:
            db.session.execute(text(statement))
        assert "immutable" in str(refused.value)
        db.session.rollback()
    assert db.session.scalar(select(FollowUp.result)) == "rebound"


def test_the_database_refuses_a_problem_without_a_note(world, people, case):
    _, inspector = people
    with pytest.raises(DBAPIError):
        db.session.execute(FollowUp.__table__.insert().values(
            household_id=case.id, result="rebound", visited_on=date(2026, 1, 10),
            recorded_by_id=inspector.id, recorded_at=func.now(), note=None))
    db.session.rollback()
    assert _count() == 0


# --- the case page -----------------------------------------------------------------------------------

def _page(client, case):
    r = client.get(f"/households/{case.id}")
    assert r.status_code == 200
    return r, html.unescape(r.get_data(as_text=True))


def test_the_panel_shows_the_form_to_the_inspector_in_chinese_by_default(app, client, world,
                                                                         people, case):
    _, inspector = people
    log_in(client, inspector)
    with client.session_transaction() as sess:
        sess.pop("lang")  # the app's default language
    r, body = _page(client, case)
    assert "回头看" in body and 'lang="zh' in body
    assert f'action="/inspections/case/{case.id}/follow-up"' in body
    assert says(r, "No follow-up visit yet.")
    assert 'name="note"' in body and 'value="rebound"' in body
    assert says(r, "Save this follow-up? It cannot be changed afterwards (a later visit is "
                   "recorded as a new one). If the visit found the household back on coal or "
                   "the device removed, the running subsidy stops.")


def test_recording_a_rebound_on_the_page_and_reading_it_back_in_english(app, client, post,
                                                                        world, people, case):
    _, inspector = people
    log_in(client, inspector)
    r = post(f"/inspections/case/{case.id}/follow-up",
             {"result": "rebound", "visited_on": "2026-01-10", "note": "屋内有散煤"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/households/{case.id}")
    visit = db.session.scalar(select(FollowUp))
    assert (visit.result, visit.note, visit.recorded_by_id) == ("rebound", "屋内有散煤",
                                                               inspector.id)
    r, body = _page(client, case)
    assert "Follow-up recorded: Back on coal (rebound)." in body
    assert "The latest visit found: Back on coal (rebound). The running subsidy" in body
    assert "屋内有散煤" in body and "2026-01-10" in body
    # the clerk sees the history, not the form
    log_in(client, make_user("clerk", world.village_a1))
    r, body = _page(client, case)
    assert "屋内有散煤" in body and "/follow-up" not in body


def test_a_problem_without_a_note_is_refused_on_the_page(app, client, post, world, people,
                                                         case):
    _, inspector = people
    log_in(client, inspector)
    r = post(f"/inspections/case/{case.id}/follow-up",
             {"result": "device_removed", "visited_on": "2026-01-10", "note": ""})
    assert r.status_code == 302
    r, body = _page(client, case)
    assert "a note is required" in body
    r = post(f"/inspections/case/{case.id}/follow-up",
             {"result": "ok", "visited_on": (local_today() + timedelta(days=2)).isoformat()})
    r, body = _page(client, case)
    assert "The visit date cannot be in the future." in body
    assert _count() == 0


def test_route_answers_403_to_other_roles_and_404_out_of_scope(app, client, post, world,
                                                                people, case):
    data = {"result": "ok", "visited_on": "2026-01-10"}
    log_in(client, make_user("clerk", world.village_a1))
    assert post(f"/inspections/case/{case.id}/follow-up", data).status_code == 403
    log_in(client, make_user("inspector", world.town_b))
    assert post(f"/inspections/case/{case.id}/follow-up", data).status_code == 404
    assert _count() == 0


def test_no_panel_before_the_case_is_paid(app, client, world, people):
    clerk, inspector = people
    hh = make_case(world.village_a1, clerk, state="confirmed")
    log_in(client, inspector)
    r, body = _page(client, hh)
    assert "Follow-up visits" not in body and "/follow-up" not in body
