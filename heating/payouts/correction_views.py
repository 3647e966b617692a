"""Account corrections after a failed payment: the request form (from the case page), the
approvers' queue, approve / reject (never by the requester)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.core.web import attempt
from heating.households.models import Household
from heating.payouts import corrections
from heating.payouts.blueprint import bp
from heating.payouts.forms import CorrectionForm, DecisionForm
from heating.payouts.models import AccountCorrection
from heating.payouts.pages import forbidden
from heating.payouts.services import PayoutError


@bp.route("/cases/<int:case_id>/correction", methods=["GET", "POST"])
@login_required
def request_correction(case_id: int) -> Any:
    hh = permissions.get_in_scope(Household, case_id, current_user)
    permissions.require(current_user, "account.correction.request", hh)
    case_url = url_for("households.detail", case_id=hh.id)
    if not corrections.may_request(hh, current_user):
        flash(_("An account correction can be requested only after a failed payment, and "
                "only one at a time."), "error")
        return redirect(case_url)
    form = CorrectionForm()
    if not form.is_submitted():
        form.bank_name.data = hh.bank_name
        form.account_holder.data = hh.head_name
    if form.validate_on_submit():
        # a colleague's request for the same case may go in first
        taken = PayoutError(_("A correction for this case is already awaiting approval."))
        with attempt(form, taken=taken) as done:
            corrections.request_correction(hh, form.data_for_service(), current_user)
        if done.refusal is taken:
            return redirect(case_url)
        if done:
            flash(_("Correction requested. A finance or county colleague must approve it "
                    "before the case can be re-paid."), "success")
            return redirect(case_url)
    failed = corrections.latest_failed(hh.id)
    return render_template("payouts/correction_form.html", form=form, case=hh, failed=failed)


@bp.route("/corrections")
@login_required
def corrections_queue() -> Any:
    permissions.require(current_user, "payout.view")
    queue = corrections.pending_queue(current_user)
    return render_template("payouts/corrections.html", queue=queue, form=DecisionForm(),
                           may_decide={c.id: permissions.may_decide_correction(
                               current_user, c, c.household)
                                       for c in queue})


@bp.route("/corrections/<int:correction_id>/<any(approve, reject):decision>",
          methods=["POST"])
@login_required
def decide_correction(correction_id: int, decision: str) -> Any:
    corr = permissions.get_in_scope(AccountCorrection, correction_id, current_user)
    permissions.require(current_user, "account.correction.approve", corr)
    if corr.requested_by_id == current_user.id:
        return forbidden(_("You requested this correction, so another finance or county user "
                           "must decide it."))
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    stale = PayoutError(_("The case changed at the same moment. Nothing was saved; try again."))
    with attempt(stale=stale) as done:
        if decision == "approve":
            corrections.approve_correction(corr, current_user, form.note.data)
        else:
            corrections.reject_correction(corr, current_user, form.note.data)
    if done:
        flash(_("Correction approved: the case's account is updated and it can go into a "
                "re-pay batch.") if decision == "approve"
              else _("Correction rejected."), "success")
    return redirect(url_for("payouts.corrections_queue"))
