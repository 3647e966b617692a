"""Subsidy policy services: which policy applies to a case, the amounts, and the edit /
new-version rules (audited, refused with a message, nothing half-saved)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.subsidies import calculator, services
from heating.subsidies.models import SubsidyPolicy
from heating.subsidies.services import SubsidyError
from tests.factories import AreaFactory
from tests.fixtures import en, make_case, make_user
from tests.subsidies.support import (
    D,
    add_installation,
    freeze_on_notice,
    make_policy,
    policy_data,
)


@pytest.fixture
def county_user(world):
    return make_user("county", world.county, username="county_office")


@pytest.fixture
def clerk(world):
    return make_user("clerk", world.village_a1, username="clerk_a1")


def approved_case(world, clerk, approved_at=datetime(2026, 3, 1, 2, tzinfo=timezone.utc), **kw):
    return make_case(world.village_a1, clerk, state="approved", approved_at=approved_at, **kw)


def count_policies():
    return db.session.scalar(select(func.count()).select_from(SubsidyPolicy))


def test_kind_specific_policy_beats_the_policy_for_every_kind(world, county_user, clerk):
    general = make_policy(world.county.id, county_user)
    pump = make_policy(world.county.id, county_user, device_kind="heat_pump",
                       name="热泵专项", equipment_cap=D("9000"))
    heat_pump_case = approved_case(world, clerk, device_kind="heat_pump")
    storage_case = approved_case(world, clerk, device_kind="storage_heater")
    assert services.policy_for(heat_pump_case) == pump
    assert services.policy_for(storage_case) == general


def test_effective_dates_follow_the_beijing_approval_date(world, county_user, clerk):
    first_half = make_policy(world.county.id, county_user, effective_to=date(2026, 6, 30))
    second_half = make_policy(world.county.id, county_user, name="下半年",
                              effective_from=date(2026, 7, 1))
    assert (first_half.version, second_half.version) == (1, 2)
    # 2026-06-30 17:00 UTC is 2026-07-01 01:00 in Beijing: the second policy applies
    late = approved_case(world, clerk,
                         approved_at=datetime(2026, 6, 30, 17, tzinfo=timezone.utc))
    early = approved_case(world, clerk,
                          approved_at=datetime(2026, 6, 30, 15, tzinfo=timezone.utc))
    assert services.policy_for(late) == second_half
    assert services.policy_for(early) == first_half
    assert services.policy_for(early, on=date(2026, 8, 1)) == second_half


def test_no_policy_outside_year_type_county_or_dates(world, county_user, clerk):
    make_policy(world.county.id, county_user, effective_from=date(2026, 3, 1))
    # approved on 2026-03-01 (Beijing): the first day counts
    assert services.policy_for(approved_case(world, clerk)) is not None
    case = approved_case(world, clerk, approved_at=datetime(2026, 2, 28, 1, tzinfo=timezone.utc))
    assert services.policy_for(case) is None
    assert services.policy_for(approved_case(world, clerk, programme_year=2025)) is None
    assert services.policy_for(approved_case(world, clerk, conversion_type="gas",
                                             device_kind="gas_boiler")) is None
    other_county = AreaFactory(code="139902000000", name="邻县", level="county")
    other_user = make_user("county", other_county)
    make_policy(other_county.id, other_user, effective_from=date(2026, 1, 1))
    with pytest.raises(SubsidyError) as err:
        services.equipment_amount(case)
    assert err.value.code == "no_policy"
    assert "2026" in str(err.value.message)


def test_two_counties_each_have_their_own_version_1(world, county_user):
    other_county = AreaFactory(code="139902000000", name="邻县", level="county")
    other = make_policy(other_county.id, make_user("county", other_county))
    mine = make_policy(world.county.id, county_user)
    assert other.version == mine.version == 1


def test_equipment_amount_from_the_invoice_with_its_explanation(world, county_user, clerk):
    policy = make_policy(world.county.id, county_user)
    case = approved_case(world, clerk)
    with pytest.raises(SubsidyError) as err:
        services.equipment_amount(case)
    assert err.value.code == "no_installation"
    add_installation(case, D("8000.00"))
    used, amount = services.equipment_amount(case)
    assert used == policy
    assert amount.value == D("6800.00") and amount.fen == 680_000
    assert amount.explanation == "85% × 8,000.00 = 6,800.00 ≤ 7,400.00 → 6,800.00"
    capped = approved_case(world, clerk)
    add_installation(capped, D("10000.00"))
    assert services.equipment_amount(capped)[1].value == D("7400.00")


def test_equipment_amount_per_square_metre(world, county_user, clerk):
    make_policy(world.county.id, county_user, equipment_method="area_rate",
                equipment_rate_pct=None, area_rate=D("100"), equipment_cap=D("12000"))
    case = approved_case(world, clerk, heated_area=D("80.50"))
    _, amount = services.equipment_amount(case)  # no installation needed for this method
    assert amount.value == D("8050.00")
    assert amount.explanation == "100.00 元/m² × 80.50 m² = 8,050.00 ≤ 12,000.00 → 8,050.00"


def test_running_amount_per_season_with_the_cap_and_tapering_rate(world, county_user):
    policy = make_policy(world.county.id, county_user)
    assert services.running_amount(policy, season_no=1, usage=D("3000")).value == D("600.00")
    third = services.running_amount(policy, season_no=3, usage=D("12000"))
    assert third.value == D("1500.00")
    with pytest.raises(SubsidyError) as err:
        services.running_amount(policy, season_no=4, usage=D("100"))
    assert err.value.code == "season_out_of_range"


def test_stored_terms_are_the_scaled_integers(world, county_user):
    policy = make_policy(world.county.id, county_user, equipment_rate_pct=D("72.5"),
                         season_rates={1: D("0.2"), 2: D("0.1825"), 3: D("0.15")})
    assert policy.equipment_rate_e4 == 7250 and policy.equipment_cap_fen == 740_000
    assert [r.unit_rate_e4 for r in policy.season_rates] == [2000, 1825, 1500]
    assert services.terms(policy).equipment_rate == D("0.725")


def test_create_is_audited(world, county_user):
    policy = make_policy(world.county.id, county_user)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "policy.create")).one()
    assert event.object_id == str(policy.id) and event.actor_id == county_user.id
    assert '"equipment_rate_e4": 8500' in event.after


def test_update_while_unused_changes_terms_and_audits_before_after(world, county_user):
    policy = make_policy(world.county.id, county_user)
    services.update_policy(policy, policy_data(world.county.id, equipment_rate_pct=D("90")),
                           county_user)
    db.session.commit()
    assert policy.equipment_rate_e4 == 9000 and policy.version == 1
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "policy.update")).one()
    assert event.before == '{"equipment_rate_e4": 8500}'
    assert event.after == '{"equipment_rate_e4": 9000}'


def test_a_policy_in_use_is_locked_and_replaced_by_a_new_version(world, county_user, clerk):
    policy = make_policy(world.county.id, county_user)
    case = approved_case(world, clerk)
    reviewer = make_user("reviewer", world.town_a)
    assert not services.policy_in_use(policy)
    entry = freeze_on_notice(case, policy, reviewer)
    assert services.policy_in_use(policy)

    with pytest.raises(SubsidyError) as err:
        services.update_policy(policy, policy_data(world.county.id,
                                                   equipment_rate_pct=D("90")), county_user)
    db.session.rollback()
    assert err.value.code == "in_use" and "new version" in en(err.value.message)
    db.session.refresh(policy)
    assert policy.equipment_rate_e4 == 8500

    newer = services.new_version(policy, policy_data(world.county.id,
                                                     equipment_rate_pct=D("90")), county_user)
    db.session.commit()
    assert (newer.version, newer.supersedes_id, newer.equipment_rate_e4) == (2, policy.id, 9000)
    assert policy.superseded_at is not None and newer.superseded_at is None
    assert services.policy_for(case) == newer
    assert entry.policy_id == policy.id  # the frozen amount keeps its version
    assert services.versions(policy) == [policy, newer] == services.versions(newer)
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "subsidy_policy")))
    assert {"policy.new_version", "policy.supersede"} <= actions
    new_event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "policy.new_version")).one()
    assert '"equipment_rate_e4": 9000' in new_event.after
    assert '"equipment_rate_e4": 8500' in new_event.before

    with pytest.raises(SubsidyError) as err:
        services.new_version(policy, policy_data(world.county.id), county_user)
    assert err.value.code == "superseded"
    db.session.rollback()
    assert count_policies() == 2


def test_new_version_keeps_county_year_type_and_kind(world, county_user):
    policy = make_policy(world.county.id, county_user, device_kind="heat_pump")
    newer = services.new_version(policy, policy_data(
        world.county.id, programme_year=2030, conversion_type="gas", device_kind=""),
        county_user)
    assert (newer.programme_year, newer.conversion_type, newer.device_kind) == (
        2026, "electric", "heat_pump")


def test_overlapping_policies_are_refused(world, county_user):
    make_policy(world.county.id, county_user, effective_to=date(2026, 12, 31))
    with pytest.raises(SubsidyError) as err:
        services.create_policy(policy_data(world.county.id, effective_from=date(2026, 12, 31)),
                               county_user)
    db.session.rollback()
    assert err.value.code == "overlap" and err.value.field == "effective_from"
    assert count_policies() == 1
    # after its end, for another kind, or for gas: no overlap
    make_policy(world.county.id, county_user, effective_from=date(2027, 1, 1))
    make_policy(world.county.id, county_user, device_kind="heat_pump")
    make_policy(world.county.id, county_user, conversion_type="gas")
    assert count_policies() == 4


BAD = [
    ({"equipment_rate_pct": D("0")}, "equipment_rate_pct"),
    ({"equipment_rate_pct": D("100.5")}, "equipment_rate_pct"),
    ({"equipment_rate_pct": D("85.125")}, "equipment_rate_pct"),
    ({"equipment_rate_pct": None}, "equipment_rate_pct"),
    ({"equipment_method": "area_rate"}, "area_rate"),
    ({"equipment_cap": D("-1")}, "equipment_cap"),
    ({"equipment_cap": D("7400.001")}, "equipment_cap"),
    ({"season_rates": {1: D("0.2"), 3: D("0.2")}}, "season_rates"),
    ({"season_rates": {1: D("0.2"), 2: D("0.2"), 3: D("0.2"), 4: D("0.2")}}, "season_rates"),
    ({"season_rates": {1: D("0.2"), 2: D("0"), 3: D("0.2")}}, "season_rates"),
    ({"season_rates": {1: D("0.20001"), 2: D("0.2"), 3: D("0.2")}}, "season_rates"),
    ({"season_start": "13-01"}, "season_start"),
    ({"season_end": "02-29"}, "season_start"),
    ({"season_end": "11-15"}, "season_start"),
    ({"seasons": 11}, "seasons"),
    ({"running_cap_units": 0}, "running_cap_units"),
    ({"effective_to": date(2025, 12, 31)}, "effective_to"),
    ({"conversion_type": "gas"}, None),  # keeps device_kind "" → valid; see next
    ({"conversion_type": "gas", "device_kind": "heat_pump"}, "device_kind"),
    ({"name": "  "}, "name"),
    ({"programme_year": 1999}, "programme_year"),
]


@pytest.mark.parametrize("change,field", BAD)
def test_bad_terms_are_refused_on_their_field_and_nothing_is_saved(world, county_user,
                                                                   change, field):
    data = policy_data(world.county.id, **change)
    if field is None:
        services.create_policy(data, county_user)  # the control: valid data saves
        assert count_policies() == 1
        return
    with pytest.raises(SubsidyError) as err:
        services.create_policy(data, county_user)
    db.session.rollback()
    assert err.value.field == field
    assert str(err.value.message)
    assert count_policies() == 0


def test_only_the_county_office_of_that_county_manages_policies(world, county_user):
    reviewer = make_user("reviewer", world.town_a)
    other_county = AreaFactory(code="139902000000", name="邻县", level="county")
    stranger = make_user("county", other_county)
    for actor in (reviewer, stranger):
        with pytest.raises(SubsidyError) as err:
            services.create_policy(policy_data(world.county.id), actor)
        assert err.value.code == "not_allowed"
    policy = make_policy(world.county.id, county_user)
    with pytest.raises(SubsidyError):
        services.update_policy(policy, policy_data(world.county.id), stranger)
    with pytest.raises(SubsidyError):
        services.new_version(policy, policy_data(world.county.id), stranger)
    db.session.rollback()
    assert count_policies() == 1 and policy.superseded_at is None


def test_case_subsidy_shows_the_frozen_amount_once_on_a_notice(world, county_user, clerk):
    policy = make_policy(world.county.id, county_user)
    case = approved_case(world, clerk)
    add_installation(case, D("8000.00"))
    computed = services.case_subsidy(case)
    assert (computed.amount_fen, computed.notice, computed.estimate) == (680_000, None, False)
    reviewer = make_user("reviewer", world.town_a)
    entry = freeze_on_notice(case, policy, reviewer, amount_fen=612_300, explanation="frozen")
    frozen = services.case_subsidy(case)
    assert (frozen.amount_fen, frozen.explanation, frozen.notice.number) == (
        612_300, "frozen", "GS-139901001-2026-001")
    entry.state = "removed"
    db.session.commit()
    assert services.case_subsidy(case).amount_fen == 680_000


def test_case_subsidy_before_approval_is_an_estimate(world, county_user, clerk):
    make_policy(world.county.id, county_user, effective_from=date(2020, 1, 1))
    case = make_case(world.village_a1, clerk)
    info = services.case_subsidy(case)
    assert info.estimate and info.amount_fen is None
    assert "installation" in en(info.problem)


def test_decimal_inputs_only(world, county_user):
    policy = make_policy(world.county.id, county_user)
    with pytest.raises(TypeError):
        services.running_amount(policy, season_no=1, usage=1.5)
    assert services.running_amount(policy, season_no=1, usage=Decimal(2)).value == D("0.40")


def test_freezing_takes_the_same_amount_under_a_lock(world, county_user, clerk):
    make_policy(world.county.id, county_user)
    case = approved_case(world, clerk)
    add_installation(case, D("8000.00"))
    assert services.equipment_amount(case, freeze=True)[1].fen == 680_000


def test_running_words_in_chinese_are_the_stored_words(app):
    """The screen's Chinese (catalog) and the stored explanation (calculator) say the same."""
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        words = services.running_words()
    assert (words.within_cap, words.over_cap, words.no_cap) == (
        calculator.CHINESE.within_cap, calculator.CHINESE.over_cap, calculator.CHINESE.no_cap)
    assert dict(words.units) == dict(calculator.CHINESE.units)
    with app.test_request_context(), force_locale("en"):
        assert services.running_explanation(
            {"usage": "800.00", "unit": "m³", "rate": "0.80"}, 64000, "stored") == \
            "800.00 m³ counted, × 0.80 yuan/m³ = 640.00 yuan"
        assert services.running_explanation({}, 64000, "stored") == "stored"
        assert services.running_explanation(None, None, "stored") == "stored"
