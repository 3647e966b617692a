"""The monthly ranking report (月度通报): a county's townships ranked by the share of their
target done as of the end of a month, computed only from facts recorded with the time they
were recorded, so that November's figures are the same in January whatever happened since:

- a case's state at the cut-off is the ``to_state`` of its latest case event before it;
  *done* = that state is one of ``lifecycle.DONE_STATES``;
- overdue: the state at the cut-off, entered (the event's time) before the threshold's day
  — for "confirmed but unpaid", the latest confirmation before the cut-off;
- money paid: equipment payments marked paid by a bank result file imported before the
  cut-off (the time of the import, never the bank's value date);
- targets: the row in force on the month's last day (``areas.services.targets_on``).

Ranking: share of target done (high first); ties by the share of target paid (households
in state ``paid``), then by fewer overdue cases, then by the township's code.  The county's
monthly line, the month and the month before come from one pass over the events, adding up
each event's move into or out of the done states before each month's end.  Thresholds are today's settings (they keep no history); the report says
which it used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy import case as sql_case

from heating.areas.models import Area
from heating.areas.services import targets_on
from heating.core.i18n import LOCAL_TZ
from heating.extensions import db
from heating.households.lifecycle import DONE_STATES, OVERDUE
from heating.households.models import CaseEvent, Household
from heating.households.queries import overdue_cutoff
from heating.payouts.models import BankResultImport, Payment
from heating.reports import settings

RANKING_METHOD = ("排名方法：按目标完成率（截至月末验收合格且合格证有效的户数 ÷ 月末有效的任务数）"
                  "由高到低排序；完成率相同的，按发放率（截至月末已发放户数 ÷ 任务数）由高到低；"
                  "仍相同的，按超期事项总数由少到多。未下达任务的乡镇排在最后。")


def month_start(month: date) -> date:
    return date(month.year, month.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end_day(month: date) -> date:
    """The month's last day (Beijing date)."""
    return next_month(month) - timedelta(days=1)


def cutoff_of(day: date) -> datetime:
    """The end of ``day`` in Beijing (its following midnight), in UTC: facts recorded before
    it count."""
    return datetime.combine(day + timedelta(days=1), time(), LOCAL_TZ).astimezone(timezone.utc)


@dataclass
class TownshipFigures:
    area_id: int
    name: str
    code: str
    target: int | None = None
    done: int = 0
    paid_households: int = 0
    paid_fen: int = 0
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OVERDUE, 0))
    #: as of the previous month's end
    done_before: int = 0
    target_before: int | None = None
    rank: int = 0

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())

    @property
    def percent(self) -> float | None:
        return 100.0 * self.done / self.target if self.target else None

    @property
    def percent_before(self) -> float | None:
        return 100.0 * self.done_before / self.target_before if self.target_before else None

    @property
    def paid_percent(self) -> float | None:
        return 100.0 * self.paid_households / self.target if self.target else None

    @property
    def change(self) -> int:
        return self.done - self.done_before

    @property
    def percent_change(self) -> float | None:
        if self.percent is None or self.percent_before is None:
            return None
        return self.percent - self.percent_before


@dataclass
class MonthlyFigures:
    county_id: int
    county: str
    programme_year: int
    month: date
    as_of: date
    townships: list[TownshipFigures]
    total: TownshipFigures
    line: list[tuple[date, int]]
    starts_on: date
    deadline: date
    thresholds: dict[str, int]

    @property
    def bottom(self) -> list[TownshipFigures]:
        ranked = [t for t in self.townships if t.target]
        return ranked[-3:] if len(ranked) > 3 else []


def _in(column: Any, states: tuple[str, ...]) -> Any:
    return sql_case((column.in_(states), 1), else_=0)


def done_and_paid(county_id: int, year: int, days: list[date]
                  ) -> list[dict[int, tuple[int, int]]]:
    """Per day: township id → (cases done, cases paid) at the day's end.  One pass over the
    events: each moves its case into (+1) or out of (−1) the done states (and ``paid``), and a
    case's count at a cut-off is the sum of its moves before it."""
    cutoffs = [cutoff_of(d) for d in days]
    done_move = _in(CaseEvent.to_state, DONE_STATES) - _in(CaseEvent.from_state, DONE_STATES)
    paid_move = _in(CaseEvent.to_state, ("paid",)) - _in(CaseEvent.from_state, ("paid",))
    columns = []
    for c in cutoffs:
        columns += [func.sum(sql_case((CaseEvent.at < c, done_move), else_=0)),
                    func.sum(sql_case((CaseEvent.at < c, paid_move), else_=0))]
    rows = db.session.execute(
        select(Household.township_id, *columns)
        .join(Household, Household.id == CaseEvent.household_id)
        .where(Household.county_id == county_id, Household.programme_year == year,
               CaseEvent.at < max(cutoffs),
               or_(CaseEvent.to_state.in_(DONE_STATES), CaseEvent.from_state.in_(DONE_STATES)))
        .group_by(Household.township_id)).all()
    out: list[dict[int, tuple[int, int]]] = [{} for _ in days]
    for township_id, *values in rows:
        for i in range(len(days)):
            out[i][township_id] = (int(values[2 * i] or 0), int(values[2 * i + 1] or 0))
    return out


def overdue_as_of(county_id: int, year: int, day: date, limits: dict[str, int]
                  ) -> dict[int, dict[str, int]]:
    """Township id → overdue cases by kind at the end of ``day``: each case's latest event
    before the cut-off gives its state and when it entered it, and its latest confirmation
    before the cut-off starts the 拖欠 clock (one window query)."""
    cutoff = cutoff_of(day)
    latest = (select(CaseEvent.household_id, CaseEvent.to_state, CaseEvent.at,
                     func.row_number().over(partition_by=CaseEvent.household_id,
                                            order_by=(CaseEvent.at.desc(), CaseEvent.id.desc()))
                     .label("rn"),
                     func.max(sql_case((CaseEvent.action == "confirm", CaseEvent.at)))
                     .over(partition_by=CaseEvent.household_id).label("confirmed"))
              .join(Household, Household.id == CaseEvent.household_id)
              .where(Household.county_id == county_id, Household.programme_year == year,
                     CaseEvent.at < cutoff)
              .subquery())
    columns = []
    for kind, (states, clock, _) in OVERDUE.items():
        since = latest.c.at if clock == "state_since" else latest.c.confirmed
        columns.append(func.sum(sql_case(
            (and_(latest.c.to_state.in_(states),
                  since < overdue_cutoff(limits[kind], day)), 1), else_=0)))
    out: dict[int, dict[str, int]] = {}
    for township_id, *values in db.session.execute(
            select(Household.township_id, *columns)
            .join(Household, Household.id == latest.c.household_id)
            .where(latest.c.rn == 1).group_by(Household.township_id)):
        out[township_id] = {kind: int(v or 0) for kind, v in zip(OVERDUE, values)}
    return out


def paid_fen_as_of(county_id: int, year: int, day: date) -> dict[int, int]:
    """Township id → equipment subsidy paid by bank results imported before the day's end.
    Walks the paid payments (the case's county and year as a correlated EXISTS, its township
    as a scalar subquery): a join would let SQLite walk the county's cases first."""
    township = (select(Household.township_id).where(Household.id == Payment.household_id)
                .scalar_subquery())
    return {t: int(fen) for t, fen in db.session.execute(
        select(township, func.sum(Payment.amount_fen))
        .join(BankResultImport, BankResultImport.id == Payment.result_import_id)
        .where(Payment.kind == "equipment", Payment.status == "paid",
               BankResultImport.imported_at < cutoff_of(day),
               exists().where(Household.id == Payment.household_id,
                              Household.county_id == county_id,
                              Household.programme_year == year))
        .group_by(township))}


def month_ends(starts_on: date, last_day: date) -> list[date]:
    """The last day of each month from ``starts_on``'s month to ``last_day``'s (that day for
    the last)."""
    ends: list[date] = []
    month = month_start(starts_on)
    while month <= last_day:
        ends.append(min(month_end_day(month), last_day))
        month = next_month(month)
    return ends


def rank(rows: list[TownshipFigures]) -> list[TownshipFigures]:
    """The ranking (see the module docstring), numbering ``rank`` from 1."""
    ranked = sorted(rows, key=lambda r: (
        not r.target, -(r.percent or 0.0), -(r.paid_percent or 0.0), r.overdue_total, r.code))
    for n, row in enumerate(ranked, start=1):
        row.rank = n
    return ranked


def build(county: Area, year: int, month: date, today: date) -> MonthlyFigures:
    """The figures of ``month`` (its last day, or ``today`` while the month runs)."""
    month = month_start(month)
    as_of = min(month_end_day(month), today)
    before_day = month - timedelta(days=1)
    townships = list(db.session.scalars(
        select(Area).where(Area.parent_id == county.id, Area.level == "township")
        .order_by(Area.code)))
    rows = {t.id: TownshipFigures(t.id, t.name, t.code) for t in townships}
    limits = settings.thresholds(county.id)
    dates = settings.year_dates(county.id, year)
    # one pass over the events for the month, the month before and the county's line
    line_days = [d for d in month_ends(dates.starts_on, as_of) if d not in (as_of, before_day)]
    now, prev, *points = done_and_paid(county.id, year, [as_of, before_day, *line_days])
    at_day = dict(zip(line_days, points))
    at_day.update({as_of: now, before_day: prev})
    overdue = overdue_as_of(county.id, year, as_of, limits)
    targets = targets_on(year, as_of, [*rows, county.id])
    targets_before = targets_on(year, before_day, [*rows, county.id])
    paid = paid_fen_as_of(county.id, year, as_of)
    for tid, row in rows.items():
        row.done, row.paid_households = now.get(tid, (0, 0))
        row.done_before = prev.get(tid, (0, 0))[0]
        row.overdue = overdue.get(tid, dict.fromkeys(OVERDUE, 0))
        row.target, row.target_before = targets.get(tid), targets_before.get(tid)
        row.paid_fen = paid.get(tid, 0)
    ranked = rank(list(rows.values()))
    total = TownshipFigures(county.id, county.name, county.code)
    for row in ranked:
        total.done += row.done
        total.done_before += row.done_before
        total.paid_households += row.paid_households
        total.paid_fen += row.paid_fen
        for kind, n in row.overdue.items():
            total.overdue[kind] += n
    total.target = targets.get(county.id) or (sum(r.target or 0 for r in ranked) or None)
    total.target_before = (targets_before.get(county.id)
                           or (sum(r.target_before or 0 for r in ranked) or None))
    line = [(d, sum(n for n, _ in at_day[d].values()))
            for d in month_ends(dates.starts_on, as_of)]
    return MonthlyFigures(county.id, county.name, year, month, as_of, ranked, total, line,
                          dates.starts_on, dates.deadline, limits)
