"""Subsidy policy screens (the county office edits its county's policies; every case role of
the county reads them) and the equipment-subsidy panel on the case page.

A policy belongs to a county: outside the counties the user works in it answers 404; in
scope, changing it needs policy.manage over the whole county (403 otherwise)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.money import format_number
from heating.core.numbers import MAX_YEAR, MIN_YEAR
from heating.core.web import attempt, int_arg
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import CONVERSION_TYPES, DEVICE_KINDS_BY_TYPE, Household
from heating.subsidies import (
    models,  # noqa: F401  (registers the tables)
    services,
)
from heating.subsidies.blueprint import bp
from heating.subsidies.forms import PolicyForm
from heating.subsidies.models import EQUIPMENT_METHODS, SubsidyPolicy

# usage records and previews word their running-subsidy explanations in the reader's language
bp.add_app_template_global(services.running_explanation, "running_explanation")

def case_panel(case: Household, user: Any) -> dict[str, Any] | None:
    """The equipment subsidy on the case page: frozen on a notice, computed, or why not."""
    if not lifecycle.may(user, "compute_subsidy", case):
        return None
    return {"subsidy": services.case_subsidy(case)}




def _policy(policy_id: int) -> SubsidyPolicy:
    """The policy, or 404 outside the counties the user works in."""
    policy = db.session.get(SubsidyPolicy, policy_id)
    if policy is None or policy.county_id not in services.counties_for(current_user):
        abort(404)
    return policy


def _require_manage(policy: SubsidyPolicy) -> None:
    if not permissions.can(current_user, "policy.manage", policy):
        abort(403)


@bp.route("/policies/")
@login_required
def index() -> Any:
    permissions.require(current_user, "policy.view")
    year = int_arg("year", None, low=MIN_YEAR, high=MAX_YEAR, what=_l("Programme year"))
    ctype = request.args.get("type") if request.args.get("type") in CONVERSION_TYPES else ""
    counties = services.counties_for(current_user)
    found = services.policies(counties, year=year, conversion_type=ctype or None)
    years = sorted({p.programme_year for p in services.policies(counties)}, reverse=True)
    return render_template(
        "subsidies/list.html", policies=found, in_use=services.policies_in_use(
            [p.id for p in found]), year=year or "", ctype=ctype,
        year_choices=[("", _("All years"))] + [(y, y) for y in years],
        type_choices=[("", _("All types"))] + [(k, str(v)) for k, v in CONVERSION_TYPES.items()],
        may_create=bool(services.counties_for(current_user, "policy.manage")),
        county_names=_county_names(counties))


def _county_names(ids: set[int]) -> dict[int, str]:
    return {a.id: a.name for a in db.session.query(Area).filter(Area.id.in_(sorted(ids)))}


@bp.route("/policies/<int:policy_id>")
@login_required
def detail(policy_id: int) -> Any:
    policy = _policy(policy_id)
    in_use = services.policy_in_use(policy)
    return render_template(
        "subsidies/detail.html", policy=policy, in_use=in_use,
        versions=services.versions(policy), successor=services.successor(policy),
        may_manage=permissions.can(current_user, "policy.manage", policy),
        county=db.session.get(Area, policy.county_id), EQUIPMENT_METHODS=EQUIPMENT_METHODS,
        format_number=format_number)


def _attach(form: PolicyForm, err: services.SubsidyError) -> None:
    """The service's message on its field (the season-rate table has one place for it)."""
    if err.field == "season_rates":
        form.rates_errors = [err.message]
        return
    field = getattr(form, err.field, None) if err.field else None
    if field is not None:
        field.errors = list(field.errors) + [err.message]
    else:
        flash(err.message, "error")


def _render(form: PolicyForm, mode: str, policy: SubsidyPolicy | None = None) -> Any:
    # "" (every kind) stays selectable whatever the type (static/app.js offers listed kinds)
    kinds = {t: [""] + list(k) for t, k in DEVICE_KINDS_BY_TYPE.items()}
    return render_template("subsidies/form.html", form=form, mode=mode, policy=policy,
                           policy_kinds=kinds)


def _save(form: PolicyForm, action: Any, success: str) -> Any:
    """Call the service (the request commits); on a refusal keep the form with the
    message."""
    # a colleague may save a version of the same policy at the same moment
    taken = services.SubsidyError(_("Someone else changed this county's policies at the same "
                                    "moment. Reload the page and check before saving again."))
    with attempt(taken=taken, quiet=lambda err: err is not taken) as done:
        policy = action(form.data_for_service())
    if not done:
        if done.refusal is not taken:
            _attach(form, done.refusal)
        return None
    flash(success % {"name": policy.name, "version": policy.version}, "success")
    return redirect(url_for("subsidies.detail", policy_id=policy.id))


@bp.route("/policies/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    permissions.require(current_user, "policy.manage")
    counties = services.counties_for(current_user, "policy.manage")
    if not counties:
        abort(403)  # policy.manage held over a township or village only
    form = PolicyForm.fresh()
    form.county_id.choices = sorted(_county_names(counties).items(), key=lambda c: c[1])
    if form.validate_on_submit():
        done = _save(form, lambda data: services.create_policy(data, current_user),
                     _("Policy “%(name)s” saved as version %(version)s."))
        if done is not None:
            return done
    return _render(form, "create")


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@login_required
def edit(policy_id: int) -> Any:
    policy = _policy(policy_id)
    _require_manage(policy)
    if not policy.current:
        flash(_("This version has been replaced; only the current version can be worked "
                "on."), "error")
        return redirect(url_for("subsidies.detail", policy_id=policy.id))
    if services.policy_in_use(policy):
        flash(_("Amounts from this policy are already on a public notice or a usage record, "
                "so it cannot be changed. Make a new version instead."), "warning")
        return redirect(url_for("subsidies.new_version", policy_id=policy.id))
    form = PolicyForm()
    chained = policy.version > 1 or policy.supersedes_id is not None
    if chained:
        form.drop_identity()
    else:
        counties = services.counties_for(current_user, "policy.manage")
        form.county_id.choices = sorted(_county_names(counties).items(), key=lambda c: c[1])
    if not form.is_submitted():
        form.prefill(services.form_data(policy))
    if form.validate_on_submit():
        done = _save(form, lambda data: services.update_policy(policy, data, current_user),
                     _("Policy “%(name)s” version %(version)s saved."))
        if done is not None:
            return done
    return _render(form, "edit", policy)


@bp.route("/policies/<int:policy_id>/new-version", methods=["GET", "POST"])
@login_required
def new_version(policy_id: int) -> Any:
    policy = _policy(policy_id)
    _require_manage(policy)
    if not policy.current:
        flash(_("This version has been replaced; make a new version from the current one."),
              "error")
        return redirect(url_for("subsidies.detail", policy_id=policy.id))
    form = PolicyForm()
    form.drop_identity()
    if not form.is_submitted():
        form.prefill(services.form_data(policy))
    if form.validate_on_submit():
        done = _save(form, lambda data: services.new_version(policy, data, current_user),
                     _("Version %(version)s of “%(name)s” is now in force; the previous "
                       "version is kept for the amounts already computed from it."))
        if done is not None:
            return done
    return _render(form, "new_version", policy)
