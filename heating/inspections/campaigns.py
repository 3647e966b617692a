"""回头看 campaigns: the county names a campaign and its population (the paid cases of a
programme year, optionally of some townships), the system freezes the population, generates
a seed and draws once (``campaign_draw``); anybody can re-draw from the stored population and
seed and compare (``verify``).  A campaign whose population overlaps an open one needs a
reason and a second county user's approval.  Visits and progress: ``campaign_visits``.

Services flush, never commit; every move is audited and goes through
``campaign_states.next_state``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import aliased

from heating.areas.models import Area
from heating.audit.models import AuditEvent
from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.households.services import CaseError
from heating.inspections import campaign_draw, campaign_states
from heating.inspections.campaign_models import CampaignCase, FollowUpCampaign
from heating.inspections.models import Installation

NAME_MAX = 100
REASON_MAX = 1000
#: rows per bulk statement when the population is frozen or the sample stored
_CHUNK = 2000


# --- reading -----------------------------------------------------------------------------------

def managed_counties(user: Any) -> list[Area]:
    """Counties where ``user`` names and draws campaigns."""
    return _counties(user, "campaign.manage")


def _counties(user: Any, perm: str) -> list[Area]:
    ids = permissions.scope_for(user, permissions.PERMISSIONS[perm]).counties
    if not ids:
        return []
    return list(db.session.scalars(select(Area).where(Area.id.in_(sorted(ids)))
                                   .order_by(Area.code)))


def townships_of(county_id: int) -> list[Area]:
    return list(db.session.scalars(select(Area).where(
        Area.level == "township", Area.parent_id == county_id).order_by(Area.code)))


def default_year(county_id: int, fallback: int) -> int:
    """The programme year a new campaign's form proposes: the latest with a paid case in the
    county (the money story runs a year behind the registrations), else ``fallback``."""
    year = db.session.scalar(select(func.max(Household.programme_year)).where(
        Household.county_id == county_id,
        Household.state.in_(lifecycle.states_for("record_follow_up"))))
    return year or fallback


def visible_campaigns(user: Any) -> list[FollowUpCampaign]:
    """Every campaign of the counties where ``user`` reads campaigns, newest first."""
    ids = [c.id for c in _counties(user, "campaign.view")]
    if not ids:
        return []
    return list(db.session.scalars(select(FollowUpCampaign).where(
        FollowUpCampaign.county_id.in_(ids)).order_by(FollowUpCampaign.id.desc())))


def draw_counts(campaign_ids: Iterable[int]) -> dict[int, int]:
    """Campaign id → how many times its sample was drawn, counted from the audit log (one
    row per draw, and the log cannot be changed): 1 for a drawn campaign, 0 before."""
    ids = [str(i) for i in campaign_ids]
    counts = dict.fromkeys((int(i) for i in ids), 0)
    if ids:
        for object_id, n in db.session.execute(
                select(AuditEvent.object_id, func.count()).where(
                    AuditEvent.action == "campaign.drawn",
                    AuditEvent.object_type == "campaign", AuditEvent.object_id.in_(ids))
                .group_by(AuditEvent.object_id)):
            counts[int(object_id)] = n
    return counts


def members(campaign: FollowUpCampaign) -> list[campaign_draw.Member]:
    """The frozen population as the draw reads it."""
    rows = db.session.execute(
        select(CampaignCase.household_id, CampaignCase.stratum_id,
               CampaignCase.installer_company_id, CampaignCase.install_date)
        .where(CampaignCase.campaign_id == campaign.id)).all()
    return [campaign_draw.Member(*row) for row in rows]


def stored_sample(campaign: FollowUpCampaign) -> dict[int, campaign_draw.Chosen]:
    rows = db.session.execute(
        select(CampaignCase.household_id, CampaignCase.by_rate, CampaignCase.by_installer)
        .where(CampaignCase.campaign_id == campaign.id, CampaignCase.in_sample)).all()
    return {case_id: campaign_draw.Chosen(bool(r), bool(i)) for case_id, r, i in rows}


def strata(campaign: FollowUpCampaign) -> list[tuple[Area, int, int]]:
    """(township, population, sampled) per stratum."""
    rows = db.session.execute(
        select(CampaignCase.stratum_id, func.count(),
               func.sum(case((CampaignCase.in_sample, 1), else_=0)))
        .where(CampaignCase.campaign_id == campaign.id)
        .group_by(CampaignCase.stratum_id)).all()
    areas = {a.id: a for a in db.session.scalars(select(Area).where(
        Area.id.in_([r[0] for r in rows])))} if rows else {}
    return sorted(((areas[s], n, int(k or 0)) for s, n, k in rows), key=lambda t: t[0].code)


def without_company(campaign: FollowUpCampaign) -> int:
    """Cases of the population whose installer name matched no company when frozen (the
    first-N rule cannot see them)."""
    return db.session.scalar(select(func.count()).select_from(CampaignCase).where(
        CampaignCase.campaign_id == campaign.id,
        CampaignCase.installer_company_id.is_(None))) or 0


# --- naming a campaign ------------------------------------------------------------------------

@dataclass
class CampaignRequest:
    name: str
    programme_year: int
    township_ids: list[int] = field(default_factory=list)
    rate_percent: int = 5
    first_n: int = 0
    reason: str | None = None


def _check(county: Area, request: CampaignRequest, user: Any) -> tuple[str, list[int]]:
    if county.level != "county" or county.id not in {c.id for c in managed_counties(user)}:
        raise CaseError(_l("Only county staff name follow-up campaigns of their county."))
    name = " ".join((request.name or "").split())
    if not name:
        raise CaseError(_l("Give the campaign a name."), "name")
    if len(name) > NAME_MAX:
        raise CaseError(_l("The name is too long (at most %(n)d characters).", n=NAME_MAX),
                        "name")
    if not 1 <= request.rate_percent <= 100:
        raise CaseError(_l("The rate is a whole percentage between 1 and 100."),
                        "rate_percent")
    if not 0 <= request.first_n <= 100:
        raise CaseError(_l("Enter between 0 and 100 installations per company."), "first_n")
    known = {t.id for t in townships_of(county.id)}
    chosen = sorted(set(request.township_ids))
    if set(chosen) - known:
        raise CaseError(_l("Choose townships of this county."), "township_ids")
    if request.reason and len(request.reason) > REASON_MAX:
        raise CaseError(_l("The reason is too long (at most %(n)d characters).",
                           n=REASON_MAX), "reason")
    return name, chosen


def _population(county: Area, year: int, township_ids: list[int]) -> list[dict[str, Any]]:
    query = (select(Household.id, Household.township_id, Installation.installer_company_id,
                    Installation.install_date)
             .outerjoin(Installation, Installation.household_id == Household.id)
             .where(Household.county_id == county.id, Household.programme_year == year,
                    Household.state.in_(lifecycle.states_for("record_follow_up")))
             .order_by(Household.id))
    if township_ids:
        query = query.where(Household.township_id.in_(township_ids))
    return [{"household_id": i, "stratum_id": t, "installer_company_id": c,
             "install_date": d} for i, t, c, d in db.session.execute(query)]


def _overlapping(campaign: FollowUpCampaign) -> list[int]:
    """Open campaigns sharing a case with ``campaign``'s population."""
    mine, other = aliased(CampaignCase), aliased(CampaignCase)
    return list(db.session.scalars(
        select(other.campaign_id).distinct()
        .join(mine, mine.household_id == other.household_id)
        .join(FollowUpCampaign, FollowUpCampaign.id == other.campaign_id)
        .where(mine.campaign_id == campaign.id, other.campaign_id != campaign.id,
               FollowUpCampaign.state.in_(campaign_states.OPEN_STATES))
        .order_by(other.campaign_id)))


def create_campaign(county: Area, request: CampaignRequest, user: Any) -> FollowUpCampaign:
    """Name the campaign and freeze its population (one row per case).  It is ``ready`` to
    draw, or ``pending_approval`` when its population overlaps an open campaign (then a reason
    is required)."""
    name, township_ids = _check(county, request, user)
    population = _population(county, request.programme_year, township_ids)
    if not population:
        raise CaseError(_l("No paid case of programme year %(year)s in these townships: "
                           "nothing to draw from.", year=request.programme_year))
    reason = (request.reason or "").strip() or None
    campaign = FollowUpCampaign(
        county_id=county.id, name=name, programme_year=request.programme_year,
        township_ids=township_ids, rate_percent=request.rate_percent,
        first_n=request.first_n, state="ready", overlaps=[], requested_by_id=user.id,
        population_size=len(population),
        population_sha256=campaign_draw.population_digest(p["household_id"]
                                                          for p in population))
    db.session.add(campaign)
    db.session.flush()
    for start in range(0, len(population), _CHUNK):
        db.session.execute(insert(CampaignCase), [dict(p, campaign_id=campaign.id)
                                                  for p in population[start:start + _CHUNK]])
    overlaps = _overlapping(campaign)
    if overlaps:
        if reason is None:
            raise CaseError(_l("This population shares cases with open campaign(s) %(ids)s: "
                               "give the reason for another campaign; a second county user "
                               "then approves it before it can be drawn.",
                               ids=", ".join(f"#{i}" for i in overlaps)), "reason")
        campaign.state, campaign.overlaps, campaign.overlap_reason = (
            "pending_approval", overlaps, reason)
    db.session.flush()
    record("campaign.created", "campaign", campaign.id, actor=user,
           summary=f"{name} · {campaign.population_size}",
           after={"name": name, "programme_year": campaign.programme_year,
                  "townships": township_ids, "rate_percent": campaign.rate_percent,
                  "first_n": campaign.first_n, "population": campaign.population_size,
                  "population_sha256": campaign.population_sha256, "state": campaign.state,
                  "overlaps": overlaps, "reason": campaign.overlap_reason})
    return campaign


# --- moves ---------------------------------------------------------------------------------------

def _move(campaign: FollowUpCampaign, action: str, user: Any) -> str:
    if not permissions.can(user, "campaign.manage", campaign):
        raise CaseError(_l("Only county staff of the campaign's county do this."))
    try:
        to = campaign_states.next_state(campaign.state, action)
    except campaign_states.IllegalMove:
        raise CaseError(_REFUSED.get(action, _l("Not possible in this state."))) from None
    before = campaign.state
    campaign.state = to
    return before


_REFUSED = {
    "approve": _l("Only a campaign waiting for approval is approved."),
    "draw": _l("This campaign's sample has already been drawn (or the campaign waits for "
               "approval or is closed): a sample is drawn once and never again."),
    "close": _l("This campaign is already closed."),
}


def approve(campaign: FollowUpCampaign, user: Any) -> None:
    """A second county user approves an overlapping campaign (never its requester)."""
    if campaign.state == "pending_approval" and not permissions.not_maker(
            user, campaign.requested_by_id):
        raise CaseError(_l("You asked for this campaign: another county user approves it."))
    before = _move(campaign, "approve", user)
    campaign.approved_by_id, campaign.approved_at = user.id, now_utc()
    db.session.flush()
    record("campaign.approved", "campaign", campaign.id, actor=user, summary=campaign.name,
           before={"state": before}, after={"state": campaign.state})


def draw(campaign: FollowUpCampaign, user: Any) -> dict[int, campaign_draw.Chosen]:
    """Generate the seed and draw the sample from the frozen population, once."""
    before = _move(campaign, "draw", user)
    seed = secrets.token_bytes(32)
    chosen = campaign_draw.draw(seed, members(campaign), campaign.rate_percent,
                                campaign.first_n)
    ids = {case_id: row_id for case_id, row_id in db.session.execute(
        select(CampaignCase.household_id, CampaignCase.id).where(
            CampaignCase.campaign_id == campaign.id))}
    rows = [{"id": ids[case_id], "in_sample": True, "by_rate": why.by_rate,
             "by_installer": why.by_installer} for case_id, why in chosen.items()]
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(update(CampaignCase), rows[start:start + _CHUNK])
    campaign.seed, campaign.drawn_by_id, campaign.drawn_at = seed.hex(), user.id, now_utc()
    campaign.sample_size = len(chosen)
    db.session.flush()
    record("campaign.drawn", "campaign", campaign.id, actor=user,
           summary=f"{len(chosen)} / {campaign.population_size}",
           before={"state": before},
           after={"state": campaign.state, "seed": campaign.seed, "sample": len(chosen),
                  "population": campaign.population_size,
                  "population_sha256": campaign.population_sha256})
    return chosen


def close(campaign: FollowUpCampaign, user: Any) -> None:
    before = _move(campaign, "close", user)
    campaign.closed_by_id, campaign.closed_at = user.id, now_utc()
    db.session.flush()
    record("campaign.closed", "campaign", campaign.id, actor=user, summary=campaign.name,
           before={"state": before}, after={"state": campaign.state})


# --- verification -------------------------------------------------------------------------------

@dataclass
class Verification:
    ok: bool
    problems: list[str]
    sample_size: int


def verify(campaign: FollowUpCampaign) -> Verification:
    """Re-draw from the stored population and seed and compare with the stored sample (and
    the population with its digest taken when it was frozen).  Plain-text problems, for the
    command line."""
    if campaign.seed is None:
        return Verification(False, [f"campaign {campaign.id} has not been drawn"], 0)
    population = members(campaign)
    problems = []
    digest = campaign_draw.population_digest(m.case_id for m in population)
    if digest != campaign.population_sha256 or len(population) != campaign.population_size:
        problems.append(f"the stored population ({len(population)} cases) is not the one "
                        f"frozen at creation ({campaign.population_size} cases, SHA-256 "
                        f"{campaign.population_sha256[:16]}…)")
    expected = campaign_draw.draw(bytes.fromhex(campaign.seed), population,
                                  campaign.rate_percent, campaign.first_n)
    stored = stored_sample(campaign)
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    differ = sorted(i for i in set(expected) & set(stored) if expected[i] != stored[i])
    if missing:
        problems.append(f"drawn but not in the stored sample: cases {_ids(missing)}")
    if extra:
        problems.append(f"in the stored sample but not drawn: cases {_ids(extra)}")
    if differ:
        problems.append(f"in the sample for another reason than drawn: cases {_ids(differ)}")
    if len(stored) != campaign.sample_size:
        problems.append(f"the stored sample has {len(stored)} cases, the campaign says "
                        f"{campaign.sample_size}")
    return Verification(not problems, problems, len(expected))


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return shown + (f" … ({len(ids)} in all)" if len(ids) > 20 else "")
