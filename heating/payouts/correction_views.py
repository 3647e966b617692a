"""Account corrections after a failed payment: the request form (from the case page), the
approvers' queue, approve / reject (never by the requester)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from heating.auth import permissions
from heating.core.web import attach_error
from heating.extensions import db
from heating.households import queries
from heating.payouts import corrections
from heating.payouts.blueprint import bp
from heating.payouts.forms import CorrectionForm, DecisionForm
from heating.payouts.models import AccountCorrection
from heating.payouts.pages import forbidden
from heating.payouts.services import PayoutError


@bp.route("/cases/<int:case_id>/correction", methods=["GET", "POST"])
@login_required
def request_correction(case_id: int) -> Any:
    hh = queries.case_in_scope(current_user, case_id)
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
        try:
            corrections.request_correction(hh, form.data_for_service(), current_user)
            db.session.commit()
        except PayoutError as err:
            db.session.rollback()
            attach_error(form, err)
        except IntegrityError:
            db.session.rollback()  # a colleague's request for the same case went in first
            flash(_("A correction for this case is already awaiting approval."), "error")
            return redirect(case_url)
        else:
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
    corr = db.session.get(AccountCorrection, correction_id)
    if corr is None or not permissions.in_scope(current_user, corr):
        abort(404)
    permissions.require(current_user, "account.correction.approve", corr)
    if corr.requested_by_id == current_user.id:
        return forbidden(_("You requested this correction, so another finance or county user "
                           "must decide it."))
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if decision == "approve":
            corrections.approve_correction(corr, current_user, form.note.data)
        else:
            corrections.reject_correction(corr, current_user, form.note.data)
        db.session.commit()
    except PayoutError as err:
        db.session.rollback()
        flash(err.message, "error")
    except StaleDataError:
        db.session.rollback()
        flash(_("The case changed at the same moment. Nothing was saved; try again."), "error")
    else:
        flash(_("Correction approved: the case's account is updated and it can go into a "
                "re-pay batch.") if decision == "approve"
              else _("Correction rejected."), "success")
    return redirect(url_for("payouts.corrections_queue"))
