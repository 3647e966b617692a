"""Recoveries (追回) of a paid equipment subsidy and the receipts that pay them back.

A recovery is opened by a follow-up finding (rebound or device removed) within the policy's
recovery period (``SubsidyPolicy.recovery_seasons``); its amount is the paid equipment
payment's, frozen on the row.  ``recovered_fen`` is the kept sum of its receipts (the database
holds it between 0 and the amount).  At most one recovery per equipment payment, ever, and at
most one still being worked per case (partial unique index).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.auth.models import User
from heating.core.db import UTCDateTime, in_check, now_utc
from heating.extensions import db
from heating.households.models import Household, InCaseScope
from heating.inspections.models import FollowUp
from heating.payouts.models import Payment
from heating.subsidies.models import SubsidyPolicy

RECOVERY_STATES = {
    # "recovery" context: an objection's "Open" is 待处理, a recovery's is 待追回
    "open": lazy_pgettext("recovery", "Open"),
    "partially_recovered": _l("Partially recovered"),
    "waive_requested": _l("Waiver awaiting approval"),
    "recovered": _l("Recovered"),
    "waived": _l("Waived"),
}
#: states in which the recovery is still being worked (money may still come in)
WORKED_STATES = ("open", "partially_recovered", "waive_requested")
_WORKED = "state IN ('open','partially_recovered','waive_requested')"


class Recovery(InCaseScope, db.Model):
    __tablename__ = "recoveries"
    __table_args__ = (
        CheckConstraint(in_check("state", RECOVERY_STATES), name="state"),
        CheckConstraint("amount_fen > 0", name="amount"),
        CheckConstraint("recovered_fen >= 0 AND recovered_fen <= amount_fen", name="recovered"),
        CheckConstraint("waived_fen >= 0 AND recovered_fen + waived_fen <= amount_fen",
                        name="waived"),
        CheckConstraint("state <> 'recovered' OR recovered_fen = amount_fen",
                        name="recovered_in_full"),
        # maker–checker in the database too: nobody approves their own waiver request
        CheckConstraint("waiver_decided_by_id IS NULL OR waiver_decided_by_id <> "
                        "waiver_requested_by_id", name="maker_checker"),
        Index("uq_recoveries_worked_household", "household_id", unique=True,
              sqlite_where=text(_WORKED), postgresql_where=text(_WORKED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    #: the paid equipment payment recovered (once: a later finding opens nothing)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    #: the visit whose finding opened it, and the policy version that says so
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("subsidy_policies.id"))
    state: Mapped[str] = mapped_column(String(20), default="open")
    #: the payment's amount, frozen when the recovery opened
    amount_fen: Mapped[int] = mapped_column(Integer)
    #: kept sum of the receipts
    recovered_fen: Mapped[int] = mapped_column(Integer, default=0)
    #: what was left outstanding when a waiver was approved
    waived_fen: Mapped[int] = mapped_column(Integer, default=0)
    #: the payment's paid_on and the window's last day (``seasons.recovery_window``)
    paid_on: Mapped[date] = mapped_column(Date)
    window_ends: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: the pending (or approved) waiver: reason, who asked, who decided
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    waiver_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waiver_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiver_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waiver_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: optimistic lock: two finance users recording at once cannot both win
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    household: Mapped[Household] = relationship()
    payment: Mapped[Payment] = relationship()
    follow_up: Mapped[FollowUp] = relationship()
    policy: Mapped[SubsidyPolicy] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    waiver_requested_by: Mapped[User | None] = relationship(
        foreign_keys=[waiver_requested_by_id])
    waiver_decided_by: Mapped[User | None] = relationship(foreign_keys=[waiver_decided_by_id])
    receipts: Mapped[list[RecoveryReceipt]] = relationship(
        back_populates="recovery", order_by="RecoveryReceipt.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def outstanding_fen(self) -> int:
        """Still to come in: nothing once recovered or waived."""
        return 0 if self.state not in WORKED_STATES else self.amount_fen - self.recovered_fen

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_fen).scaleb(-2)

    def __repr__(self) -> str:
        return f"<Recovery {self.id} {self.state}>"


class RecoveryReceipt(db.Model):
    """Money paid back on a recovery (one of several when partial)."""

    __tablename__ = "recovery_receipts"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id"), index=True)
    #: the (Beijing) date the money came in
    received_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Integer)
    #: receipt or voucher number (收据号), optional
    reference: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    recovery: Mapped[Recovery] = relationship(back_populates="receipts")
    recorded_by: Mapped[User] = relationship()

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_fen).scaleb(-2)
