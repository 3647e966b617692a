"""回头看 campaigns on the database: the frozen population, one draw and never another, the
reproduction from the stored seed (and the command that detects a tampered sample), overlap
approval by a second county user, visits assigned to the township's inspectors and done when
a follow-up is recorded, progress, scope, and the pages in both languages."""
from __future__ import annotations

import html
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from heating.audit.models import AuditEvent
from heating.core.i18n import local_today
from heating.extensions import db
from heating.households.services import CaseError
from heating.inspections import campaign_visits, campaigns, followups
from heating.inspections.campaign_models import CampaignCase, FollowUpCampaign
from heating.inspections.models import Installation
from tests.factories import AreaFactory
from tests.fixtures import en, log_in, make_user, says
from tests.inspections.support import OTHER_CREDIT_CODE, company
from tests.payouts.usage_helpers import paid_case

Request = campaigns.CampaignRequest


@pytest.fixture
def people(world):
    clerk_a = make_user("clerk", world.village_a1, username="clerk_a")
    clerk_b = make_user("clerk", world.village_b1, username="clerk_b")
    inspector = make_user("inspector", world.town_a, username="insp_a")
    return clerk_a, clerk_b, inspector


@pytest.fixture
def paid(world, people):
    """30 paid cases in township A (two villages), 8 in township B, one confirmed (not paid)
    and one paid case of the next programme year."""
    clerk_a, clerk_b, inspector = people
    a = [paid_case(world.village_a1 if i % 2 else world.village_a2, clerk_a, inspector,
                   f"EA{i:03d}") for i in range(30)]
    b = [paid_case(world.village_b1, clerk_b, inspector, f"EB{i:03d}") for i in range(8)]
    paid_case(world.village_a1, clerk_a, inspector, "EC001", state="confirmed")
    paid_case(world.village_a1, clerk_a, inspector, "EC002", programme_year=2027)
    return a, b


@pytest.fixture
def county(world):
    return make_user("county", world.county, username="county1")


def _create(county_user, world, **kw):
    request = Request(**{"name": "2026年冬季回头看", "programme_year": 2026, **kw})
    campaign = campaigns.create_campaign(world.county, request, county_user)
    db.session.commit()
    return campaign


def _draws(campaign):
    return campaigns.draw_counts([campaign.id])[campaign.id]


# --- population, draw, no redraw, verification --------------------------------------------------

def test_the_population_is_frozen_paid_cases_of_the_year_and_townships(world, paid, county):
    a, b = paid
    campaign = _create(county, world, rate_percent=5)
    stored = {m.case_id for m in campaigns.members(campaign)}
    assert stored == {c.id for c in a + b} and campaign.population_size == 38
    assert campaign.state == "ready" and campaign.seed is None
    only_b = _create(county, world, name="西山乡", township_ids=[world.town_b.id],
                     reason="西山乡专项")
    assert {m.case_id for m in campaigns.members(only_b)} == {c.id for c in b}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.created")
                              .order_by(AuditEvent.id))
    facts = json.loads(event.after)
    assert facts["population"] == 38 and facts["population_sha256"] == campaign.population_sha256


def test_a_drawn_sample_is_stratified_stored_audited_and_never_drawn_again(world, paid, county):
    campaign = _create(county, world, rate_percent=5)
    chosen = campaigns.draw(campaign, county)
    db.session.commit()
    strata = {t.id: (n, k) for t, n, k in campaigns.strata(campaign)}
    assert strata == {world.town_a.id: (30, 2), world.town_b.id: (8, 1)}
    assert campaign.state == "drawn" and len(campaign.seed) == 64 and campaign.sample_size == 3
    assert campaign.drawn_by_id == county.id and campaign.drawn_at is not None
    assert set(campaigns.stored_sample(campaign)) == set(chosen)
    with pytest.raises(CaseError) as refused:
        campaigns.draw(campaign, county)
    assert "drawn once and never again" in en(refused.value.message)
    db.session.rollback()
    assert _draws(campaign) == 1
    assert campaigns.verify(campaign).ok


def test_verification_finds_a_tampered_sample_and_a_changed_population(world, paid, county):
    campaign = _create(county, world, rate_percent=10)
    campaigns.draw(campaign, county)
    db.session.commit()
    assert campaigns.verify(campaign).ok
    outside = db.session.scalar(select(CampaignCase).where(
        CampaignCase.campaign_id == campaign.id, CampaignCase.in_sample.is_(False)).limit(1))
    db.session.execute(update(CampaignCase).where(CampaignCase.id == outside.id)
                       .values(in_sample=True, by_rate=True))
    db.session.commit()
    result = campaigns.verify(campaign)
    assert not result.ok
    assert any(f"in the stored sample but not drawn: cases {outside.household_id}" in p
               for p in result.problems)
    db.session.execute(update(CampaignCase).where(CampaignCase.id == outside.id)
                       .values(in_sample=False, by_rate=False))
    db.session.delete(db.session.scalar(select(CampaignCase).where(
        CampaignCase.campaign_id == campaign.id, CampaignCase.in_sample.is_(False)).limit(1)))
    db.session.commit()
    assert any("population" in p for p in campaigns.verify(campaign).problems)


def test_the_verify_command_exits_0_when_it_agrees_and_1_when_tampered(app, world, paid,
                                                                        county):
    campaign = _create(county, world, rate_percent=5, first_n=1)
    company_id = company(world.county).id
    db.session.execute(update(CampaignCase).where(CampaignCase.campaign_id == campaign.id)
                       .values(installer_company_id=company_id))
    # the population's company column is frozen at creation: set before the draw here
    campaigns.draw(campaign, county)
    db.session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["follow-up-sample", "--verify", str(campaign.id)])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output and "NOT" not in ok.output
    inside = db.session.scalar(select(CampaignCase).where(
        CampaignCase.campaign_id == campaign.id, CampaignCase.in_sample).limit(1))
    db.session.execute(update(CampaignCase).where(CampaignCase.id == inside.id)
                       .values(in_sample=False, by_rate=False, by_installer=False))
    db.session.commit()
    bad = runner.invoke(args=["follow-up-sample", "--verify", str(campaign.id)])
    assert bad.exit_code == 1
    assert "NOT verified" in bad.output
    assert f"drawn but not in the stored sample: cases {inside.household_id}" in bad.output
    missing = runner.invoke(args=["follow-up-sample", "--verify", "999999"])
    assert missing.exit_code != 0 and "no follow-up campaign 999999" in missing.output
    undrawn = _create(county, world, name="未抽", township_ids=[world.town_b.id],
                      reason="复查")
    out = runner.invoke(args=["follow-up-sample", "--verify", str(undrawn.id)])
    assert out.exit_code == 1 and "has not been drawn" in out.output


def test_first_n_installations_of_every_company(world, paid, county):
    a, b = paid
    gas, power = company(world.county), company(world.county, "县供电公司", OTHER_CREDIT_CODE)
    for n, case in enumerate(a[:6]):
        inst = db.session.scalar(select(Installation).where(Installation.household_id == case.id))
        inst.installer_company_id = (gas if n < 4 else power).id
        inst.install_date = date(2025, 9, 10) - timedelta(days=n)
    db.session.commit()
    campaign = _create(county, world, rate_percent=1, first_n=2)
    campaigns.draw(campaign, county)
    db.session.commit()
    by_installer = {i for i, why in campaigns.stored_sample(campaign).items()
                    if why.by_installer}
    # the earliest two of each company: gas a[3], a[2]; power a[5], a[4]
    assert by_installer == {a[2].id, a[3].id, a[4].id, a[5].id}
    assert campaigns.verify(campaign).ok


# --- overlap, maker-checker ---------------------------------------------------------------------

def test_an_overlapping_campaign_needs_a_reason_and_a_second_county_user(world, paid, county):
    first = _create(county, world)
    with pytest.raises(CaseError) as refused:
        _create(county, world, name="第二次", township_ids=[world.town_a.id])
    assert refused.value.field == "reason" and f"#{first.id}" in en(refused.value.message)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FollowUpCampaign)) == 1
    second = _create(county, world, name="第二次", township_ids=[world.town_a.id],
                     reason="群众举报东河镇复烧")
    assert second.state == "pending_approval" and second.overlaps == [first.id]
    with pytest.raises(CaseError):
        campaigns.draw(second, county)
    db.session.rollback()
    with pytest.raises(CaseError) as refused:
        campaigns.approve(second, county)
    assert "another county user approves it" in en(refused.value.message)
    db.session.rollback()
    colleague = make_user("county", world.county, username="county2")
    campaigns.approve(second, colleague)
    db.session.commit()
    assert second.state == "ready" and second.approved_by_id == colleague.id
    campaigns.draw(second, county)
    db.session.commit()
    assert _draws(second) == 1 and _draws(first) == 0


def test_a_closed_campaign_does_not_block_and_other_townships_do_not_overlap(world, paid,
                                                                            county):
    first = _create(county, world, township_ids=[world.town_a.id])
    other = _create(county, world, name="西山乡", township_ids=[world.town_b.id])
    assert other.state == "ready"
    campaigns.close(first, county)
    db.session.commit()
    again = _create(county, world, name="东河镇再查", township_ids=[world.town_a.id])
    assert again.state == "ready"


def test_the_database_refuses_to_replace_a_stored_seed(world, paid, county):
    campaign = _drawn(county, world)
    seed = campaign.seed
    with pytest.raises(DBAPIError):
        db.session.execute(update(FollowUpCampaign).where(FollowUpCampaign.id == campaign.id)
                           .values(seed="00" * 32))
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(update(FollowUpCampaign).where(FollowUpCampaign.id == campaign.id)
                           .values(seed=None, drawn_at=None))
    db.session.rollback()
    db.session.refresh(campaign)
    assert campaign.seed == seed
    campaigns.close(campaign, county)  # other changes of a drawn campaign are allowed
    db.session.commit()


def test_the_database_refuses_an_approval_by_the_requester(world, paid, county):
    campaign = _create(county, world)
    campaign.approved_by_id = county.id
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("role,area", [("reviewer", "town_a"), ("inspector", "town_a"),
                                       ("auditor", "county"), ("finance", "county")])
def test_only_county_staff_name_campaigns(world, paid, role, area):
    user = make_user(role, getattr(world, area))
    with pytest.raises(CaseError):
        campaigns.create_campaign(world.county, Request("x", 2026), user)


def test_bad_requests_are_refused_with_a_field(world, paid, county):
    far = AreaFactory(code="139902000000", name="邻县", level="county")
    far_town = AreaFactory(code="139902001000", name="邻镇", level="township", parent=far)
    db.session.commit()
    for request, field in ((Request("", 2026), "name"), (Request("x", 2026, rate_percent=0),
                                                         "rate_percent"),
                           (Request("x", 2026, first_n=101), "first_n"),
                           (Request("x", 2026, township_ids=[far_town.id]), "township_ids")):
        with pytest.raises(CaseError) as refused:
            campaigns.create_campaign(world.county, request, county)
        assert refused.value.field == field
    with pytest.raises(CaseError) as refused:
        campaigns.create_campaign(world.county, Request("x", 2019), county)
    assert "nothing to draw from" in en(refused.value.message)
    with pytest.raises(CaseError):
        campaigns.create_campaign(far, Request("x", 2026), county)


# --- visits, progress, scope ----------------------------------------------------------------------

def _drawn(county, world, **kw):
    campaign = _create(county, world, **kw)
    campaigns.draw(campaign, county)
    db.session.commit()
    return campaign


def test_visits_go_to_the_townships_inspectors_and_are_done_by_a_follow_up(world, paid,
                                                                          county, people):
    _, _, inspector = people
    campaign = _drawn(county, world, rate_percent=10)  # A: 3, B: 1
    reviewer = make_user("reviewer", world.town_a)
    rows = campaign_visits.sample_rows(campaign)
    in_a = [r for r in rows if r.case.township_id == world.town_a.id]
    in_b = [r for r in rows if r.case.township_id == world.town_b.id]
    assert len(in_a) == 3 and len(in_b) == 1
    today = local_today()
    other_inspector = make_user("inspector", world.town_b)
    with pytest.raises(CaseError) as refused:
        campaign_visits.assign_visit(in_a[0].visit, other_inspector, today, reviewer, today)
    assert refused.value.field == "inspector_id"
    db.session.rollback()
    with pytest.raises(CaseError):  # a township A reviewer does not assign township B's visit
        campaign_visits.assign_visit(in_b[0].visit, other_inspector, today, reviewer, today)
    db.session.rollback()
    with pytest.raises(CaseError) as refused:
        campaign_visits.assign_visit(in_a[0].visit, inspector, today - timedelta(days=1),
                                     reviewer, today)
    assert refused.value.field == "visit_date"
    db.session.rollback()
    for r in in_a:
        campaign_visits.assign_visit(r.visit, inspector, today, reviewer, today)
    db.session.commit()
    mine = campaign_visits.visit_worklist(inspector, today)
    assert {r.case.id for r in mine.due} == {r.case.id for r in in_a}
    assert campaign_visits.visit_worklist(other_inspector, today).due == []
    followups.record_follow_up(in_a[0].case, inspector, result="rebound", visited_on=today,
                               note="复烧")
    followups.record_follow_up(in_a[1].case, inspector, result="ok", visited_on=today,
                               note=None)
    db.session.commit()
    mine = campaign_visits.visit_worklist(inspector, today)
    assert len(mine.due) == 1 and len(mine.done) == 2
    progress = campaign_visits.campaign_progress(county, 2026)
    assert progress == [{
        "campaign_id": campaign.id, "name": campaign.name, "state": "drawn",
        "programme_year": 2026, "drawn_at": campaign.drawn_at, "sampled": 4, "visited": 2,
        "outstanding": 2, "assigned": 3,
        "results": {"ok": 1, "rebound": 1, "device_removed": 0, "house_empty": 0}}]
    # a township B reviewer sees township B's part only; nothing for another year
    (b_part,) = campaign_visits.campaign_progress(make_user("reviewer", world.town_b), 2026)
    assert (b_part["sampled"], b_part["visited"]) == (1, 0)
    assert campaign_visits.campaign_progress(county, 2027) == []


def test_a_follow_up_recorded_before_the_draw_does_not_count(world, paid, county, people):
    a, _ = paid
    _, _, inspector = people
    for case in a:
        followups.record_follow_up(case, inspector, result="ok", visited_on=local_today(),
                                   note=None)
    db.session.commit()
    campaign = _drawn(county, world)
    (progress,) = campaign_visits.campaign_progress(county, 2026)
    assert progress["visited"] == 0 and progress["sampled"] == campaign.sample_size


# --- pages --------------------------------------------------------------------------------------

def _body(r):
    return html.unescape(r.get_data(as_text=True))


def test_county_staff_create_and_draw_on_the_pages_and_cannot_redraw(app, client, post, world,
                                                                     paid, county):
    log_in(client, county)
    r = client.get("/inspections/campaigns/new")
    assert r.status_code == 200 and f'value="{world.town_a.id}"' in _body(r)
    # the form proposes the latest programme year with a paid case (the fixture's 2027 one)
    assert 'name="programme_year" type="number" value="2027"' in _body(r) or \
        'value="2027"' in _body(r)
    r = post("/inspections/campaigns/new", {"name": "冬季回头看", "programme_year": "2026",
                                            "rate_percent": "5", "first_n": "0"})
    campaign = db.session.scalar(select(FollowUpCampaign))
    assert r.status_code == 302 and r.headers["Location"].endswith(
        f"/inspections/campaigns/{campaign.id}")
    page = client.get(f"/inspections/campaigns/{campaign.id}")
    assert f"/inspections/campaigns/{campaign.id}/draw" in _body(page)
    r = post(f"/inspections/campaigns/{campaign.id}/draw")
    assert r.status_code == 302
    page = client.get(f"/inspections/campaigns/{campaign.id}")
    body = _body(page)
    assert "Sample drawn: 3 cases. It cannot be drawn again." in body
    assert f"/inspections/campaigns/{campaign.id}/draw" not in body
    db.session.refresh(campaign)
    assert campaign.seed in body
    r = post(f"/inspections/campaigns/{campaign.id}/draw")
    assert r.status_code == 302
    assert "drawn once and never again" in _body(client.get(
        f"/inspections/campaigns/{campaign.id}"))
    assert _draws(campaign) == 1


def test_overlap_on_the_pages_needs_a_reason_and_another_approver(app, client, post, world,
                                                                  paid, county):
    first = _create(county, world)
    log_in(client, county)
    data = {"name": "再查", "programme_year": "2026", "rate_percent": "5", "first_n": "0"}
    r = post("/inspections/campaigns/new", data)
    assert r.status_code == 200 and "give the reason" in _body(r)
    r = post("/inspections/campaigns/new", {**data, "reason": "举报"})
    second = db.session.scalar(select(FollowUpCampaign).where(FollowUpCampaign.id != first.id))
    assert second.state == "pending_approval"
    page = _body(client.get(f"/inspections/campaigns/{second.id}"))
    assert f"/inspections/campaigns/{second.id}/approve" not in page  # not for the requester
    post(f"/inspections/campaigns/{second.id}/approve")
    db.session.refresh(second)
    assert second.state == "pending_approval"
    log_in(client, make_user("county", world.county, username="county2"))
    page = _body(client.get(f"/inspections/campaigns/{second.id}"))
    assert f"/inspections/campaigns/{second.id}/approve" in page
    post(f"/inspections/campaigns/{second.id}/approve")
    db.session.refresh(second)
    assert second.state == "ready"


def test_the_auditor_sees_every_campaign_with_its_draw_count(app, client, world, paid, county):
    drawn = _drawn(county, world, township_ids=[world.town_a.id])
    waiting = _create(county, world, name="西山乡", township_ids=[world.town_b.id])
    log_in(client, make_user("auditor", world.county))
    r = client.get("/inspections/campaigns")
    body = _body(r)
    assert r.status_code == 200 and drawn.name in body and waiting.name in body
    rows = body.split("<tr>")
    assert any(drawn.name in row and "<strong>1</strong>" in row for row in rows)
    assert any(waiting.name in row and "<strong>0</strong>" in row for row in rows)
    page = client.get(f"/inspections/campaigns/{drawn.id}")
    assert page.status_code == 200 and "/draw" not in _body(page)


def test_scope_other_county_404_and_township_staff_without_campaign_pages(app, client, post,
                                                                          world, paid, county):
    campaign = _drawn(county, world)
    far = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    log_in(client, make_user("county", far))
    assert client.get(f"/inspections/campaigns/{campaign.id}").status_code == 404
    assert post(f"/inspections/campaigns/{campaign.id}/close").status_code == 404
    log_in(client, make_user("reviewer", world.town_a))
    assert client.get(f"/inspections/campaigns/{campaign.id}").status_code == 404
    assert client.get("/inspections/campaigns").status_code == 403
    log_in(client, make_user("finance", world.county))
    assert client.get(f"/inspections/campaigns/{campaign.id}").status_code == 403
    db.session.refresh(campaign)
    assert campaign.state == "drawn"


def test_the_visit_worklist_and_assignment_on_the_phone_pages(app, client, post, world, paid,
                                                              county, people):
    _, _, inspector = people
    campaign = _drawn(county, world, rate_percent=10)
    rows = campaign_visits.sample_rows(campaign)
    a_row = next(r for r in rows if r.case.township_id == world.town_a.id)
    b_row = next(r for r in rows if r.case.township_id == world.town_b.id)
    reviewer = make_user("reviewer", world.town_a)
    log_in(client, reviewer, lang="zh_Hans_CN")
    page = client.get("/inspections/follow-up-visits")
    body = _body(page)
    assert page.status_code == 200 and "回头看" in body
    assert a_row.case.head_name in body and b_row.case.head_name not in body
    today = local_today().isoformat()
    r = post(f"/inspections/follow-up-visits/{a_row.visit.id}/assign",
             {"inspector_id": str(inspector.id), "visit_date": today})
    assert r.status_code == 302
    assert post(f"/inspections/follow-up-visits/{b_row.visit.id}/assign",
                {"inspector_id": str(inspector.id), "visit_date": today}).status_code == 404
    for bad in ({"inspector_id": "99999999999999999999", "visit_date": today},
                {"inspector_id": "abc", "visit_date": today},
                {"inspector_id": str(inspector.id), "visit_date": "9999-99-99"}):
        r = post(f"/inspections/follow-up-visits/{a_row.visit.id}/assign", bad)
        assert r.status_code == 302, bad
    log_in(client, inspector)
    body = _body(client.get("/inspections/follow-up-visits"))
    assert a_row.case.head_name in body and f"/households/{a_row.case.id}#follow-ups" in body
    log_in(client, make_user("inspector", world.town_b))
    body = _body(client.get("/inspections/follow-up-visits"))
    assert a_row.case.head_name not in body
    log_in(client, make_user("clerk", world.village_a1))
    assert client.get("/inspections/follow-up-visits").status_code == 403


def test_the_campaign_page_in_chinese_shows_progress(app, client, world, paid, county, people):
    _, _, inspector = people
    campaign = _drawn(county, world)
    case = campaign_visits.sample_rows(campaign)[0].case
    followups.record_follow_up(case, inspector, result="device_removed",
                               visited_on=local_today(), note="设备已拆")
    db.session.commit()
    log_in(client, county, lang="zh_Hans_CN")
    r = client.get(f"/inspections/campaigns/{campaign.id}")
    assert r.status_code == 200 and 'lang="zh' in _body(r)
    assert says(r, "Visited") and says(r, "Device removed")
    assert says(r, "Anyone can reproduce the draw from the stored population and seed:")
    assert f"flask --app wsgi follow-up-sample --verify {campaign.id}</code>" in _body(r)
