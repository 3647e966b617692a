"""The application form (申请表) printed from the case page.  Its URL stays the case's
(``households.application_pdf``: the route is on the households blueprint), but certificates
renders it, so the route lives here and households imports nothing of certificates."""
from __future__ import annotations

from typing import Any

from flask import Response, redirect, url_for
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.certificates import services as certificates
from heating.core.web import attempt, writes
from heating.households.blueprint import bp
from heating.households.models import Household


@bp.route("/<int:case_id>/application.pdf")
@login_required
@writes  # the audit row of the print
def application_pdf(case_id: int) -> Any:
    """The application form (申请表) for the household to sign; numbers masked as the
    reader sees them on screen."""
    hh = permissions.get_in_scope(Household, case_id, current_user)
    permissions.require(current_user, "household.print_application", hh)
    phone = hh.phone if permissions.shows_full(current_user, "phone", hh) else hh.phone_masked
    with attempt(also=certificates.PRINT_REFUSALS) as done:
        data = certificates.application_form_pdf(hh, phone, current_user)
    if not done:
        return redirect(url_for("households.detail", case_id=case_id))
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename=application-{hh.id}.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response
