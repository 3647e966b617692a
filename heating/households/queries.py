"""Read-side queries for households: the scoped list with filters, counts per state, 'my work'."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.ids import InvalidValue, canonical_id_number, normalize
from heating.core.lookup import keyed_hash
from heating.core.masking import mask_id
from heating.core.numbers import MAX_YEAR, MIN_YEAR, whole_number_or
from heating.core.pagination import Page, keyset_page, prefix_range
from heating.extensions import db
from heating.households.forms import SearchForm
from heating.households.lifecycle import DONE_STATES, OVERDUE, STAGES, STATES
from heating.households.models import CaseEvent, Household, HouseholdCount


@dataclass
class Filters:
    """The household list's filters.  The list and the ledger export both read them with
    ``from_form`` / ``from_args``, so an export holds exactly the rows the list shows."""

    q: str = ""
    township: int = 0
    village: int = 0
    state: str = ""
    conversion_type: str = ""
    year: int | None = None
    #: "oldest": oldest case first (a reviewer's queue, longest waiting first); "" newest first
    order: str = ""
    #: the dashboard's links: a stage of ``lifecycle.STAGES``; only the cases that count as
    #: done; overdue work of a kind of ``lifecycle.OVERDUE`` waiting more than ``days`` days
    stage: str = ""
    done: bool = False
    overdue: str = ""
    days: int = 0

    @classmethod
    def from_form(cls, form: SearchForm) -> Filters:
        """From the list's search form: a bad number (not one, out of range) reads as "no
        filter", an unknown state is ignored (the list says so: web.ignore_bad_filters)."""
        state = form.state.data or ""
        return cls(q=form.q.data or "", township=whole_number_or(form.township.data, 0),
                   village=whole_number_or(form.village.data, 0),
                   state=state if state in STATES else "",
                   conversion_type=form.conversion_type.data or "",
                   year=whole_number_or(form.year.data, None, MIN_YEAR, MAX_YEAR),
                   order=OLDEST_FIRST if form.order.data == OLDEST_FIRST else "",
                   stage=stage if (stage := form.stage.data or "") in STAGES else "",
                   done=form.done.data == "1",
                   overdue=kind if (kind := form.overdue.data or "") in OVERDUE else "",
                   days=whole_number_or(form.days.data, 0, 1, 3650))

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Filters:
        """From a query string (or a posted form) with the list's parameter names."""
        return cls.from_form(SearchForm(args))


OLDEST_FIRST = "oldest"


def overdue_cutoff(days: int, today: date | None = None) -> datetime:
    """Work waits "more than ``days`` days" when its clock started before the start (Beijing
    midnight) of the day ``days`` days before today: a whole day's grain, so the dashboard's
    number and the list behind its link agree all day long."""
    day = (today or local_today()) - timedelta(days=days)
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(timezone.utc)


def case_in_scope(user: Any, case_id: int) -> Household:
    """The case, or 404 when it does not exist or lies outside all of the user's scopes:
    ``permissions.get_in_scope`` for a case (the name older callers and tests use)."""
    return permissions.get_in_scope(Household, case_id, user)


def _search_clause(q: str) -> Any:
    """Name prefix, exact ID number (by keyed hash), phone, or house number."""
    text = normalize(q)
    try:
        return Household.id_hash == keyed_hash("id", canonical_id_number(text))
    except InvalidValue:
        pass
    if text.isdigit() and len(text) >= 3:
        if len(text) == 11:
            return Household.phone == text
        return prefix_range(Household.phone, text) | (Household.house_no == text)
    return prefix_range(Household.head_name, q.strip()) | (Household.house_no == q.strip())


def conditions(user: Any, f: Filters, *, with_state: bool = True) -> list[Any]:
    # with a search, the search predicate is the selective one: keep the scope off the index
    found = [permissions.scope_clause(Household, user, indexed=not f.q)]
    if f.q:
        found.append(_search_clause(f.q))
    if f.township:
        found.append(Household.township_id == f.township)
    if f.village:
        found.append(Household.village_id == f.village)
    if with_state and f.state:
        found.append(Household.state == f.state)
    if f.stage:
        found.append(Household.state.in_(STAGES[f.stage][0]))
    if f.done:
        found.append(Household.state.in_(DONE_STATES))
    if f.overdue:
        states, column, default_days = OVERDUE[f.overdue]
        found.append(Household.state.in_(states))
        found.append(getattr(Household, column) < overdue_cutoff(f.days or default_days))
    if f.conversion_type:
        found.append(Household.conversion_type == f.conversion_type)
    if f.year:
        found.append(Household.programme_year == f.year)
    return found


def filtered(user: Any, f: Filters, *, with_state: bool = True) -> Any:
    return select(Household).where(*conditions(user, f, with_state=with_state))


_village = aliased(Area, name="village")
_township = aliased(Area, name="township")


def page(user: Any, f: Filters, after: int | None, size: int) -> Page:
    """One page of the list as plain rows: just the columns the table shows, with the area
    names joined in (a 50-row page of full ORM objects costs several times more, TECH-NOTES).
    ``id_number`` goes through the model's column accessor, like every read of it."""
    query = (select(Household.id, Household.head_name, Household._id_number.label("id_raw"),
                    Household.village_id, Household.township_id, Household.county_id,
                    Household.group_name, Household.house_no, Household.conversion_type,
                    Household.programme_year, Household.state,
                    _village.name.label("village_name"), _township.name.label("township_name"))
             .join(_village, _village.id == Household.village_id)
             .join(_township, _township.id == Household.township_id)
             .where(*conditions(user, f)))
    result = keyset_page(query, Household.id, after, size, entities=False,
                         oldest_first=f.order == OLDEST_FIRST)
    full = permissions.scope_for(user, permissions.PERMISSIONS["household.full_id"])
    result.items = [ListRow(row, Household.id_number_from_column(row.id_raw), full)
                    for row in result.items]
    return result


class ListRow:
    """A list row: the selected columns plus the ID number as this user may see it."""

    __slots__ = ("row", "id_display")

    def __init__(self, row: Any, id_number: str, full: permissions.Scope) -> None:
        self.row = row
        self.id_display = (id_number if full.covers(row.village_id, row.township_id,
                                                     row.county_id) else mask_id(id_number))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def counts_by_state(user: Any, f: Filters) -> dict[str, int]:
    """Cases per state for the list's filters (state itself left out).

    Without a search the answer comes from ``household_counts`` (kept by triggers): a few
    hundred rows instead of counting the county's cases on every page.
    """
    if f.q or f.overdue:
        base = filtered(user, f, with_state=False).with_only_columns(
            Household.state, func.count()).group_by(Household.state)
        return {state: n for state, n in db.session.execute(base).all()}
    query = (select(HouseholdCount.state, func.sum(HouseholdCount.n))
             .where(permissions.scope_clause(HouseholdCount, user))
             .group_by(HouseholdCount.state))
    if f.township:
        query = query.where(HouseholdCount.township_id == f.township)
    if f.village:
        query = query.where(HouseholdCount.village_id == f.village)
    if f.conversion_type:
        query = query.where(HouseholdCount.conversion_type == f.conversion_type)
    if f.year:
        query = query.where(HouseholdCount.programme_year == f.year)
    if f.stage:
        query = query.where(HouseholdCount.state.in_(STAGES[f.stage][0]))
    if f.done:
        query = query.where(HouseholdCount.state.in_(DONE_STATES))
    return {state: int(n) for state, n in db.session.execute(query).all() if n}


def frozen_total(user: Any, f: Filters) -> int:
    """The frozen equipment subsidy (fen) of the cases the filters list, from the counters
    (the list shows it beside a dashboard link's stage, so the dashboard's money is checkable
    case by case)."""
    query = (select(func.coalesce(func.sum(HouseholdCount.fen), 0))
             .where(permissions.scope_clause(HouseholdCount, user)))
    for column, value in ((HouseholdCount.township_id, f.township),
                          (HouseholdCount.village_id, f.village),
                          (HouseholdCount.conversion_type, f.conversion_type),
                          (HouseholdCount.programme_year, f.year),
                          (HouseholdCount.state, f.state)):
        if value:
            query = query.where(column == value)
    if f.stage:
        query = query.where(HouseholdCount.state.in_(STAGES[f.stage][0]))
    if f.done:
        query = query.where(HouseholdCount.state.in_(DONE_STATES))
    return int(db.session.scalar(query) or 0)


def visible_townships(user: Any) -> list[Area]:
    """Townships the user may filter by (those that hold at least part of their scope)."""
    scope = permissions.scope_for(user, permissions.PERMISSIONS["household.view"])
    query = select(Area).where(Area.level == "township")
    conditions = []
    if scope.counties:
        conditions.append(Area.parent_id.in_(scope.counties))
    if scope.townships:
        conditions.append(Area.id.in_(scope.townships))
    if scope.villages:
        conditions.append(Area.id.in_(select(Area.parent_id).where(Area.id.in_(scope.villages))))
    if not conditions:
        return []
    return list(db.session.scalars(query.where(or_(*conditions)).order_by(Area.code)))


def visible_villages(user: Any, township_id: int | None = None,
                     roles: frozenset[str] | None = None) -> list[Area]:
    """Villages in the user's scope for ``roles`` (default: who may view cases)."""
    scope = permissions.scope_for(user, roles or permissions.PERMISSIONS["household.view"])
    township = Area.__table__.alias("t")
    query = (select(Area).join(township, Area.parent_id == township.c.id)
             .where(Area.level == "village"))
    conditions = []
    if scope.counties:
        conditions.append(township.c.parent_id.in_(scope.counties))
    if scope.townships:
        conditions.append(Area.parent_id.in_(scope.townships))
    if scope.villages:
        conditions.append(Area.id.in_(scope.villages))
    if not conditions:
        return []
    query = query.where(or_(*conditions))
    if township_id:
        query = query.where(Area.parent_id == township_id)
    return list(db.session.scalars(query.order_by(Area.code)))


def village_filter_options(user: Any, township_id: int) -> list[Area]:
    """Villages for the list's filter: those of the chosen township, or — for users whose
    scope is a few villages only — their own; a county user picks a township first."""
    scope = permissions.scope_for(user, permissions.PERMISSIONS["household.view"])
    if township_id or not (scope.counties or scope.townships):
        return visible_villages(user, township_id or None)
    return []


@dataclass
class WorkList:
    """One list of the home page: the first cases, how many there are in all, and the
    household list's filters that show every one of them."""

    cases: list[Household]
    total: int
    args: dict[str, Any]
    #: latest return reason per case id (the clerk's "returned to me" list)
    reasons: dict[int, str] = field(default_factory=dict)


def my_work(user: Any, limit: int = 50) -> dict[str, WorkList]:
    """The home page lists: what waits for this user's hands.  The reviewer's queue comes
    oldest first (the longest waiting is reviewed first), like the full list it links to."""
    held = permissions.roles(user)
    work: dict[str, WorkList] = {}

    def cases(role: str, state: str, oldest_first: bool = False) -> WorkList:
        clause = permissions.scope_clause(Household, user, _perm_for(role))
        query = (select(Household).where(clause).where(Household.state == state)
                 .order_by(Household.id.asc() if oldest_first else Household.id.desc())
                 .limit(limit))
        found = list(db.session.scalars(query))
        total = len(found) if len(found) < limit else _count(user, role, state)
        args = {"state": state, **_single_township(user, role)}
        if oldest_first:
            args["order"] = OLDEST_FIRST
        return WorkList(found, total, args)

    if "clerk" in held:
        work["returned"] = cases("clerk", "returned")
        work["returned"].reasons = return_reasons([c.id for c in work["returned"].cases])
        work["draft"] = cases("clerk", "draft")
    if "reviewer" in held:
        work["submitted"] = cases("reviewer", "submitted", oldest_first=True)
    return work


def _count(user: Any, role: str, state: str) -> int:
    """Cases in ``state`` within the role's scope, from the per-village counts (triggers)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(HouseholdCount.n), 0))
        .where(permissions.scope_clause(HouseholdCount, user, _perm_for(role)))
        .where(HouseholdCount.state == state)) or 0)


def _single_township(user: Any, role: str) -> dict[str, int]:
    """The township filter that makes the household list (read with ``household.view``)
    show exactly the role's cases, when the role covers one township and nothing else."""
    scope = permissions.scope_for(user, permissions.PERMISSIONS[_perm_for(role)])
    if len(scope.townships) == 1 and not scope.counties and not scope.villages:
        return {"township": next(iter(scope.townships))}
    return {}


def return_reasons(case_ids: list[int]) -> dict[int, str]:
    """The reason of each case's latest return to the village (case id → reason)."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(CaseEvent.household_id, CaseEvent.reason)
        .where(CaseEvent.household_id.in_(case_ids), CaseEvent.to_state == "returned")
        .order_by(CaseEvent.id))
    return {household_id: reason or "" for household_id, reason in rows}


def latest_return(hh: Household) -> CaseEvent | None:
    """The move that returned the case to the village most recently (None if never)."""
    return db.session.scalar(
        select(CaseEvent).where(CaseEvent.household_id == hh.id,
                                CaseEvent.to_state == "returned")
        .order_by(CaseEvent.id.desc()).limit(1))


def _perm_for(role: str) -> str:
    return {"clerk": "household.edit", "reviewer": "household.correct"}[role]
