"""The programme dashboard (county: by township, or one township's villages; township
reviewer: own villages; clerk: own villages) and the county's settings screen (programme
year dates, overdue thresholds; audited).  Each view: permission (403), figures from
``dashboard``; the settings' POSTs make one service call each and commit once."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.i18n import local_today
from heating.core.numbers import MAX_YEAR, MIN_YEAR, whole_number_or
from heating.core.web import attempt
from heating.extensions import db
from heating.households.lifecycle import OVERDUE, OVERDUE_LABELS, STAGES
from heating.inspections.campaign_visits import campaign_progress
from heating.reports import charts, dashboard, settings
from heating.reports.blueprint import bp
from heating.reports.forms import ThresholdsForm, YearDatesForm


@bp.route("/")
@login_required
def index() -> Any:
    permissions.require(current_user, "report.view")
    years = dashboard.years_for(current_user)
    year = whole_number_or(request.args.get("year"), None, MIN_YEAR, MAX_YEAR)
    if year not in years:
        year = local_today().year  # always among them
    board = dashboard.build(current_user, year, whole_number_or(
        request.args.get("township"), 0) or 0)
    board.campaigns = campaign_progress(current_user, year)
    ranked = sorted((r for r in board.rows if r.percent is not None),
                    key=lambda r: -(r.percent or 0))
    low = {r.area_id for r in ranked[-3:]} if len(ranked) > 3 else set()
    bars = [charts.Bar(r.name, round(r.percent or 0, 1), r.area_id in low) for r in ranked]
    title = (_("Share of target done, by township") if board.level == "township"
             else _("Share of target done, by village"))
    chart = (charts.to_svg(charts.done_bars(bars, width=360, title=title), label=title)
             if bars else None)
    return render_template(
        "reports/dashboard.html", board=board, chart=chart, STAGES=STAGES,
        stage_labels={k: str(label) for k, (_, label) in STAGES.items()},
        overdue_labels={k: str(v) for k, v in OVERDUE_LABELS.items()},
        may_settings=permissions.can(current_user, "report.settings"),
        may_recoveries=permissions.can(current_user, "recovery.view"),
        may_campaigns=permissions.can(current_user, "campaign.view"))


def _county() -> Area:
    county_id = dashboard.county_of(current_user)
    county = db.session.get(Area, county_id) if county_id else None
    if county is None:
        abort(404)
    return county


def _settings_page(county: Area, thresholds_form: ThresholdsForm | None = None,
                   year_form: YearDatesForm | None = None) -> Any:
    if thresholds_form is None:
        thresholds_form = ThresholdsForm(formdata=None, data=settings.thresholds(county.id))
    year = local_today().year
    if year_form is None:
        dates = settings.year_dates(county.id, year)
        year_form = YearDatesForm(formdata=None, data={
            "programme_year": year, "starts_on": dates.starts_on, "deadline": dates.deadline})
    years = [settings.year_dates(county.id, y) for y in (year + 1, year, year - 1)]
    return render_template("reports/settings.html", county=county, years=years,
                           thresholds_form=thresholds_form, year_form=year_form,
                           defaults={k: d for k, (_, _, d) in OVERDUE.items()})


@bp.route("/settings")
@login_required
def settings_page() -> Any:
    permissions.require(current_user, "report.settings")
    return _settings_page(_county())


@bp.route("/settings/thresholds", methods=["POST"])
@login_required
def save_thresholds() -> Any:
    permissions.require(current_user, "report.settings")
    county = _county()
    form = ThresholdsForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            settings.set_thresholds(county, {k: getattr(form, k).data for k in OVERDUE},
                                    current_user)
        if done:
            flash(_("Overdue thresholds saved."), "success")
            return redirect(url_for("reports.settings_page"))
    return _settings_page(county, thresholds_form=form), 400


@bp.route("/settings/year", methods=["POST"])
@login_required
def save_year_dates() -> Any:
    permissions.require(current_user, "report.settings")
    county = _county()
    form = YearDatesForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            settings.set_year_dates(county, form.programme_year.data, form.starts_on.data,
                                    form.deadline.data, current_user)
        if done:
            flash(_("Programme year %(year)d: dates saved.", year=form.programme_year.data),
                  "success")
            return redirect(url_for("reports.settings_page"))
    return _settings_page(county, year_form=form), 400
