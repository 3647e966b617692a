"""Household screens.  Each view: load through ``permissions.get_in_scope`` (404 outside
scope), check the permission (403), validate the form, call one service inside ``attempt()``
(the request commits; a refusal is rolled back and shown), flash, redirect."""
from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.numbers import whole_number_or
from heating.core.pdf import show_chars
from heating.core.web import attempt, ignore_bad_filters, int_arg
from heating.extensions import db
from heating.households import lifecycle, providers, queries, services
from heating.households.blueprint import bp
from heating.households.forms import (
    HouseholdForm,
    PrintNameForm,
    ReasonForm,
    RevealForm,
    SearchForm,
    default_programme_year,
)
from heating.households.models import CONVERSION_TYPES, Household


def load_case(case_id: int) -> Household:
    """The case, or 404 outside the user's scopes."""
    return permissions.get_in_scope(Household, case_id, current_user)


def _village_choices(roles: frozenset[str]) -> list[tuple[int, str]]:
    villages = queries.visible_villages(current_user, roles=roles)
    return [(v.id, f"{v.parent.name} {v.name}") for v in villages if not v.retired]


@bp.route("/")
@login_required
def index() -> Any:
    permissions.require(current_user, "household.view")
    form = SearchForm(request.args)
    ignore_bad_filters(form)
    f = queries.Filters.from_form(form)  # read as the ledger export reads them
    townships = queries.visible_townships(current_user)
    villages = queries.village_filter_options(current_user, f.township)
    # labels translated once per page, not once per row or option
    state_labels = {k: str(v) for k, v in lifecycle.STATES.items()}
    type_labels = {k: str(v) for k, v in CONVERSION_TYPES.items()}
    form.state.choices = [("", _("All states"))] + list(state_labels.items())
    form.township.choices = [(0, _("All townships"))] + [(t.id, t.name) for t in townships]
    form.village.choices = [(0, _("All villages") if villages else
                             _("Choose a township first"))] + [(v.id, v.name) for v in villages]
    result = queries.page(current_user, f, int_arg("after", what=_l("Page")),
                          current_app.config["PAGE_SIZE"])
    counts = queries.counts_by_state(current_user, f)
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    # the returned cases say why (the clerk's "returned to me", in full)
    reasons = (queries.return_reasons([row.id for row in result.items])
               if f.state == "returned" else None)
    return render_template(
        "households/list.html", form=form, page=result, counts=counts, reasons=reasons,
        dashboard_filter=_dashboard_filter(f),
        frozen=(queries.frozen_total(current_user, f) if (f.stage or f.done) and not f.q
                else None),
        total=sum(counts.values()), area_trail=_breadcrumb(f), args=args, filters=f,
        state_labels=state_labels, type_labels=type_labels,
        type_choices=[("", _("All types"))] + list(type_labels.items()))


def _dashboard_filter(f: queries.Filters) -> str:
    """What a dashboard link added to the list's filters, in words ("" when nothing)."""
    parts = []
    if f.stage:
        parts.append(_("Stage: %(stage)s", stage=lifecycle.STAGES[f.stage][1]))
    if f.done:
        parts.append(_("Counts as done (passed or later, certificate valid)"))
    if f.overdue:
        days = f.days or lifecycle.OVERDUE[f.overdue][2]
        parts.append(_("%(kind)s for more than %(days)d days",
                       kind=lifecycle.OVERDUE_LABELS[f.overdue], days=days))
    return "; ".join(parts)


def _breadcrumb(f: queries.Filters) -> list[Area]:
    area = db.session.get(Area, f.village or f.township) if (f.village or f.township) else None
    chain = []
    while area is not None:
        chain.insert(0, area)
        area = area.parent
    return chain


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    permissions.require(current_user, "household.create")
    form = HouseholdForm()
    form.village_id.choices = _village_choices(permissions.PERMISSIONS["household.create"])
    if request.method == "GET":
        form.programme_year.data = default_programme_year()
        form.residents.data = form.residents.data or None
    if form.validate_on_submit():
        village = db.session.get(Area, form.village_id.data)
        with attempt(form, taken=_id_taken()) as done:
            hh = services.create_household(form.data_for_service(), village, current_user)
        if done:
            flash(_("Household registered as a draft. Submit it when the paperwork is "
                    "complete."), "success")
            return redirect(url_for("households.detail", case_id=hh.id))
    return render_template("households/form.html", form=form, case=None, mode="create")


@bp.route("/<int:case_id>")
@login_required
def detail(case_id: int) -> Any:
    hh = load_case(case_id)
    return _render_detail(hh)


def _render_detail(hh: Household, revealed: dict[str, str] | None = None,
                   reveal_form: RevealForm | None = None) -> Any:
    actions = services.available_actions(hh, current_user)
    context = providers.guard_context(hh, current_user)
    return render_template(
        "households/detail.html", case=hh, actions=actions, reason_form=ReasonForm(),
        reveal_form=reveal_form or RevealForm(), revealed=revealed or {},
        warnings=services.warnings(hh) + providers.warnings(hh),
        edit_mode=services.edit_mode(hh, current_user),
        show_full={f: permissions.shows_full(current_user, f, hh)
                   for f in permissions.REVEALABLE},
        may_reveal={f: permissions.may_reveal(current_user, f, hh)
                    for f in permissions.REVEALABLE},
        may_except=lifecycle.may(current_user, "record_holder_exception", hh)
        and hh.holder_differs,
        guard_problems=_guard_problems(hh, actions, context),
        latest_return=queries.latest_return(hh) if hh.state == "returned" else None,
        moves={t.action for t in actions}, print_name=_print_name_block(hh),
        **_paperwork(hh, context))


def _print_name_block(hh: Household) -> dict[str, Any]:
    """The print spelling block of the case page: what is recorded, whether the registered
    name prints, and the form for those who may record one."""
    return {"unprintable": show_chars(services.unprintable_in_name(hh)),
            "may_record": permissions.can(current_user, "household.print_name", hh),
            "form": PrintNameForm()}


def _paperwork(hh: Household, context: lifecycle.Context) -> dict[str, Any]:
    """Installation, inspections, certificates and documents of the case, with the forms
    this user may use on them: what the domains built on households register
    (``providers.register_page_context``)."""
    return {
        **providers.page_context(hh, current_user, context),
        "may_print_application": permissions.can(current_user, "household.print_application",
                                                 hh),
    }


def _guard_problems(hh: Household, actions: list[lifecycle.Transition],
                    context: lifecycle.Context) -> dict[str, list]:
    """What still stands in the way of each button (moves with their own screen say so
    there)."""
    found = {}
    for t in actions:
        problems = [] if t.screen else lifecycle.guard_problems(t, hh, context)
        if problems:
            found[t.action] = problems
    return found


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int) -> Any:
    hh = load_case(case_id)
    mode = services.edit_mode(hh, current_user)
    if mode is None:
        if permissions.can(current_user, "household.edit", hh) or permissions.can(
                current_user, "household.correct", hh):
            flash(_("This case cannot be edited in its current state."), "error")
            return redirect(url_for("households.detail", case_id=hh.id))
        abort(403)
    form = HouseholdForm(obj=hh if request.method == "GET" else None)
    roles = permissions.PERMISSIONS["household.edit" if mode == "edit" else "household.correct"]
    form.village_id.choices = _village_choices(roles)
    if request.method == "GET":
        form.version.data = hh.version
        form.luhn_confirmed.data = hh.luhn_confirmed
    if form.validate_on_submit():
        village = db.session.get(Area, form.village_id.data)
        with attempt(form, stale=services.VersionConflict(),
                     taken=_id_taken()) as done:
            services.update_household(hh, form.data_for_service(), village, current_user,
                                      whole_number_or(form.version.data, 0), form.reason.data)
        if isinstance(done.refusal, services.VersionConflict):
            db.session.refresh(hh)
            return _conflict(hh, form, mode)
        if done:
            flash(_("Changes saved."), "success")
            return redirect(url_for("households.detail", case_id=hh.id))
    return render_template("households/form.html", form=form, case=hh, mode=mode)


def _id_taken() -> services.CaseError:
    """A concurrent registration of the same ID number won the race."""
    return services.CaseError(_("This ID number already has an active case."), "id_number")


def _conflict(hh: Household, form: HouseholdForm, mode: str) -> Any:
    """Someone saved first: show their values beside ours; nothing of ours is lost."""
    mine = {name: getattr(form, name).data for name in services.FIELDS}
    form.version.data = hh.version  # saving again deliberately overwrites, now knowingly
    return render_template("households/form.html", form=form, case=hh, mode=mode,
                           conflict=True, mine=mine), 409


@bp.route("/<int:case_id>/do/<action>", methods=["POST"])
@login_required
def act(case_id: int, action: str) -> Any:
    hh = load_case(case_id)
    transition = lifecycle.BY_ACTION.get(action)
    if transition is None or not transition.in_ui or transition.screen:
        abort(404)  # moves with their own screen (installation, inspection…) are made there
    if not transition.roles & permissions.roles_over(current_user, hh):
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("The reason is too long (500 characters at most)."), "error")
        return redirect(url_for("households.detail", case_id=hh.id))
    with attempt() as done:
        services.transition(hh, action, current_user, form.reason.data,
                            context=providers.guard_context(hh, current_user))
    if done:
        flash(_("%(action)s: done. The case is now: %(state)s.", action=transition.label,
                state=lifecycle.STATES[hh.state]), "success")
    return redirect(url_for("households.detail", case_id=hh.id))


@bp.route("/<int:case_id>/reveal", methods=["POST"])
@login_required
def reveal(case_id: int) -> Any:
    hh = load_case(case_id)
    form = RevealForm()
    field = form.field.data if form.field.data in permissions.REVEALABLE else None
    if field is None or not permissions.may_reveal(current_user, field, hh):
        abort(403)
    if not form.validate_on_submit():
        return _render_detail(hh, reveal_form=form), 400
    value = services.reveal(hh, field, form.reason.data, current_user)
    response = _render_detail(hh, revealed={field: value})
    return response


@bp.route("/<int:case_id>/holder-exception", methods=["POST"])
@login_required
def holder_exception(case_id: int) -> Any:
    hh = load_case(case_id)
    permissions.require(current_user, "household.holder_exception", hh)
    form = ReasonForm()
    with attempt() as done:
        if not form.validate_on_submit():
            raise services.CaseError(_("The reason is too long (500 characters at most)."))
        services.record_holder_exception(hh, form.reason.data or "", current_user)
    if done:
        flash(_("Exception recorded: the case may now be submitted."), "success")
    return redirect(url_for("households.detail", case_id=hh.id))


@bp.route("/<int:case_id>/print-name", methods=["POST"])
@login_required
def print_name(case_id: int) -> Any:
    """Record or remove the print spelling (印刷用名) of the head's name."""
    hh = load_case(case_id)
    permissions.require(current_user, "household.print_name", hh)
    form = PrintNameForm()
    stale = services.CaseError(_("Someone else saved this case meanwhile. Look at it again, "
                                 "then record the print spelling."))
    with attempt(stale=stale) as done:
        if not form.validate_on_submit():
            raise services.CaseError(_("The print spelling is at most 50 characters and the "
                                       "reason at most 500."))
        services.record_print_name(hh, form.print_name.data, form.reason.data, current_user)
    if done:
        if hh.print_name:
            flash(_("Print spelling recorded: documents now print “%(name)s”, with a note that "
                    "the registered name differs.", name=hh.print_name), "success")
        else:
            flash(_("Print spelling removed: documents print the registered name again."),
                  "success")
    return redirect(url_for("households.detail", case_id=hh.id))
