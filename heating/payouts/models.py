"""Payout batches and payments (equipment and running subsidies), the frozen bank-file
export, bank result imports, bank-account corrections after a failed payment, and the
seasonal usage files the running subsidy is computed from.

No double payment, ever: a partial unique index allows at most one live payment (anything but
failed or voided) per household, subsidy kind and period.  Every column of that key is NOT
NULL — the equipment subsidy uses the fixed period ``equipment`` — because NULLs never collide
in a unique index.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
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
from heating.core.accounts import BankAccount
from heating.core.db import Hundredths, UTCDateTime, in_check, now_utc
from heating.extensions import db
from heating.households.models import Household, InCaseScope
from heating.publicity.models import NoticeEntry
from heating.subsidies.models import SubsidyPolicy

SUBSIDY_KINDS = {"equipment": _l("Equipment subsidy"), "running": _l("Running subsidy")}
#: the fixed period key of the one-off equipment subsidy (running: the season, "2025-2026")
EQUIPMENT_PERIOD = "equipment"
BATCH_STATES = {
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "exported": _l("Bank file exported"),
    "reconciled": _l("Bank results imported"),
    "closed": _l("Closed"),
    "dropped": _l("Dropped"),
}
PAYMENT_STATES = {
    "pending": _l("Pending"),
    "exported": _l("Sent to bank"),
    "paid": _l("Paid"),
    # "payment" context: the inspection's "Failed" is 不通过, a payment's is 发放失败
    "failed": lazy_pgettext("payment", "Failed"),
    "voided": _l("Voided"),
}
#: what a payment's row stores.  "Sent to the bank" is not stored per payment: a payment still
#: pending in a batch whose bank file is frozen is *shown* as exported (``shown_status``) —
#: the batch's state already says it, and writing it again on 20,000 rows at the freeze cost
#: more than making the file (a non-HOT update: ``status`` is in the index predicate below).
STORED_PAYMENT_STATES = ("pending", "paid", "failed", "voided")
#: batch states in which the batch's bank file has been handed to the bank
SENT_BATCH_STATES = ("exported", "reconciled", "closed")
#: payments that hold their household's (kind, period) slot
LIVE_PAYMENT = "status NOT IN ('failed','voided')"
CORRECTION_STATES = {"pending": _l("Awaiting approval"), "approved": _l("Approved"),
                     "rejected": _l("Rejected")}
UTILITIES = {"power": _l("Power company (kWh)"), "gas": _l("Gas company (m³)")}


_in = in_check


class PayoutBatch(db.Model):
    __tablename__ = "payout_batches"
    __table_args__ = (
        CheckConstraint(_in("state", BATCH_STATES), name="state"),
        CheckConstraint(_in("kind", SUBSIDY_KINDS), name="kind"),
        CheckConstraint("kind <> 'running' OR season IS NOT NULL", name="running_season"),
        # maker–checker in the database too: nobody approves their own batch
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> created_by_id",
                        name="maker_checker"),
        CheckConstraint("payment_count >= 0 AND total_fen >= 0", name="totals"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. FF-139901-2026-0007 (county code, year of creation, sequence)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: running subsidy: the heating season paid ("2025-2026")
    season: Mapped[str | None] = mapped_column(String(9))
    #: a 补发 batch re-paying failed payments after their accounts were corrected
    is_repay: Mapped[bool] = mapped_column(Boolean, default=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    #: the township the batch was limited to, if any
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    state: Mapped[str] = mapped_column(String(12), default="draft")
    #: from the create form: a double submit returns the batch already made
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payment_count: Mapped[int] = mapped_column(Integer, default=0)
    #: BIGINT: 20,000 payments of 6,800 yuan are 13.6 billion fen, past a 32-bit integer
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the bank file, frozen at first export: re-downloads are byte-identical
    exported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_count: Mapped[int | None] = mapped_column(Integer)
    export_total_fen: Mapped[int | None] = mapped_column(BigInteger)
    csv_path: Mapped[str | None] = mapped_column(String(200))
    csv_sha256: Mapped[str | None] = mapped_column(String(64))
    xlsx_path: Mapped[str | None] = mapped_column(String(200))
    xlsx_sha256: Mapped[str | None] = mapped_column(String(64))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: optimistic lock: approve / export / drop from two screens cannot both win
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    payments: Mapped[list[Payment]] = relationship(back_populates="batch",
                                                   order_by="Payment.seq")

    __mapper_args__ = {"version_id_col": version}

    # the scope helpers ask for these: a batch is in scope for county-wide roles of its county
    # (and for township roles of its township, when it was limited to one)
    @property
    def village_id(self) -> int:
        return 0

    @property
    def total(self) -> Decimal:
        return (Decimal(self.total_fen) / 100).quantize(Decimal("0.01"))

    def __repr__(self) -> str:
        return f"<PayoutBatch {self.number} {self.state}>"


class Payment(BankAccount, InCaseScope, db.Model):
    """One payment to one household in one batch.  Payee and account are copied from the
    case when the batch is made, so the record shows where the money was sent even after a
    later correction."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("kind", SUBSIDY_KINDS), name="kind"),
        CheckConstraint(_in("status", STORED_PAYMENT_STATES), name="status"),
        CheckConstraint("amount_fen > 0", name="amount"),
        CheckConstraint("kind <> 'equipment' OR period = 'equipment'", name="equipment_period"),
        Index("uq_payments_live_household_kind_period", "household_id", "kind", "period",
              unique=True, sqlite_where=text(LIVE_PAYMENT), postgresql_where=text(LIVE_PAYMENT)),
        UniqueConstraint("batch_id", "seq", name="batch_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    #: "equipment" for the equipment subsidy, the season ("2025-2026") for the running one
    period: Mapped[str] = mapped_column(String(9), nullable=False)
    #: sequence number in the batch (the bank file's 序号)
    seq: Mapped[int] = mapped_column(Integer)
    #: payment reference, unique across all batches: the key of the bank's result file
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: where the amount comes from: the frozen notice entry or the season's usage record
    notice_entry_id: Mapped[int | None] = mapped_column(ForeignKey("notice_entries.id"))
    usage_record_id: Mapped[int | None] = mapped_column(ForeignKey("usage_records.id"))
    #: the failed payment this one re-pays (补发)
    repays_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    payee_name: Mapped[str] = mapped_column(String(50))
    bank_name: Mapped[str] = mapped_column(String(60))
    _bank_account: Mapped[str] = mapped_column("bank_account", String(19))
    bank_hash: Mapped[str] = mapped_column(String(64))
    result_import_id: Mapped[int | None] = mapped_column(ForeignKey("bank_result_imports.id"))
    paid_on: Mapped[date | None] = mapped_column(Date)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[PayoutBatch] = relationship(back_populates="payments")
    household: Mapped[Household] = relationship()
    notice_entry: Mapped[NoticeEntry | None] = relationship()
    usage_record: Mapped[UsageRecord | None] = relationship()

    @property
    def shown_status(self) -> str:
        """The status as users know it: pending in a batch already sent reads "exported"."""
        if self.status == "pending" and self.batch.state in SENT_BATCH_STATES:
            return "exported"
        return self.status

    @property
    def amount(self) -> Decimal:
        return (Decimal(self.amount_fen) / 100).quantize(Decimal("0.01"))


    def __repr__(self) -> str:  # never the account number
        return f"<Payment {self.reference} {self.status}>"


class BankResultImport(db.Model):
    """One bank result file, imported in one transaction (or rejected whole)."""

    __tablename__ = "bank_result_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the same file twice is reported as already imported and changes nothing
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    #: the stored file, relative to STORAGE_DIR
    path: Mapped[str] = mapped_column(String(200))
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    row_count: Mapped[int] = mapped_column(Integer)
    paid_count: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    failed_count: Mapped[int] = mapped_column(Integer)
    failed_fen: Mapped[int] = mapped_column(BigInteger)

    imported_by: Mapped[User] = relationship()


class AccountCorrection(BankAccount, InCaseScope, db.Model):
    """A corrected bank account after a failed payment: requested by a clerk or finance,
    approved by a finance or county user who is not the requester, then applied to the case."""

    __tablename__ = "account_corrections"
    __table_args__ = (
        CheckConstraint(_in("state", CORRECTION_STATES), name="state"),
        CheckConstraint("decided_by_id IS NULL OR decided_by_id <> requested_by_id",
                        name="four_eyes"),
        Index("uq_account_corrections_pending_household", "household_id", unique=True,
              sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    #: the failed payment that prompted the correction
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    bank_name: Mapped[str] = mapped_column(String(60))
    _bank_account: Mapped[str] = mapped_column("bank_account", String(19))
    bank_hash: Mapped[str] = mapped_column(String(64))
    account_holder: Mapped[str] = mapped_column(String(50))
    luhn_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    household: Mapped[Household] = relationship()
    payment: Mapped[Payment] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class UsageImport(db.Model):
    """A season's usage file from the power or gas company."""

    __tablename__ = "usage_imports"
    __table_args__ = (
        # once per county: a city-wide file from the power company serves every county
        UniqueConstraint("county_id", "sha256", name="county_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(200))
    utility: Mapped[str] = mapped_column(String(8))
    season: Mapped[str] = mapped_column(String(9), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    row_count: Mapped[int] = mapped_column(Integer)
    matched_count: Mapped[int] = mapped_column(Integer)
    #: rows that matched no household, or were excluded, with the reason (shown as a report)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)

    imported_by: Mapped[User] = relationship()


class UsageRecord(db.Model):
    """One household's usage in one season and the running subsidy computed from it."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("household_id", "season", name="household_season"),
        CheckConstraint("usage >= 0", name="usage"),
        CheckConstraint("amount_fen >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("usage_imports.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    season: Mapped[str] = mapped_column(String(9))
    #: the case's season number (1 = first season starting after the inspection passed)
    season_no: Mapped[int] = mapped_column(Integer)
    #: the meter or gas account number the row was matched by
    meter_no: Mapped[str] = mapped_column(String(40))
    #: kWh or m³, two decimals
    usage: Mapped[Decimal] = mapped_column(Hundredths)
    amount_fen: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    policy_id: Mapped[int] = mapped_column(ForeignKey("subsidy_policies.id"))
    #: near-zero usage: possible rebound (复烧) or a device never used; follow up on site
    low_usage: Mapped[bool] = mapped_column(Boolean, default=False)

    household: Mapped[Household] = relationship()
    policy: Mapped[SubsidyPolicy] = relationship()
