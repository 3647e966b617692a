"""The programme dashboard: every number is a link to exactly its households (walked on the
demo data), money from the kept counters equals the cases' and the bank's, overdue work with
the county's thresholds, scope per role, the settings screen (audited, bad input refused), and
the chart's SVG without ``style`` attributes."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.auth.models import User
from heating.core.db import now_utc
from heating.demo import build_demo
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household, HouseholdCount
from heating.payouts import demo as money_demo
from heating.payouts.models import Payment
from heating.reports import dashboard, settings
from tests.fixtures import log_in, make_case, make_user

N = 400
SEED = 11
LINK = re.compile(r'<a href="(/households/\?[^"]+)">([^<]+)</a>')


@pytest.fixture
def demo(app):
    build_demo(N, seed=SEED, echo=lambda _: None)
    money_demo.extend_demo(seed=SEED, echo=lambda _: None)
    db.session.commit()


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _money_year() -> int:
    """The programme year with most paid cases in the demo (the past money story's year)."""
    return db.session.scalar(select(Household.programme_year).where(Household.state == "paid")
                             .group_by(Household.programme_year)
                             .order_by(func.count().desc()).limit(1))


def _list_figures(client, url: str) -> tuple[int, str | None]:
    page = client.get(url)
    assert page.status_code == 200, url
    text = page.get_data(as_text=True)
    found = re.search(r'<span class="count">(\d+) found</span>', text)
    assert found, url
    money = re.search(r"frozen equipment subsidy ([\d,]+\.\d\d) yuan", text)
    return int(found.group(1)), money.group(1) if money else None


@pytest.mark.parametrize("username", ["county", "reviewer01", "clerk001"])
def test_every_number_of_the_dashboard_links_to_exactly_its_households(demo, client, username):
    log_in(client, _user(username))
    links = []
    for year in sorted({dashboard.years_for(_user(username))[0], _money_year()}):
        page = client.get(f"/reports/?year={year}")
        assert page.status_code == 200
        links += LINK.findall(page.get_data(as_text=True))
    assert len(links) > 80
    checked_money = 0
    for href, shown in links:
        href = html.unescape(href)
        count, money = _list_figures(client, href)
        if "." in shown:  # an amount: the list's frozen total is the same, to the fen
            assert money == shown, href
            checked_money += 1
        else:
            assert count == int(shown), href
    assert checked_money >= 4


def test_the_county_sees_townships_and_a_township_its_villages(demo, client):
    county = _user("county")
    board = dashboard.build(county, dashboard.years_for(county)[0])
    assert board.level == "township" and len(board.rows) == 10
    reviewer = _user("reviewer01")
    own = dashboard.build(reviewer, board.programme_year)
    assert own.level == "village" and own.township is not None
    assert {r.area_id for r in own.rows} <= {
        v for (v,) in db.session.execute(select(Household.village_id).where(
            Household.township_id == own.township.id))} | {r.area_id for r in own.rows}
    same = next(r for r in board.rows if r.area_id == own.township.id)
    assert own.total.done == same.done and own.total.stages == same.stages
    assert own.total.money == same.money and own.total.overdue == same.overdue
    # the county's drill-down into that township gives the reviewer's figures
    drill = dashboard.build(county, board.programme_year, own.township.id)
    assert [(r.area_id, r.done, r.stages) for r in drill.rows] == [
        (r.area_id, r.done, r.stages) for r in own.rows]


def test_money_from_the_counters_equals_the_cases_and_the_paid_bank_lines(demo):
    county = _user("county")
    year = _money_year()
    board = dashboard.build(county, year)
    for row in board.rows:
        paid_cases = db.session.scalar(
            select(func.coalesce(func.sum(Household.frozen_fen), 0)).where(
                Household.township_id == row.area_id, Household.state == "paid",
                Household.programme_year == year))
        bank = db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_fen), 0))
            .join(Household, Household.id == Payment.household_id)
            .where(Payment.status == "paid", Payment.kind == "equipment",
                   Household.township_id == row.area_id, Household.programme_year == year))
        assert row.money["paid"] == paid_cases == bank
    assert board.total.money["paid"] > 0
    assert board.total.net == board.total.money["paid"] - board.total.recovered


def test_counters_follow_a_notice_entry_on_and_off(app, world, client):
    from heating.households.services import transition
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="publicized")
    hh.frozen_fen = 123_456
    db.session.commit()
    fen = lambda state: db.session.scalar(  # noqa: E731
        select(func.sum(HouseholdCount.fen)).where(HouseholdCount.state == state)) or 0
    assert fen("publicized") == 123_456
    reviewer = make_user("reviewer", world.town_a)
    transition(hh, "confirm", reviewer)
    db.session.commit()
    assert (fen("publicized"), fen("confirmed")) == (0, 123_456)
    hh.frozen_fen = 0
    db.session.commit()
    assert fen("confirmed") == 0


def test_overdue_uses_the_county_thresholds_and_whole_days(app, world):
    clerk = make_user("clerk", world.village_a1)
    county = make_user("county", world.county)
    old = make_case(world.village_a1, clerk, state="submitted")
    fresh = make_case(world.village_a1, clerk, state="submitted")
    old.state_since = now_utc() - timedelta(days=10)
    fresh.state_since = now_utc() - timedelta(days=3)
    db.session.commit()
    year = old.programme_year
    row = lambda: next(r for r in dashboard.build(county, year).rows  # noqa: E731
                       if r.area_id == world.town_a.id)
    assert row().overdue["submitted"] == 1
    settings.set_thresholds(world.county, {**settings.thresholds(world.county.id),
                                           "submitted": 2}, county)
    db.session.commit()
    assert row().overdue["submitted"] == 2
    assert fresh.id  # both now overdue


def test_the_chart_is_inline_svg_without_style_attributes(demo, client):
    log_in(client, _user("county"))
    text = client.get("/reports/").get_data(as_text=True)
    svg = text[text.index("<svg"):text.index("</svg>")]
    assert "style=" not in svg and "<script" not in svg
    assert 'role="img"' in svg


def test_settings_are_saved_audited_and_bad_input_changes_nothing(app, world, client, post):
    county = make_user("county", world.county)
    log_in(client, county)
    assert client.get("/reports/settings").status_code == 200
    days = {k: 9 for k in lifecycle.OVERDUE}
    assert post("/reports/settings/thresholds", days).status_code == 302
    assert settings.thresholds(world.county.id) == days
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "reports.thresholds_set")) == 1
    bad = post("/reports/settings/thresholds", {**days, "unpaid": "0"})
    assert bad.status_code == 400 and "between 1 and" in bad.get_data(as_text=True)
    bad = post("/reports/settings/thresholds", {**days, "unpaid": "x" * 500})
    assert bad.status_code == 400
    assert settings.thresholds(world.county.id) == days
    ok = post("/reports/settings/year", {"programme_year": "2026", "starts_on": "2026-03-01",
                                         "deadline": "2026-11-15"})
    assert ok.status_code == 302
    assert settings.year_dates(world.county.id, 2026).set
    bad = post("/reports/settings/year", {"programme_year": "2026", "starts_on": "2026-12-01",
                                          "deadline": "2026-11-15"})
    assert bad.status_code == 400
    assert settings.year_dates(world.county.id, 2026).starts_on.isoformat() == "2026-03-01"


def test_hostile_dashboard_parameters_are_ignored(app, world, client):
    log_in(client, make_user("county", world.county))
    for query in ("year=abc", "year=99999999999999999999", "township=-1", "township=x",
                  "year=2026&township=999999999"):
        assert client.get(f"/reports/?{query}").status_code == 200, query


def test_list_filters_from_the_dashboard_are_checked(app, world, client):
    clerk = make_user("clerk", world.village_a1)
    make_case(world.village_a1, clerk, state="paid")
    log_in(client, make_user("county", world.county))
    for query in ("stage=nope", "overdue=nope&days=-5", "done=yes", "days=1e9&overdue=unpaid"):
        response = client.get(f"/households/?{query}")
        assert response.status_code == 200, query
    text = client.get("/households/?stage=paid").get_data(as_text=True)
    assert "1 found" in text and "Stage: Paid" in text
    assert parse_qs(urlsplit("/households/?stage=paid").query) == {"stage": ["paid"]}
