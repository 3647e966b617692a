"""Subsidy policies: what a household is paid, per programme year and conversion type (and
device kind where it matters).

A policy is never edited once an amount computed from it has been frozen on a 公示 notice:
a new version is made instead (``supersedes_id`` points at the one it replaces), so an amount
already published or rostered can always be explained by the exact terms it came from.
Rates are stored as integers with a stated scale, never floats.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.auth.models import User
from heating.core.db import TimestampMixin, UTCDateTime, in_check
from heating.extensions import db

EQUIPMENT_METHODS = {
    "invoice_rate": _l("Share of the invoice amount, up to a cap"),
    "area_rate": _l("Rate per m² of heated area, up to a cap"),
}
#: the unit of running-subsidy usage per conversion type
RUNNING_UNITS = {"electric": "kWh", "gas": "m³"}
#: scale of the stored rates: equipment share in 1/10,000 (8500 = 85%), running unit rate in
#: 1/10,000 元 (2000 = 0.20 元/kWh)
RATE_SCALE = 10_000


_in = in_check


class SubsidyPolicy(TimestampMixin, db.Model):
    __tablename__ = "subsidy_policies"
    __table_args__ = (
        # per county: two counties each have their own version 1 of the same year and type
        UniqueConstraint("county_id", "programme_year", "conversion_type", "device_kind",
                         "version", name="county_year_type_kind_version"),
        CheckConstraint("conversion_type IN ('gas','electric')", name="conversion_type"),
        CheckConstraint(_in("equipment_method", EQUIPMENT_METHODS), name="equipment_method"),
        CheckConstraint("equipment_method <> 'invoice_rate' OR equipment_rate_e4 IS NOT NULL",
                        name="invoice_rate_given"),
        CheckConstraint("equipment_method <> 'area_rate' OR area_rate_fen IS NOT NULL",
                        name="area_rate_given"),
        CheckConstraint("equipment_rate_e4 IS NULL OR equipment_rate_e4 BETWEEN 1 AND 10000",
                        name="equipment_rate_range"),
        CheckConstraint("equipment_cap_fen >= 0", name="equipment_cap"),
        CheckConstraint("seasons BETWEEN 0 AND 10", name="seasons"),
        CheckConstraint("recovery_seasons IS NULL OR recovery_seasons BETWEEN 1 AND 10",
                        name="recovery_seasons"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from",
                        name="effective_range"),
        Index("ix_subsidy_policies_lookup", "programme_year", "conversion_type", "device_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the county the policy belongs to (policies are county rules)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    programme_year: Mapped[int] = mapped_column(Integer)
    conversion_type: Mapped[str] = mapped_column(String(10))
    #: "" = every device kind of the conversion type; a kind-specific policy wins over it
    device_kind: Mapped[str] = mapped_column(String(16), default="")
    #: 1, 2, …: a new version is made instead of editing one already used by a notice
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("subsidy_policies.id"))
    name: Mapped[str] = mapped_column(String(100))
    #: the policy document it implements (文号), shown on explanations
    reference: Mapped[str] = mapped_column(String(100), default="")

    equipment_method: Mapped[str] = mapped_column(String(16))
    #: share of the invoice in 1/10,000 (8500 = 85%)
    equipment_rate_e4: Mapped[int | None] = mapped_column(Integer)
    #: 元 per m² of heated area, in fen
    area_rate_fen: Mapped[int | None] = mapped_column(Integer)
    equipment_cap_fen: Mapped[int] = mapped_column(Integer)

    #: running subsidy: cap on usage per season (kWh or m³, whole units); NULL = no cap
    running_cap_units: Mapped[int | None] = mapped_column(Integer)
    #: the heating season's first and last day as "MM-DD" (DOMAIN.md: 11-15 to 03-15)
    season_start: Mapped[str] = mapped_column(String(5), default="11-15")
    season_end: Mapped[str] = mapped_column(String(5), default="03-15")
    #: number of seasons the running subsidy is paid (0 = none)
    seasons: Mapped[int] = mapped_column(Integer, default=0)
    #: 追回: a follow-up finding a rebound or the device removed within this many heating
    #: seasons of the equipment payment (``seasons.recovery_window``) opens a recovery of the
    #: paid equipment subsidy; NULL = the policy recovers nothing
    recovery_seasons: Mapped[int | None] = mapped_column(Integer)

    #: the policy applies to cases approved on these (Beijing) dates
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    #: set when a newer version replaces this one
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    season_rates: Mapped[list[PolicySeasonRate]] = relationship(
        back_populates="policy", order_by="PolicySeasonRate.season_no",
        cascade="all, delete-orphan")
    created_by: Mapped[User] = relationship()
    supersedes: Mapped[SubsidyPolicy | None] = relationship(remote_side=[id])

    # A policy is a county rule: for the permission helpers it sits at county level, so only
    # grants over the whole county (the county office) act on it (permissions.roles_over).
    village_id = None
    township_id = None

    @property
    def current(self) -> bool:
        """Not replaced by a newer version."""
        return self.superseded_at is None

    @property
    def running_unit(self) -> str:
        return RUNNING_UNITS[self.conversion_type]

    @property
    def equipment_rate(self) -> Decimal | None:
        if self.equipment_rate_e4 is None:
            return None
        return Decimal(self.equipment_rate_e4) / RATE_SCALE

    @property
    def equipment_rate_pct(self) -> str:
        """The invoice share as people write it: "85", "72.5"."""
        if self.equipment_rate_e4 is None:
            return ""
        return format((Decimal(self.equipment_rate_e4) / 100).normalize(), "f")

    def __repr__(self) -> str:
        return (f"<SubsidyPolicy {self.id} {self.programme_year} {self.conversion_type}"
                f" v{self.version}>")


class PolicySeasonRate(db.Model):
    """The running-subsidy unit rate for one season number of a policy (rates may taper)."""

    __tablename__ = "subsidy_policy_season_rates"
    __table_args__ = (
        CheckConstraint("season_no >= 1", name="season_no"),
        CheckConstraint("unit_rate_e4 >= 0", name="unit_rate"),
    )

    policy_id: Mapped[int] = mapped_column(ForeignKey("subsidy_policies.id"), primary_key=True)
    season_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: 元 per kWh or m³ in 1/10,000 元 (2000 = 0.20 元)
    unit_rate_e4: Mapped[int] = mapped_column(Integer)

    policy: Mapped[SubsidyPolicy] = relationship(back_populates="season_rates")

    @property
    def unit_rate(self) -> Decimal:
        return Decimal(self.unit_rate_e4) / RATE_SCALE
