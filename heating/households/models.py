"""The household (the case) and its event timeline.

ID and bank numbers are read and written only through the ``id_number`` / ``bank_account``
accessors: the raw columns are private (``_id_number``, ``_bank_account``) and every write also
sets a keyed hash used for lookups, uniqueness and audit rows.  A later change can encrypt the
raw columns without touching callers.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.areas.models import Area
from heating.auth.models import User
from heating.core.accounts import BankAccount
from heating.core.db import Hundredths, TimestampMixin, UTCDateTime, in_check, now_utc
from heating.core.ids import luhn_ok
from heating.core.lookup import keyed_hash
from heating.core.masking import mask_id, mask_phone
from heating.extensions import db
from heating.households.lifecycle import INACTIVE_STATES, STATES

CONVERSION_TYPES = {"gas": _l("Coal to gas"), "electric": _l("Coal to electricity")}
DEVICE_KINDS = {
    "gas_boiler": _l("Gas wall-hung boiler"),
    "heat_pump": _l("Air-source heat pump"),
    "storage_heater": _l("Thermal-storage heater"),
    "direct_heater": _l("Direct electric heater"),
    "other_electric": _l("Other electric heating"),
}
#: which device kinds belong to which conversion type
DEVICE_KINDS_BY_TYPE = {
    "gas": ("gas_boiler",),
    "electric": ("heat_pump", "storage_heater", "direct_heater", "other_electric"),
}
PREVIOUS_HEATING = {
    "coal_stove": _l("Coal stove"),
    "coal_boiler": _l("Coal-fired boiler"),
    "coal_kang": _l("Coal-heated kang"),
    "other": _l("Other"),
}


_in = in_check


_INACTIVE_SQL = "state NOT IN ('withdrawn','cancelled')"


class InCaseScope:
    """For the scope helpers (``permissions.roles_over`` / ``in_scope``): a record attached to
    a case (``household``) is in scope where its case is."""

    household: Any

    @property
    def village_id(self) -> int:
        return self.household.village_id

    @property
    def township_id(self) -> int:
        return self.household.township_id

    @property
    def county_id(self) -> int:
        return self.household.county_id


class Household(BankAccount, TimestampMixin, db.Model):
    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint(_in("state", STATES), name="state"),
        CheckConstraint(_in("conversion_type", CONVERSION_TYPES), name="conversion_type"),
        CheckConstraint(_in("device_kind", DEVICE_KINDS), name="device_kind"),
        CheckConstraint(_in("previous_heating", PREVIOUS_HEATING), name="previous_heating"),
        CheckConstraint("residents BETWEEN 1 AND 30", name="residents"),
        CheckConstraint("heated_area > 0", name="heated_area"),
        CheckConstraint("coal_stoves BETWEEN 0 AND 20", name="coal_stoves"),
        # one case per ID number in every state except withdrawn and cancelled, across years
        Index("uq_households_active_id_hash", "id_hash", unique=True,
              sqlite_where=text(_INACTIVE_SQL), postgresql_where=text(_INACTIVE_SQL)),
        Index("ix_households_state_id", "state", "id"),
        Index("ix_households_county_state_id", "county_id", "state", "id"),
        # county_id inside: a county user's scope clause is answered from the index alone
        Index("ix_households_township_state_county_id", "township_id", "state", "county_id",
              "id"),
        Index("ix_households_village_state_id", "village_id", "state", "id"),
        Index("ix_households_head_name", "head_name"),
        Index("ix_households_phone", "phone"),
        Index("ix_households_bank_hash", "bank_hash"),
        # the partial unique index serves only queries that repeat its WHERE: search needs this
        Index("ix_households_id_hash", "id_hash"),
        # the overdue lists: cases waiting in a state since before a cut-off
        # the dashboard's overdue counts read only these indexes (migration 0012)
        Index("ix_households_overdue", "county_id", "programme_year", "state", "state_since",
              "township_id", "village_id"),
        Index("ix_households_unpaid", "county_id", "programme_year", "state", "confirmed_at",
              "township_id", "village_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_year: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: optimistic lock: two people editing the same case cannot overwrite each other
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    #: denormalised from the village so that scoping and filters use one indexed column
    township_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))

    head_name: Mapped[str] = mapped_column(String(50))
    _id_number: Mapped[str] = mapped_column("id_number", String(18))
    #: keyed hash of the canonical ID number (see heating.core.lookup)
    id_hash: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(11))
    group_name: Mapped[str] = mapped_column(String(20), default="")
    house_no: Mapped[str] = mapped_column(String(30), default="")
    residents: Mapped[int] = mapped_column(Integer)
    #: heated floor area in m², two decimals
    heated_area: Mapped[Decimal] = mapped_column(Hundredths)
    previous_heating: Mapped[str] = mapped_column(String(16))
    coal_stoves: Mapped[int] = mapped_column(Integer)
    low_income: Mapped[bool] = mapped_column(Boolean, default=False)

    conversion_type: Mapped[str] = mapped_column(String(10))
    device_kind: Mapped[str] = mapped_column(String(16))

    bank_name: Mapped[str | None] = mapped_column(String(60))
    _bank_account: Mapped[str | None] = mapped_column("bank_account", String(19))
    bank_hash: Mapped[str | None] = mapped_column(String(64))
    account_holder: Mapped[str | None] = mapped_column(String(50))
    #: the clerk confirmed an account number that fails the Luhn check (some social-security
    #: card accounts do)
    luhn_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: county-approved exception for an account holder other than the head (e.g. head died)
    holder_exception_reason: Mapped[str | None] = mapped_column(Text)
    holder_exception_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    holder_exception_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: print spelling (印刷用名): what documents print for the head's name when the registered
    #: one holds a character no bundled font has; recorded by a reviewer with a reason
    print_name: Mapped[str | None] = mapped_column(String(50))
    print_name_reason: Mapped[str | None] = mapped_column(Text)

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: when the case entered its current state (its latest case event; set by transition());
    #: nullable only because the column was added in place (migration 0010)
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now_utc)
    #: its latest confirmation after the notice period (the "confirmed but unpaid" clock)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the equipment subsidy frozen on its live notice entry, in fen (0 while on no notice):
    #: written by the publicity service with the entry, summed into ``household_counts.fen``
    #: by the counting triggers (migration 0012) — the dashboard's money
    frozen_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    village: Mapped[Area] = relationship(foreign_keys=[village_id])
    township: Mapped[Area] = relationship(foreign_keys=[township_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="household", order_by="CaseEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}

    # accessors for the sensitive numbers ------------------------------------------------
    @property
    def id_number(self) -> str:
        return self._id_number

    @id_number.setter
    def id_number(self, canonical: str) -> None:
        self._id_number = canonical
        self.id_hash = keyed_hash("id", canonical)

    @staticmethod
    def id_number_from_column(stored: str) -> str:
        """The ID number from a raw column value read by a column query (lists): the same
        conversion the accessor does, so a later at-rest encryption changes only this class."""
        return stored

    @property
    def id_masked(self) -> str:
        return mask_id(self._id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def bank_luhn_ok(self) -> bool:
        return bool(self._bank_account) and luhn_ok(self._bank_account or "")

    # rules the lifecycle guards ask about ----------------------------------------------
    @property
    def active(self) -> bool:
        return self.state not in INACTIVE_STATES

    @property
    def holder_differs(self) -> bool:
        holder = (self.account_holder or "").strip()
        return bool(holder) and holder != self.head_name.strip()

    def missing_for_submission(self) -> list[Any]:
        """Required fields still empty, named for the clerk."""
        required = [
            (self.head_name, _l("Head of household")), (self._id_number, _l("ID number")),
            (self.phone, _l("Mobile number")), (self.house_no, _l("House number")),
            (self.residents, _l("Residents")), (self.heated_area, _l("Heated area")),
            (self.conversion_type, _l("Conversion type")), (self.device_kind, _l("Device kind")),
            (self.bank_name, _l("Bank")), (self._bank_account, _l("Account number")),
            (self.account_holder, _l("Account holder")),
        ]
        return [_l("Missing: %(field)s", field=label) for value, label in required
                if value in (None, "")]

    def holder_problems(self) -> list[Any]:
        if self.holder_differs and not self.holder_exception_reason:
            return [_l("The account holder is not the head of household: a county user must "
                       "record an exception with a reason before the case can be submitted.")]
        return []

    def audit_snapshot(self) -> dict[str, Any]:
        """Field values for audit rows: masks and hash prefixes, never full numbers."""
        return {
            "state": self.state, "programme_year": self.programme_year,
            "village": self.village.code if self.village else self.village_id,
            "head_name": self.head_name, "id_number": self.id_masked,
            "id_hash": (self.id_hash or "")[:12], "phone": self.phone_masked,
            "group_name": self.group_name, "house_no": self.house_no,
            "residents": self.residents, "heated_area": str(self.heated_area),
            "previous_heating": self.previous_heating, "coal_stoves": self.coal_stoves,
            "low_income": self.low_income, "conversion_type": self.conversion_type,
            "device_kind": self.device_kind, "bank_name": self.bank_name,
            "bank_account": self.bank_masked, "bank_hash": (self.bank_hash or "")[:12],
            "account_holder": self.account_holder,
            "holder_exception_reason": self.holder_exception_reason,
        }

    def __repr__(self) -> str:  # never the ID number
        return f"<Household {self.id} {self.state}>"


class CaseEvent(db.Model):
    """One move of a case: who, when, from, to and why.  Written only by transition()."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint(_in("to_state", STATES), name="to_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    #: NULL for the creation event
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    #: NULL when the system (a scheduled job) made the move
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    reason: Mapped[str | None] = mapped_column(Text)

    household: Mapped[Household] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class HouseholdCount(db.Model):
    """Number of cases per village, programme year, conversion type and state.

    Maintained by database triggers on ``households`` (see migration 0002), so every writer —
    services, bulk loads, demo data — keeps it right without thinking about it; read by the
    list's counts per state, which would otherwise count the whole county on every page.
    Never written by the application.
    """

    __tablename__ = "household_counts"

    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    programme_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversion_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    township_id: Mapped[int] = mapped_column(Integer, index=True)
    county_id: Mapped[int] = mapped_column(Integer, index=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the cases' ``frozen_fen`` summed (migration 0012)
    fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
