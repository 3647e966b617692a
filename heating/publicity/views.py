"""公示 screens: the list of notices, a new notice (eligible cases with their amounts), the
notice with its entries and objections, the posted PDF and its XLSX copy, and confirmation of
ended notices.  Reviewers manage the notices of their township; every case role reads the
notices of its area; outside it a notice does not exist (404).  Each view: scoped loader,
permission, form, one service call, commit once, flash, redirect.
"""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from heating.areas.models import Area
from heating.auth import permissions
from heating.certificates import services as certificates
from heating.core.db import writing
from heating.core.i18n import local_today
from heating.core.numbers import whole_number_or
from heating.core.rendered import UnprintableError
from heating.core.web import attach_error, int_arg
from heating.extensions import db
from heating.households.lifecycle import TransitionError
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
from heating.publicity.services import PublicityError


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
    entry = db.session.get(NoticeEntry, entry_id)
    if entry is None:
        abort(404)
    permissions.require(current_user, "notice.manage", entry.household)
    return entry


def _objection(objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None:
        abort(404)
    permissions.require(current_user, "notice.manage", objection.entry.household)
    return objection


def _detail_url(notice_id: int, entry: NoticeEntry | None = None) -> str:
    return url_for("publicity.detail", notice_id=notice_id) + (
        f"#entry-{entry.id}" if entry is not None else "")


def _refused(err: Exception) -> None:
    db.session.rollback()
    flash(getattr(err, "message", str(err)), "error")
    for problem in getattr(err, "problems", []):
        flash(problem, "error")


def _form_errors(form: Any) -> None:
    for errors in form.errors.values():
        for e in errors:
            flash(e, "error")


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


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Choose a township (and village), tick the eligible cases, check the amounts, publish."""
    permissions.require(current_user, "notice.manage")
    townships = scope.manageable_townships(current_user)
    form = PublishForm()
    township = _area_arg(form.township_id.data if request.method == "POST"
                         else int_arg("township", what=_l("Township")), townships)
    if township is None and len(townships) == 1:
        township = townships[0]
    villages = ([v for v in township.children if v.level == "village" and not v.retired]
                if township else [])
    village = _area_arg(form.village_id.data if request.method == "POST"
                        else int_arg("village", what=_l("Village")), villages) if township else None
    years: list[int] = []
    year: int | None = None
    if township is not None:
        years = sorted({c.programme_year for c in services.eligible_cases(
            current_user, township, village)}, reverse=True)
        wanted = (whole_number_or(form.year.data, None) if request.method == "POST"
                  else int_arg("year", None, what=_l("Programme year")))
        year = wanted if wanted in years else (years[0] if years else None)
    if request.method == "POST" and township is not None and form.validate_on_submit():
        try:
            notice = services.publish(
                current_user, township=township, village=village, case_ids=form.case_ids.data,
                title=form.title.data, period_days=form.period_days.data,
                starts_on=form.starts_on.data, objection_phone=form.objection_phone.data,
                issuing_office=form.issuing_office.data)
            db.session.commit()
        except (PublicityError, TransitionError) as err:
            db.session.rollback()
            attach_error(form, err)
            for problem in getattr(err, "problems", []):
                flash(problem, "error")
        except UnprintableError as err:
            db.session.rollback()  # nothing published: the cases are still waiting
            for message in certificates.unprintable_messages(err):
                flash(message, "error")
        else:
            flash(_("Notice %(number)s published: %(n)s case(s) on public notice until "
                    "%(end)s. The amounts are frozen.", number=notice.number,
                    n=len(notice.entries), end=notice.ends_on.isoformat()), "success")
            return redirect(url_for("publicity.detail", notice_id=notice.id))
    previews = []
    if township is not None:
        previews = [services.preview(c) for c in services.eligible_cases(
            current_user, township, village, year)]
        _defaults(form, township, village, year)
        if request.method == "GET":
            form.case_ids.data = [p.case.id for p in previews if p.ok]
    return render_template("publicity/new.html", form=form, townships=townships,
                           township=township, villages=villages, village=village,
                           years=years, year=year, previews=previews,
                           ticked=set(form.case_ids.data or []))


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
    notice = _notice(notice_id)
    permissions.require(current_user, "notice.view")
    db.session.commit()  # end the read: the audit row needs a writer transaction
    with writing():
        notice = _notice(notice_id)
        data = services.pdf_bytes(notice) if kind == "pdf" else services.xlsx_bytes(notice)
        services.record_download(notice, current_user, kind)
        db.session.commit()
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
def pdf(notice_id: int) -> Any:
    """The notice as published, byte for byte (audited)."""
    return _download(notice_id, "pdf")


@bp.route("/<int:notice_id>.xlsx")
@login_required
def xlsx(notice_id: int) -> Any:
    """The same list as a spreadsheet (audited)."""
    return _download(notice_id, "xlsx")


@bp.route("/entries/<int:entry_id>/objections", methods=["POST"])
@login_required
def object(entry_id: int) -> Any:  # noqa: A001  (the route's name)
    entry = _entry(entry_id)
    form = ObjectionForm()
    if not form.validate_on_submit():
        _form_errors(form)
    else:
        try:
            objections.record_objection(entry, current_user, form.raised_by.data,
                                        form.reason.data)
            db.session.commit()
        except (PublicityError, TransitionError) as err:
            _refused(err)
        else:
            flash(_("Objection recorded: the case is under objection review until you "
                    "dismiss or uphold it."), "success")
    return redirect(_detail_url(entry.notice_id, entry))


def _decide(objection_id: int, outcome: str) -> Any:
    objection = _objection(objection_id)
    entry = objection.entry
    form = DecisionForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(_detail_url(entry.notice_id, entry))
    try:
        decide = objections.dismiss if outcome == "dismiss" else objections.uphold
        decide(objection, current_user, form.reason.data)
        db.session.commit()
    except (PublicityError, TransitionError) as err:
        _refused(err)
    else:
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
        _form_errors(form)
    else:
        try:
            services.take_off_notice(entry.household, current_user, form.reason.data)
            db.session.commit()
        except (PublicityError, TransitionError) as err:
            _refused(err)
        else:
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
        db.session.commit()
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
        db.session.commit()
        _confirmed_message(result)
    return redirect(url_for("publicity.index"))
