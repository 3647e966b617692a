"""Installation, upload and inspection rules (assignments: ``assignments.py``).  Services
flush, never commit; every change is audited; every state change goes through
``households.services.transition`` with the guard context built here (installation,
inspection, who did the earlier steps)."""
from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from heating.areas.models import Area
from heating.audit.models import AuditEvent
from heating.audit.services import record
from heating.auth import permissions
from heating.certificates import paperwork, render
from heating.certificates import services as certificates
from heating.core.db import now_utc
from heating.core.ids import code_key
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import DEVICE_KINDS_BY_TYPE, CaseEvent, Household
from heating.households.services import CaseError, VersionConflict, transition
from heating.inspections import installers, photos
from heating.inspections.models import (
    CHECKLIST,
    DOCUMENT_KINDS,
    PHOTO_KINDS,
    Inspection,
    Installation,
    Upload,
)

INSTALLATION_FIELDS = ("conversion_type", "device_kind", "brand", "model", "factory_serial",
                       "units", "rated_power", "invoice_amount", "installer", "install_date",
                       "meter_no")


#: serials and meter numbers as compared (usage files are matched on it too)
canonical_code = code_key


# --- installation -------------------------------------------------------------------------

def installation_of(hh: Household) -> Installation | None:
    return db.session.scalar(select(Installation).where(Installation.household_id == hh.id))


def save_installation(hh: Household, data: dict[str, Any], actor: Any,
                      expected_version: int | None = None) -> Installation:
    """Record or correct the installation; on an approved case this is the ``install`` move."""
    if not permissions.can(actor, "installation.record", hh):
        raise CaseError(_l("Only the village clerk records the installation."))
    if not lifecycle.allowed("record_installation", hh):
        raise CaseError(_l("The installation can no longer be changed in the case's current "
                           "state (the inspection has passed, or the case is not approved)."))
    if data["conversion_type"] != hh.conversion_type:
        raise CaseError(_l("The case was approved for another conversion type. Ask the "
                           "township to correct the case before recording this installation."),
                        "conversion_type")
    if data["device_kind"] not in DEVICE_KINDS_BY_TYPE[data["conversion_type"]]:
        raise CaseError(_l("This device kind does not match the conversion type."),
                        "device_kind")
    inst = installation_of(hh)
    before = inst.snapshot() if inst else None
    company = _installer(hh, data, inst)  # before the new row joins the session (autoflush)
    if inst is None:
        inst = Installation(household_id=hh.id, recorded_by_id=actor.id)
        db.session.add(inst)
    elif expected_version is not None and inst.version != expected_version:
        raise VersionConflict()
    for name in INSTALLATION_FIELDS:  # serial and meter keep what was typed (model sets keys)
        setattr(inst, name, data[name] if name != "installer" or company is None
                else company.name)
    inst.installer_company_id = company.id if company else None
    inst.updated_by_id = actor.id
    db.session.flush()
    record("installation.recorded" if before is None else "installation.edited", "household",
           hh.id, actor=actor, before=before, after=inst.snapshot())
    if hh.state in lifecycle.find("install").sources:
        transition(hh, "install", actor, context=guard_context(hh, actor, installation=inst))
    return inst


def _installer(hh: Household, data: dict[str, Any],
               current: Installation | None) -> Any:
    """The installer company: the one chosen (the form), else the county's company whose name
    is the typed one (service callers with a name), else none (a name left to resolve)."""
    company_id = data.get("installer_company_id")
    if company_id:
        return installers.company_for_case(company_id, hh, current)
    if not (data.get("installer") or "").strip():
        raise CaseError(_l("Choose the installer company from the list."),
                        "installer_company_id")
    return installers.match_name(hh.county_id, data["installer"])


def duplicate_counts(inst: Installation) -> dict[str, int]:
    """Other active households with the same factory serial / meter number (fraud flags)."""
    found = {}
    for name, key in (("factory_serial", "factory_serial_key"), ("meter_no", "meter_key")):
        value = getattr(inst, key)
        if not value:
            continue
        n = db.session.scalar(
            select(func.count()).select_from(Installation)
            .join(Household, Household.id == Installation.household_id)
            .where(getattr(Installation, key) == value, Installation.id != inst.id,
                   Household.state.not_in(lifecycle.INACTIVE_STATES))) or 0
        if n:
            found[name] = n
    return found


def warnings(hh: Household) -> list[Any]:
    inst = installation_of(hh)
    if inst is None:
        return []
    dups = duplicate_counts(inst)
    found = []
    if "factory_serial" in dups:
        found.append(_l("The factory serial number %(serial)s is also recorded for %(n)d other "
                        "household(s): check the device on site.",
                        serial=inst.factory_serial, n=dups["factory_serial"]))
    if "meter_no" in dups:
        found.append(_l("The meter or gas account number %(no)s is also recorded for %(n)d "
                        "other household(s).", no=inst.meter_no, n=dups["meter_no"]))
    return found


# --- who did what: the separation-of-duties facts ------------------------------------------

def guard_context(hh: Household, actor: Any, *, installation: Installation | None = None,
                  inspection: Inspection | None = None) -> lifecycle.Context:
    """Everything the lifecycle's guards may ask about this case."""
    inst = installation or installation_of(hh)
    events = db.session.execute(
        select(CaseEvent.action, CaseEvent.actor_id).where(
            CaseEvent.household_id == hh.id,
            CaseEvent.action.in_(("create", "approve", "install", "rework")))).all()
    # every save of the installation is audited: its authors are all the people who wrote it
    writers = db.session.scalars(
        select(AuditEvent.actor_id).where(
            AuditEvent.object_type == "household", AuditEvent.object_id == str(hh.id),
            AuditEvent.action.in_(("installation.recorded", "installation.edited")))).all()

    def ids(*values: Any) -> frozenset[int]:
        return frozenset(v for v in values if v is not None)

    return lifecycle.Context(
        actor_id=getattr(actor, "id", None), installation=inst, inspection=inspection,
        required_documents=tuple((k, DOCUMENT_KINDS[k]) for k in required_documents(hh)),
        documents=frozenset(u.kind for u in documents(hh)),
        registered_by=ids(hh.created_by_id, *(a for act, a in events if act == "create")),
        approved_by=ids(hh.approved_by_id, *(a for act, a in events if act == "approve")),
        installed_by=ids(*(a for act, a in events if act in ("install", "rework")), *writers,
                         inst.recorded_by_id if inst else None,
                         inst.updated_by_id if inst else None),
    )


def required_documents(hh: Household) -> tuple[str, ...]:
    """The scans the county requires before a case is submitted (REQUIRED_DOCUMENTS: a list
    of kinds for every county, or a dict from the 6-digit county code to such a list)."""
    setting = current_app.config.get("REQUIRED_DOCUMENTS") or ()
    if isinstance(setting, dict):
        county = db.session.get(Area, hh.county_id)
        setting = setting.get(county.code[:6] if county else "", setting.get("*", ()))
    return tuple(k for k in setting if k in DOCUMENT_KINDS)


def separation_problems(hh: Household, user: Any) -> list[Any]:
    """Shown on the inspection screen before the inspector starts ticking boxes."""
    return lifecycle.separation_of_duties(hh, guard_context(hh, user))


# --- uploads ---------------------------------------------------------------------------------

def _store(hh: Household, kind: str, file: FileStorage, actor: Any) -> Upload:
    data = photos.read_limited(file.stream, current_app.config["UPLOAD_MAX_BYTES"])
    stored = photos.store_picture(data, current_app.config["STORAGE_DIR"])
    upload = Upload(household_id=hh.id, kind=kind, path=stored.path,
                    thumb_path=stored.thumb_path, sha256=stored.sha256,
                    content_type=stored.content_type, size=stored.size, width=stored.width,
                    height=stored.height, taken_at=stored.taken_at, uploaded_by_id=actor.id,
                    uploaded_at=now_utc())
    db.session.add(upload)
    db.session.flush()
    record("upload.stored", "household", hh.id, actor=actor,
           summary=f"{kind} #{upload.id}",
           after={"upload": upload.id, "kind": kind, "sha256": stored.sha256[:16],
                  "size": stored.size, "taken_at": stored.taken_at})
    return upload


def store_photo(hh: Household, kind: str, file: FileStorage, actor: Any) -> Upload:
    """An inspection photo, kept until the inspection that uses it is saved."""
    if kind not in PHOTO_KINDS:
        raise CaseError(_l("Unknown kind of photo."))
    if not permissions.can(actor, "inspection.perform", hh):
        raise CaseError(_l("Only an inspector of this township takes inspection photos."))
    if not lifecycle.allowed("inspect", hh):
        raise CaseError(_l("Photos are taken for installed cases waiting for inspection."))
    try:
        return _store(hh, kind, file, actor)
    except photos.UploadRefused as err:
        raise CaseError(err.message, kind) from None


def store_document(hh: Household, kind: str, file: FileStorage, actor: Any) -> Upload:
    """A scanned paper (signed application, ID card, bank card) kept on the case."""
    if kind not in DOCUMENT_KINDS:
        raise CaseError(_l("Unknown kind of document."), "kind")
    if not permissions.can(actor, "document.upload", hh):
        raise CaseError(_l("Only the village clerk uploads documents."))
    if not lifecycle.allowed("upload_document", hh):
        raise CaseError(_l("Documents can no longer be added to this case."))
    try:
        return _store(hh, kind, file, actor)
    except photos.UploadRefused as err:
        raise CaseError(err.message, "file") from None


def pending_photos(hh: Household) -> dict[str, Upload]:
    """The latest photo of each kind taken for the inspection not yet saved."""
    rows = db.session.scalars(
        select(Upload).where(Upload.household_id == hh.id, Upload.inspection_id.is_(None),
                             Upload.kind.in_(tuple(PHOTO_KINDS))).order_by(Upload.id))
    return {u.kind: u for u in rows}


def documents(hh: Household) -> list[Upload]:
    return list(db.session.scalars(
        select(Upload).where(Upload.household_id == hh.id,
                             Upload.kind.in_(tuple(DOCUMENT_KINDS))).order_by(Upload.id)))


def view_is_audited(upload: Upload) -> bool:
    """Opening a scanned document shows full numbers: like unmasking, it is recorded."""
    return upload.kind in DOCUMENT_KINDS


def record_view(upload: Upload, hh: Household, user: Any) -> None:
    record("upload.viewed", "household", hh.id, actor=user,
           summary=f"{upload.kind} #{upload.id}")


# --- the inspection ---------------------------------------------------------------------------

def inspections_of(hh: Household) -> list[Inspection]:
    return list(db.session.scalars(select(Inspection).where(Inspection.household_id == hh.id)
                                   .order_by(Inspection.id.desc())))


def record_inspection(hh: Household, actor: Any, *, result: str, checklist: dict[str, bool],
                      stoves_removed: int, reasons: str | None, other_inspectors: str = ""
                      ) -> Inspection:
    """Save the inspection and make the pass or fail move in one go (the guards decide);
    a pass issues the certificate in the same transaction."""
    if result not in ("pass", "fail"):
        raise CaseError(_l("Choose pass or fail."))
    if not permissions.can(actor, "inspection.perform", hh):
        raise CaseError(_l("Only an inspector of this township records inspections."))
    if not lifecycle.allowed("inspect", hh):
        raise CaseError(_l("This case is not waiting for an inspection."))
    inst = installation_of(hh)
    if inst is None:
        raise CaseError(_l("No installation has been recorded for this case."))
    context = guard_context(hh, actor, installation=inst)
    insp = Inspection(
        household_id=hh.id, installation_id=inst.id, result=result,
        conversion_type=inst.conversion_type,
        checklist={item: bool(checklist.get(item)) for item in CHECKLIST[inst.conversion_type]},
        stoves_registered=hh.coal_stoves, stoves_removed=stoves_removed,
        reasons=(reasons or "").strip() or None, other_inspectors=(other_inspectors or "").strip(),
        inspector_id=actor.id, inspected_at=now_utc(), installation_snapshot=inst.snapshot())
    db.session.add(insp)
    insp.photos = list(pending_photos(hh).values())
    transition(hh, result, actor, insp.reasons,
               context=dataclasses.replace(context, inspection=insp))
    db.session.flush()
    record("inspection.recorded", "household", hh.id, actor=actor,
           summary=f"{result} #{insp.id}",
           after={"inspection": insp.id, "result": result, "checklist": insp.checklist,
                  "stoves_removed": stoves_removed, "photos": [p.id for p in insp.photos]})
    if result == "pass":
        certificates.issue(hh, insp, inst, actor)
    return insp


# --- printable paperwork ------------------------------------------------------------------------

def acceptance_record_pdf(insp: Inspection, actor: Any) -> bytes:
    """The acceptance record (验收单) of one inspection, with its photo thumbnails."""
    root = current_app.config["STORAGE_DIR"]
    thumbs = []
    for photo in insp.photos:
        try:
            thumbs.append((photo.kind, photos.resolve(root, photo.thumb_path).read_bytes()))
        except OSError:
            thumbs.append((photo.kind, b""))  # printed as a note by the renderer
    rendered = render.render_acceptance_record(
        paperwork.acceptance_data(insp.household, insp, thumbs))
    record("inspection.record_printed", "household", insp.household_id, actor=actor,
           summary=f"#{insp.id}")
    return rendered.pdf
