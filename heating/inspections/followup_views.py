"""Follow-up (回头看) visits: the case-page panel with the case's visits and the form, the
route it posts to (the campaigns that draw the cases to visit: ``campaign_views.py``)."""
from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.core.web import attempt, flash_form_errors
from heating.households import lifecycle
from heating.inspections import followups
from heating.inspections.blueprint import bp
from heating.inspections.forms import FollowUpForm
from heating.inspections.models import FOLLOW_UP_RESULTS, STOPS_RUNNING_SUBSIDY
from heating.inspections.navigation import load_case as _case
from heating.inspections.navigation import to_case as _to_case


def case_panel(case: Any, user: Any = None) -> dict[str, Any] | None:
    """Shown on paid cases (and on any case that has visits); the form only to those who may
    record one.  Everyone who can open the case sees its visits."""
    user = user if user is not None else current_user
    history = followups.follow_ups_of(case)
    if not history and not lifecycle.allowed("record_follow_up", case):
        return None
    may_record = lifecycle.may(user, "record_follow_up", case)
    return {
        "history": history, "current": history[0] if history else None,
        "stopped": bool(history) and history[0].stops_running_subsidy,
        "form": FollowUpForm() if may_record else None, "RESULTS": FOLLOW_UP_RESULTS,
        "STOPS": STOPS_RUNNING_SUBSIDY,
    }


@bp.route("/case/<int:case_id>/follow-up", methods=["POST"])
@login_required
def record_follow_up(case_id: int) -> Any:
    """Record one visit (append-only: a later visit is a new record)."""
    hh = _case(case_id)
    permissions.require(current_user, "followup.record", hh)
    form = FollowUpForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _to_case(hh)
    with attempt() as done:
        visit = followups.record_follow_up(hh, current_user, result=form.result.data,
                                           visited_on=form.visited_on.data,
                                           note=form.note.data)
    if done:
        flash(_("Follow-up recorded: %(result)s.", result=FOLLOW_UP_RESULTS[visit.result]),
              "success")
        if followups.stops_running_subsidy(hh.id):
            flash(_("The running subsidy of this household has stopped."), "warning")
    return _to_case(hh)
