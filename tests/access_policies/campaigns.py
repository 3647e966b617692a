"""回头看 campaigns and installer companies.  A campaign and a company are county records: in
scope of county-wide grants only (a township reviewer or inspector and a village clerk get
404 on them, like anyone of another county); campaigns are read by county staff and the
auditor, named, drawn and closed by county staff; installer companies are kept by county
staff.  The visits' worklist is the inspectors', reviewers' and county staff's; a visit (a
case of a drawn campaign) is in scope where its case is and assigned by the township
reviewer or county staff."""
from __future__ import annotations

from datetime import date
from typing import Any

from heating.extensions import db
from heating.inspections import campaigns
from heating.inspections.campaign_models import CampaignCase
from tests.fixtures import make_user
from tests.inspections.support import OTHER_CREDIT_CODE, company

ANON = "anonymous"
COUNTY_RECORD = {"clerk": 404, "reviewer": 404, "inspector": 404}


def _campaign(ctx: Any, drawn: bool = False) -> int:
    maker = make_user("county", ctx.world.county, username="matrix_campaigner")
    campaign = campaigns.create_campaign(
        ctx.world.county, campaigns.CampaignRequest("矩阵抽查", 2026), maker)
    if drawn:
        campaigns.draw(campaign, maker)
    db.session.commit()
    return campaign.id


def _visit(ctx: Any) -> int:
    campaign_id = _campaign(ctx, drawn=True)
    return db.session.query(CampaignCase.id).filter_by(
        campaign_id=campaign_id, household_id=ctx.case.id).scalar()


def _company(ctx: Any) -> int:
    return company(ctx.world.county, "矩阵安装公司", OTHER_CREDIT_CODE).id


def _created_in_own_county(role: str, scope: str) -> int:
    """Naming a campaign: the county's own paid case is drawn from (302); another county's
    staff have no paid case to draw from (the form again, with the refusal)."""
    if role == ANON:
        return 302
    if role != "county":
        return 403
    return 302 if scope == "in" else 200


def cells(h: Any) -> dict[str, list[Any]]:
    new = {"name": "矩阵抽查", "programme_year": "2026", "rate_percent": "5", "first_n": "1"}
    firm = {"name": "矩阵新公司", "credit_code": "91139901MA00000019", "contact_name": "",
            "contact_phone": "", "active": "y"}
    return {
        "inspections.campaigns_index": [
            h.Cell("GET", lambda c: "/inspections/campaigns",
                   h.allowed({"county", "auditor"}, scoped=False))],
        "inspections.campaign_new": [
            h.Cell("GET", lambda c: "/inspections/campaigns/new",
                   h.allowed({"county"}, scoped=False), name="form"),
            h.Cell("POST", lambda c: "/inspections/campaigns/new", _created_in_own_county,
                   data=lambda c: new, case_state="paid", name="create"),
        ],
        "inspections.campaign": [
            h.Cell("GET", lambda c: f"/inspections/campaigns/{_campaign(c, drawn=True)}",
                   h.allowed({"county", "auditor"}, other=COUNTY_RECORD), case_state="paid")],
        "inspections.campaign_act": [
            h.Cell("POST", lambda c: f"/inspections/campaigns/{_campaign(c)}/draw",
                   h.allowed({"county"}, 302, other=COUNTY_RECORD), case_state="paid",
                   name="draw"),
            h.Cell("POST", lambda c: f"/inspections/campaigns/{_campaign(c)}/close",
                   h.allowed({"county"}, 302, other=COUNTY_RECORD), case_state="paid",
                   name="close"),
            h.Cell("POST", lambda c: f"/inspections/campaigns/{_campaign(c)}/approve",
                   h.allowed({"county"}, 302, other=COUNTY_RECORD), case_state="paid",
                   name="approve (refused: not waiting)"),
        ],
        "inspections.follow_up_visits": [
            h.Cell("GET", lambda c: "/inspections/follow-up-visits",
                   h.allowed({"inspector", "reviewer", "county"}, scoped=False))],
        "inspections.assign_follow_up_visit": [
            h.Cell("POST", lambda c: f"/inspections/follow-up-visits/{_visit(c)}/assign",
                   h.allowed({"reviewer", "county"}, 302), case_state="paid",
                   data=lambda c: {"inspector_id": str(make_user(
                       "inspector", c.world.town_a, username="matrix_visitor").id),
                       "visit_date": date.today().isoformat()})],
        "inspections.installers_index": [
            h.Cell("GET", lambda c: "/inspections/installers",
                   h.allowed({"county"}, scoped=False))],
        "inspections.installer_new": [
            h.Cell("GET", lambda c: "/inspections/installers/new",
                   h.allowed({"county"}, scoped=False), name="form"),
            h.Cell("POST", lambda c: "/inspections/installers/new",
                   h.allowed({"county"}, 302, scoped=False), data=lambda c: firm,
                   name="record"),
        ],
        "inspections.installer_edit": [
            h.Cell("GET", lambda c: f"/inspections/installers/{_company(c)}/edit",
                   h.allowed({"county"}, other=COUNTY_RECORD), name="form"),
            h.Cell("POST", lambda c: f"/inspections/installers/{_company(c)}/edit",
                   h.allowed({"county"}, 302, other=COUNTY_RECORD), name="save",
                   data=lambda c: dict(firm, credit_code=OTHER_CREDIT_CODE)),
        ],
        "inspections.installer_resolve": [
            h.Cell("GET", lambda c: "/inspections/installers/resolve",
                   h.allowed({"county"}, scoped=False), name="list"),
            h.Cell("POST", lambda c: "/inspections/installers/resolve",
                   h.allowed({"county"}, 302, scoped=False), name="resolve",
                   data=lambda c: {"key": "安装公司", "company_id": str(_company(c))}),
        ],
    }
