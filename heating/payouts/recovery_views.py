"""Recoveries (追回): the finance list (the ones still worked first), a recovery's page, and its
actions — money recovered (a receipt), a waiver asked, then approved or sent back by another
user.  Each action: scoped loader (404 outside scope), permission (403), form, one service
call; the request commits once."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.core.i18n import local_today
from heating.core.money import format_fen
from heating.core.web import attempt
from heating.payouts import recoveries
from heating.payouts.blueprint import bp
from heating.payouts.forms import DecisionForm, ReasonForm, ReceiptForm
from heating.payouts.pages import forbidden
from heating.payouts.recovery_models import RECOVERY_STATES, Recovery
from heating.payouts.services import PayoutError

PAGE = 200


def _stale() -> PayoutError:
    return PayoutError(_("Someone else changed this recovery at the same moment. Nothing was "
                         "saved; look at it again and retry."))


def _page(rec: Recovery, receipt_form: ReceiptForm | None = None) -> Any:
    user = current_user
    if receipt_form is None:
        receipt_form = ReceiptForm()
        receipt_form.received_on.data = local_today()
    return render_template(
        "payouts/recovery.html", rec=rec, receipt_form=receipt_form,
        reason_form=ReasonForm(), may_record=permissions.can(user, "recovery.record", rec),
        may_decide=permissions.may_decide_waiver(user, rec),
        may_move=recoveries.allowed, RECOVERY_STATES=RECOVERY_STATES, fen=format_fen)


@bp.route("/recoveries")
@login_required
def recoveries_index() -> Any:
    permissions.require(current_user, "recovery.view")
    state = request.args.get("state") or None
    if state not in RECOVERY_STATES:
        state = None  # an unknown filter is ignored, as elsewhere
    rows, total = recoveries.recoveries_for(current_user, state=state, limit=PAGE)
    return render_template("payouts/recoveries.html", rows=rows, total=total, state=state,
                           RECOVERY_STATES=RECOVERY_STATES, fen=format_fen,
                           totals=recoveries.recovery_totals(current_user))


@bp.route("/recoveries/<int:recovery_id>")
@login_required
def recovery(recovery_id: int) -> Any:
    rec = permissions.get_in_scope(Recovery, recovery_id, current_user)
    permissions.require(current_user, "recovery.view", rec)
    return _page(rec)


@bp.route("/recoveries/<int:recovery_id>/receipts", methods=["POST"])
@login_required
def record_receipt(recovery_id: int) -> Any:
    rec = permissions.get_in_scope(Recovery, recovery_id, current_user)
    permissions.require(current_user, "recovery.record", rec)
    form = ReceiptForm()
    if form.validate_on_submit():
        with attempt(form, stale=_stale()) as done:
            recoveries.receive(rec, current_user, received_on=form.received_on.data,
                               amount=form.amount.data, reference=form.reference.data,
                               note=form.note.data)
        if done:
            flash(_("Recorded: %(amount)s yuan recovered, %(left)s yuan outstanding.",
                    amount=format_fen(rec.recovered_fen), left=format_fen(rec.outstanding_fen)),
                  "success")
            return redirect(url_for("payouts.recovery", recovery_id=rec.id))
    return _page(rec, form)


@bp.route("/recoveries/<int:recovery_id>/waiver", methods=["POST"])
@login_required
def request_waiver(recovery_id: int) -> Any:
    rec = permissions.get_in_scope(Recovery, recovery_id, current_user)
    permissions.require(current_user, "recovery.record", rec)
    form = ReasonForm()
    if form.validate_on_submit():
        with attempt(stale=_stale()) as done:
            recoveries.request_waiver(rec, current_user, form.reason.data)
        if done:
            flash(_("Waiver requested. Another finance or county user must approve it."),
                  "success")
    else:
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
    return redirect(url_for("payouts.recovery", recovery_id=rec.id))


@bp.route("/recoveries/<int:recovery_id>/waiver/<any(approve, reject):decision>",
          methods=["POST"])
@login_required
def decide_waiver(recovery_id: int, decision: str) -> Any:
    rec = permissions.get_in_scope(Recovery, recovery_id, current_user)
    permissions.require(current_user, "recovery.waive", rec)
    if rec.waiver_requested_by_id == current_user.id:
        return forbidden(_("You asked for this waiver, so another finance or county user must "
                           "decide it."))
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt(stale=_stale()) as done:
        recoveries.decide_waiver(rec, current_user, approve=decision == "approve",
                                 note=form.note.data)
    if done:
        flash(_("Waiver approved: the outstanding amount is waived and the recovery is closed.")
              if decision == "approve" else _("Waiver sent back: the recovery is worked again."),
              "success")
    return redirect(url_for("payouts.recovery", recovery_id=rec.id))
