"""Who inspects which installed case, and when; the worklists built from that."""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.audit.services import record
from heating.auth import permissions
from heating.auth.models import RoleGrant, User
from heating.core.db import now_utc
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.households.queries import visible_villages
from heating.households.services import CaseError
from heating.inspections import services
from heating.inspections.models import Assignment

# --- assignment and worklists --------------------------------------------------------------

def assignment_of(hh: Household) -> Assignment | None:
    return db.session.scalar(select(Assignment).where(Assignment.household_id == hh.id))


def inspectors_for(hh: Household) -> list[User]:
    """Active users holding the inspector role over the case's township (or county), less
    those the separation-of-duties guard would refuse on site (see ``refused_on_site``)."""
    query = (select(User).join(RoleGrant, RoleGrant.user_id == User.id)
             .where(RoleGrant.role == "inspector", User.active.is_(True),
                    RoleGrant.area_id.in_((hh.township_id, hh.county_id)))
             .distinct().order_by(User.display_name, User.id))
    candidates = list(db.session.scalars(query))
    refused = refused_on_site(hh, candidates)
    return [u for u in candidates if u.id not in refused]


def refused_on_site(hh: Household, users: list[User]) -> set[int]:
    """Ids of ``users`` who registered or approved the case or recorded its installation:
    the pass guard itself (lifecycle.separation_of_duties) asked about each of them."""
    if not users:
        return set()
    context = services.guard_context(hh, None)
    return {u.id for u in users if lifecycle.separation_of_duties(
        hh, dataclasses.replace(context, actor_id=u.id))}


def assign(hh: Household, inspector: User | None, visit_date: date, actor: Any,
           today: date) -> Assignment:
    if not permissions.can(actor, "inspection.assign", hh):
        raise CaseError(_l("Only the township reviewer or county staff assign inspections."))
    if not lifecycle.allowed("assign_inspector", hh):
        raise CaseError(_l("Only installed cases waiting for inspection can be assigned."))
    performs = permissions.PERMISSIONS["inspection.perform"]
    if inspector is None or not permissions.roles_over(inspector, hh) & performs \
            or not inspector.active:
        raise CaseError(_l("Choose an inspector of this township."), "inspector_id")
    if refused_on_site(hh, [inspector]):
        raise CaseError(_l("%(name)s registered or approved this case or recorded its "
                           "installation, so cannot pass its inspection: choose another "
                           "inspector.", name=inspector.display_name), "inspector_id")
    if visit_date < today:
        raise CaseError(_l("The visit date cannot be in the past."), "visit_date")
    current = assignment_of(hh)
    before = None
    if current is None:
        current = Assignment(household_id=hh.id)
        db.session.add(current)
    else:
        before = {"inspector": current.inspector_id, "visit_date": str(current.visit_date)}
    current.inspector_id = inspector.id
    current.visit_date = visit_date
    current.assigned_by_id = actor.id
    current.assigned_at = now_utc()
    db.session.flush()
    record("inspection.assigned", "household", hh.id, actor=actor,
           summary=f"{inspector.display_name} {visit_date}", before=before,
           after={"inspector": inspector.id, "visit_date": str(visit_date)})
    return current


@dataclasses.dataclass
class Worklist:
    due: list[tuple[Household, Assignment]]
    later: list[tuple[Household, Assignment | None]]
    unassigned: list[Household]


def worklist(user: Any, today: date, village_id: int = 0, limit: int = 200) -> Worklist:
    """An inspector's visits (today's and overdue, then later ones); for reviewers and county
    staff, the installed cases in their area still to be assigned, and those assigned."""
    base = (select(Household, Assignment)
            .outerjoin(Assignment, Assignment.household_id == Household.id)
            .where(Household.state.in_(lifecycle.states_for("assign_inspector"))))
    if village_id:
        base = base.where(Household.village_id == village_id)
    order = (Assignment.visit_date, Household.village_id, Household.house_no, Household.id)
    result = Worklist([], [], [])
    if permissions.can(user, "inspection.perform"):
        mine = base.where(permissions.scope_clause(Household, user, "inspection.perform"),
                          Assignment.inspector_id == user.id).order_by(*order).limit(limit)
        for hh, a in db.session.execute(mine).all():
            (result.due if a.visit_date <= today else result.later).append((hh, a))
    if permissions.can(user, "inspection.assign"):
        scoped = base.where(permissions.scope_clause(Household, user, "inspection.assign"))
        unassigned = (scoped.where(Assignment.id.is_(None)).with_only_columns(Household)
                      .order_by(Household.village_id, Household.id).limit(limit))
        result.unassigned.extend(db.session.scalars(unassigned))
        if not permissions.can(user, "inspection.perform"):
            assigned = scoped.where(Assignment.id.is_not(None)).order_by(*order).limit(limit)
            for hh, a in db.session.execute(assigned).all():
                (result.due if a.visit_date <= today else result.later).append((hh, a))
    return result


def worklist_villages(user: Any) -> list[Any]:
    """Villages the worklist may be filtered by (those in the user's inspection scope)."""
    roles = permissions.PERMISSIONS["inspection.perform"] | permissions.PERMISSIONS[
        "inspection.assign"]
    return [v for v in visible_villages(user, roles=frozenset(roles)) if not v.retired]
