"""A follow-up visit that finds a rebound (复烧) or the device removed stops the running subsidy:
the season's usage row is excluded when imported, and a usage record imported before the
visit is left out of the running batch.  The latest visit decides: a later "ok" resumes."""
from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from heating.extensions import db
from heating.inspections import followups
from heating.payouts import services, usage
from heating.payouts.models import UsageRecord
from heating.payouts.services import PayoutError
from heating.payouts.usage.match import REASONS, analyse
from tests.fixtures import make_user
from tests.payouts.helpers import batch, live_payments
from tests.payouts.usage_helpers import make_policy, paid_case, usage_csv

SEASON = "2025-2026"


@pytest.fixture
def people(world):
    clerk = make_user("clerk", world.village_a1, username="clerk1")
    inspector = make_user("inspector", world.town_a, username="insp1")
    finance = make_user("finance", world.county, username="fin1")
    county = make_user("county", world.county, username="cty1")
    return clerk, inspector, finance, county


def _visit(case, actor, result, on, note="复烧"):
    followups.record_follow_up(case, actor, result=result, visited_on=on, note=note)
    db.session.commit()


def test_usage_of_a_rebound_case_is_excluded_until_a_later_ok_visit(world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    rebound = paid_case(world.village_a1, clerk, inspector, "E1001")
    fine = paid_case(world.village_a1, clerk, inspector, "E1002")
    _visit(rebound, inspector, "rebound", date(2026, 1, 10))
    data = usage_csv([("E1001", "3000", ""), ("E1002", "2000", "")])

    lines = {ln.number: ln for ln in analyse(data, utility="power", season=SEASON,
                                             county_id=world.county.id).lines}
    assert lines[2].reason == "followup_stopped" and lines[2].amount is None
    assert lines[2].household_id == rebound.id  # matched, and said why it is not paid
    assert lines[3].reason is None and lines[3].household_id == fine.id
    assert lines[3].amount.fen == 40_000
    with force_locale("en"):
        assert str(REASONS["followup_stopped"]) == (
            "Follow-up found the household back on coal or the device removed: the running "
            "subsidy has stopped.")

    _visit(rebound, inspector, "ok", date(2026, 2, 1), note=None)
    lines = {ln.number: ln for ln in analyse(data, utility="power", season=SEASON,
                                             county_id=world.county.id).lines}
    assert lines[2].reason is None and lines[2].amount.fen == 60_000


def test_a_rebound_found_after_the_import_is_left_out_of_the_running_batch(world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    rebound = paid_case(world.village_a1, clerk, inspector, "E1001")
    fine = paid_case(world.village_a1, clerk, inspector, "E1002")
    preview = usage.upload(usage_csv([("E1001", "3000", ""), ("E1002", "2000", "")]), "u.csv",
                           utility="power", season=SEASON, county_id=world.county.id,
                           user=finance)
    usage.confirm(usage.load_preview(preview.token, finance), finance)
    db.session.commit()
    assert db.session.query(UsageRecord).count() == 2  # both imported before the visit

    _visit(rebound, make_user("county", world.county), "device_removed", date(2026, 3, 1),
           note="热泵已拆除")
    sel = services.selection(finance, kind="running", season=SEASON)
    shown = services.preview(finance, sel)
    assert (shown.count, shown.total_fen) == (1, 40_000)
    assert shown.held_back == {"followup_stopped": 1}
    made = batch(finance, kind="running", season=SEASON)
    assert [(p.household_id, p.amount_fen) for p in live_payments(made)] == [(fine.id, 40_000)]
    assert made.total_fen == 40_000
    with pytest.raises(PayoutError):  # the stopped household is not waiting for payment
        batch(finance, kind="running", season=SEASON)
    db.session.rollback()

    # after rework a later visit finds the device in use: the record is paid after all
    _visit(rebound, inspector, "ok", date(2026, 3, 20), note=None)
    assert services.preview(finance, sel).held_back == {}
    again = batch(finance, kind="running", season=SEASON)
    assert [(p.household_id, p.amount_fen) for p in live_payments(again)] == [
        (rebound.id, 60_000)]
