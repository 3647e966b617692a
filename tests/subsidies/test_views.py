"""Policy screens and the case panel: the county office creates and edits its county's
policies; other roles read them; another county's policies do not exist for a user."""
from __future__ import annotations

import html
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from heating.extensions import db
from heating.subsidies.models import SubsidyPolicy
from heating.subsidies.validation import SubsidyError
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_case, make_user
from tests.subsidies.support import D, add_installation, freeze_on_notice, make_policy


def form(county_id, **overrides):
    data = {
        "county_id": str(county_id), "programme_year": "2026", "conversion_type": "electric",
        "device_kind": "", "name": "2026年煤改电补贴", "reference": "冀政办〔2026〕1号",
        "equipment_method": "invoice_rate", "equipment_rate_pct": "85", "area_rate": "",
        "equipment_cap": "7,400.00", "seasons": "3", "running_cap_units": "10000",
        "season_start": "11-15", "season_end": "03-15", "effective_from": "2026-01-01",
        "effective_to": "", "note": "",
        "season_rates-0": "0.2", "season_rates-1": "0.2", "season_rates-2": "0.15",
    }
    for i in range(3, 10):
        data[f"season_rates-{i}"] = ""
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response):
    return html.unescape(response.get_data(as_text=True))


def count():
    return db.session.scalar(select(func.count()).select_from(SubsidyPolicy))


@pytest.fixture
def county_user(world):
    return make_user("county", world.county, username="county_office")


def test_county_creates_a_policy_and_reads_it_in_words(client, post, world, county_user):
    log_in(client, county_user)
    assert client.get("/subsidies/policies/new").status_code == 200
    response = post("/subsidies/policies/new", form(world.county.id,
                                                    equipment_rate_pct="７２.５％"))
    assert response.status_code == 302
    policy = db.session.scalars(select(SubsidyPolicy)).one()
    assert policy.equipment_rate_e4 == 7250 and policy.equipment_cap_fen == 740_000
    assert [r.unit_rate_e4 for r in policy.season_rates] == [2000, 2000, 1500]
    page = text(client.get(response.headers["Location"]))
    assert "72.5% of the invoice, at most 7,400.00 元" in page
    assert "3 heating seasons, 11-15 to 03-15 each" in page
    assert "usage up to 10,000 kWh per season" in page
    assert "0.15" in page
    listing = text(client.get("/subsidies/policies/?year=2026&type=electric"))
    assert "2026年煤改电补贴" in listing and "Current" in listing
    assert "2026年煤改电补贴" not in text(client.get("/subsidies/policies/?type=gas"))


@pytest.mark.parametrize("change,message", [
    ({"equipment_rate_pct": "85.125"}, "At most 2 decimal places."),
    ({"equipment_rate_pct": "八十五"}, "Enter a number such as 85, 72.5 or 7,400.00."),
    ({"equipment_rate_pct": ""}, "Enter the share of the invoice in percent"),
    ({"equipment_cap": ""}, "Enter the cap in 元."),
    ({"season_rates-1": ""}, "Rate for season 2: enter a value."),
    ({"season_rates-3": "0.1"}, "Season 4 has a rate but the policy pays 3 seasons"),
    ({"season_start": "11-31"}, "Season start and end are two different days"),
    ({"effective_to": "2025-01-01"}, "The policy cannot end before it takes effect."),
    ({"conversion_type": "gas", "device_kind": "heat_pump"},
     "This device kind does not match the conversion type."),
])
def test_bad_input_shows_a_message_and_saves_nothing(client, post, world, county_user, change,
                                                     message):
    log_in(client, county_user)
    response = post("/subsidies/policies/new", form(world.county.id, **change))
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "nothing has been saved yet" in page
    assert count() == 0


def test_overlap_is_explained_on_the_form(client, post, world, county_user):
    make_policy(world.county.id, county_user)
    log_in(client, county_user)
    page = text(post("/subsidies/policies/new", form(world.county.id)))
    assert "already applies to this programme year" in page
    assert count() == 1


def test_edit_while_unused(client, post, world, county_user):
    policy = make_policy(world.county.id, county_user)
    log_in(client, county_user)
    page = text(client.get(f"/subsidies/policies/{policy.id}/edit"))
    assert 'value="85"' in page and 'value="7400.00"' in page
    response = post(f"/subsidies/policies/{policy.id}/edit",
                    form(world.county.id, equipment_cap="7,000"))
    assert response.status_code == 302
    db.session.refresh(policy)
    assert policy.equipment_cap_fen == 700_000 and policy.version == 1


def test_in_use_edit_becomes_new_version(client, post, world, county_user):
    policy = make_policy(world.county.id, county_user)
    clerk = make_user("clerk", world.village_a1)
    case = make_case(world.village_a1, clerk, state="passed")
    freeze_on_notice(case, policy, make_user("reviewer", world.town_a))
    log_in(client, county_user)
    detail = text(client.get(f"/subsidies/policies/{policy.id}"))
    assert f"/subsidies/policies/{policy.id}/edit" not in detail
    assert "so it cannot be edited" in detail and "In use" in detail
    response = client.get(f"/subsidies/policies/{policy.id}/edit")
    assert response.headers["Location"].endswith(f"/subsidies/policies/{policy.id}/new-version")
    refused = post(f"/subsidies/policies/{policy.id}/edit", form(world.county.id))
    assert refused.status_code == 302
    db.session.refresh(policy)
    assert policy.equipment_cap_fen == 740_000
    page = text(client.get(f"/subsidies/policies/{policy.id}/new-version"))
    assert 'value="7400.00"' in page and "replaces version 1" in page
    response = post(f"/subsidies/policies/{policy.id}/new-version",
                    form(world.county.id, equipment_cap="8,000", programme_year="2030"))
    assert response.status_code == 302
    newer = db.session.scalars(select(SubsidyPolicy).where(SubsidyPolicy.version == 2)).one()
    assert newer.supersedes_id == policy.id and newer.equipment_cap_fen == 800_000
    assert newer.programme_year == 2026  # a new version keeps the year
    db.session.refresh(policy)
    assert policy.superseded_at is not None
    old_page = text(client.get(f"/subsidies/policies/{policy.id}"))
    assert "Replaced by version 2" in old_page and "Superseded" in old_page
    assert client.get(f"/subsidies/policies/{policy.id}/new-version").status_code == 302


def test_reviewer_reads_but_cannot_change(client, post, world, county_user):
    policy = make_policy(world.county.id, county_user)
    log_in(client, make_user("reviewer", world.town_b))
    assert client.get(f"/subsidies/policies/{policy.id}").status_code == 200
    assert "2026年煤改电补贴" in text(client.get("/subsidies/policies/"))
    assert post("/subsidies/policies/new", form(world.county.id)).status_code == 403
    assert post(f"/subsidies/policies/{policy.id}/edit",
                form(world.county.id, equipment_cap="1")).status_code == 403
    assert post(f"/subsidies/policies/{policy.id}/new-version",
                form(world.county.id)).status_code == 403
    db.session.refresh(policy)
    assert count() == 1 and policy.equipment_cap_fen == 740_000


def test_another_county_does_not_see_or_touch_the_policy(client, post, world, county_user):
    policy = make_policy(world.county.id, county_user)
    other = AreaFactory(code="139902000000", name="邻县", level="county")
    log_in(client, make_user("county", other))
    assert client.get(f"/subsidies/policies/{policy.id}").status_code == 404
    assert post(f"/subsidies/policies/{policy.id}/edit",
                form(world.county.id)).status_code == 404
    assert "2026年煤改电补贴" not in text(client.get("/subsidies/policies/"))
    # nor can it create one for a county it does not hold
    page = text(post("/subsidies/policies/new", form(world.county.id)))
    assert "Not a valid choice" in page
    assert count() == 1


def test_case_panel_computed_then_frozen(client, world, county_user):
    policy = make_policy(world.county.id, county_user, effective_from=date(2026, 1, 1))
    clerk = make_user("clerk", world.village_a1)
    case = make_case(world.village_a1, clerk, state="installed",
                     approved_at=datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
    log_in(client, clerk)
    page = text(client.get(f"/households/{case.id}"))
    assert "Cannot be computed yet:" in page and "No installation recorded yet" in page
    add_installation(case, D("8000.00"))
    page = text(client.get(f"/households/{case.id}"))
    assert "6,800.00 元" in page
    assert "85% × 8,000.00 = 6,800.00 ≤ 7,400.00 → 6,800.00" in page
    assert f"/subsidies/policies/{policy.id}" in page and "version 1" in page
    freeze_on_notice(case, policy, make_user("reviewer", world.town_a), amount_fen=612_345,
                     explanation="72% × 8,504.79 = 6,123.45")
    page = text(client.get(f"/households/{case.id}"))
    assert "6,123.45 元" in page and "frozen on notice GS-139901001-2026-001" in page
    assert "6,800.00 元" not in page


def test_case_panel_says_when_there_is_no_policy(client, world, county_user):
    clerk = make_user("clerk", world.village_a1)
    case = make_case(world.village_a1, clerk, state="approved",
                     approved_at=datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
    log_in(client, clerk)
    page = text(client.get(f"/households/{case.id}"))
    assert "No subsidy policy is in force for programme year 2026" in page


def test_no_panel_on_a_withdrawn_case(client, world, county_user):
    make_policy(world.county.id, county_user)
    clerk = make_user("clerk", world.village_a1)
    case = make_case(world.village_a1, clerk, state="withdrawn")
    log_in(client, clerk)
    assert "Equipment subsidy" not in text(client.get(f"/households/{case.id}"))


def test_the_recovery_period_is_entered_checked_and_shown(client, post, world, county_user):
    log_in(client, county_user)
    for bad in ("0", "11", "abc", "2.5"):
        response = post("/subsidies/policies/new", form(world.county.id, recovery_seasons=bad))
        assert response.status_code == 200 and count() == 0, bad
    response = post("/subsidies/policies/new", form(world.county.id, recovery_seasons="3"))
    assert response.status_code == 302
    policy = db.session.scalars(select(SubsidyPolicy)).one()
    assert policy.recovery_seasons == 3
    page = text(client.get(response.headers["Location"]))
    assert ("Equipment subsidy recovered on a rebound or removed device found within 3 "
            "heating seasons of payment") in page
    response = post(f"/subsidies/policies/{policy.id}/edit",
                    form(world.county.id, recovery_seasons=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(SubsidyPolicy, policy.id).recovery_seasons is None
    assert "No recovery" in text(client.get(f"/subsidies/policies/{policy.id}"))


def test_the_recovery_period_is_checked_by_the_service_too(world, county_user):
    with pytest.raises(SubsidyError) as err:
        make_policy(world.county.id, county_user, recovery_seasons=0)
    assert err.value.field == "recovery_seasons"
