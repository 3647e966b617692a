"""Household files: from bytes to a checked list of rows, with duplicate checks.

``parse()`` finds the sheet and its header row, checks every row (``rows``: the
registration form's rules — its bounds, lengths and messages read from its validators, and the
same ``heating.core.ids`` functions — so a row is accepted exactly when the form would accept
it), then looks for ID numbers repeated in the file or already held by an active case.  It
writes nothing.

Messages are kept as (message id, parameters) so a stored preview is shown in the reader's
language; they never hold a full ID or bank number.

    rules            columns, header spellings, words, the form's bounds, the user's villages
    rows             one row: normalise and check
    (this module)    a file: header, rows, duplicates
    services         upload → preview record, confirm → bulk insert in one transaction
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from heating.areas.models import Area
from heating.auth import permissions
from heating.core.spreadsheet_read import (
    Header,
    SpreadsheetError,
    column_letter,
    find_header,
    read_book,
)
from heating.extensions import db
from heating.households import lifecycle
from heating.households.imports.rows import Row, RowChecker
from heating.households.imports.rules import (
    ALIASES,
    BY_KEY,
    COLUMNS,
    TEMPLATE_HEADERS,
    Places,
    portable,
)
from heating.households.models import Household
from heating.households.services import Duplicate, duplicate_message

HASH_CHUNK = 2000
Progress = Callable[[str, int, int], None]


@dataclass
class Parsed:
    """The result of reading one file: rows in file order and where the table was found."""

    sheet: str
    header_row: int
    columns: dict[str, str]  # key → column letter
    rows: list[Row] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.rows if r.status in statuses)

    @property
    def importable(self) -> list[Row]:
        return [r for r in self.rows if r.importable]

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "new": self.count("new", "warning"),
                "duplicates": self.count("duplicate"), "errors": self.count("error")}

    def as_json(self) -> dict[str, Any]:
        return {"v": 1, "sheet": self.sheet, "header_row": self.header_row,
                "columns": self.columns, "rows": [r.as_json() for r in self.rows]}


class FileProblem(SpreadsheetError):
    """The file was read but cannot be imported as a whole (no header, missing columns…)."""


def parse(data: bytes, user: Any, *, places: Places | None = None,
          progress: Progress | None = None) -> Parsed:
    """Read, normalise and validate every row; check duplicates in the file and against the
    active cases.  Raises SpreadsheetError (or FileProblem) when the file as a whole is refused."""
    book = read_book(data)
    found = None
    for sheet in book.sheets:
        header = find_header(sheet.rows, ALIASES)
        if header is not None:
            found = (sheet, header)
            break
    if found is None:
        raise FileProblem(_l(
            "No header row was found. The first rows of the sheet must include the column "
            "headers, e.g. %(headers)s. Download the template to see them all.",
            headers="、".join(TEMPLATE_HEADERS[:5])), "no_header")
    sheet, header = found
    _check_columns(header)
    checker = RowChecker(header, places or Places.for_user(user))
    body = sheet.rows[header.row + 1:]
    parsed = Parsed(sheet.name, header.row + 1,
                    {k: column_letter(i) for k, i in header.columns.items()})
    first = header.row + 2
    for offset, cells in enumerate(body):
        row = checker.check(first + offset, cells)
        if row is not None:
            parsed.rows.append(row)
        if progress and offset % 1000 == 999:
            progress("check", offset + 1, len(body))
    if progress:
        progress("check", len(body), len(body))
    mark_duplicates(parsed.rows, user)
    return parsed


def _check_columns(header: Header) -> None:
    if header.repeated:
        names = "、".join(BY_KEY[k].header for k in dict.fromkeys(header.repeated))
        raise FileProblem(_l("These columns appear more than once: %(cols)s. Keep one of each "
                             "and upload again.", cols=names), "repeated_columns")
    missing = [c.header for c in COLUMNS if c.required and c.key not in header.columns]
    if missing:
        raise FileProblem(_l("These required columns are missing: %(cols)s. Add them (the "
                             "template has every column) and upload again.",
                             cols="、".join(missing)), "missing_columns")


# --- duplicates ----------------------------------------------------------------------------------
def mark_duplicates(rows: list[Row], user: Any) -> None:
    """Later rows repeating an ID number are errors pointing at the first; rows whose ID number
    has an active case are duplicates (its village named only inside the user's scope).
    A bank account shared with other rows or cases is a warning."""
    first: dict[str, int] = {}
    first_account: dict[str, int] = {}
    for row in rows:
        if row.id_hash is not None:
            if row.id_hash in first:
                _mark(row, "e", _l("This ID number is already in row %(row)d of this file.",
                                   row=first[row.id_hash]))
            else:
                first[row.id_hash] = row.number
        if row.bank_hash is not None:
            if row.bank_hash in first_account:
                _mark(row, "w", _l("The same bank account is in row %(row)d of this file.",
                                   row=first_account[row.bank_hash]))
            else:
                first_account[row.bank_hash] = row.number
    existing = active_cases_by_hash(list(first))
    shared = accounts_in_use(list(first_account))
    for row in rows:
        case = existing.get(row.id_hash) if row.id_hash else None
        if case is not None and first[row.id_hash] == row.number:
            dup = Duplicate(case, permissions.in_scope(user, case))  # type: ignore[arg-type]
            entry = portable(duplicate_message(dup))
            entry["k"] = "d"
            row.problems.insert(0, entry)
            row.status = "duplicate"
        n = shared.get(row.bank_hash) if row.bank_hash else None
        if n and row.status != "duplicate":
            _mark(row, "w", _l("The bank account is also used by %(n)d other household(s).",
                               n=n))


def _mark(row: Row, kind: str, message: Any) -> None:
    entry = portable(message)
    entry["k"] = kind
    if kind == "e":
        row.problems.append(entry)
        if row.status != "duplicate":
            row.status = "error"
    else:
        row.warnings.append(entry)
        if row.status == "new":
            row.status = "warning"


class _Case:
    """Just what duplicate_message and the scope check read of an existing case."""

    __slots__ = ("id", "programme_year", "village_id", "township_id", "county_id", "village")

    def __init__(self, row: Any) -> None:
        self.id, self.programme_year = row.id, row.programme_year
        self.village_id, self.township_id, self.county_id = (row.village_id, row.township_id,
                                                             row.county_id)
        self.village = _Named(row.village_name)


@dataclass(frozen=True)
class _Named:
    name: str


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), HASH_CHUNK):
        yield values[start:start + HASH_CHUNK]


def active_cases_by_hash(hashes: list[str]) -> dict[str, _Case]:
    found: dict[str, _Case] = {}
    for chunk in _chunks(hashes):
        query = (select(Household.id_hash, Household.id, Household.programme_year,
                        Household.village_id, Household.township_id, Household.county_id,
                        Area.name.label("village_name"))
                 .join(Area, Area.id == Household.village_id)
                 .where(Household.id_hash.in_(chunk),
                        Household.state.not_in(lifecycle.INACTIVE_STATES)))
        for row in db.session.execute(query):
            found[row.id_hash] = _Case(row)
    return found


def accounts_in_use(hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(hashes):
        query = (select(Household.bank_hash, func.count())
                 .where(Household.bank_hash.in_(chunk),
                        Household.state.not_in(lifecycle.INACTIVE_STATES))
                 .group_by(Household.bank_hash))
        found.update({h: n for h, n in db.session.execute(query)})
    return found
