"""The application form (申请表) printed from the case page.  Its URL stays the case's
(``households.application_pdf``: the route is on the households blueprint), but certificates
renders it, so the route lives here and households imports nothing of certificates."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, url_for
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.certificates import services as certificates
from heating.core.db import writing
from heating.core.rendered import UnprintableError
from heating.extensions import db
from heating.households import queries
from heating.households.blueprint import bp
from heating.households.models import Household


def load_case(case_id: int) -> Household:
    """The case, or 404 outside the user's scopes (see queries.case_in_scope)."""
    return queries.case_in_scope(current_user, case_id)


@bp.route("/<int:case_id>/application.pdf")
@login_required
def application_pdf(case_id: int) -> Any:
    """The application form (申请表) for the household to sign; numbers masked as the
    reader sees them on screen."""
    hh = load_case(case_id)
    permissions.require(current_user, "household.print_application", hh)
    phone = hh.phone if permissions.shows_full(current_user, "phone", hh) else hh.phone_masked
    db.session.commit()  # end the read: the audit row needs a writer transaction
    with writing():
        hh = load_case(case_id)
        try:
            data = certificates.application_form_pdf(hh, phone, current_user)
        except UnprintableError as err:
            db.session.rollback()
            for message in certificates.unprintable_messages(err):
                flash(message, "error")
            return redirect(url_for("households.detail", case_id=case_id))
        db.session.commit()
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename=application-{hh.id}.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response
