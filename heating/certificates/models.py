"""Acceptance certificates (验收合格证明) and the per-county, per-year serial counters.

A certificate is issued in the transaction that passes the inspection.  What it shows is
frozen at issue (``content``: masked ID only); its PDF is rendered on first download and from
then on served byte for byte from storage, checked against ``pdf_sha256``.  The verification
token is not stored: it is an HMAC of the serial with CERTIFICATE_KEY (see services).
Triggers (migration 0004) refuse deletes and any change to an issued certificate other than
storing its PDF once and revoking it once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.auth.models import User
from heating.core.db import UTCDateTime, now_utc
from heating.extensions import db
from heating.households.models import Household, InCaseScope

_CURRENT = "revoked_at IS NULL"


class Certificate(InCaseScope, db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("county_code", "year", "sequence", name="county_year_sequence"),
        # at most one valid certificate per case; a revoked one is never reissued, the case
        # gets a new serial after its next passed inspection
        Index("uq_certificates_current_household", "household_id", unique=True,
              sqlite_where=text(_CURRENT), postgresql_where=text(_CURRENT)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: {county code}-{issue year}-{sequence:06d}, e.g. 139901-2026-000042
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    #: first six digits of the county's area code
    county_code: Mapped[str] = mapped_column(String(6))
    #: issue year in Beijing time
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), unique=True)
    #: what the certificate shows, frozen at issue (names, masked ID, device, dates)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: the rendered PDF, relative to STORAGE_DIR; NULL until the first download
    pdf_path: Mapped[str | None] = mapped_column(String(200))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    household: Mapped[Household] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


    def __repr__(self) -> str:
        return f"<Certificate {self.serial}>"


class CertificateCounter(db.Model):
    """The last serial number used per county and year.  Its row is locked (SELECT … FOR
    UPDATE) while a serial is taken, so serials are unique and gapless even when two
    inspectors pass cases at the same moment; a rolled-back pass gives its number back."""

    __tablename__ = "certificate_counters"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer, nullable=False)
