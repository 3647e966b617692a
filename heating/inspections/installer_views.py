"""Installer companies the county keeps on record: the list, add and edit, and the free-text
installer names still to resolve.  County staff only (``installer.manage``)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.web import attempt, flash_form_errors
from heating.extensions import db
from heating.households.services import CaseError
from heating.inspections import installers
from heating.inspections.blueprint import bp
from heating.inspections.forms import CompanyForm, ResolveForm
from heating.inspections.models import InstallerCompany

_TAKEN = CaseError(_l("A company with this credit code is already on record in this county."),
                   "credit_code")


def _county() -> Any:
    """The county whose companies the user keeps (403 for anyone else)."""
    counties = installers.managed_counties(current_user)
    if not counties:
        abort(403)
    return counties[0]


@bp.route("/installers")
@login_required
def installers_index() -> Any:
    county = _county()
    return render_template(
        "inspections/installers.html", county=county,
        companies=installers.companies_of(county.id),
        counts=installers.installation_counts(county.id),
        unresolved=installers.unresolved_names(county.id))


@bp.route("/installers/new", methods=["GET", "POST"])
@login_required
def installer_new() -> Any:
    county = _county()
    form = CompanyForm()
    if form.validate_on_submit():
        with attempt(form, taken=_TAKEN) as done:
            company = installers.create_company(county, form.data, current_user)
        if done:
            flash(_("Installer company %(name)s recorded.", name=company.name), "success")
            return redirect(url_for("inspections.installers_index"))
    return render_template("inspections/installer_form.html", form=form, company=None,
                           county=county)


@bp.route("/installers/<int:company_id>/edit", methods=["GET", "POST"])
@login_required
def installer_edit(company_id: int) -> Any:
    company = permissions.get_in_scope(InstallerCompany, company_id, current_user)
    permissions.require(current_user, "installer.manage", company)
    form = CompanyForm(obj=company)
    if form.validate_on_submit():
        with attempt(form, taken=_TAKEN) as done:
            installers.update_company(company, form.data, current_user)
        if done:
            flash(_("Installer company %(name)s saved.", name=company.name), "success")
            return redirect(url_for("inspections.installers_index"))
    return render_template("inspections/installer_form.html", form=form, company=company,
                           county=db.session.get(Area, company.county_id))


@bp.route("/installers/resolve", methods=["GET", "POST"])
@login_required
def installer_resolve() -> Any:
    """Free-text installer names that match no company: the county says which company each
    means (one answer maps every installation with that name)."""
    county = _county()
    companies = installers.companies_of(county.id)
    form = ResolveForm()
    form.company_id.choices = [(c.id, c.name) for c in companies]
    if form.is_submitted():
        if not form.validate():
            flash_form_errors(form)
        else:
            company = next((c for c in companies if c.id == form.company_id.data), None)
            with attempt() as done:
                n = installers.resolve_name(county, form.key.data, company, current_user)
            if done:
                flash(_("%(n)s installations now name %(company)s.", n=n,
                        company=company.name), "success")
        return redirect(url_for("inspections.installer_resolve"))
    return render_template("inspections/installer_resolve.html", county=county,
                           companies=companies, unresolved=installers.unresolved_names(
                               county.id))
