"""Certificate download (rendered on first download, then the stored bytes), revocation, the
batch print of a village, and the public verification page (no login)."""
from __future__ import annotations

from typing import Any

from flask import (
    Response,
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

from config import ConfigError
from heating.areas.models import Area
from heating.auth import permissions
from heating.certificates import services
from heating.certificates.blueprint import bp
from heating.certificates.forms import RevokeForm
from heating.certificates.models import Certificate
from heating.core.ratelimit import RateLimitConfigError, make_limiter
from heating.core.web import attempt, flash_form_errors, int_arg, int_args, writes
from heating.extensions import db
from heating.households import lifecycle
from heating.households.queries import visible_villages

LIMITER_KEY = "heating.verify_limiter"


@bp.record_once
def _install_limiter(state: Any) -> None:
    app = state.app
    try:
        app.extensions[LIMITER_KEY] = make_limiter(app.config["VERIFY_RATE_LIMIT"],
                                                   app.config["RATELIMIT_STORAGE"])
    except RateLimitConfigError as err:
        raise ConfigError(str(err)) from None


def _certificate(cert_id: int) -> Certificate:
    """The certificate, or 404 when it does not exist or its case is outside the user's
    scopes: the one scope rule for cases decides (a certificate is placed by its case)."""
    return permissions.get_in_scope(Certificate, cert_id, current_user)


def _void(cert: Certificate) -> bool:
    """Revoked, or its case withdrawn or cancelled: what the public check shows as revoked."""
    return cert.revoked or cert.household.state in lifecycle.INACTIVE_STATES


def _pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename={filename}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/certificates/<int:cert_id>.pdf")
@login_required
@writes  # the first download stores the PDF; every download is audited
def download(cert_id: int) -> Any:
    """The first download renders and stores the PDF; every later one returns those bytes."""
    cert = _certificate(cert_id)
    permissions.require(current_user, "certificate.download", cert.household)
    if _void(cert):
        # a fresh print of a void certificate would still read 合格: never hand one out
        flash(_("Certificate %(serial)s is no longer valid (revoked, or its case withdrawn or "
                "cancelled), so its PDF is not issued any more. The case page shows when and "
                "why.", serial=cert.serial), "error")
        return redirect(url_for("households.detail", case_id=cert.household_id))
    case_id = cert.household_id
    with attempt(also=services.PRINT_REFUSALS) as done:
        data = services.pdf_bytes(cert, current_user)
        services.record_download(cert, current_user)
    if not done:
        return redirect(url_for("households.detail", case_id=case_id))
    return _pdf_response(data, f"{cert.serial}.pdf")


@bp.route("/certificates/<int:cert_id>/revoke", methods=["POST"])
@login_required
def revoke(cert_id: int) -> Any:
    cert = _certificate(cert_id)
    permissions.require(current_user, "certificate.revoke", cert.household)
    form = RevokeForm()
    case_url = url_for("households.detail", case_id=cert.household_id)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(case_url)
    with attempt() as done:
        services.revoke(cert, current_user, form.reason.data)
    if done:
        flash(_("Certificate %(serial)s revoked. The case is back at: %(state)s.",
                serial=cert.serial, state=lifecycle.STATES[cert.household.state]), "success")
    return redirect(case_url)


def _villages() -> list[Area]:
    roles = frozenset(permissions.PERMISSIONS["certificate.download"])
    return [v for v in visible_villages(current_user, roles=roles)]


def _village(village_id: int) -> Area:
    """A village the user may print certificates for, else 404."""
    village = db.session.get(Area, village_id)
    if village is None or village.level != "village" or village.id not in {
            v.id for v in _villages()}:
        abort(404)
    return village


@bp.route("/certificates/")
@login_required
def index() -> Any:
    """The valid certificates of one village, to print all or a selection."""
    permissions.require(current_user, "certificate.download")
    villages = _villages()
    village_id = int_arg("village", what=_l("Village"))
    village = _village(village_id) if village_id else None
    certs = services.village_certificates(village.id) if village else []
    choices = [(0, _("Choose a village"))] + [(v.id, f"{v.parent.name} {v.name}")
                                               for v in villages]
    return render_template("certificates/index.html", village=village, certificates=certs,
                           village_choices=choices)


@bp.route("/certificates/batch.pdf")
@login_required
@writes  # the audit row of the print
def batch() -> Any:
    """All valid certificates of a village (or the ticked ones) as one PDF, in house-number
    order."""
    permissions.require(current_user, "certificate.download")
    village = _village(int_arg("village", what=_l("Village")))
    ids = int_args("ids", what=_l("Certificates")) or None
    certs = services.village_certificates(village.id, ids)
    village_id = village.id
    with attempt(also=services.PRINT_REFUSALS) as done:
        data = services.batch_pdf(certs, village, current_user)
    if not done:
        return redirect(url_for("certificates.index", village=village_id))
    return _pdf_response(data, f"certificates-{village.code}.pdf")


@bp.route("/verify/<serial>")
def verify(serial: str) -> Any:
    """Public: anyone who scans a certificate's QR code.  Shows the status and a few masked
    facts, never more; a wrong token shows only that the certificate cannot be verified."""
    allowed, wait = current_app.extensions[LIMITER_KEY].hit(request.remote_addr or "-")
    if not allowed:
        response = Response(render_template("certificates/verify.html", result=None,
                                            serial=serial[:24], wait=wait), status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    result = services.verify(serial, request.args.get("t"))
    status = {"valid": 200, "revoked": 200, "unknown": 404, "unverifiable": 403}[result.status]
    response = Response(render_template("certificates/verify.html", result=result,
                                        serial=result.serial), status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
