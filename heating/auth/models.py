from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heating.areas.models import Area
from heating.core.db import TimestampMixin, UTCDateTime
from heating.extensions import db

ROLES = ("clerk", "reviewer", "inspector", "finance", "county", "auditor", "admin")
_ROLES_SQL = ",".join(f"'{r}'" for r in ROLES)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: set when an administrator created or reset the password: the user must choose their own
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    #: consecutive failed logins; kept in the database so the lock holds across workers
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: part of the login cookie; replaced at logout and password change so that any cookie
    #: captured earlier (session or remember-me) stops working server-side
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleGrant.id"
    )

    # Flask-Login protocol -------------------------------------------------
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def role_names(self) -> set[str]:
        return {g.role for g in self.grants}

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleGrant(db.Model):
    """One role held over one area; a grant on a township or county covers what lies below."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "area_id", name="user_role_area"),
        CheckConstraint(f"role IN ({_ROLES_SQL})", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    area: Mapped[Area] = relationship()
