"""Database kernel: declarative base with a naming convention, UTC-aware timestamps,
exact decimal columns stored as integers, and the SQLite connection discipline.

SQLite: WAL, foreign keys, a busy timeout, and transactions opened by us (pysqlite's own
implicit BEGIN is switched off) so that writers can open theirs with ``BEGIN IMMEDIATE`` and
take the write lock up front instead of failing half-way with "database is locked".
"""
from __future__ import annotations

import contextlib
import contextvars
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

from sqlalchemy import DateTime, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: True while the current request or CLI command intends to write: SQLite transactions
#: then start with BEGIN IMMEDIATE (see module docstring).
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def in_check(column: str, values: Any) -> str:
    """The SQL of a CHECK constraint keeping ``column`` to ``values`` (enum-like codes)."""
    return f"{column} IN ({','.join(repr(v) for v in values)})"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC-aware datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use heating.core.db.now_utc()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Hundredths(TypeDecorator[Decimal]):
    """A Decimal with two places stored as an integer count of hundredths (fen for money,
    0.01 m² for areas): exact on every database, never a float."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * 100
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than two decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Mark the enclosed work as a writer (CLI commands that change data use this)."""
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


def configure_engine(engine: Engine) -> None:
    """Install the SQLite pragmas and transaction handling on one engine (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
