"""Installation, assignment, worklist, the inspection screen (built for a phone) and the
stored pictures.  Each view: load through a scoped helper (404 outside scope), check the
permission (403), validate the form, call one service, commit, flash, redirect."""
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
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.auth.models import User
from heating.certificates import services as certificates
from heating.core.i18n import local_today
from heating.core.numbers import whole_number_or
from heating.core.web import Outcome, attempt, flash_form_errors, int_arg, writes
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.households.services import CaseError, VersionConflict
from heating.inspections import assignments, installers, photos, services
from heating.inspections.blueprint import bp
from heating.inspections.forms import AssignForm, DocumentForm, InspectionForm, InstallationForm
from heating.inspections.models import CHECKLIST, DOCUMENT_KINDS, PHOTO_KINDS, Inspection, Upload
from heating.inspections.navigation import load_case as _case
from heating.inspections.navigation import to_case as _to_case

# --- worklist ---------------------------------------------------------------------------------

@bp.route("/")
@login_required
def worklist() -> Any:
    """Inspectors: today's and overdue visits, then later ones.  Reviewers and county staff:
    installed cases still to assign, and the visits planned."""
    if not (permissions.can(current_user, "inspection.perform")
            or permissions.can(current_user, "inspection.assign")):
        abort(403)
    village_id = int_arg("village", what=_l("Village"))
    villages = assignments.worklist_villages(current_user)
    if village_id not in {v.id for v in villages}:
        village_id = 0
    today = local_today()
    work = assignments.worklist(current_user, today, village_id)
    choices = [(0, _("All villages"))] + [(v.id, f"{v.parent.name} {v.name}") for v in villages]
    return render_template("inspections/worklist.html", work=work, village_choices=choices,
                           village_id=village_id, today=today)


# --- installation -----------------------------------------------------------------------------

@bp.route("/case/<int:case_id>/installation", methods=["GET", "POST"])
@login_required
def installation(case_id: int) -> Any:
    hh = _case(case_id)
    permissions.require(current_user, "installation.record", hh)
    if not lifecycle.may(current_user, "record_installation", hh):
        flash(_("The installation can no longer be changed in the case's current state."),
              "error")
        return _to_case(hh)
    inst = services.installation_of(hh)
    form = InstallationForm(obj=inst if request.method == "GET" else None)
    form.installer_company_id.choices = [(c.id, c.name)
                                         for c in installers.choices_for(hh, inst)]
    if request.method == "GET":
        if inst is None:
            form.conversion_type.data = hh.conversion_type
            form.device_kind.data = hh.device_kind
        else:
            form.version.data = inst.version
    if form.validate_on_submit():
        with attempt(form, stale=VersionConflict()) as done:
            services.save_installation(hh, form.data_for_service(), current_user,
                                       whole_number_or(form.version.data, 0) if inst else None)
        if isinstance(done.refusal, VersionConflict):
            flash(_("Someone else saved this installation while you were editing. Reload the "
                    "page to see their values, then make your change again."), "error")
            return render_template("inspections/installation.html", form=form, case=hh,
                                   installation=inst), 409
        if done:
            flash(_("Installation saved. The case is now: %(state)s.",
                    state=lifecycle.STATES[hh.state]), "success")
            # duplicate serial / meter warnings: the case page always shows them, once
            return _to_case(hh)
    return render_template("inspections/installation.html", form=form, case=hh,
                           installation=inst)


# --- assignment -------------------------------------------------------------------------------

@bp.route("/case/<int:case_id>/assign", methods=["POST"])
@login_required
def assign(case_id: int) -> Any:
    hh = _case(case_id)
    permissions.require(current_user, "inspection.assign", hh)
    form = AssignForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _to_case(hh)
    inspector = db.session.get(User, form.inspector_id.data) if form.inspector_id.data else None
    with attempt() as done:
        assignments.assign(hh, inspector, form.visit_date.data, current_user, local_today())
    if done:
        flash(_("Inspection assigned to %(name)s for %(date)s.", name=inspector.display_name,
                date=form.visit_date.data.isoformat()), "success")
    return _to_case(hh)


# --- the inspection (phone screen) ----------------------------------------------------------------

@bp.route("/case/<int:case_id>/inspect", methods=["GET", "POST"])
@login_required
def inspect(case_id: int) -> Any:
    hh = _case(case_id)
    permissions.require(current_user, "inspection.perform", hh)
    inst = services.installation_of(hh)
    if not lifecycle.allowed("inspect", hh) or inst is None:
        flash(_("This case is not waiting for an inspection."), "error")
        return _to_case(hh)
    form = InspectionForm()
    valid = form.validate_on_submit()  # before the photos: validation resets field errors
    if request.method == "POST":
        _store_photos(hh, form)
    photo_errors = any(getattr(form, f"photo_{k}").errors for k in PHOTO_KINDS)
    refusal = None
    if valid and not photo_errors:
        done = _record_inspection(hh, form)
        if done:
            # back to the visits of the day, not to the (long) case page
            return redirect(url_for("inspections.worklist"))
        if _listed(done.refusal):
            refusal = done.refusal  # one box listing what is missing, not a bar per problem
    return render_template(
        "inspections/inspect.html", form=form, case=hh, installation=inst,
        items=CHECKLIST[inst.conversion_type], pending=services.pending_photos(hh),
        separation=services.separation_problems(hh, current_user),
        assignment=assignments.assignment_of(hh), refusal=refusal,
        max_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024))


def _store_photos(hh: Household, form: InspectionForm) -> None:
    """Pictures first, each in its own transaction: a refused result never costs the
    inspector the photos already taken.  A refused picture's message goes on its field."""
    for kind in PHOTO_KINDS:
        field = getattr(form, f"photo_{kind}")
        if field.data and field.data.filename:
            with attempt(own=True, quiet=True) as done:
                services.store_photo(hh, kind, field.data, current_user)
            if not done:
                field.errors = [done.refusal.message]


def _listed(err: Any) -> bool:
    """A refused move with a list of what is missing: the page shows it as one box."""
    return isinstance(err, lifecycle.TransitionError) and bool(err.problems)


def _record_inspection(hh: Household, form: InspectionForm) -> Outcome:
    """The result, the checklist and the move to passed / failed; flashed when done."""
    with attempt(form, stale=CaseError(_("Someone else changed this case at the same moment; "
                                         "nothing was saved. Open the case again.")),
                 quiet=_listed) as done:
        insp = services.record_inspection(
            hh, current_user, result=form.result.data, checklist=form.checklist(),
            stoves_removed=form.stoves_removed.data, reasons=form.reasons.data,
            other_inspectors=form.other_inspectors.data or "")
    if done:
        flash(_("Inspection of %(name)s (%(village)s) recorded: %(result)s.",
                name=hh.head_name, village=hh.village.name,
                result=_("passed") if insp.result == "pass" else _("failed")), "success")
    return done


# --- documents on the case ---------------------------------------------------------------------

@bp.route("/case/<int:case_id>/documents", methods=["POST"])
@login_required
def upload_document(case_id: int) -> Any:
    hh = _case(case_id)
    permissions.require(current_user, "document.upload", hh)
    form = DocumentForm()
    file = form.file.data
    if not form.validate_on_submit() or not file or not file.filename:
        flash(_("Choose a document and a file (JPEG or PNG)."), "error")
        return _to_case(hh)
    with attempt() as done:
        services.store_document(hh, form.kind.data, file, current_user)
    if done:
        flash(_("Document saved: %(kind)s.", kind=DOCUMENT_KINDS[form.kind.data]), "success")
    return _to_case(hh)


# --- stored pictures ---------------------------------------------------------------------------

def _serve(upload_id: int, thumb: bool) -> Response:
    upload = permissions.get_in_scope(Upload, upload_id, current_user)
    hh = upload.household
    if not permissions.may_view_upload(current_user, hh,
                                       document=upload.kind in DOCUMENT_KINDS):
        abort(403)
    root = current_app.config["STORAGE_DIR"]
    try:
        path = photos.resolve(root, upload.thumb_path if thumb else upload.path)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    if services.view_is_audited(upload):
        services.record_view(upload, hh, current_user)
    response = send_file(path, mimetype="image/jpeg" if thumb else upload.content_type,
                         max_age=0, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/uploads/<int:upload_id>")
@login_required
@writes  # opening a scanned document is audited
def picture(upload_id: int) -> Any:
    return _serve(upload_id, thumb=False)


@bp.route("/uploads/<int:upload_id>/thumb")
@login_required
@writes  # opening a scanned document is audited
def thumbnail(upload_id: int) -> Any:
    return _serve(upload_id, thumb=True)


# --- printable paperwork ------------------------------------------------------------------------

@bp.route("/<int:inspection_id>/record.pdf")
@login_required
@writes  # the audit row of the print
def record_pdf(inspection_id: int) -> Any:
    """The acceptance record (验收单) auditors ask for, drawn from the stored inspection."""
    insp = permissions.get_in_scope(Inspection, inspection_id, current_user, via="household")
    case_id = insp.household_id
    with attempt(also=certificates.PRINT_REFUSALS) as done:
        data = services.acceptance_record_pdf(insp, current_user)
    if not done:
        return redirect(url_for("households.detail", case_id=case_id))
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f"inline; filename=acceptance-{insp.household_id}-{insp.id}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response

