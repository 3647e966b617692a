from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.core.db import TimestampMixin, UTCDateTime, now_utc
from heating.extensions import db

LEVELS = ("county", "township", "village")


class Area(TimestampMixin, db.Model):
    __tablename__ = "areas"
    __table_args__ = (CheckConstraint("level IN ('county','township','village')", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 12-digit code: province 2 + city 2 + county 2 + township 3 + village 3
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    #: the year of the code list this code was last published in (codes are republished yearly)
    code_year: Mapped[int] = mapped_column(Integer)
    #: set when a newer code list no longer has this code; retired areas keep their cases
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.code")

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<Area {self.code} {self.name}>"


class AreaTarget(db.Model):
    """Households an area must convert in one programme year (the county's target split down),
    with its history: a changed target is a new row in force from ``effective_from`` (a Beijing
    date), so progress as of a past day divides by the target in force that day."""

    __tablename__ = "area_targets"
    __table_args__ = (
        UniqueConstraint("area_id", "programme_year", "effective_from", name="area_year_from"),
        CheckConstraint("target >= 0", name="target_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    programme_year: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    #: NULL for targets loaded before the history was kept, or by the system
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now_utc)
    reason: Mapped[str | None] = mapped_column(Text)

    area: Mapped[Area] = relationship()
