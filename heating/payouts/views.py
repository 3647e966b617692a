"""Screens of the payouts domain: batch list, new batch (preview, then create with an
idempotency key), batch detail with its actions, bank-file and roster downloads, bank-result
upload.  Account corrections are in ``correction_views``, usage files in ``usage.views``
(both add routes to this blueprint).

Each view: scoped loader (404 outside scope), permission (403), form, one service call, commit
once, flash, redirect.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from heating.areas.models import Area
from heating.auth import permissions
from heating.certificates import services as certificates
from heating.core.money import format_fen
from heating.core.web import attempt, flash_form_errors, page_arg, writes
from heating.extensions import db
from heating.payouts import bankfiles, batches, models, reconcile, services  # noqa: F401
from heating.payouts.blueprint import bp
from heating.payouts.forms import (
    BatchForm,
    ConfirmForm,
    PreviewForm,
    ReasonForm,
    ResultUploadForm,
)
from heating.payouts.models import BATCH_STATES, PAYMENT_STATES, SUBSIDY_KINDS, PayoutBatch
from heating.payouts.pages import forbidden

PAGE = 200


def _changed() -> services.PayoutError:
    """The refusal shown when a colleague changed the batch at the same moment."""
    return services.PayoutError(_("Someone else changed this batch at the same moment. "
                                  "Nothing was saved; look at it again and retry."))


def _townships(county_ids: list[int]) -> list[tuple[int, str]]:
    rows = db.session.scalars(select(Area).where(Area.parent_id.in_(county_ids),
                                                 Area.level == "township").order_by(Area.code))
    return [(0, _("All townships"))] + [(t.id, t.name) for t in rows]


def _me() -> Any:
    """The signed-in user itself, not Flask-Login's proxy: the bulk services read the actor's
    id and grants tens of thousands of times (each proxy access costs a context lookup)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


@bp.route("/")
@login_required
def index() -> Any:
    permissions.require(current_user, "payout.view")
    state = request.args.get("state") or None
    found = batches.batches_for(current_user, state)
    ids = {b.township_id for b in found if b.township_id}
    names = {a.id: a.name for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}
    return render_template("payouts/index.html", batches=found, state=state,
                           township_names=names, BATCH_STATES=BATCH_STATES,
                           SUBSIDY_KINDS=SUBSIDY_KINDS, fen=format_fen)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    permissions.require(current_user, "payout.create")
    counties = services.payout_counties(current_user)
    choices = _townships([c.id for c in counties])
    form = BatchForm()
    form.township_id.choices = choices
    if form.validate_on_submit():
        key = form.idempotency_key.data
        repeated = services.batch_by_key(key) is not None
        taken = services.PayoutError(services.taken_message())
        with attempt(form, taken=taken, stale=taken) as done:
            batch = services.create_batch(
                _me(), kind=form.kind.data, idempotency_key=key,
                season=form.season.data or None, township_id=form.township_id.data or None,
                repay=bool(form.repay.data), note=form.note.data)
        if done:
            if repeated:
                flash(_("This form was already submitted: here is the batch it created."),
                      "warning")
            else:
                flash(_("Batch %(number)s created as a draft: %(n)d payments, %(total)s yuan. "
                        "Another finance user must approve it.", number=batch.number,
                        n=batch.payment_count, total=format_fen(batch.total_fen)), "success")
            return redirect(url_for("payouts.detail", batch_id=batch.id))
    filters = PreviewForm(request.args if request.method == "GET" else request.form)
    filters.township_id.choices = choices
    preview, problem = None, None
    try:
        sel = services.selection(_me(), kind=filters.kind.data or "equipment",
                                 season=filters.season.data or None,
                                 township_id=filters.township_id.data or None,
                                 repay=bool(filters.repay.data))
        preview = services.preview(_me(), sel)
    except services.PayoutError as err:
        problem = err.message
    if request.method == "GET":
        form.kind.data = filters.kind.data or "equipment"
        form.township_id.data = filters.township_id.data or 0
        form.season.data = filters.season.data or ""
        form.repay.data = bool(filters.repay.data)
        form.idempotency_key.data = services.new_idempotency_key()
    return render_template("payouts/new.html", form=form, filters=filters, preview=preview,
                           problem=problem, township_choices=choices)


def _load(batch_id: int, perm: str) -> PayoutBatch:
    batch = batches.batch_in_scope(current_user, batch_id)
    permissions.require(current_user, perm, batch)
    return batch


def _detail_context(batch: PayoutBatch) -> dict[str, Any]:
    status = request.args.get("status") or None
    page = page_arg()
    return {
        "batch": batch, "status": status, "page": page, "PAGE": PAGE,
        "payments": batches.payments_page(batch, status, (page - 1) * PAGE, PAGE),
        "counts": batches.status_counts(batch), "townships": batches.townships_of(batch),
        "imports": reconcile.imports_of(batch),
        "full_bank": permissions.can(current_user, "payout.export", batch),
        "may_approve": permissions.may_approve_batch(current_user, batch),
        "may_create": permissions.can(current_user, "payout.create", batch),
        "may_download": permissions.may_download_bank_file(current_user, batch),
        "may_results": batch.state in ("exported", "reconciled")
        and permissions.can(current_user, "payout.results", batch),
        "voidable": batch.state in batches.VOIDABLE
        and permissions.can(current_user, "payout.create", batch),
        "BATCH_STATES": BATCH_STATES, "PAYMENT_STATES": PAYMENT_STATES,
        "SUBSIDY_KINDS": SUBSIDY_KINDS,
        "reason_form": ReasonForm(), "confirm_form": ConfirmForm(),
        "upload_form": ResultUploadForm(), "fen": format_fen,
        "township_name": (db.session.get(Area, batch.township_id).name
                          if batch.township_id else None),
    }


@bp.route("/batches/<int:batch_id>")
@login_required
def detail(batch_id: int) -> Any:
    batch = _load(batch_id, "payout.view")
    return render_template("payouts/detail.html", **_detail_context(batch))


def _act(batch_id: int, perm: str, action: Any, done: str) -> Any:
    """Run one batch action; a refusal or a concurrent change is a message, never a 500."""
    batch = _load(batch_id, perm)
    target = url_for("payouts.detail", batch_id=batch.id)
    with attempt(stale=_changed()) as ok:
        action(batch)
    if ok:
        flash(done, "success")
    return redirect(target)


@bp.route("/batches/<int:batch_id>/approve", methods=["POST"])
@login_required
def approve(batch_id: int) -> Any:
    batch = _load(batch_id, "payout.approve")
    if batch.created_by_id == current_user.id:
        return forbidden(_("You created this batch, so you cannot approve it. Another finance "
                           "colleague must check and approve it."))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _act(batch_id, "payout.approve", lambda b: batches.approve(b, current_user),
                _("Batch approved. The bank file can now be downloaded."))


@bp.route("/batches/<int:batch_id>/drop", methods=["POST"])
@login_required
def drop(batch_id: int) -> Any:
    _load(batch_id, "payout.create")
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Please give a reason."), "error")
        return redirect(url_for("payouts.detail", batch_id=batch_id))
    return _act(batch_id, "payout.create",
                lambda b: batches.drop_batch(b, current_user, form.reason.data),
                _("Batch dropped: its payments are voided and its cases are back to "
                  "“notice period over”."))


@bp.route("/batches/<int:batch_id>/close", methods=["POST"])
@login_required
def close(batch_id: int) -> Any:
    _load(batch_id, "payout.results")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _act(batch_id, "payout.results", lambda b: batches.close_batch(b, current_user),
                _("Batch closed."))


@bp.route("/payments/<int:payment_id>/void", methods=["POST"])
@login_required
def void(payment_id: int) -> Any:
    payment = batches.payment_in_scope(current_user, payment_id)
    permissions.require(current_user, "payout.create", payment)
    form = ReasonForm()
    target = url_for("payouts.detail", batch_id=payment.batch_id)
    if not form.validate_on_submit():
        flash(_("Please give a reason."), "error")
        return redirect(target)
    with attempt(stale=_changed()) as done:
        batches.void_payment(payment, current_user, form.reason.data)
    if done:
        flash(_("Payment %(ref)s voided; its case is back to “notice period over”.",
                ref=payment.reference), "success")
    return redirect(target)


def _download(data: bytes, content_type: str, filename: str, inline: bool = False) -> Response:
    # the header exactly as given: a ``mimetype`` would get a second "; charset=utf-8"
    response = Response(data, content_type=content_type)
    how = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f"{how}; filename={filename}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.route("/batches/<int:batch_id>/bank.<fmt>")
@login_required
@writes  # the first download freezes the file; every download is audited
def bankfile(batch_id: int, fmt: str) -> Any:
    """The first download freezes the file (approved → exported); later ones get the same
    bytes.  Every download is audited: the file carries full ID and account numbers."""
    batch = _load(batch_id, "payout.export")
    if fmt not in bankfiles.FORMATS:
        abort(404)
    lost_race = services.PayoutError("")  # a colleague's first download won
    with attempt(stale=lost_race) as done:
        data = bankfiles.bank_file(batch, fmt, _me())
    if done.refusal is lost_race:  # serve the bytes they froze
        batch = _load(batch_id, "payout.export")
        data = bankfiles.bank_file(batch, fmt, _me())
    elif not done:
        return redirect(url_for("payouts.detail", batch_id=batch_id))
    return _download(data, CONTENT_TYPES[fmt], f"{batch.number}.{fmt}")


@bp.route("/batches/<int:batch_id>/roster/<int:township_id>.pdf")
@login_required
@writes  # the audit row of the print
def roster(batch_id: int, township_id: int) -> Any:
    batch = _load(batch_id, "payout.view")
    if township_id not in {t for t, _name, _n in batches.townships_of(batch)}:
        abort(404)
    township = db.session.get(Area, township_id)
    with attempt(also=certificates.PRINT_REFUSALS) as done:
        rendered = bankfiles.roster_pdf(batch, township, current_user)
    if not done:
        return redirect(url_for("payouts.detail", batch_id=batch_id))
    return _download(rendered.pdf, "application/pdf",
                     f"roster-{batch.number}-{township.code}.pdf", inline=True)


@bp.route("/batches/<int:batch_id>/results", methods=["POST"])
@login_required
def results(batch_id: int) -> Any:
    batch = _load(batch_id, "payout.results")
    form = ResultUploadForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("payouts.detail", batch_id=batch.id))
    upload = form.file.data
    with_errors = services.PayoutError("")  # nothing of a file with errors is kept
    with attempt(stale=_changed()) as done:
        report = reconcile.import_results(batch, upload.read(), upload.filename or "",
                                          _me())
        if not report.ok:
            raise with_errors
    if done.refusal is with_errors:
        batch = _load(batch_id, "payout.results")
        return render_template("payouts/detail.html", report=report,
                               **_detail_context(batch))
    if not done:
        return redirect(url_for("payouts.detail", batch_id=batch.id))
    imp = report.imported
    flash(_("Bank results imported: %(paid)d paid, %(failed)d failed.", paid=imp.paid_count,
            failed=imp.failed_count), "success")
    return redirect(url_for("payouts.detail", batch_id=batch.id))

