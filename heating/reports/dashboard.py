"""The programme dashboard's figures: progress against target, counts per stage, money and
overdue work, by township (a county user) or by village (a township reviewer, a clerk, or a
county user who opened one township).

Everything comes from kept counters or from indexes, never from a scan of the cases:
``household_counts`` (kept by triggers: cases and their frozen equipment subsidy per village,
year, type and state) gives done, the stages and the money; each kind of overdue work is one
grouped count over the covering index ``ix_households_overdue`` (or ``ix_households_unpaid``),
which reads only the cases waiting in that state; recoveries are a few rows per thousand cases.

Every figure the page shows comes with the household-list filters that list exactly the cases
behind it (``Cell.args``), so a number is always a link to its own households.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from heating.areas.models import Area
from heating.areas.services import targets_on
from heating.auth import permissions
from heating.core.i18n import local_today
from heating.extensions import db
from heating.households import queries
from heating.households.lifecycle import DONE_STATES, OVERDUE, STAGES
from heating.households.models import Household, HouseholdCount
from heating.payouts.recoveries import recovery_totals
from heating.reports import settings

#: the money columns: (key, the stage whose cases hold it)
MONEY = (("confirmed", "confirmed"), ("rostered", "rostered"), ("paid", "paid"),
         ("failed", "failed"))
_STATE_STAGE = {state: stage for stage, (states, _) in STAGES.items() for state in states}


@dataclass
class Row:
    """One area's figures (or the total row, ``area`` None)."""

    area_id: int | None
    name: str
    code: str = ""
    target: int | None = None
    done: int = 0
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    #: frozen equipment subsidy in fen per MONEY key
    money: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in MONEY})
    recovered: int = 0
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OVERDUE, 0))

    @property
    def percent(self) -> float | None:
        """Done as a percentage of the target (None without a target)."""
        if not self.target:
            return None
        return 100.0 * self.done / self.target

    @property
    def net(self) -> int:
        """Paid less recovered, in fen."""
        return self.money["paid"] - self.recovered


@dataclass
class Dashboard:
    programme_year: int
    years: list[int]
    #: "township": one row per township; "village": one row per village
    level: str
    rows: list[Row]
    total: Row
    thresholds: dict[str, int]
    dates: settings.YearDates | None
    county_id: int | None
    #: the township a county user opened (its villages are the rows)
    township: Area | None = None
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    def args(self, row: Row, **extra: Any) -> dict[str, Any]:
        """The household list's query arguments for ``row``'s cases with ``extra`` filters."""
        found: dict[str, Any] = {"year": self.programme_year}
        if row.area_id is not None:
            found["village" if self.level == "village" else "township"] = row.area_id
            if self.level == "village":
                found["township"] = self.township.id if self.township else None
        elif self.township is not None:
            found["township"] = self.township.id
        found.update(extra)
        return {k: v for k, v in found.items() if v not in (None, "", 0)}

    def overdue_args(self, row: Row, kind: str) -> dict[str, Any]:
        return self.args(row, overdue=kind, days=self.thresholds[kind])


def years_for(user: Any) -> list[int]:
    """Programme years with cases in the user's scope, newest first (this year at least)."""
    found = db.session.scalars(
        select(HouseholdCount.programme_year)
        .where(permissions.scope_clause(HouseholdCount, user), HouseholdCount.n > 0)
        .group_by(HouseholdCount.programme_year)).all()
    return sorted(set(found) | {local_today().year}, reverse=True)


def county_of(user: Any) -> int | None:
    scope = permissions.scope_for(user, permissions.PERMISSIONS["household.view"])
    if scope.counties:
        return min(scope.counties)
    area_id = min(scope.townships or scope.villages or {0}) or None
    area = db.session.get(Area, area_id) if area_id else None
    while area is not None and area.level != "county":
        area = area.parent
    return area.id if area is not None else None


def build(user: Any, programme_year: int, township_id: int = 0,
          today: date | None = None) -> Dashboard:
    """The dashboard of ``user`` for ``programme_year``; ``township_id``: a county user's
    drill-down into one township (ignored when outside the user's townships)."""
    today = today or local_today()
    scope = permissions.scope_for(user, permissions.PERMISSIONS["household.view"])
    townships = queries.visible_townships(user)
    township = next((t for t in townships if t.id == township_id), None)
    if scope.counties and township is None:
        level, areas = "township", townships
    else:
        level = "village"
        areas = queries.visible_villages(user, township.id if township else None)
        if township is None and len(townships) == 1 and scope.townships:
            township = townships[0]
    county_id = county_of(user)
    rows = {a.id: Row(a.id, a.name, a.code) for a in areas}
    area_col = HouseholdCount.village_id if level == "village" else HouseholdCount.township_id
    where = [permissions.scope_clause(HouseholdCount, user),
             HouseholdCount.programme_year == programme_year]
    if township is not None:
        where.append(HouseholdCount.township_id == township.id)
    counts = db.session.execute(
        select(area_col, HouseholdCount.state, func.sum(HouseholdCount.n),
               func.sum(HouseholdCount.fen))
        .where(*where).group_by(area_col, HouseholdCount.state))
    for area_id, state, n, fen in counts:
        row = rows.get(area_id)
        if row is None or state not in _STATE_STAGE:
            continue
        n, fen = int(n or 0), int(fen or 0)
        stage = _STATE_STAGE[state]
        row.stages[stage] += n
        if state in DONE_STATES:
            row.done += n
        for key, money_stage in MONEY:
            if stage == money_stage:
                row.money[key] += fen
    limits = settings.thresholds(county_id) if county_id else {
        kind: days for kind, (_, _, days) in OVERDUE.items()}
    hh_area = Household.village_id if level == "village" else Household.township_id
    for kind, (states, column, _) in OVERDUE.items():
        clock = getattr(Household, column)
        query = (select(hh_area, func.count())
                 .where(Household.state.in_(states),
                        clock < queries.overdue_cutoff(limits[kind], today),
                        Household.programme_year == programme_year,
                        permissions.scope_clause(Household, user))
                 .group_by(hh_area))
        if township is not None:
            query = query.where(Household.township_id == township.id)
        for area_id, n in db.session.execute(query):
            if area_id in rows:
                rows[area_id].overdue[kind] = int(n)
    recovered = recovery_totals(user, programme_year, by_village=level == "village")
    for area_id, figures in recovered["villages" if level == "village" else "townships"].items():
        if area_id in rows:
            rows[area_id].recovered = figures["recovered_fen"]
    in_force = targets_on(programme_year, today, list(rows) + ([county_id] if county_id else [])
                          + ([township.id] if township else []))
    for row in rows.values():
        row.target = in_force.get(row.area_id)  # type: ignore[arg-type]
    total = _total(list(rows.values()))
    if level == "township" and county_id in in_force:
        total.target = in_force[county_id]  # type: ignore[index]
    elif township is not None and township.id in in_force:
        total.target = in_force[township.id]
    return Dashboard(programme_year, years_for(user), level, list(rows.values()), total, limits,
                     settings.year_dates(county_id, programme_year) if county_id else None,
                     county_id, township)


def _total(rows: list[Row]) -> Row:
    total = Row(None, "")
    targets = [r.target for r in rows if r.target is not None]
    total.target = sum(targets) if targets else None
    for row in rows:
        total.done += row.done
        total.recovered += row.recovered
        for d_total, d_row in ((total.stages, row.stages), (total.money, row.money),
                               (total.overdue, row.overdue)):
            for key, value in d_row.items():
                d_total[key] += value
    return total
