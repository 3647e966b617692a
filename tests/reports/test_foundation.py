"""The programme's foundations: the stage and overdue tables, the county's programme settings
(audited, refusals), when a case entered its state, and the charts' SVG."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from heating.audit.models import AuditEvent
from heating.core.refusals import Forbidden, Refusal
from heating.extensions import db
from heating.households import lifecycle
from heating.households.services import transition
from heating.reports import charts, settings
from tests.fixtures import make_case, make_user


def test_every_active_state_is_in_exactly_one_stage():
    staged = [s for states, _ in lifecycle.STAGES.values() for s in states]
    active = [s for s in lifecycle.STATES if s not in lifecycle.INACTIVE_STATES]
    assert sorted(staged) == sorted(active)


def test_done_states_are_passed_and_later_and_overdue_states_exist():
    assert lifecycle.DONE_STATES[0] == "passed"
    assert not set(lifecycle.DONE_STATES) & set(lifecycle.INACTIVE_STATES)
    assert {"draft", "submitted", "approved", "installed", "failed"}.isdisjoint(
        lifecycle.DONE_STATES)
    for states, column, days in lifecycle.OVERDUE.values():
        assert set(states) <= set(lifecycle.STATES) and days > 0
        assert column in ("state_since", "confirmed_at")


def test_year_dates_default_then_set_and_audited(world):
    county = make_user("county", world.county)
    dates = settings.year_dates(world.county.id, 2026)
    assert (dates.starts_on, dates.deadline, dates.set) == (date(2026, 1, 1),
                                                            date(2026, 11, 15), False)
    settings.set_year_dates(world.county, 2026, date(2026, 3, 1), date(2026, 10, 31), county)
    db.session.commit()
    dates = settings.year_dates(world.county.id, 2026)
    assert (dates.starts_on, dates.deadline, dates.set) == (date(2026, 3, 1),
                                                            date(2026, 10, 31), True)
    row = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "reports.year_dates_set"))
    assert row.actor_id == county.id and "2026-03-01" in row.summary


@pytest.mark.parametrize("starts, deadline, field", [
    (None, date(2026, 10, 31), "starts_on"),
    (date(2026, 3, 1), None, "deadline"),
    (date(2026, 10, 31), date(2026, 3, 1), "deadline"),
    (date(2026, 3, 1), date(2026, 3, 1), "deadline"),
    (date(2020, 3, 1), date(2026, 3, 2), "starts_on"),
])
def test_bad_year_dates_are_refused(world, starts, deadline, field):
    county = make_user("county", world.county)
    with pytest.raises(Refusal) as refused:
        settings.set_year_dates(world.county, 2026, starts, deadline, county)
    assert refused.value.field == field
    assert settings.year_dates(world.county.id, 2026).set is False


def test_only_the_county_sets_them(world):
    reviewer = make_user("reviewer", world.town_a)
    with pytest.raises(Forbidden):
        settings.set_year_dates(world.county, 2026, date(2026, 3, 1), date(2026, 10, 1),
                                reviewer)
    with pytest.raises(Forbidden):
        settings.set_thresholds(world.county, settings.thresholds(world.county.id), reviewer)
    with pytest.raises(Forbidden):  # a township is not a county
        settings.set_thresholds(world.town_a, settings.thresholds(world.county.id),
                                make_user("county", world.county))


def test_thresholds_default_set_refused(world):
    county = make_user("county", world.county)
    assert settings.thresholds(world.county.id) == {
        kind: days for kind, (_, _, days) in lifecycle.OVERDUE.items()}
    values = dict(settings.thresholds(world.county.id), unpaid=45)
    settings.set_thresholds(world.county, values, county)
    db.session.commit()
    assert settings.thresholds(world.county.id)["unpaid"] == 45
    assert "unpaid 30→45" in db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.action == "reports.thresholds_set"))
    for bad in (0, 366, None):
        with pytest.raises(Refusal) as refused:
            settings.set_thresholds(world.county, dict(values, repay=bad), county)
        assert refused.value.field == "repay"
    db.session.rollback()
    assert settings.thresholds(world.county.id)["repay"] == 30


def test_a_move_sets_state_since(world):
    clerk = make_user("clerk", world.village_a1)
    case = make_case(world.village_a1, clerk)
    before = case.state_since
    event = transition(case, "submit", clerk)
    db.session.commit()
    assert case.state_since is not None and case.state_since >= event.at.replace(microsecond=0)
    assert before is None or case.state_since >= before
    assert case.confirmed_at is None


def test_chart_svg_has_no_style_no_ids_and_escapes_names():
    bars = [charts.Bar("青禾镇", 82.5), charts.Bar("<script>x</script>", 10.0, low=True)]
    svg = str(charts.to_svg(charts.done_bars(bars, title="完成率"), label="完成率 & 排名"))
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert not re.search(r"\sstyle=", svg) and not re.search(r"\sid=", svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'role="img"' in svg and 'aria-label="完成率 &amp; 排名"' in svg
    assert 'fill="' in svg and 'font-size="' in svg
    line = charts.progress_line([charts.Point(date(2026, 3, 31), 10),
                                 charts.Point(date(2026, 4, 30), 40)],
                                date(2026, 1, 1), date(2026, 11, 15), 100,
                                actual_label="完成", target_label="目标")
    svg = str(charts.to_svg(line, label="进度"))
    assert not re.search(r"\sstyle=", svg) and "<polyline" in svg or "<path" in svg
