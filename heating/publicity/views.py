"""公示 screens: the list of notices, a new notice (eligible cases with their amounts), the
notice with its entries and objections, the posted PDF and its XLSX copy, and confirmation of
ended notices.  Reviewers manage the notices of their township; every case role reads the
notices of its area; outside it a notice does not exist (404).  Each view: scoped loader,
permission, form, one service call, commit once, flash, redirect.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from heating.areas.models import Area
from heating.auth import permissions
from heating.certificates import services as certificates
from heating.core.i18n import local_today
from heating.core.numbers import whole_number_or
from heating.core.web import attempt, flash_form_errors, int_arg, writes
from heating.extensions import db
from heating.households.models import Household
from heating.publicity import models, objections, scope, services
from heating.publicity.blueprint import bp
from heating.publicity.forms import (
    ConfirmForm,
    DecisionForm,
    ObjectionForm,
    PublishForm,
    TakeOffForm,
)
from heating.publicity.models import Notice, NoticeEntry, Objection


def case_panel(case: Household, user: Any) -> dict[str, Any] | None:
    """The case's notice entry on the case page: the notice, period, frozen amount and the
    objections with their outcomes; earlier entries it was taken off."""
    if not permissions.can(user, "notice.view", case):
        return None
    entries = services.entries_of(case)
    if not entries:
        return None
    live = next((e for e in entries if e.live), None)
    return {"live": live, "history": [e for e in entries if not e.live],
            "may_manage": permissions.can(user, "notice.manage", case),
            "entry_states": models.ENTRY_STATES, "outcomes": models.OBJECTION_OUTCOMES}




# --- loaders ------------------------------------------------------------------------------------

def _notice(notice_id: int) -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None or not scope.notice_visible(current_user, notice):
        abort(404)
    return notice


def _entry(entry_id: int) -> NoticeEntry:
    """An entry the user may manage: 404 outside their area, 403 without notice.manage."""
    entry = permissions.get_in_scope(NoticeEntry, entry_id, current_user)
    permissions.require(current_user, "notice.manage", entry.household)
    return entry


def _objection(objection_id: int) -> Objection:
    objection = permissions.get_in_scope(Objection, objection_id, current_user, via="entry")
    permissions.require(current_user, "notice.manage", objection.entry.household)
    return objection


def _detail_url(notice_id: int, entry: NoticeEntry | None = None) -> str:
    return url_for("publicity.detail", notice_id=notice_id) + (
        f"#entry-{entry.id}" if entry is not None else "")


# --- the list -----------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index() -> Any:
    permissions.require(current_user, "notice.view")
    state = request.args.get("state") if request.args.get("state") in models.NOTICE_STATES \
        else ""
    query = select(Notice).where(scope.notice_scope_clause(current_user))
    if state:
        query = query.where(Notice.state == state)
    notices = list(db.session.scalars(query.order_by(Notice.published_at.desc(),
                                                     Notice.id.desc()).limit(500)))
    counts: dict[int, dict[str, int]] = {}
    if notices:
        rows = db.session.execute(
            select(NoticeEntry.notice_id, NoticeEntry.state, func.count())
            .where(NoticeEntry.notice_id.in_([n.id for n in notices]))
            .group_by(NoticeEntry.notice_id, NoticeEntry.state))
        for notice_id, entry_state, n in rows:
            counts.setdefault(notice_id, {})[entry_state] = n
    today = local_today()
    may_manage = permissions.can(current_user, "notice.manage")
    ended = [n for n in notices if n.state == "published" and n.ends_on < today
             and permissions.may_manage_notice(current_user, n)]
    return render_template("publicity/index.html", notices=notices, counts=counts,
                           state=state, today=today, may_manage=may_manage, ended=ended,
                           notice_states=models.NOTICE_STATES)


# --- a new notice -------------------------------------------------------------------------------

def _area_arg(value: Any, allowed: list[Area]) -> Area | None:
    """An area id from the page, which must be one of ``allowed`` (404 otherwise)."""
    area_id = whole_number_or(value or 0, None)
    if area_id is None:
        abort(404)
    if not area_id:
        return None
    found = next((a for a in allowed if a.id == area_id), None)
    if found is None:
        abort(404)
    return found


def _defaults(form: PublishForm, township: Area, village: Area | None, year: int | None
              ) -> None:
    last = db.session.scalar(select(Notice).where(Notice.township_id == township.id)
                             .order_by(Notice.id.desc()).limit(1))
    form.title.data = form.title.data or (
        f"{township.name}{village.name if village else ''}{year or ''}年度清洁取暖改造"
        "设备购置补贴公示")
    form.starts_on.data = form.starts_on.data or local_today()
    form.default_period()
    form.objection_phone.data = form.objection_phone.data or (
        last.objection_phone if last else "")
    form.issuing_office.data = form.issuing_office.data or (
        last.issuing_office if last else f"{township.name}人民政府")


@dataclass
class _Place:
    """Where the new notice is for: the township (and village) and programme year chosen on
    the page, with the choices offered."""

    townships: list[Area]
    township: Area | None = None
    villages: list[Area] = field(default_factory=list)
    village: Area | None = None
    years: list[int] = field(default_factory=list)
    year: int | None = None


def _chosen_place(form: PublishForm) -> _Place:
    """From the form when it is sent, from the address otherwise; an area outside the
    user's townships is a 404, a year without eligible cases falls back to the latest."""
    posted = request.method == "POST"
    place = _Place(scope.manageable_townships(current_user))
    place.township = _area_arg(form.township_id.data if posted
                               else int_arg("township", what=_l("Township")), place.townships)
    if place.township is None and len(place.townships) == 1:
        place.township = place.townships[0]
    if place.township is None:
        return place
    place.villages = [v for v in place.township.children
                      if v.level == "village" and not v.retired]
    place.village = _area_arg(form.village_id.data if posted
                              else int_arg("village", what=_l("Village")), place.villages)
    place.years = sorted({c.programme_year for c in services.eligible_cases(
        current_user, place.township, place.village)}, reverse=True)
    wanted = (whole_number_or(form.year.data, None) if posted
              else int_arg("year", None, what=_l("Programme year")))
    place.year = wanted if wanted in place.years else (place.years[0] if place.years else None)
    return place


def _publish(form: PublishForm, place: _Place) -> Notice | None:
    """The notice, published and flashed; None when refused (nothing published: the cases
    are still waiting, and the form says why)."""
    with attempt(form, also=certificates.PRINT_REFUSALS) as done:
        notice = services.publish(
            current_user, township=place.township, village=place.village,
            case_ids=form.case_ids.data, title=form.title.data,
            period_days=form.period_days.data, starts_on=form.starts_on.data,
            objection_phone=form.objection_phone.data, issuing_office=form.issuing_office.data)
    if not done:
        return None
    flash(_("Notice %(number)s published: %(n)s case(s) on public notice until "
            "%(end)s. The amounts are frozen.", number=notice.number,
            n=len(notice.entries), end=notice.ends_on.isoformat()), "success")
    return notice


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Choose a township (and village), tick the eligible cases, check the amounts, publish."""
    permissions.require(current_user, "notice.manage")
    form = PublishForm()
    place = _chosen_place(form)
    if request.method == "POST" and place.township is not None and form.validate_on_submit():
        notice = _publish(form, place)
        if notice is not None:
            return redirect(url_for("publicity.detail", notice_id=notice.id))
    previews = []
    if place.township is not None:
        previews = [services.preview(c) for c in services.eligible_cases(
            current_user, place.township, place.village, place.year)]
        _defaults(form, place.township, place.village, place.year)
        if request.method == "GET":
            form.case_ids.data = [p.case.id for p in previews if p.ok]
    return render_template("publicity/new.html", form=form, townships=place.townships,
                           township=place.township, villages=place.villages,
                           village=place.village, years=place.years, year=place.year,
                           previews=previews, ticked=set(form.case_ids.data or []))


# --- one notice ---------------------------------------------------------------------------------

@bp.route("/<int:notice_id>")
@login_required
def detail(notice_id: int) -> Any:
    notice = _notice(notice_id)
    permissions.require(current_user, "notice.view")
    today = local_today()
    return render_template(
        "publicity/detail.html", notice=notice, today=today,
        may_manage=permissions.may_manage_notice(current_user, notice),
        may_object={e.id: objections.may_object(e) for e in notice.entries},
        total=sum(e.amount_fen for e in notice.entries if e.live),
        notice_states=models.NOTICE_STATES, entry_states=models.ENTRY_STATES,
        outcomes=models.OBJECTION_OUTCOMES)


def _download(notice_id: int, kind: str) -> Response:
    """The notice as a file; every download is audited (its views are ``@writes``)."""
    notice = _notice(notice_id)
    permissions.require(current_user, "notice.view")
    data = services.pdf_bytes(notice) if kind == "pdf" else services.xlsx_bytes(notice)
    services.record_download(notice, current_user, kind)
    mimetype = ("application/pdf" if kind == "pdf" else
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = Response(data, mimetype=mimetype)
    disposition = "inline" if kind == "pdf" else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename={notice.number}.{kind}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:notice_id>.pdf")
@login_required
@writes  # the audit row of the download
def pdf(notice_id: int) -> Any:
    """The notice as published, byte for byte (audited)."""
    return _download(notice_id, "pdf")


@bp.route("/<int:notice_id>.xlsx")
@login_required
@writes  # the audit row of the download
def xlsx(notice_id: int) -> Any:
    """The same list as a spreadsheet (audited)."""
    return _download(notice_id, "xlsx")


@bp.route("/entries/<int:entry_id>/objections", methods=["POST"])
@login_required
def object(entry_id: int) -> Any:  # noqa: A001  (the route's name)
    entry = _entry(entry_id)
    form = ObjectionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        with attempt() as done:
            objections.record_objection(entry, current_user, form.raised_by.data,
                                        form.reason.data)
        if done:
            flash(_("Objection recorded: the case is under objection review until you "
                    "dismiss or uphold it."), "success")
    return redirect(_detail_url(entry.notice_id, entry))


def _decide(objection_id: int, outcome: str) -> Any:
    objection = _objection(objection_id)
    entry = objection.entry
    form = DecisionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(_detail_url(entry.notice_id, entry))
    with attempt() as done:
        decide = objections.dismiss if outcome == "dismiss" else objections.uphold
        decide(objection, current_user, form.reason.data)
    if done:
        if outcome == "dismiss":
            flash(_("Objection dismissed."), "success")
        else:
            flash(_("Objection upheld: the certificate is revoked and the case is back at "
                    "installation for a new inspection."), "success")
    return redirect(_detail_url(entry.notice_id, entry))


@bp.route("/objections/<int:objection_id>/dismiss", methods=["POST"])
@login_required
def dismiss(objection_id: int) -> Any:
    return _decide(objection_id, "dismiss")


@bp.route("/objections/<int:objection_id>/uphold", methods=["POST"])
@login_required
def uphold(objection_id: int) -> Any:
    return _decide(objection_id, "uphold")


@bp.route("/entries/<int:entry_id>/take-off", methods=["POST"])
@login_required
def take_off(entry_id: int) -> Any:
    entry = _entry(entry_id)
    form = TakeOffForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        with attempt() as done:
            services.take_off_notice(entry.household, current_user, form.reason.data)
        if done:
            flash(_("The case is off the notice and back at \"inspection passed\": it needs "
                    "a new notice."), "success")
    return redirect(_detail_url(entry.notice_id, entry))


def _confirmed_message(result: services.ConfirmResult) -> None:
    if result.notices == 0:
        flash(_("No notice whose period is over is waiting for confirmation."), "info")
    else:
        flash(_("%(n)s case(s) confirmed; %(closed)s notice(s) closed.", n=result.confirmed,
                closed=result.closed), "success")


@bp.route("/<int:notice_id>/confirm", methods=["POST"])
@login_required
def confirm(notice_id: int) -> Any:
    """Confirm now what the daily job would confirm tonight (ended notices only)."""
    notice = _notice(notice_id)
    if not permissions.may_manage_notice(current_user, notice):
        abort(403)
    if ConfirmForm().validate_on_submit():
        result = services.confirm_due(actor=current_user, notice_ids=[notice.id])
        _confirmed_message(result)
    return redirect(_detail_url(notice_id))


@bp.route("/confirm", methods=["POST"])
@login_required
def confirm_all() -> Any:
    """Confirm every ended notice of the townships the reviewer manages."""
    permissions.require(current_user, "notice.manage")
    if ConfirmForm().validate_on_submit():
        ids = list(db.session.scalars(select(Notice.id).where(
            scope.notice_scope_clause(current_user, "notice.manage"))))
        result = services.confirm_due(actor=current_user, notice_ids=ids)
        _confirmed_message(result)
    return redirect(url_for("publicity.index"))
