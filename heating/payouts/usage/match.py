"""Reading a season's usage file and deciding every row's fate (no writes).

Used by ``heating.payouts.usage`` (upload → preview → confirm).  The power company (electricity meter no., kWh) or the gas company (gas account no., m³) sends
one file per heating season.  ``upload`` reads it, matches every row to a case of the finance
user's county by the meter number recorded on its installation, computes the season's running
subsidy with the case's policy, and keeps the file and its preview under STORAGE_DIR/usage/
(no database row until the confirmation).  ``confirm`` reads the kept file again and, when
nothing changed since the preview, writes one UsageImport and its UsageRecords (bulk insert)
in the caller's transaction.  Paying them is the payout batches' job (kind "running").

Once only: the same file (SHA-256) is imported once, and a household has at most one record
per season (unique in the database too).  Services flush, never commit.
"""
from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.areas.models import Area
from heating.core.i18n import LOCAL_TZ
from heating.core.masking import mask_name
from heating.core.spreadsheet_read import (
    SpreadsheetError,
    cell_text,
    find_header,
    header_key,
    lost_precision,
    read_book,
)
from heating.extensions import db
from heating.households.lifecycle import INACTIVE_STATES
from heating.households.models import Household
from heating.inspections.followups import running_subsidy_stopped
from heating.inspections.models import Inspection, Installation
from heating.inspections.services import canonical_code
from heating.payouts.models import UsageRecord
from heating.subsidies import seasons
from heating.subsidies import services as subsidies
from heating.subsidies.calculator import Amount

#: the usage column is stored in hundredths in a 32-bit integer: anything near that is a typo
MAX_USAGE = Decimal("999999.99")
#: the conversion type whose cases each utility's file is matched against
CONVERSION_OF = {"power": "electric", "gas": "gas"}
UNIT_OF = {"power": "kWh", "gas": "m³"}
LOW_SETTING = {"power": "USAGE_LOW_KWH", "gas": "USAGE_LOW_M3"}

#: header spellings (compared with ``header_key``: NFKC, no spaces, lower case)
_HEADERS = {
    "meter_power": ("电表号", "电表编号", "电表户号", "电能表号", "用电户号", "meter no", "meter"),
    "meter_gas": ("燃气户号", "燃气用户号", "燃气账号", "用气户号", "燃气表号", "gas account no",
                  "gas account"),
    "meter": ("表号", "户号", "用户号", "用户编号"),
    "usage": ("用量", "本季用量", "用电量", "用气量", "用量(kwh)", "用电量(kwh)", "用量(m³)",
              "用气量(m³)", "用量(立方米)", "用气量(立方米)", "用量(度)", "用电量(度)", "usage"),
    "name": ("户主姓名", "户名", "姓名", "用户名称", "用户名", "name"),
}
ALIASES = {header_key(text): key for key, texts in _HEADERS.items() for text in texts}

#: why a row is not paid: code → message (parameters come from the row's ``params``)
REASONS = {
    "bad_meter": _l("No meter or account number in this row."),
    "meter_as_number": _l("The number was stored as a number and lost digits: format the "
                          "column as text in Excel and export the file again."),
    "bad_usage": _l("The usage is not a number between 0 and 999,999.99 with at most two "
                    "decimals."),
    "duplicate": _l("This number appears more than once in the file (rows %(rows)s): none of "
                    "these rows is counted until the company corrects the file."),
    "unmatched": _l("No case of this conversion type in your county has this number."),
    "ambiguous": _l("Several cases have this number on their installation: correct the "
                    "installations first."),
    "stopped": _l("The case was withdrawn or cancelled: no running subsidy."),
    "followup_stopped": _l("Follow-up found the household back on coal or the device "
                           "removed: the running subsidy has stopped."),
    "not_paid": _l("The equipment subsidy of this case is not paid yet (state: %(state)s)."),
    "recorded": _l("This household already has usage for this season (usage import "
                   "%(import_id)s)."),
    "no_inspection": _l("The case has no passed inspection."),
    "no_policy": _l("No subsidy policy applies to this case."),
    "before_first": _l("Season 1 of this case is %(first)s (the first season starting after "
                       "its inspection passed on %(passed)s): this season is not paid."),
    "after_last": _l("This is season %(season_no)s of the case; the policy pays %(seasons)s "
                     "seasons."),
    "no_rate": _l("The policy has no running-subsidy rate for season %(season_no)s."),
}

#: the same reasons in a few words, for the summary by reason
REASON_LABELS = {
    "bad_meter": _l("No number"),
    "meter_as_number": _l("Number damaged by Excel"),
    "bad_usage": _l("Usage not a valid number"),
    "duplicate": _l("Number repeated in the file"),
    "unmatched": _l("No matching case"),
    "ambiguous": _l("Several cases with this number"),
    "stopped": _l("Case withdrawn or cancelled"),
    "followup_stopped": _l("Stopped after a follow-up visit"),
    "not_paid": _l("Equipment subsidy not paid yet"),
    "recorded": _l("Usage already recorded for this season"),
    "no_inspection": _l("No passed inspection"),
    "no_policy": _l("No subsidy policy"),
    "before_first": _l("Before the case's first season"),
    "after_last": _l("After the policy's last season"),
    "no_rate": _l("No rate for this season"),
}


class UsageError(SpreadsheetError):
    """The file (or the choice of season) is refused as a whole; ``message`` is for the user."""


# --- one row of the file ------------------------------------------------------------------------
@dataclass
class Line:
    number: int  # the spreadsheet row number
    meter: str  # canonical
    usage: Decimal | None
    file_name: str = ""  # masked, from the optional 户主姓名 column
    reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    household_id: int | None = None
    name: str = ""  # the case's head, masked
    village: str = ""
    season_no: int | None = None
    amount: Amount | None = None
    policy_id: int | None = None
    low: bool = False

    def exclude(self, reason: str, **params: Any) -> None:
        self.reason, self.params = reason, params

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"n": self.number, "m": self.meter, "fn": self.file_name,
                               "u": None if self.usage is None else str(self.usage),
                               "h": self.household_id, "nm": self.name, "vl": self.village,
                               "s": self.season_no, "lo": self.low}
        if self.reason:
            row.update(r=self.reason, rp=self.params)
        if self.amount is not None:
            # the inputs let the screen word the explanation in the reader's language
            row.update(a=self.amount.fen, e=self.amount.explanation, i=self.amount.inputs)
        return row


@dataclass
class Analysis:
    sheet: str
    header_row: int
    lines: list[Line]

    @property
    def matched(self) -> list[Line]:
        return [ln for ln in self.lines if ln.reason is None]

    def signature(self) -> list[list[int]]:
        """What a confirmation would write: row, household and amount of each matched row."""
        return [[ln.number, ln.household_id or 0, ln.amount.fen if ln.amount else 0]
                for ln in self.matched]

    def counts(self) -> dict[str, Any]:
        matched = self.matched
        return {"rows": len(self.lines), "matched": len(matched),
                "excluded": len(self.lines) - len(matched),
                "low": sum(1 for ln in matched if ln.low),
                "total_fen": sum(ln.amount.fen for ln in matched if ln.amount),
                "reasons": dict(Counter(ln.reason for ln in self.lines if ln.reason))}


# --- reading ------------------------------------------------------------------------------------
def read_lines(data: bytes, utility: str) -> tuple[str, int, list[Line]]:
    """The sheet name, the header's row number and every non-blank row, parsed; raises
    SpreadsheetError (UsageError) when the file as a whole cannot be used."""
    book = read_book(data)
    for sheet in book.sheets:
        header = find_header(sheet.rows, ALIASES, min_hits=2)
        if header is None:
            continue
        meter_col, usage_col = _columns(header.columns, header.labels, utility)
        name_col = header.columns.get("name")
        lines = []
        for offset, cells in enumerate(sheet.rows[header.row + 1:]):
            line = _line(header.row + 2 + offset, cells, meter_col, usage_col, name_col)
            if line is not None:
                lines.append(line)
        if not lines:
            raise UsageError(_l("The file has column headers but no rows below them."),
                             "no_rows")
        return sheet.name, header.row + 1, lines
    raise UsageError(_l(
        "No header row was found. The file needs a column 电表号 (power company) or 燃气户号 "
        "(gas company) and a column 用量 in one of its first 30 rows."), "no_header")


def _columns(columns: dict[str, int], labels: dict[str, str], utility: str) -> tuple[int, int]:
    own, other = ("meter_power", "meter_gas") if utility == "power" else ("meter_gas",
                                                                          "meter_power")
    meter = columns.get(own, columns.get("meter"))
    if meter is None and other in columns:
        message = (_l("This file has the gas company's column %(col)s but you chose the power "
                      "company. Choose the gas company, or upload the power company's file.",
                      col=labels[other]) if utility == "power" else
                   _l("This file has the power company's column %(col)s but you chose the gas "
                      "company. Choose the power company, or upload the gas company's file.",
                      col=labels[other]))
        raise UsageError(message, "wrong_utility")
    if meter is None:
        raise UsageError(_l("The column with the number is missing: 电表号 for the power "
                            "company, 燃气户号 for the gas company."), "missing_meter")
    if "usage" not in columns:
        raise UsageError(_l("The column 用量 (the season's usage in kWh or m³) is missing."),
                         "missing_usage")
    return meter, columns["usage"]


def _cell(cells: list[Any], col: int | None) -> Any:
    return cells[col] if col is not None and col < len(cells) else None


def _line(number: int, cells: list[Any], meter_col: int, usage_col: int,
          name_col: int | None) -> Line | None:
    raw_meter, raw_usage = _cell(cells, meter_col), _cell(cells, usage_col)
    name = cell_text(_cell(cells, name_col))
    if not cell_text(raw_meter) and not cell_text(raw_usage) and not name:
        return None  # a blank row
    line = Line(number, canonical_code(cell_text(raw_meter))[:40], parse_usage(raw_usage),
                mask_name(name)[:20])
    if lost_precision(raw_meter):
        line.exclude("meter_as_number")
    elif not line.meter:
        line.exclude("bad_meter")
    elif line.usage is None:
        line.exclude("bad_usage")
    return line


def parse_usage(value: Any) -> Decimal | None:
    """kWh or m³ with at most two decimals, 0 … MAX_USAGE; None for anything else."""
    if isinstance(value, bool):
        return None
    text = unicodedata.normalize("NFKC", cell_text(value)).replace(",", "").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number > MAX_USAGE:
        return None
    if number != number.quantize(Decimal("0.01")):
        return None
    return number.quantize(Decimal("0.01"))


# --- matching and computing ---------------------------------------------------------------------
def analyse(data: bytes, *, utility: str, season: str, county_id: int) -> Analysis:
    """Read the file and decide every row's fate; writes nothing."""
    sheet, header_row, lines = read_lines(data, utility)
    _mark_duplicates(lines)
    candidates = [ln for ln in lines if ln.reason is None]
    cases = _cases_by_meter({ln.meter for ln in candidates}, utility, county_id)
    matched = []
    for line in candidates:
        case = _match(line, cases.get(line.meter, []))
        if case is not None:
            matched.append((line, case))
    _compute(matched, season, county_id, threshold(utility))
    return Analysis(sheet, header_row, lines)


def threshold(utility: str) -> Decimal:
    """Usage below this is flagged as near zero (configurable per utility)."""
    return Decimal(str(current_app.config[LOW_SETTING[utility]]))


def _mark_duplicates(lines: list[Line]) -> None:
    """A number repeated in the file excludes every row carrying it: the company's file is
    ambiguous and paying the first or the larger figure would be a guess."""
    rows: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        if line.reason is None:
            rows[line.meter].append(line.number)
    for line in lines:
        numbers = rows.get(line.meter, [])
        if line.reason is None and len(numbers) > 1:
            line.exclude("duplicate", rows="、".join(str(n) for n in numbers[:10]))


def _cases_by_meter(meters: set[str], utility: str, county_id: int) -> dict[str, list[Any]]:
    """Cases of the county whose installation carries one of ``meters``.

    One column query over the county's installations of the conversion type, matched in
    Python: a county holds tens of thousands of them at most, and long IN lists are what
    PostgreSQL plans worst once psycopg prepares the statement (a generic plan scans the table
    and compares every row with every value: 13 s instead of 1 s for 20,000 rows)."""
    found: dict[str, list[Any]] = defaultdict(list)
    query = (select(Installation.meter_key, Household.id, Household.state, Household.head_name,
                    Household.programme_year, Household.conversion_type,
                    Household.device_kind, Household.approved_at, Area.name.label("village"))
             .join(Household, Household.id == Installation.household_id)
             .join(Area, Area.id == Household.village_id)
             .where(Household.county_id == county_id,
                    Installation.conversion_type == CONVERSION_OF[utility]))
    for row in db.session.execute(query):
        if row.meter_key in meters:
            found[row.meter_key].append(row)
    return found


def _match(line: Line, cases: list[Any]) -> Any:
    """The case the row belongs to, when it may be paid; otherwise the row is excluded."""
    active = [c for c in cases if c.state not in INACTIVE_STATES]
    if len(active) > 1:
        line.exclude("ambiguous")
        return None
    case = (active or cases or [None])[0]
    if case is None:
        line.exclude("unmatched")
        return None
    line.household_id, line.name, line.village = case.id, mask_name(case.head_name), case.village
    # a withdrawn or cancelled case gets nothing; rebound (复烧) and removed devices, found by
    # a follow-up visit, stop a paid case's running subsidy (``_compute``, one query)
    if case.state in INACTIVE_STATES:
        line.exclude("stopped")
    # Running subsidies are records on a case whose equipment subsidy was paid (DOMAIN.md):
    # any other state (not yet paid, failed at the bank, rostered) is excluded this season.
    elif case.state != "paid":
        line.exclude("not_paid", state=case.state)
    return None if line.reason else case


def _compute(matched: list[tuple[Line, Any]], season: str, county_id: int,
             low: Decimal) -> None:
    if not matched:
        return
    passed = passed_dates(county_id)
    recorded = _recorded(county_id, season)
    stopped = running_subsidy_stopped(case.id for _, case in matched)
    #: one policy lookup per group of cases it cannot tell apart, not one per row
    policies: dict[tuple[Any, ...], Any] = {}
    for line, case in matched:
        if case.id in stopped:  # the latest follow-up visit decides (inspections.followups)
            line.exclude("followup_stopped")
            continue
        if case.id in recorded:
            line.exclude("recorded", import_id=recorded[case.id])
            continue
        if case.id not in passed:
            line.exclude("no_inspection")
            continue
        approved = case.approved_at.astimezone(LOCAL_TZ).date() if case.approved_at else None
        key = (case.programme_year, case.conversion_type, case.device_kind, approved)
        if key not in policies:
            policies[key] = subsidies.policy_for(db.session.get(Household, case.id))
        policy = policies[key]
        if policy is None:
            line.exclude("no_policy")
            continue
        _amount(line, policy, season, passed[case.id], low)


def _amount(line: Line, policy: Any, season: str, passed_on: date, low: Decimal) -> None:
    first = seasons.first_season_after(passed_on, policy.season_start)
    number = seasons.season_number(first, season)
    line.season_no, line.policy_id = number, policy.id
    if number < 1:
        line.exclude("before_first", first=first, passed=passed_on.isoformat())
        return
    if number > policy.seasons:
        line.exclude("after_last", season_no=number, seasons=policy.seasons)
        return
    assert line.usage is not None
    try:
        line.amount = subsidies.running_amount(policy, season_no=number, usage=line.usage)
    except subsidies.SubsidyError:  # no rate for this season number
        line.exclude("no_rate", season_no=number)
        return
    line.low = line.usage < low


def passed_dates(county_id: int) -> dict[int, date]:
    """The (Beijing) date of the latest passed inspection of each paid case of the county:
    after a revoked certificate and a new inspection, the new pass counts."""
    latest: dict[int, Any] = {}
    query = (select(Inspection.household_id, Inspection.inspected_at)
             .join(Household, Household.id == Inspection.household_id)
             .where(Household.county_id == county_id, Household.state == "paid",
                    Inspection.result == "pass"))
    for hid, at in db.session.execute(query):
        if hid not in latest or at > latest[hid]:
            latest[hid] = at
    return {hid: at.astimezone(LOCAL_TZ).date() for hid, at in latest.items()}


def _recorded(county_id: int, season: str) -> dict[int, int]:
    """Households of the county with a usage record for the season → its import."""
    query = (select(UsageRecord.household_id, UsageRecord.import_id)
             .join(Household, Household.id == UsageRecord.household_id)
             .where(UsageRecord.season == season, Household.county_id == county_id))
    return {hid: import_id for hid, import_id in db.session.execute(query)}
