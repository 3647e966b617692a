"""The monthly ranking report's screen (county: choose the month, download the draft PDF or
XLSX, publish; auditor and county: the published reports) and the published files' downloads
(the stored bytes, byte-identical every time).  Each view: permission (403), scope (404),
one service call; publishing commits once, at the request's end."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.i18n import local_today
from heating.core.numbers import MAX_YEAR, MIN_YEAR, whole_number_or
from heating.core.refusals import Refusal
from heating.core.web import attempt
from heating.extensions import db
from heating.reports import publishing
from heating.reports.blueprint import bp
from heating.reports.dashboard import county_of, years_for
from heating.reports.models import MonthlyReport

CONTENT_TYPES = {"pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _download(data: bytes, fmt: str, filename: str) -> Response:
    response = Response(data, content_type=CONTENT_TYPES[fmt])
    how = "inline" if fmt == "pdf" else "attachment"
    response.headers["Content-Disposition"] = f"{how}; filename={filename}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _counties() -> set[int]:
    return set(permissions.scope_for(
        current_user, permissions.PERMISSIONS["report.monthly.view"]).counties)


def _choice() -> tuple[int, Any]:
    """The programme year and month asked for (defaults: this year, last complete month)."""
    year = whole_number_or(request.values.get("programme_year"), None, MIN_YEAR, MAX_YEAR)
    month = publishing.parse_month(request.values.get("month"))
    return (year or local_today().year), (month or publishing.complete_months()[0])


def _county() -> Area:
    county_id = county_of(current_user)
    county = db.session.get(Area, county_id) if county_id else None
    if county is None:
        abort(404)
    return county


@bp.route("/monthly")
@login_required
def monthly_index() -> Any:
    permissions.require(current_user, "report.monthly.view")
    year, month = _choice()
    may_make = permissions.can(current_user, "report.monthly")
    county = _county() if may_make else None
    return render_template(
        "reports/monthly.html", reports=publishing.published(_counties()), year=year,
        month=month, months=publishing.complete_months(), years=years_for(current_user),
        may_make=may_make, county=county,
        existing=publishing.versions(county.id, year, month) if county else [])


@bp.route("/monthly/draft.<fmt>")
@login_required
def monthly_draft(fmt: str) -> Any:
    permissions.require(current_user, "report.monthly")
    if fmt not in CONTENT_TYPES:
        abort(404)
    county = _county()
    year, month = _choice()
    try:
        data = publishing.draft(county, year, month, current_user, fmt)
    except Refusal as refusal:
        if refusal.as_page:
            raise
        flash(str(refusal.message), "error")
        return redirect(url_for("reports.monthly_index"))
    return _download(data, fmt, f"monthly-{year}-{month:%Y%m}-draft.{fmt}")


@bp.route("/monthly/publish", methods=["POST"])
@login_required
def monthly_publish() -> Any:
    permissions.require(current_user, "report.monthly")
    county = _county()
    year = whole_number_or(request.form.get("programme_year"), None, MIN_YEAR, MAX_YEAR)
    month = publishing.parse_month(request.form.get("month"))
    if year is None or month is None:
        flash(_("Choose a programme year and a month."), "error")
        return redirect(url_for("reports.monthly_index"))
    with attempt() as done:
        report = publishing.publish(county, year, month, current_user,
                                    request.form.get("reason", ""))
    if done:
        flash(_("The report for %(month)s is published (version %(v)d).",
                month=f"{month:%Y-%m}", v=report.version), "success")
    return redirect(url_for("reports.monthly_index", programme_year=year,
                            month=f"{month:%Y-%m}"))


@bp.route("/monthly/<int:report_id>.<fmt>")
@login_required
def monthly_file(report_id: int, fmt: str) -> Any:
    report = db.session.get(MonthlyReport, report_id)
    # out of scope (another county's report, or none): 404 before the permission's 403
    if report is None or report.county_id != county_of(current_user) or fmt not in CONTENT_TYPES:
        abort(404)
    permissions.require(current_user, "report.monthly.view")
    return _download(publishing.stored(report, fmt), fmt,
                     f"monthly-{report.programme_year}-{report.month:%Y%m}"
                     f"-v{report.version}.{fmt}")
