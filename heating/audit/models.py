from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from heating.core.db import UTCDateTime, now_utc
from heating.extensions import db


class AuditEvent(db.Model):
    """Append-only: database triggers refuse UPDATE and DELETE (see the first migration)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: the actor as an id (the log knows no User model: auth writes to it, so it cannot read auth)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: copied so the row stays readable whatever happens to the user later
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: JSON; masks and keyed-hash prefixes only, never a full ID or bank number
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
