"""回头看 campaigns: the list (with each campaign's count of draws, for the auditor), naming a
campaign, its page (population, sample, progress, the moves), and the campaign visits'
worklist with the assignment of inspectors."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.auth.models import User
from heating.core.i18n import local_today
from heating.core.web import attempt, flash_form_errors
from heating.extensions import db
from heating.households.services import CaseError
from heating.inspections import campaign_states, campaign_visits, campaigns
from heating.inspections.blueprint import bp
from heating.inspections.campaign_models import CampaignCase, FollowUpCampaign
from heating.inspections.forms import CampaignForm, VisitAssignForm
from heating.inspections.models import FOLLOW_UP_RESULTS

_STALE = CaseError(_l("Someone else changed this campaign at the same moment; nothing was "
                     "done. Open it again."))


@bp.route("/campaigns")
@login_required
def campaigns_index() -> Any:
    if not permissions.can(current_user, "campaign.view"):
        abort(403)
    found = campaigns.visible_campaigns(current_user)
    return render_template("inspections/campaigns.html", campaigns=found,
                           draws=campaigns.draw_counts(c.id for c in found),
                           may_create=bool(campaigns.managed_counties(current_user)))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new() -> Any:
    counties = campaigns.managed_counties(current_user)
    if not counties:
        abort(403)
    county = counties[0]
    form = CampaignForm()
    if not form.is_submitted():
        form.programme_year.data = campaigns.default_year(county.id, local_today().year)
    form.township_ids.choices = [(t.id, t.name) for t in campaigns.townships_of(county.id)]
    if form.validate_on_submit():
        request = campaigns.CampaignRequest(
            name=form.name.data, programme_year=form.programme_year.data,
            township_ids=list(form.township_ids.data or []),
            rate_percent=form.rate_percent.data, first_n=form.first_n.data,
            reason=form.reason.data)
        with attempt(form) as done:
            campaign = campaigns.create_campaign(county, request, current_user)
        if done:
            flash(_("Campaign %(name)s created with %(n)s paid cases frozen as its population.",
                    name=campaign.name, n=campaign.population_size), "success")
            return redirect(url_for("inspections.campaign", campaign_id=campaign.id))
    return render_template("inspections/campaign_new.html", form=form, county=county)


@bp.route("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int) -> Any:
    found = permissions.get_in_scope(FollowUpCampaign, campaign_id, current_user)
    permissions.require(current_user, "campaign.view", found)
    rows = campaign_visits.sample_rows(found) if found.drawn_at else []
    may_manage = permissions.can(current_user, "campaign.manage", found)
    moves = [a for a in campaign_states.actions_from(found.state) if may_manage
             and (a != "approve" or permissions.may_approve_campaign(current_user, found))]
    return render_template(
        "inspections/campaign.html", campaign=found, rows=rows,
        progress=campaign_visits.progress_of(found, rows), strata=campaigns.strata(found),
        without_company=campaigns.without_company(found),
        draws=campaigns.draw_counts([found.id])[found.id], moves=moves,
        ACTIONS=campaign_states.ACTIONS, RESULTS=FOLLOW_UP_RESULTS,
        STATES=campaign_states.STATES)


@bp.route("/campaigns/<int:campaign_id>/<any(approve, draw, close):action>", methods=["POST"])
@login_required
def campaign_act(campaign_id: int, action: str) -> Any:
    found = permissions.get_in_scope(FollowUpCampaign, campaign_id, current_user)
    permissions.require(current_user, "campaign.manage", found)
    with attempt(stale=_STALE) as done:
        if action == "approve":
            campaigns.approve(found, current_user)
        elif action == "draw":
            campaigns.draw(found, current_user)
        else:
            campaigns.close(found, current_user)
    if done:
        flash({"approve": _("Campaign approved: it can now be drawn."),
               "draw": _("Sample drawn: %(n)s cases. It cannot be drawn again.",
                         n=found.sample_size),
               "close": _("Campaign closed.")}[action], "success")
    return redirect(url_for("inspections.campaign", campaign_id=campaign_id))


# --- the visits ---------------------------------------------------------------------------------

@bp.route("/follow-up-visits")
@login_required
def follow_up_visits() -> Any:
    """Inspectors: their campaign visits, today's and overdue first.  Reviewers and county
    staff: the drawn cases of their area still to assign, and those assigned."""
    may_assign = permissions.can(current_user, "followup.assign")
    if not (may_assign or "inspector" in permissions.roles(current_user)):
        abort(403)
    today = local_today()
    work = campaign_visits.visit_worklist(current_user, today)
    choices: dict[int, list[tuple[int, str]]] = {}
    if may_assign:
        for row in work.unassigned + work.due + work.later:
            if row.case.township_id not in choices:
                choices[row.case.township_id] = [
                    (u.id, u.display_name) for u in campaign_visits.inspectors_of(
                        row.case.township_id, row.case.county_id)]
    return render_template("inspections/campaign_visits.html", work=work, today=today,
                           inspector_choices=choices, RESULTS=FOLLOW_UP_RESULTS)


@bp.route("/follow-up-visits/<int:visit_id>/assign", methods=["POST"])
@login_required
def assign_follow_up_visit(visit_id: int) -> Any:
    visit = permissions.get_in_scope(CampaignCase, visit_id, current_user)
    permissions.require(current_user, "followup.assign", visit)
    form = VisitAssignForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("inspections.follow_up_visits"))
    inspector = db.session.get(User, form.inspector_id.data)
    with attempt() as done:
        campaign_visits.assign_visit(visit, inspector, form.visit_date.data, current_user,
                                     local_today())
    if done:
        flash(_("Follow-up visit to %(name)s assigned to %(inspector)s for %(date)s.",
                name=visit.household.head_name, inspector=inspector.display_name,
                date=form.visit_date.data.isoformat()), "success")
    return redirect(url_for("inspections.follow_up_visits"))
