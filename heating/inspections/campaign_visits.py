"""The visits of drawn 回头看 campaigns: assigned to an inspector of the case's township by
the township reviewer or county staff, listed on the inspector's phone, and done when a
follow-up of the case is recorded after the draw (``followups.record_follow_up``, the case
page's form).  Campaign progress for the campaign page and the dashboard."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.audit.services import record
from heating.auth import permissions
from heating.auth.models import RoleGrant, User
from heating.core.db import now_utc
from heating.extensions import db
from heating.households.models import Household
from heating.households.services import CaseError
from heating.inspections.campaign_models import CampaignCase, FollowUpCampaign
from heating.inspections.models import FOLLOW_UP_RESULTS, FollowUp

# --- which visits are done ------------------------------------------------------------------

def findings(rows: list[tuple[CampaignCase, FollowUpCampaign]]) -> dict[int, FollowUp]:
    """Campaign-case id → the latest follow-up of its case recorded after its campaign's draw
    (the visit is done when there is one)."""
    if not rows:
        return {}
    by_case: dict[int, list[tuple[CampaignCase, FollowUpCampaign]]] = {}
    for cc, campaign in rows:
        by_case.setdefault(cc.household_id, []).append((cc, campaign))
    earliest = min(c.drawn_at for _, c in rows if c.drawn_at is not None)
    visits = db.session.scalars(
        select(FollowUp).where(FollowUp.household_id.in_(sorted(by_case)),
                               FollowUp.recorded_at >= earliest)
        .order_by(FollowUp.visited_on, FollowUp.id))
    found: dict[int, FollowUp] = {}
    for visit in visits:
        for cc, campaign in by_case[visit.household_id]:
            if campaign.drawn_at is not None and visit.recorded_at >= campaign.drawn_at:
                found[cc.id] = visit  # ordered: the latest wins
    return found


# --- assignment -------------------------------------------------------------------------------

def inspectors_of(township_id: int, county_id: int) -> list[User]:
    """Active users holding the inspector role over the township (or its county)."""
    return list(db.session.scalars(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == "inspector", User.active.is_(True),
               RoleGrant.area_id.in_((township_id, county_id)))
        .distinct().order_by(User.display_name, User.id)))


def assign_visit(cc: CampaignCase, inspector: User | None, visit_date: date | None,
                 actor: Any, today: date) -> CampaignCase:
    hh = cc.household
    if not permissions.can(actor, "followup.assign", hh):
        raise CaseError(_l("Only the township reviewer or county staff assign follow-up "
                           "visits."))
    if not cc.in_sample or cc.campaign.state != "drawn":
        raise CaseError(_l("Only cases drawn by an open campaign are visited."))
    if inspector is None or not inspector.active or "inspector" not in permissions.roles_over(
            inspector, hh):
        raise CaseError(_l("Choose an inspector of this township."), "inspector_id")
    if visit_date is None or visit_date < today:
        raise CaseError(_l("The visit date cannot be in the past."), "visit_date")
    before = ({"inspector": cc.inspector_id, "visit_date": cc.visit_date}
              if cc.inspector_id else None)
    cc.inspector_id, cc.visit_date = inspector.id, visit_date
    cc.assigned_by_id, cc.assigned_at = actor.id, now_utc()
    db.session.flush()
    record("campaign.visit_assigned", "household", hh.id, actor=actor,
           summary=f"#{cc.campaign_id} {inspector.display_name} {visit_date}", before=before,
           after={"campaign": cc.campaign_id, "inspector": inspector.id,
                  "visit_date": visit_date})
    return cc


# --- worklists ----------------------------------------------------------------------------------

@dataclass
class VisitRow:
    visit: CampaignCase
    case: Household
    campaign: FollowUpCampaign
    finding: FollowUp | None = None

    @property
    def done(self) -> bool:
        return self.finding is not None


@dataclass
class VisitWorklist:
    due: list[VisitRow] = field(default_factory=list)
    later: list[VisitRow] = field(default_factory=list)
    unassigned: list[VisitRow] = field(default_factory=list)
    done: list[VisitRow] = field(default_factory=list)


def _open_visits(user: Any, perm: str) -> Any:
    return (select(CampaignCase, Household, FollowUpCampaign)
            .join(Household, Household.id == CampaignCase.household_id)
            .join(FollowUpCampaign, FollowUpCampaign.id == CampaignCase.campaign_id)
            .where(CampaignCase.in_sample, FollowUpCampaign.state == "drawn",
                   permissions.scope_clause(Household, user, perm)))


def visit_worklist(user: Any, today: date, limit: int = 300) -> VisitWorklist:
    """An inspector's campaign visits (today's and overdue, then later ones, then the done
    ones); for reviewers and county staff, the drawn cases of their area still to assign and
    those assigned."""
    result = VisitWorklist()
    rows: list[tuple[CampaignCase, Household, FollowUpCampaign]] = []
    order = (CampaignCase.visit_date, Household.village_id, Household.house_no, Household.id)
    if permissions.can(user, "followup.record") and "inspector" in permissions.roles(user):
        rows += db.session.execute(_open_visits(user, "followup.record").where(
            CampaignCase.inspector_id == user.id).order_by(*order).limit(limit)).all()
    if permissions.can(user, "followup.assign"):
        seen = {cc.id for cc, _, _ in rows}
        rows += [r for r in db.session.execute(_open_visits(user, "followup.assign").order_by(
            CampaignCase.inspector_id.is_not(None), *order).limit(limit)).all()
            if r[0].id not in seen]
    found = findings([(cc, c) for cc, _, c in rows])
    for cc, hh, campaign in rows:
        row = VisitRow(cc, hh, campaign, found.get(cc.id))
        if row.done:
            result.done.append(row)
        elif cc.inspector_id is None:
            result.unassigned.append(row)
        elif cc.visit_date is not None and cc.visit_date <= today:
            result.due.append(row)
        else:
            result.later.append(row)
    return result


def sample_rows(campaign: FollowUpCampaign) -> list[VisitRow]:
    """The campaign's sample, with each visit's finding (the campaign page)."""
    rows = db.session.execute(
        select(CampaignCase, Household).join(Household, Household.id == CampaignCase.household_id)
        .where(CampaignCase.campaign_id == campaign.id, CampaignCase.in_sample)
        .order_by(Household.township_id, Household.village_id, Household.house_no,
                  Household.id)).all()
    found = findings([(cc, campaign) for cc, _ in rows])
    return [VisitRow(cc, hh, campaign, found.get(cc.id)) for cc, hh in rows]


# --- progress -----------------------------------------------------------------------------------

def progress_of(campaign: FollowUpCampaign, rows: list[VisitRow]) -> dict[str, Any]:
    results = Counter(r.finding.result for r in rows if r.finding is not None)
    visited = sum(results.values())
    return {
        "campaign_id": campaign.id, "name": campaign.name, "state": campaign.state,
        "programme_year": campaign.programme_year, "drawn_at": campaign.drawn_at,
        "sampled": len(rows), "visited": visited, "outstanding": len(rows) - visited,
        "assigned": sum(1 for r in rows if r.visit.inspector_id is not None),
        "results": {key: results.get(key, 0) for key in FOLLOW_UP_RESULTS},
    }


def campaign_progress(user: Any, programme_year: int) -> list[dict[str, Any]]:
    """Progress of every drawn (or closed after drawing) campaign of ``programme_year`` in
    ``user``'s scope, for the dashboard: only the sampled cases the user may see count (a
    township reviewer sees their township's part of a county campaign).

    Returns one dict per campaign, oldest first::

        {"campaign_id": int, "name": str, "state": "drawn" | "closed",
         "programme_year": int, "drawn_at": datetime (UTC-aware),
         "sampled": int,        # sampled cases in the user's scope
         "visited": int,        # of those, with a follow-up recorded after the draw
         "outstanding": int,    # sampled - visited
         "assigned": int,       # of the sampled, with an inspector assigned
         "results": {"ok": int, "rebound": int, "device_removed": int, "house_empty": int}}
                                # the visited cases by their latest finding since the draw

    Campaigns with no sampled case in the user's scope are left out; a user without
    ``household.view`` anywhere gets ``[]``.
    """
    # the year's drawn campaigns first (a handful): without one there is nothing to join, and
    # with their ids the cases are found through the campaign's index, never by walking the
    # county's households
    drawn = list(db.session.scalars(select(FollowUpCampaign.id).where(
        FollowUpCampaign.drawn_at.is_not(None), FollowUpCampaign.programme_year == programme_year)))
    if not drawn:
        return []
    query = (select(CampaignCase, Household, FollowUpCampaign)
             .join(Household, Household.id == CampaignCase.household_id)
             .join(FollowUpCampaign, FollowUpCampaign.id == CampaignCase.campaign_id)
             .where(CampaignCase.in_sample, CampaignCase.campaign_id.in_(drawn),
                    permissions.scope_clause(Household, user))
             .order_by(FollowUpCampaign.id))
    rows = db.session.execute(query).all()
    found = findings([(cc, c) for cc, _, c in rows])
    grouped: dict[int, tuple[FollowUpCampaign, list[VisitRow]]] = {}
    for cc, hh, campaign in rows:
        grouped.setdefault(campaign.id, (campaign, []))[1].append(
            VisitRow(cc, hh, campaign, found.get(cc.id)))
    return [progress_of(campaign, visit_rows) for campaign, visit_rows in grouped.values()]
