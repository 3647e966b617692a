"""Installation (the clerk's record of the device put in), the inspector's assignment, the
inspection itself (immutable once saved) and uploaded files (inspection photos and the
paperwork scanned on a case), and the follow-up (回头看) visits to paid cases.

Database triggers (migrations 0004 and 0007) back the rules that must never be broken: an
inspection row is never updated or deleted, an upload is never deleted and is attached to an
inspection at most once, a follow-up row is never updated or deleted.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from heating.auth.models import User
from heating.core.db import Hundredths, TimestampMixin, UTCDateTime, now_utc
from heating.core.ids import code_key
from heating.extensions import db
from heating.households.models import CONVERSION_TYPES, DEVICE_KINDS, Household, InCaseScope

RESULTS = {"pass": _l("Passed"), "fail": _l("Failed")}

#: checklist items, and which of them a pass needs, per conversion type (DOMAIN.md)
CHECK_ITEMS = {
    "device_running": _l("Device installed and running"),
    "stove_removed": _l("Coal stove removed"),
    "leak_alarm": _l("Gas leak alarm fitted"),
    "pressure_test": _l("Gas pipe pressure test passed"),
    "line_upgraded": _l("Electric line capacity upgraded"),
    "dedicated_breaker": _l("Dedicated circuit breaker fitted"),
    "head_confirmed": _l("Household head confirms the result on site"),
}
CHECKLIST = {
    "gas": ("device_running", "stove_removed", "leak_alarm", "pressure_test", "head_confirmed"),
    "electric": ("device_running", "stove_removed", "line_upgraded", "dedicated_breaker",
                 "head_confirmed"),
}

PHOTO_KINDS = {
    "device_with_head": _l("Device with the household head"),
    "stove_site": _l("Site of the removed coal stove"),
}
DOCUMENT_KINDS = {
    "application_scan": _l("Signed application (scan)"),
    "id_card": _l("ID card copy"),
    "bank_card": _l("Bank card copy"),
}
UPLOAD_KINDS = {**PHOTO_KINDS, **DOCUMENT_KINDS}


def _in(col: str, values: Any) -> str:
    return f"{col} IN ({','.join(repr(v) for v in values)})"


class InstallerCompany(TimestampMixin, db.Model):
    """An installer company the county keeps on record (name, unified social credit code,
    contact); the clerk picks one in the installation form.  Edits are audited."""

    __tablename__ = "installer_companies"
    __table_args__ = (
        UniqueConstraint("county_id", "credit_code", name="county_credit_code"),
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the name as compared with free-text installer names (``core.ids.company_name_key``)
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    #: 统一社会信用代码, canonical (GB 32100 check character verified)
    credit_code: Mapped[str] = mapped_column(String(18))
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    #: a company no longer offered in the installation form (its installations keep it)
    active: Mapped[bool] = mapped_column(default=True)

    #: for the scope helpers: a county's record, in scope of county-wide grants only
    village_id = None
    township_id = None

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, "credit_code": self.credit_code,
                "contact_name": self.contact_name, "contact_phone": self.contact_phone,
                "offered": self.active}


class Installation(TimestampMixin, db.Model):
    """The device installed in one household: one current record per case, the clerk's to
    edit until the inspection passes (edits are audited with before and after)."""

    __tablename__ = "installations"
    __table_args__ = (
        CheckConstraint(_in("conversion_type", CONVERSION_TYPES), name="conversion_type"),
        CheckConstraint(_in("device_kind", DEVICE_KINDS), name="device_kind"),
        CheckConstraint("units BETWEEN 1 AND 20", name="units"),
        CheckConstraint("rated_power > 0", name="rated_power"),
        CheckConstraint("invoice_amount > 0", name="invoice_amount"),
        # duplicates across households are flagged: these two lookups must be cheap
        Index("ix_installations_factory_serial_key", "factory_serial_key"),
        Index("ix_installations_meter_key", "meter_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), unique=True)
    #: optimistic lock: the clerk's edit and a colleague's cannot overwrite each other
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    conversion_type: Mapped[str] = mapped_column(String(10))
    device_kind: Mapped[str] = mapped_column(String(16))
    brand: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(60))
    #: 出厂编号 as the clerk typed it (``RQ-0099001``): shown and printed
    factory_serial: Mapped[str] = mapped_column(String(60))
    #: the serial as compared (duplicate flags): half-width, upper case, no spaces or dashes
    factory_serial_key: Mapped[str] = mapped_column(String(60))
    #: devices of this kind installed (the subsidy covers one device per household)
    units: Mapped[int] = mapped_column(Integer)
    #: rated power in kW, two decimals
    rated_power: Mapped[Decimal] = mapped_column(Hundredths)
    #: invoice amount including installation, in yuan; stored as integer fen
    invoice_amount: Mapped[Decimal] = mapped_column(Hundredths)
    #: the installer's name as recorded (printed on the paperwork): the company's name when
    #: one is chosen, else the free text typed before companies were records
    installer: Mapped[str] = mapped_column(String(100))
    #: the installer company record; NULL for a free-text name not yet resolved by the county
    installer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("installer_companies.id"), index=True)
    install_date: Mapped[date] = mapped_column(Date)
    #: electricity meter no. (electric) or gas account no. (gas) as typed
    meter_no: Mapped[str] = mapped_column(String(40))
    #: the meter number as compared (duplicate flags, usage-file matching), normalised like
    #: the serial's key
    meter_key: Mapped[str] = mapped_column(String(40))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    household: Mapped[Household] = relationship()
    installer_company: Mapped[InstallerCompany | None] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    REQUIRED = (
        ("brand", _l("Brand")), ("model", _l("Model")),
        ("factory_serial", _l("Factory serial number")), ("units", _l("Units")),
        ("rated_power", _l("Rated power (kW)")), ("invoice_amount", _l("Invoice amount (yuan)")),
        ("installer", _l("Installer company")), ("install_date", _l("Install date")),
        ("meter_no", _l("Meter or gas account number")),
    )

    @validates("factory_serial", "meter_no")
    def _keep_key(self, name: str, value: str | None) -> str | None:
        """Whatever sets the typed number also sets the key it is compared on.  What is kept
        is what was typed, with full-width characters (an IME's, not the clerk's choice) made
        half-width and surrounding spaces dropped: ``RQ-0099001`` stays ``RQ-0099001``."""
        key = "factory_serial_key" if name == "factory_serial" else "meter_key"
        setattr(self, key, code_key(value))
        return None if value is None else unicodedata.normalize("NFKC", value).strip()

    def missing(self) -> list[Any]:
        """Required facts still empty, named for the clerk (the lifecycle guard asks)."""
        return [_l("Installation: missing %(field)s", field=label)
                for name, label in self.REQUIRED if getattr(self, name) in (None, "")]

    def snapshot(self) -> dict[str, Any]:
        """Plain values for audit rows and for the inspection that looked at this device."""
        return {
            "conversion_type": self.conversion_type, "device_kind": self.device_kind,
            "brand": self.brand, "model": self.model, "factory_serial": self.factory_serial,
            "units": self.units, "rated_power": str(self.rated_power),
            "invoice_amount": str(self.invoice_amount), "installer": self.installer,
            "installer_company_id": self.installer_company_id,
            "install_date": self.install_date.isoformat() if self.install_date else None,
            "meter_no": self.meter_no,
        }


class Assignment(db.Model):
    """Which inspector visits an installed case, and when (one current row per case;
    reassignments are audited)."""

    __tablename__ = "inspection_assignments"
    __table_args__ = (Index("ix_inspection_assignments_inspector_visit", "inspector_id",
                            "visit_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), unique=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    household: Mapped[Household] = relationship()
    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])


class Inspection(db.Model):
    """One acceptance inspection on site.  Written once, never changed: a failed case gets
    a new inspection after its rework."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(_in("result", RESULTS), name="result"),
        CheckConstraint(_in("conversion_type", CONVERSION_TYPES), name="conversion_type"),
        CheckConstraint("stoves_removed BETWEEN 0 AND 20", name="stoves_removed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id"))
    result: Mapped[str] = mapped_column(String(4))
    #: the checklist that applied (the installation's conversion type at the time)
    conversion_type: Mapped[str] = mapped_column(String(10))
    #: {item: true/false} for the items of CHECKLIST[conversion_type]
    checklist: Mapped[dict[str, bool]] = mapped_column(JSON)
    #: coal stoves the household registered, and how many the inspector saw removed
    stoves_registered: Mapped[int] = mapped_column(Integer)
    stoves_removed: Mapped[int] = mapped_column(Integer)
    #: why the inspection failed (required for a fail), or remarks
    reasons: Mapped[str | None] = mapped_column(Text)
    #: names of the other staff on the visit (the signing inspector is inspector_id)
    other_inspectors: Mapped[str] = mapped_column(String(100), default="")
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: the installation as the inspector saw it (the record stays editable after a fail)
    installation_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    household: Mapped[Household] = relationship()
    inspector: Mapped[User] = relationship()
    photos: Mapped[list[Upload]] = relationship(back_populates="inspection",
                                                order_by="Upload.id")

    def pass_problems(self) -> list[Any]:
        """What stops this inspection from passing (the lifecycle guard asks)."""
        problems = [_l("Not confirmed: %(item)s", item=CHECK_ITEMS[item])
                    for item in CHECKLIST[self.conversion_type]
                    if not (self.checklist or {}).get(item)]
        if self.stoves_removed < self.stoves_registered:
            problems.append(_l("Only %(removed)s of the %(registered)s registered coal stoves "
                               "were removed.", removed=self.stoves_removed,
                               registered=self.stoves_registered))
        present = {p.kind for p in self.photos}
        problems.extend(_l("Photo missing: %(kind)s", kind=label)
                        for kind, label in PHOTO_KINDS.items() if kind not in present)
        return problems


class Upload(InCaseScope, db.Model):
    """A stored JPEG or PNG: an inspection photo or a document scanned on the case.

    The file lives under STORAGE_DIR with a random name (never under static/); its content
    was checked to be a JPEG or PNG, and its SHA-256 is kept.  Photos taken before the
    inspection is saved wait with ``inspection_id`` NULL and are attached when it is.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint(_in("kind", UPLOAD_KINDS), name="kind"),
        CheckConstraint("content_type IN ('image/jpeg','image/png')", name="content_type"),
        Index("ix_uploads_household_kind", "household_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: paths relative to STORAGE_DIR
    path: Mapped[str] = mapped_column(String(200))
    thumb_path: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: when the picture was taken, from its EXIF DateTimeOriginal (NULL when absent)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    inspection: Mapped[Inspection | None] = relationship(back_populates="photos")
    uploaded_by: Mapped[User] = relationship()
    #: the case: a stored picture or document is in scope where its case is
    household: Mapped[Household] = relationship()

    @property
    def label(self) -> Any:
        return UPLOAD_KINDS[self.kind]


#: 回头看 results (DOMAIN.md): what a follow-up visit to a paid case found
FOLLOW_UP_RESULTS = {
    "ok": _l("In use, no coal"),
    "rebound": _l("Back on coal (rebound)"),
    "device_removed": _l("Device removed"),
    "house_empty": _l("House empty"),
}
#: results that stop the running subsidy (the latest visit decides: a later "ok" resumes it)
STOPS_RUNNING_SUBSIDY = ("rebound", "device_removed")


class FollowUp(db.Model):
    """One follow-up (回头看) visit to a paid case.  Append-only, like inspections (triggers
    of migration 0007): a later visit is a new row, and the case's current result is its
    latest row by (visited_on, id)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(_in("result", FOLLOW_UP_RESULTS), name="result"),
        # anything but "ok" must say what was found
        CheckConstraint("result = 'ok' OR (note IS NOT NULL AND note <> '')", name="note"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    result: Mapped[str] = mapped_column(String(16))
    #: the (Beijing) date of the visit, which may be before the day it is recorded
    visited_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: what the visitor found (required for anything but "ok")
    note: Mapped[str | None] = mapped_column(Text)

    recorded_by: Mapped[User] = relationship()

    @property
    def label(self) -> Any:
        return FOLLOW_UP_RESULTS[self.result]

    @property
    def stops_running_subsidy(self) -> bool:
        return self.result in STOPS_RUNNING_SUBSIDY
