"""An import record: one uploaded household file, its parsed preview and what became of it.

The record (not the session) carries the upload from the preview to the confirmation, so the
confirmation works from any worker and survives a reload.  The preview holds masked ID numbers
only; the confirmation re-reads the stored file and validates it again instead of trusting it.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.auth.models import User
from heating.core.db import TimestampMixin, UTCDateTime
from heating.extensions import db

IMPORT_STATUSES = ("previewed", "imported", "rejected")
_IMPORTED_SQL = "status = 'imported'"


class ImportRecord(TimestampMixin, db.Model):
    __tablename__ = "household_imports"
    __table_args__ = (
        CheckConstraint("status IN ('previewed','imported','rejected')", name="status"),
        # the same file can be imported once: two simultaneous confirmations cannot both win
        Index("uq_household_imports_sha256_imported", "sha256", unique=True,
              sqlite_where=text(_IMPORTED_SQL), postgresql_where=text(_IMPORTED_SQL)),
        Index("ix_household_imports_uploaded_by_id_id", "uploaded_by_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: county of the uploader's import scope when uploading: its county users may read the record
    county_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    #: the name the file had on the uploader's computer (never used on disk)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    #: path of the kept file relative to STORAGE_DIR (random name); NULL for a refused file
    stored_path: Mapped[str | None] = mapped_column(String(255))
    programme_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="previewed")
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    #: rows that would be (or were) imported, warnings included
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_count: Mapped[int] = mapped_column(Integer, default=0)
    #: JSON: per-row status with masked ID numbers and message ids (see households.imports),
    #: or the reason the file was refused
    preview: Mapped[str] = mapped_column(Text, default="{}")
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User] = relationship()

    @property
    def preview_data(self) -> dict[str, Any]:
        return json.loads(self.preview or "{}")

    def __repr__(self) -> str:
        return f"<ImportRecord {self.id} {self.status}>"
