"""Keyset pagination: constant cost at any depth (OFFSET grows with the page number)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Select

from heating.extensions import db


@dataclass
class Page:
    items: Sequence[Any]
    next_after: int | None


def keyset_page(query: Select[Any], id_column: Any, after: int | None, size: int, *,
                entities: bool = True, oldest_first: bool = False) -> Page:
    """Rows ordered newest first by ``id_column`` (``oldest_first``: ascending, the same key
    and the same index read the other way); ``after`` is the last id already shown.
    ``entities=False`` for a column select: the page holds plain rows (with an ``id``)."""
    if after:
        query = query.where(id_column > after if oldest_first else id_column < after)
    query = query.order_by(id_column.asc() if oldest_first else id_column.desc()).limit(size + 1)
    rows = (db.session.scalars(query) if entities else db.session.execute(query)).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].id if more and rows else None)


def prefix_range(column: Any, prefix: str) -> Any:
    """``column LIKE 'prefix%'`` written as a range so SQLite uses the index (TECH-NOTES)."""
    return (column >= prefix) & (column < prefix + "\U0010ffff")
