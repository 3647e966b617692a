"""The county's programme settings, read by the dashboard and the monthly report and changed
by a county user (audited): a programme year's start date and deadline, and the overdue
thresholds.  Services flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.numbers import MAX_YEAR, MIN_YEAR
from heating.core.refusals import Forbidden, Refusal
from heating.extensions import db
from heating.households.lifecycle import OVERDUE
from heating.reports.models import (
    MAX_THRESHOLD_DAYS,
    THRESHOLD_COLUMNS,
    ProgrammeYear,
    ReportSettings,
)

#: without a setting, a programme year runs from 1 January to the start of the heating season
#: (15 November: the installations must be done before the winter)
DEFAULT_START = (1, 1)
DEFAULT_DEADLINE = (11, 15)


@dataclass(frozen=True)
class YearDates:
    programme_year: int
    starts_on: date
    deadline: date
    #: False when no county user has set them (the defaults above)
    set: bool


def year_dates(county_id: int, year: int) -> YearDates:
    row = db.session.scalar(select(ProgrammeYear).where(
        ProgrammeYear.county_id == county_id, ProgrammeYear.programme_year == year))
    if row is None:
        return YearDates(year, date(year, *DEFAULT_START), date(year, *DEFAULT_DEADLINE), False)
    return YearDates(year, row.starts_on, row.deadline, True)


def set_year_dates(county: Any, year: int, starts_on: date | None, deadline: date | None,
                   actor: Any) -> ProgrammeYear:
    """Set the county's start date and deadline of ``year`` (audited)."""
    _require_settings(actor, county)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refusal(_l("Enter a programme year between %(low)d and %(high)d.",
                         low=MIN_YEAR, high=MAX_YEAR), "programme_year")
    if starts_on is None:
        raise Refusal(_l("Enter the start date."), "starts_on")
    if deadline is None:
        raise Refusal(_l("Enter the deadline."), "deadline")
    if deadline <= starts_on:
        raise Refusal(_l("The deadline must be after the start date."), "deadline")
    if abs(starts_on.year - year) > 1 or abs(deadline.year - year) > 1:
        raise Refusal(_l("The dates must lie within a year of the programme year."),
                      "starts_on")
    row = db.session.scalar(select(ProgrammeYear).where(
        ProgrammeYear.county_id == county.id, ProgrammeYear.programme_year == year))
    before = year_dates(county.id, year)
    if row is None:
        row = ProgrammeYear(county_id=county.id, programme_year=year)
        db.session.add(row)
    row.starts_on, row.deadline = starts_on, deadline
    row.updated_by_id, row.updated_at = actor.id, now_utc()
    db.session.flush()
    record("reports.year_dates_set", "area", county.id, actor=actor,
           summary=f"{year}: {starts_on.isoformat()} – {deadline.isoformat()}",
           before={"starts_on": before.starts_on, "deadline": before.deadline,
                   "set": before.set},
           after={"programme_year": year, "starts_on": starts_on, "deadline": deadline})
    return row


def thresholds(county_id: int) -> dict[str, int]:
    """Overdue kind → days after which the work counts as overdue, for the county."""
    row = db.session.get(ReportSettings, county_id)
    if row is None:
        return {kind: days for kind, (_, _, days) in OVERDUE.items()}
    return {kind: getattr(row, column) for column, kind in THRESHOLD_COLUMNS}


def set_thresholds(county: Any, values: Mapping[str, int | None], actor: Any) -> ReportSettings:
    """Set the county's overdue thresholds (every kind, in days; audited)."""
    _require_settings(actor, county)
    for kind in OVERDUE:
        days = values.get(kind)
        if days is None or not 1 <= days <= MAX_THRESHOLD_DAYS:
            raise Refusal(_l("Enter a number of days between 1 and %(n)d.",
                             n=MAX_THRESHOLD_DAYS), kind)
    before = thresholds(county.id)
    row = db.session.get(ReportSettings, county.id)
    if row is None:
        row = ReportSettings(county_id=county.id)
        db.session.add(row)
    for column, kind in THRESHOLD_COLUMNS:
        setattr(row, column, int(values[kind]))  # type: ignore[arg-type]
    row.updated_by_id, row.updated_at = actor.id, now_utc()
    db.session.flush()
    after = thresholds(county.id)
    record("reports.thresholds_set", "area", county.id, actor=actor,
           summary=", ".join(f"{k} {before[k]}→{after[k]}" for k in after
                             if before[k] != after[k]) or "unchanged",
           before=before, after=after)
    return row


def _require_settings(actor: Any, county: Any) -> None:
    counties = permissions.scope_for(actor, permissions.PERMISSIONS["report.settings"]).counties
    if getattr(county, "level", None) != "county" or county.id not in counties:
        raise Forbidden(_l("Only a county user sets the programme's dates and thresholds."))
