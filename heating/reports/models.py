"""The county's programme settings: each programme year's start date and deadline, and the
overdue thresholds.  Both are settings a county user changes on a screen (audited)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.core.db import UTCDateTime, now_utc
from heating.extensions import db


class ProgrammeYear(db.Model):
    """A county's programme year: when its work starts and the deadline for its target (the
    monthly report's target line runs from one to the other)."""

    __tablename__ = "programme_years"
    __table_args__ = (
        UniqueConstraint("county_id", "programme_year", name="county_year"),
        CheckConstraint("deadline > starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    programme_year: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


#: (column, overdue kind of ``households.lifecycle.OVERDUE``)
THRESHOLD_COLUMNS = (("submitted_days", "submitted"), ("inspection_days", "inspection"),
                     ("notice_days", "notice"), ("unpaid_days", "unpaid"),
                     ("objection_days", "objection"), ("repay_days", "repay"))
MAX_THRESHOLD_DAYS = 365


class ReportSettings(db.Model):
    """A county's overdue thresholds in days (a missing row: the defaults of
    ``lifecycle.OVERDUE``)."""

    __tablename__ = "report_settings"
    __table_args__ = (
        CheckConstraint(" AND ".join(f"{column} BETWEEN 1 AND {MAX_THRESHOLD_DAYS}"
                                     for column, _ in THRESHOLD_COLUMNS), name="days"),
    )

    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    submitted_days: Mapped[int] = mapped_column(Integer)
    inspection_days: Mapped[int] = mapped_column(Integer)
    notice_days: Mapped[int] = mapped_column(Integer)
    unpaid_days: Mapped[int] = mapped_column(Integer)
    objection_days: Mapped[int] = mapped_column(Integer)
    repay_days: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class MonthlyReport(db.Model):
    """A published monthly ranking report (月度通报): the PDF and XLSX as issued, frozen (stored
    files with their SHA-256; re-downloads are these bytes).  Never replaced: a correction is
    a new version that names the one it supersedes and why."""

    __tablename__ = "monthly_reports"
    __table_args__ = (
        UniqueConstraint("county_id", "programme_year", "month", "version",
                         name="county_year_month_version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("(version = 1) = (supersedes_id IS NULL)", name="supersedes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    programme_year: Mapped[int] = mapped_column(Integer)
    #: the first day of the month reported
    month: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("monthly_reports.id"),
                                                      unique=True)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    pdf_path: Mapped[str] = mapped_column(String(200))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_path: Mapped[str] = mapped_column(String(200))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    published_by: Mapped[Any] = relationship("User")
    supersedes: Mapped[MonthlyReport | None] = relationship(remote_side=[id])
