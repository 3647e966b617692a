"""Who sees which 公示 notices, and where a reviewer may publish.  A notice is in scope by its
area; an entry by its case (the usual case scope)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select

from heating.areas.models import Area
from heating.auth import permissions
from heating.extensions import db
from heating.publicity.models import Notice


@dataclass(frozen=True)
class AreaRef:
    """A township or village seen through the scope helpers (village/township/county ids)."""

    village_id: int | None
    township_id: int
    county_id: int

    @classmethod
    def of(cls, area: Area) -> AreaRef:
        if area.level == "village":
            return cls(area.id, area.parent_id, area.parent.parent_id)
        return cls(None, area.id, area.parent_id)


# --- scope --------------------------------------------------------------------------------------

def notice_scope_clause(user: Any, perm: str = "notice.view") -> Any:
    """Notices the user may see: those of their county or township, a village notice of their
    villages, and a township notice of a township holding one of their villages (a village
    clerk sees the list posted on the board in their township)."""
    scope = permissions.scope_for(user, permissions.PERMISSIONS[perm])
    parts = []
    if scope.counties:
        parts.append(Notice.county_id.in_(sorted(scope.counties)))
    if scope.townships:
        parts.append(Notice.township_id.in_(sorted(scope.townships)))
    if scope.villages:
        parts.append(Notice.village_id.in_(sorted(scope.villages)))
        parents = select(Area.parent_id).where(Area.id.in_(sorted(scope.villages)))
        parts.append(and_(Notice.village_id.is_(None), Notice.township_id.in_(parents)))
    return or_(*parts) if parts else false()


def notice_visible(user: Any, notice: Notice, perm: str = "notice.view") -> bool:
    return db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.id == notice.id, notice_scope_clause(user, perm))) == 1


def manageable_townships(user: Any) -> list[Area]:
    """Townships the user may publish notices for."""
    scope = permissions.scope_for(user, permissions.PERMISSIONS["notice.manage"])
    conditions = []
    if scope.counties:
        conditions.append(Area.parent_id.in_(sorted(scope.counties)))
    if scope.townships:
        conditions.append(Area.id.in_(sorted(scope.townships)))
    if not conditions:
        return []
    return list(db.session.scalars(select(Area).where(Area.level == "township",
                                                       or_(*conditions)).order_by(Area.code)))
