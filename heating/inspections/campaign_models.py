"""回头看 campaigns: a named follow-up campaign of the county, its frozen population (the paid
cases it draws from, one row each, with the stratum and installer as they were when it was
frozen) and, once drawn, which of those rows are in the sample and who visits them.

The draw itself is ``campaign_draw.draw`` (pure: population + seed → sample); the rules are
``campaigns.py``; the states are ``campaign_states.py``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.auth.models import User
from heating.core.db import TimestampMixin, UTCDateTime
from heating.extensions import db
from heating.households.models import Household, InCaseScope
from heating.inspections.campaign_states import STATES


def _in(col: str, values: Any) -> str:
    return f"{col} IN ({','.join(repr(v) for v in values)})"


class FollowUpCampaign(TimestampMixin, db.Model):
    """One 回头看 campaign: named by the county, drawn once (``state`` through
    ``campaign_states.TRANSITIONS``)."""

    __tablename__ = "follow_up_campaigns"
    __table_args__ = (
        CheckConstraint(_in("state", STATES), name="state"),
        CheckConstraint("rate_percent BETWEEN 1 AND 100", name="rate_percent"),
        CheckConstraint("first_n BETWEEN 0 AND 100", name="first_n"),
        # four eyes: an overlapping campaign is approved by someone other than its requester
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> requested_by_id",
                        name="approver_not_requester"),
        # a seed exists exactly when the sample was drawn
        CheckConstraint("(seed IS NULL) = (drawn_at IS NULL)", name="seed_when_drawn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    programme_year: Mapped[int] = mapped_column(Integer)
    #: the townships of the population; empty: every township of the county
    township_ids: Mapped[list[int]] = mapped_column(JSON)
    #: the share of each township's paid cases drawn (at least one per township with any)
    rate_percent: Mapped[int] = mapped_column(Integer)
    #: plus the first N installations (by install date, case id) of every installer company
    first_n: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20))
    #: why a campaign overlapping an open one is needed (required then), and which ones
    overlap_reason: Mapped[str | None] = mapped_column(Text)
    overlaps: Mapped[list[int]] = mapped_column(JSON, default=list)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the frozen population: its size and the SHA-256 of its sorted case ids
    population_size: Mapped[int] = mapped_column(Integer)
    population_sha256: Mapped[str] = mapped_column(String(64))
    #: 32 random bytes (hex) generated at the draw; the sample is reproducible from it
    seed: Mapped[str | None] = mapped_column(String(64))
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sample_size: Mapped[int] = mapped_column(Integer, default=0)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    drawn_by: Mapped[User | None] = relationship(foreign_keys=[drawn_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __mapper_args__ = {"version_id_col": version}

    #: for the scope helpers: a county's record, in scope of county-wide grants only
    village_id = None
    township_id = None

    @property
    def label(self) -> Any:
        return STATES[self.state]


class CampaignCase(InCaseScope, db.Model):
    """One case of a campaign's frozen population; ``in_sample`` once drawn, and then the
    inspector who visits it.  The visit is done when a follow-up of the case is recorded
    after the draw."""

    __tablename__ = "follow_up_campaign_cases"
    __table_args__ = (
        UniqueConstraint("campaign_id", "household_id", name="campaign_household"),
        CheckConstraint("in_sample OR NOT (by_rate OR by_installer)",
                        name="reason_only_in_sample"),
        Index("ix_follow_up_campaign_cases_household", "household_id"),
        Index("ix_follow_up_campaign_cases_inspector", "inspector_id", "visit_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("follow_up_campaigns.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    #: the stratum: the case's township when the population was frozen
    stratum_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    #: the installer company and install date when frozen (the first-N rule reads these)
    installer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("installer_companies.id"))
    install_date: Mapped[date | None] = mapped_column(Date)
    in_sample: Mapped[bool] = mapped_column(default=False)
    #: why it is in the sample: the township's rate, the first N of its installer, or both
    by_rate: Mapped[bool] = mapped_column(default=False)
    by_installer: Mapped[bool] = mapped_column(default=False)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visit_date: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[FollowUpCampaign] = relationship()
    household: Mapped[Household] = relationship()
    inspector: Mapped[User | None] = relationship(foreign_keys=[inspector_id])

