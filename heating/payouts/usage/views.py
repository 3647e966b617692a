"""Usage files of the running subsidy: upload → preview → confirm, the imports and their
records (with the near-zero usage list for follow-up).

Who: importing is ``usage.import`` (finance); reading imports is ``payout.view`` (finance,
county, auditor) over the import's county.  The permission is checked first (403 for other
roles, whatever the id), then the scope (404: an import of another county is not revealed).
A preview belongs to its uploader only (404 for anyone else).
"""
from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.core.masking import mask_name
from heating.core.money import format_fen
from heating.core.refusals import Refusal
from heating.core.spreadsheet_write import neutralise
from heating.core.web import attempt, page_arg, writes
from heating.households.lifecycle import STATES
from heating.payouts import usage as services
from heating.payouts.blueprint import bp
from heating.payouts.models import UTILITIES, UsageImport
from heating.payouts.usage.forms import UsageConfirmForm, UsageUploadForm

PAGE = 200
SHOW = ("all", "matched", "excluded", "low")


def _require(perm: str) -> None:
    if not permissions.can(current_user, perm):
        abort(403)


def _load_import(import_id: int) -> UsageImport:
    _require("usage.view")
    imp = services.import_for(import_id, current_user)
    if imp is None:
        abort(404)
    return imp


def _load_preview(token: str) -> services.Preview:
    _require("usage.import")
    preview = services.load_preview(token, current_user)
    if preview is None:
        abort(404)
    return preview


def _reason(code: str | None, params: dict[str, Any] | None) -> str:
    """A stored reason (code and parameters) in the reader's language."""
    if code not in services.REASONS:
        return ""
    params = dict(params or {})
    if "state" in params:
        params["state"] = STATES.get(params["state"], params["state"])
    text = str(services.REASONS[code])
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):
        return text


@bp.route("/usage/")
@login_required
def usage_index() -> Any:
    _require("usage.view")
    return render_template("payouts/usage_index.html", imports=services.imports_for(current_user),
                           may_import_usage=permissions.can(current_user, "usage.import"),
                           utilities=UTILITIES, fen=format_fen)


@bp.route("/usage/upload", methods=["GET", "POST"])
@login_required
def usage_upload() -> Any:
    _require("usage.import")
    form = UsageUploadForm()
    counties = services.counties_for(current_user)
    form.county.choices = [(c.id, c.name) for c in counties]
    if request.method == "GET":
        form.season.data = services.default_season()
        if counties:
            form.county.data = counties[0].id
    if form.validate_on_submit():
        upload = form.file.data
        try:
            preview = services.upload(upload.read(), upload.filename or "",
                                      utility=form.utility.data, season=form.season.data,
                                      county_id=form.county.data, user=current_user)
        except services.UsageError as err:  # audited by the service, whatever happens here
            form.file.errors = list(form.file.errors) + [str(err.message)]
        else:
            return redirect(url_for("payouts.usage_preview", token=preview.token))
    return render_template("payouts/usage_upload.html", form=form, counties=counties,
                           low_kwh=services.threshold_text("power"),
                           low_m3=services.threshold_text("gas"))


def _filtered(rows: list[dict[str, Any]], show: str) -> list[dict[str, Any]]:
    if show == "matched":
        return [r for r in rows if not r.get("r")]
    if show == "excluded":
        return [r for r in rows if r.get("r")]
    if show == "low":
        return [r for r in rows if r.get("lo") and not r.get("r")]
    return rows


@bp.route("/usage/preview/<token>")
@login_required
def usage_preview(token: str) -> Any:
    preview = _load_preview(token)
    earlier = services.already_imported(preview.sha256, preview.county_id)
    if earlier is not None and services.import_for(earlier.id, current_user) is not None:
        flash(_("This file has been imported."), "success")
        return redirect(url_for("payouts.usage_detail", import_id=earlier.id))
    show = request.args.get("show") if request.args.get("show") in SHOW else (
        "excluded" if preview.counts["excluded"] else "all")
    chosen = _filtered(preview.rows, show)
    page = page_arg()
    rows = chosen[(page - 1) * PAGE:page * PAGE]
    return render_template(
        "payouts/usage_preview.html", preview=preview, show=show, page=page,
        pages=max((len(chosen) + PAGE - 1) // PAGE, 1), total_shown=len(chosen), rows=rows,
        reason=_reason, fen=format_fen, utilities=UTILITIES,
        reasons={code: services.REASON_LABELS[code] for code in preview.counts["reasons"]},
        confirm_form=UsageConfirmForm())


@bp.route("/usage/preview/<token>/confirm", methods=["POST"])
@login_required
def usage_confirm(token: str) -> Any:
    preview = _load_preview(token)
    if not UsageConfirmForm().validate_on_submit():
        abort(400)
    # another import of this file, or of one of these households' season, may be confirmed
    # at the same moment: then nothing of this file is written
    taken = Refusal(_("Nothing was imported: another import of this file or of these "
                      "households' season was confirmed at the same moment. Upload the file "
                      "again to see an up-to-date preview."))
    with attempt(taken=taken) as done:
        outcome = services.confirm(preview, current_user)
    if not done:
        return redirect(url_for("payouts.usage_preview", token=token))
    if outcome.changed:
        flash(_("Nothing was imported: cases or usage records changed since the preview. The "
                "preview below is up to date; check it and confirm again."), "error")
    elif outcome.refused is not None:
        flash(str(outcome.refused), "error")
    else:
        imp = outcome.imported
        flash(_("%(n)d usage records were imported for the season %(season)s.",
                n=imp.matched_count, season=imp.season), "success")
        return redirect(url_for("payouts.usage_detail", import_id=imp.id))
    return redirect(url_for("payouts.usage_preview", token=token))


@bp.route("/usage/<int:import_id>")
@login_required
def usage_detail(import_id: int) -> Any:
    imp = _load_import(import_id)
    show = request.args.get("show") if request.args.get("show") in ("records", "low",
                                                                    "excluded") else "records"
    page = page_arg()
    excluded = imp.report.get("excluded", [])
    if show == "excluded":
        total, rows = len(excluded), excluded[(page - 1) * PAGE:page * PAGE]
    else:
        total, rows = services.records_of(imp, low_only=show == "low", offset=(page - 1) * PAGE,
                                          limit=PAGE)
    return render_template(
        "payouts/usage_detail.html", imp=imp, show=show, page=page, rows=rows, total=total,
        pages=max((total + PAGE - 1) // PAGE, 1), counts=imp.report.get("counts", {}),
        total_fen=services.total_fen(imp), low=services.low_count(imp),
        excluded_count=len(excluded), reason=_reason, fen=format_fen, mask=mask_name,
        utilities=UTILITIES)


@bp.route("/usage/<int:import_id>/low-usage.csv")
@login_required
@writes  # the export of personal data is audited
def usage_low_csv(import_id: int) -> Any:
    """The near-zero usage list for follow-up visits (masked names: the visit sheet goes to
    the village, which knows its households by house number)."""
    imp = _load_import(import_id)
    _total, rows = services.records_of(imp, low_only=True, limit=None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Season"), _("Village"), _("Group"), _("House no."),
                     _("Head of household"), _("Meter or account no."), _("Usage"),
                     _("Amount (yuan)"), _("Case")])
    for r in rows:
        writer.writerow([neutralise(v) for v in (
            imp.season, r.village, r.group_name, r.house_no, mask_name(r.head_name),
            r.meter_no, str(r.usage), format_fen(r.amount_fen).replace(",", ""),
            url_for("households.detail", case_id=r.household_id, _external=True))])
    services.audit_low_export(imp, current_user, len(rows))
    name = f"usage-{imp.id}-low.csv"
    title = f"低用量回访清单-{imp.season}-{imp.id}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={name}; filename*=UTF-8''{quote(title)}",
        "Cache-Control": "no-store"})
