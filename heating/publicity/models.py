"""公示 notices.  A reviewer publishes a notice for a village or a township listing passed
cases with their equipment-subsidy amounts; the amounts (with their explanation, inputs and
policy version) are frozen on the notice's entries, and the roster and the bank file take
exactly that frozen amount.

An entry leaves its notice (``removed``) when its case changes, when an objection against it
is upheld, or when its certificate is revoked; the case then needs a new notice.  At most one
live entry per household is enforced by a partial unique index.
"""
from __future__ import annotations

from datetime import date, datetime
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
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.areas.models import Area
from heating.auth.models import User
from heating.core.db import UTCDateTime, in_check, now_utc
from heating.extensions import db
from heating.households.models import Household, InCaseScope
from heating.subsidies.models import SubsidyPolicy

NOTICE_STATES = {"published": _l("Published"), "closed": _l("Period over")}
ENTRY_STATES = {
    "listed": _l("On notice"),
    "objected": _l("Objection under review"),
    "confirmed": _l("Confirmed"),
    "removed": _l("Taken off the notice"),
}
OBJECTION_OUTCOMES = {"open": _l("Open"), "dismissed": _l("Dismissed"),
                      "upheld": _l("Upheld")}
_LIVE_ENTRY = "state <> 'removed'"


_in = in_check


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(_in("state", NOTICE_STATES), name="state"),
        CheckConstraint("period_days BETWEEN 1 AND 60", name="period_days"),
        CheckConstraint("ends_on >= starts_on", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. GS-139901001-2026-003: township code, year, sequence within the township and year
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: a village notice has its village; a township notice has village_id NULL
    village_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    programme_year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="published")
    period_days: Mapped[int] = mapped_column(Integer)
    #: first and last day of the notice period (Beijing dates, both included)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    objection_phone: Mapped[str] = mapped_column(String(30))
    issuing_office: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the posted PDF, rendered once and then served byte for byte (relative to STORAGE_DIR)
    pdf_path: Mapped[str | None] = mapped_column(String(200))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    village: Mapped[Area | None] = relationship(foreign_keys=[village_id])
    township: Mapped[Area] = relationship(foreign_keys=[township_id])
    published_by: Mapped[User] = relationship()
    entries: Mapped[list[NoticeEntry]] = relationship(back_populates="notice",
                                                      order_by="NoticeEntry.seq")

    def __repr__(self) -> str:
        return f"<Notice {self.number}>"


class NoticeEntry(InCaseScope, db.Model):
    """One case on one notice, with its frozen equipment-subsidy amount."""

    __tablename__ = "notice_entries"
    __table_args__ = (
        CheckConstraint(_in("state", ENTRY_STATES), name="state"),
        CheckConstraint("amount_fen >= 0", name="amount"),
        Index("uq_notice_entries_live_household", "household_id", unique=True,
              sqlite_where=text(_LIVE_ENTRY), postgresql_where=text(_LIVE_ENTRY)),
        Index("ix_notice_entries_notice_seq", "notice_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    #: position on the printed list (village, then house number)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="listed")
    #: what the public list shows, frozen at publication (masks only)
    masked_name: Mapped[str] = mapped_column(String(50))
    masked_id: Mapped[str] = mapped_column(String(18))
    village_name: Mapped[str] = mapped_column(String(100))
    conversion_type: Mapped[str] = mapped_column(String(10))
    device_kind: Mapped[str] = mapped_column(String(16))
    #: the equipment subsidy, frozen: amount, its explanation, the inputs and the policy version
    amount_fen: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    policy_id: Mapped[int] = mapped_column(ForeignKey("subsidy_policies.id"), index=True)
    #: the case's version when published: a later change takes the entry off the notice
    case_version: Mapped[int] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(Text)

    notice: Mapped[Notice] = relationship(back_populates="entries")
    household: Mapped[Household] = relationship()
    policy: Mapped[SubsidyPolicy] = relationship()
    objections: Mapped[list[Objection]] = relationship(back_populates="entry",
                                                       order_by="Objection.id")

    @property
    def live(self) -> bool:
        return self.state != "removed"

    @property
    def open_objections(self) -> list[Objection]:
        return [o for o in self.objections if o.outcome == "open"]

    def take_off(self, reason: str, actor_id: int | None = None) -> list[Objection]:
        """Mark the entry removed (its frozen amount stays on it, for the record) and close the
        objections still open against it as upheld: the case has left the notice.  Here, not
        in the services, because certificate revocation needs it and must not import
        ``publicity.services`` (which imports the certificates); callers audit.  Returns the
        objections it closed."""
        now = now_utc()
        self.state = "removed"
        self.removed_at = now
        self.removed_reason = reason
        closed = self.open_objections
        for objection in closed:
            objection.outcome = "upheld"
            objection.decided_at = now
            objection.decided_by_id = actor_id
            objection.decision_reason = reason
        return closed



class Objection(db.Model):
    """An objection raised during the notice period against one case, and its decision."""

    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint(_in("outcome", OBJECTION_OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("notice_entries.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    #: who raised it (a villager, an anonymous call …), as told to the reviewer
    raised_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    outcome: Mapped[str] = mapped_column(String(10), default="open")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[NoticeEntry] = relationship(back_populates="objections")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


def live_entry(household_id: int) -> NoticeEntry | None:
    """The case's entry on a notice that still counts (listed, objected or confirmed)."""
    return db.session.scalar(select(NoticeEntry).where(NoticeEntry.household_id == household_id,
                                                       NoticeEntry.state != "removed"))
