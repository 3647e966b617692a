"""Follow-up visits (回头看) to paid cases: recording what was found, the case's current
result and whether its running subsidy has stopped (the campaigns that draw the cases to
visit: ``campaigns.py``).

DOMAIN.md: "paid → follow-up results recorded on the case: ok | rebound | device removed |
house empty; rebound / device removed → running subsidy stops".  The case stays ``paid`` (a
follow-up is not a state move).  Rows are append-only (database triggers, migration 0007);
the case's current result is its latest visit, by (visited_on, id).

The latest visit decides, both ways: a rebound stops the running subsidy, and a later "ok"
visit (the household heats with the device again after the township's rework) resumes it for
the usage imported and paid from then on.  Seasons not paid while it was stopped are not
paid afterwards by this rule: their usage rows were excluded when imported.

Services flush, never commit; every record is audited.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ, local_today
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.households.services import CaseError
from heating.inspections.models import (
    FOLLOW_UP_RESULTS,
    STOPS_RUNNING_SUBSIDY,
    FollowUp,
    Inspection,
)

NOTE_MAX = 2000
#: above this many ids the bulk lookup reads every stopping row and filters in Python: long
#: IN lists are what PostgreSQL plans worst once psycopg prepares the statement
_IN_LIMIT = 1000

#: ``follow_up_recorded.send(visit, case=…, actor=…)`` after a visit is recorded and audited,
#: in its transaction: payouts opens a recovery (追回) of the equipment subsidy on a finding
#: its policy recovers (inspections is below payouts and does not import it)
follow_up_recorded = Namespace().signal("follow-up-recorded")


# --- reading ---------------------------------------------------------------------------------

def follow_ups_of(case: Household) -> list[FollowUp]:
    """The case's visits, the current one first."""
    return list(db.session.scalars(
        select(FollowUp).where(FollowUp.household_id == case.id)
        .order_by(FollowUp.visited_on.desc(), FollowUp.id.desc())))


def current_follow_up(case: Household) -> FollowUp | None:
    return db.session.scalar(
        select(FollowUp).where(FollowUp.household_id == case.id)
        .order_by(FollowUp.visited_on.desc(), FollowUp.id.desc()).limit(1))


def _latest_stopping() -> tuple[Any, Any]:
    """(alias, condition): the alias's row is its household's latest visit and its result
    stops the running subsidy."""
    visit, later = aliased(FollowUp), aliased(FollowUp)
    superseded = exists().where(
        later.household_id == visit.household_id,
        or_(later.visited_on > visit.visited_on,
            and_(later.visited_on == visit.visited_on, later.id > visit.id)))
    return visit, and_(visit.result.in_(STOPS_RUNNING_SUBSIDY), ~superseded)


def stopped_clause(household_id: Any) -> Any:
    """SQL: the household's running subsidy has stopped (for WHERE NOT … in batch queries)."""
    visit, condition = _latest_stopping()
    return exists().where(visit.household_id == household_id, condition)


def stops_running_subsidy(household_id: int) -> bool:
    latest = db.session.scalar(
        select(FollowUp.result).where(FollowUp.household_id == household_id)
        .order_by(FollowUp.visited_on.desc(), FollowUp.id.desc()).limit(1))
    return latest in STOPS_RUNNING_SUBSIDY


def running_subsidy_stopped(household_ids: Iterable[int]) -> set[int]:
    """The households among ``household_ids`` whose running subsidy has stopped (one query)."""
    wanted = set(household_ids)
    if not wanted:
        return set()
    visit, condition = _latest_stopping()
    query = select(visit.household_id).where(condition)
    if len(wanted) <= _IN_LIMIT:
        query = query.where(visit.household_id.in_(sorted(wanted)))
    return set(db.session.scalars(query)) & wanted


def passed_on(case: Household) -> date | None:
    """The (Beijing) date the case's latest passed inspection took place."""
    at = db.session.scalar(
        select(Inspection.inspected_at).where(Inspection.household_id == case.id,
                                              Inspection.result == "pass")
        .order_by(Inspection.inspected_at.desc()).limit(1))
    return at.astimezone(LOCAL_TZ).date() if at else None


# --- recording ---------------------------------------------------------------------------------

def record_follow_up(case: Household, actor: Any, *, result: str, visited_on: date | None,
                     note: str | None) -> FollowUp:
    """Record one visit to a paid case; the case's state does not change."""
    if not permissions.can(actor, "followup.record", case):
        raise CaseError(_l("Only an inspector of this township or county staff record "
                           "follow-up visits."))
    if not lifecycle.allowed("record_follow_up", case):
        raise CaseError(_l("Follow-up visits are recorded for paid cases only."))
    if result not in FOLLOW_UP_RESULTS:
        raise CaseError(_l("Choose what the visit found."), "result")
    note = (note or "").strip() or None
    if result != "ok" and note is None:
        raise CaseError(_l("Describe what was found: a note is required for any result "
                           "other than in use."), "note")
    if note is not None and len(note) > NOTE_MAX:
        raise CaseError(_l("The note is too long (at most %(n)d characters).", n=NOTE_MAX),
                        "note")
    if visited_on is None:
        raise CaseError(_l("Enter the date of the visit."), "visited_on")
    if visited_on > local_today():
        raise CaseError(_l("The visit date cannot be in the future."), "visited_on")
    passed = passed_on(case)
    if passed is not None and visited_on < passed:
        raise CaseError(_l("The visit date is before the inspection passed (%(date)s).",
                           date=passed.isoformat()), "visited_on")
    was_stopped = stops_running_subsidy(case.id)
    visit = FollowUp(household_id=case.id, result=result, visited_on=visited_on,
                     recorded_by_id=actor.id, recorded_at=now_utc(), note=note)
    db.session.add(visit)
    db.session.flush()
    now_stopped = stops_running_subsidy(case.id)  # a back-dated visit may not be the latest
    record("followup.recorded", "household", case.id, actor=actor,
           summary=f"{result} {visited_on.isoformat()} #{visit.id}",
           after={"follow_up": visit.id, "result": result, "visited_on": visited_on,
                  "note": note, "running_subsidy_stopped": now_stopped,
                  "was_stopped": was_stopped})
    follow_up_recorded.send(visit, case=case, actor=actor)
    return visit
