"""Ledger (台账) export of households: the list's filters and scope, one row per case, ID /
bank / phone numbers full or masked as the user's roles allow over each case's area
(DOMAIN.md's masks table), written as CSV or XLSX and streamed.

Each export is audited before its first byte leaves (``prepare`` counts the rows and records
the export; the view commits, then streams), so no export ever goes unaudited.  Everything
the stream needs — the statement with the scope clause, the per-area visibility, the labels,
the engine — is decided in ``prepare``: the stream runs after the view has returned, on a
connection of its own, without the request, the session or the user object.

The first 15 columns are the import template's (``households.imports`` matches them by
header), so a full-number export by a clerk re-imports as duplicates of the existing cases.
Headers are the county's Chinese ledger headers whatever the UI language.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, Engine, Integer, Select, String, func, select, type_coerce
from sqlalchemy.orm import aliased

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core import registry
from heating.core import spreadsheet_write as sw
from heating.core.i18n import LOCAL_TZ
from heating.core.masking import mask_bank, mask_id, mask_phone
from heating.core.refusals import Refusal
from heating.extensions import db
from heating.households import queries
from heating.households.lifecycle import STATES
from heating.households.models import (
    CONVERSION_TYPES,
    DEVICE_KINDS,
    PREVIOUS_HEATING,
    Household,
)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SHEET_NAME = "农户台账"
LEDGER_LOCALE = "zh_Hans_CN"

#: the import template's columns first (same headers, same order), then the ledger's own
COLUMNS = (
    sw.Column("户主姓名", sw.STRING, 10),
    sw.Column("身份证号", sw.TEXT, 21),
    sw.Column("联系电话", sw.TEXT, 13),
    sw.Column("乡镇", sw.STRING, 10),
    sw.Column("村", sw.STRING, 10),
    sw.Column("组/门牌号", sw.STRING, 12),
    sw.Column("常住人口", sw.INTEGER, 9),
    sw.Column("供暖面积(平方米)", sw.DECIMAL2, 16),
    sw.Column("原取暖方式", sw.STRING, 14),
    sw.Column("原燃煤炉具数", sw.INTEGER, 12),
    sw.Column("改造类型", sw.STRING, 9),
    sw.Column("开户银行", sw.STRING, 16),
    sw.Column("银行账号", sw.TEXT, 22),
    sw.Column("账户名", sw.STRING, 10),
    sw.Column("低保户", sw.STRING, 7),
    sw.Column("案件编号", sw.INTEGER, 9),
    sw.Column("年度", sw.INTEGER, 6),
    sw.Column("状态", sw.STRING, 12),
    sw.Column("设备类型", sw.STRING, 14),
    sw.Column("村代码", sw.TEXT, 14),
    sw.Column("登记时间", sw.DATETIME, 17),
)
HEADERS = tuple(c.header for c in COLUMNS)
_BASE_WIDTH = 25  #: the values ``statement`` selects for ``COLUMNS``


@dataclass(frozen=True)
class LedgerColumn:
    """A column a domain built on households appends to the ledger (households imports none
    of them): the recovered and outstanding amounts of payouts' recoveries, …"""

    column: sw.Column
    #: ``expression(Household.id)``: a scalar SQL expression per case (a correlated subquery)
    expression: Callable[[Any], Any]
    #: the cell written for the selected value
    cell: Callable[[Any], Any] = lambda value: value


#: ``provider() -> list[LedgerColumn]``, registered at ``init_app``
_LEDGER_COLUMNS = "heating.ledger_columns"


def register_ledger_columns(app: Any, provider: Callable[[], list[LedgerColumn]]) -> None:
    registry.register(app, _LEDGER_COLUMNS, provider)


def ledger_extras() -> list[LedgerColumn]:
    """The registered columns of the current app, in registration order."""
    return [c for provider in registry.registered(_LEDGER_COLUMNS) for c in provider()]


def ledger_headers() -> tuple[str, ...]:
    """Every header of the current app's ledger: ``HEADERS``, then the registered ones."""
    return HEADERS + tuple(x.column.header for x in ledger_extras())

# how a number is written for one case
FULL, MASKED, HIDDEN = "full", "masked", "hidden"
#: numbers a role with neither the full view nor the reveal never sees, not even masked
#: (DOMAIN.md: bank account "never" for inspectors); the bank's name goes with the account
NEVER_MASKED = frozenset({"bank_account"})
_MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id, "bank_account": mask_bank, "phone": mask_phone}


class ExportRefused(Refusal):
    """``forbidden``: the role may not (403); otherwise the request cannot be met as asked
    (the message says what to do instead)."""

    def __init__(self, message: Any, *, forbidden: bool = True) -> None:
        super().__init__(message)
        self.forbidden = forbidden
        self.status = 403 if forbidden else 400


def revealable_fields(user: Any) -> list[str]:
    """Numbers this user may ask to see in full somewhere in their scope: the "on request"
    cells of DOMAIN.md's table (empty for clerks, inspectors, admins)."""
    return [name for name, (_, reveal) in permissions.REVEALABLE.items()
            if not permissions.scope_for(user, permissions.PERMISSIONS[reveal]).empty]


@dataclass
class Visibility:
    """Per area: how each number is written.  The scopes come from the permission role sets
    once per export; a village's modes are then a few set lookups."""

    fields: dict[str, tuple[permissions.Scope, permissions.Scope]]
    reveal: bool

    @classmethod
    def of(cls, user: Any, reveal: bool) -> Visibility:
        perms = permissions.PERMISSIONS
        return cls({name: (permissions.scope_for(user, perms[full]),
                           permissions.scope_for(user, perms[on_request]))
                    for name, (full, on_request) in permissions.REVEALABLE.items()}, reveal)

    def mode(self, name: str, village: int, township: int, county: int) -> str:
        full, on_request = self.fields[name]
        if full.covers(village, township, county):
            return FULL
        if on_request.covers(village, township, county):
            return FULL if self.reveal else MASKED
        return HIDDEN if name in NEVER_MASKED else MASKED

    def modes(self, village: int, township: int, county: int) -> tuple[str, str, str]:
        """(ID number, bank account, phone) modes for a case in this village (the same for
        every case of the village: callers keep them per village)."""
        return (self.mode("id_number", village, township, county),
                self.mode("bank_account", village, township, county),
                self.mode("phone", village, township, county))


_village = aliased(Area, name="village")
_township = aliased(Area, name="township")


def statement(user: Any, f: queries.Filters,
              extras: tuple[LedgerColumn, ...] = ()) -> Select[Any]:
    """The ledger's SELECT: the list's conditions (scope and filters), oldest case first;
    the registered ``extras`` after the ``COLUMNS`` values.
    Areas and timestamps are read raw (``type_coerce``): converting 20,000 of them through
    the column types costs more than the rest of the row."""
    return (select(
        Household.id, Household.head_name, Household._id_number, Household.phone,
        Household.group_name, Household.house_no, Household.residents,
        type_coerce(Household.heated_area, Integer), Household.previous_heating,
        Household.coal_stoves, Household.conversion_type, Household.bank_name,
        Household._bank_account, Household.account_holder, Household.low_income,
        Household.programme_year, Household.state, Household.device_kind,
        type_coerce(Household.created_at, String), Household.village_id,
        Household.township_id, Household.county_id,
        _village.name, _village.code, _township.name,
        *[x.expression(Household.id) for x in extras])
        .join(_village, _village.id == Household.village_id)
        .join(_township, _township.id == Household.township_id)
        .where(*queries.conditions(user, f))
        .order_by(Household.id))


def count(user: Any, f: queries.Filters) -> int:
    return db.session.scalar(select(func.count()).select_from(Household)
                             .where(*queries.conditions(user, f))) or 0


_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH = datetime(1970, 1, 1)


def _local(value: Any) -> datetime:
    """A stored UTC time (SQLite: text; PostgreSQL: an aware datetime) as naive Beijing time.

    Arithmetic instead of ``astimezone``/``replace`` (several times faster per row): the
    zone's offset is read at the UTC wall time, which is exact because China has kept one
    offset all year since 1991."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = _EPOCH + (value - _EPOCH_UTC)
    return value + LOCAL_TZ.utcoffset(value)


class LocalMinutes:
    """Registration times as Beijing-time text to the minute, the ledger's resolution.

    SQLite hands over UTC text ('2025-08-16 00:32:06.000000'): the offset is whole hours, so
    each distinct hour is converted once and the minutes are copied (the cache holds at most
    8,760 hours a year of registrations, whatever the number of rows); other values go
    through ``_local``."""

    def __init__(self) -> None:
        self.hours: dict[str, str] = {}

    def __call__(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and len(value) in (19, 26):  # no offset: UTC as stored
            hour = self.hours.get(value[:13])
            if hour is None:
                hour = self.hours[value[:13]] = _local(value[:13] + ":00").isoformat(
                    " ", "hours")
            return hour + value[13:16]
        return _local(value).isoformat(" ", "minutes")


def _two_places(hundredths: int | None) -> str | None:
    """80.55 m² from its stored 8055 hundredths, as text (exact; no Decimal per row; areas
    are positive by a CHECK constraint)."""
    return None if hundredths is None else "%d.%02d" % divmod(hundredths, 100)


def _labels() -> dict[str, dict[str, str]]:
    """Chinese labels whatever the UI language: the ledger is the county's document."""
    with force_locale(LEDGER_LOCALE):
        return {name: {k: str(v) for k, v in table.items()} for name, table in (
            ("state", STATES), ("type", CONVERSION_TYPES), ("device", DEVICE_KINDS),
            ("heating", PREVIOUS_HEATING))}


def ledger_rows(connection: Connection, query: Select[Any], visibility: Visibility,
                labels: dict[str, dict[str, str]], extras: tuple[LedgerColumn, ...] = ()
                ) -> Iterator[tuple[Any, ...]]:
    """The rows in ``COLUMNS`` order, fetched 1,000 at a time (a server-side cursor on
    PostgreSQL), so memory does not grow with the number of cases."""
    states, types = labels["state"], labels["type"]
    devices, heating = labels["device"], labels["heating"]
    id_from_column, modes, known = Household.id_number_from_column, visibility.modes, {}
    bank_from_column = Household.bank_account_from_column
    local_minutes = LocalMinutes()
    result = connection.execute(query.execution_options(stream_results=True, yield_per=1000))
    cells = [x.cell for x in extras]
    for batch in result.partitions():
        for row in batch:
            (case_id, name, id_raw, phone, group, house, residents, area, previous, stoves,
             conversion, bank_name, bank, holder, low_income, year, state, device, created,
             village_id, township_id, county_id, village, village_code,
             township) = row[:_BASE_WIDTH]
            found = known.get(village_id)
            if found is None:
                found = known[village_id] = modes(village_id, township_id, county_id)
            id_mode, bank_mode, phone_mode = found
            id_number = id_from_column(id_raw)
            if id_mode is not FULL:
                id_number = mask_id(id_number)
            if phone_mode is not FULL:
                phone = mask_phone(phone)
            if bank_mode is HIDDEN:  # as on the case page: neither the bank nor the account
                bank_name = bank = ""
            else:
                bank = bank_from_column(bank)
                if bank_mode is MASKED:
                    bank = mask_bank(bank)
            line = (
                name, id_number, phone, township, village, f"{group or ''}{house or ''}",
                residents, _two_places(area), heating.get(previous, previous), stoves,
                types.get(conversion, conversion), bank_name, bank, holder,
                "是" if low_income else "否", case_id, year, states.get(state, state),
                devices.get(device, device), village_code, local_minutes(created))
            if cells:
                line += tuple(cell(v) for cell, v in zip(cells, row[_BASE_WIDTH:]))
            yield line


@dataclass
class LedgerExport:
    """An audited export, ready to stream (nothing in it refers to the session or the user)."""

    fmt: str
    full: bool
    rows: int
    query: Select[Any]
    visibility: Visibility
    labels: dict[str, dict[str, str]]
    stamp: datetime
    engine: Engine
    tmp_dir: str | None = None
    extras: tuple[LedgerColumn, ...] = ()

    @property
    def columns(self) -> tuple[sw.Column, ...]:
        return COLUMNS + tuple(x.column for x in self.extras)

    @property
    def mimetype(self) -> str:
        return FORMATS[self.fmt]

    @property
    def filename(self) -> str:
        return f"农户台账-{self.stamp:%Y%m%d-%H%M}.{self.fmt}"

    @property
    def ascii_filename(self) -> str:
        return f"households-{self.stamp:%Y%m%d-%H%M}.{self.fmt}"

    def chunks(self) -> Iterator[bytes]:
        """The file, chunk by chunk, read on a connection of its own (returned to the pool
        when the iterator ends or is closed, e.g. by a client that went away)."""
        with self.engine.connect() as connection:
            rows = ledger_rows(connection, self.query, self.visibility, self.labels,
                               self.extras)
            if self.fmt == "csv":
                yield from sw.csv_stream(self.columns, rows)
            else:
                yield from sw.xlsx_stream(self.columns, rows, sheet_name=SHEET_NAME,
                                          tmp_dir=self.tmp_dir)


def _audit_filters(f: queries.Filters) -> dict[str, Any]:
    # a searched ID number is masked by the audit log's redaction pass
    return {k: v for k, v in vars(f).items() if v}


def prepare(user: Any, f: queries.Filters, fmt: str, *, reason: str | None = None,
            tmp_dir: str | None = None) -> LedgerExport:
    """Check, count and audit an export; the caller commits, then streams ``chunks()``.

    ``reason`` given: the full-number export of the "on request" roles (every number they
    may reveal, written in full; audited as ``households.export_full`` with the reason).
    Otherwise the numbers are as the user sees them on screen (``households.export``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if not permissions.can(user, "household.view"):
        raise ExportRefused(_l("Your role does not allow this action."))
    full = reason is not None
    revealed = revealable_fields(user) if full else []
    if full and not revealed:
        raise ExportRefused(_l("Your role cannot see this number."))
    if full and not reason.strip():
        raise ExportRefused(_l("Please give a reason."))
    rows = count(user, f)
    if fmt == "xlsx" and rows > sw.XLSX_MAX_ROWS:
        raise ExportRefused(_l("%(n)d households are more than an Excel sheet can hold. "
                               "Narrow the filters (a township, a year) or export CSV.",
                               n=rows), forbidden=False)
    after = {"format": fmt, "rows": rows, "filters": _audit_filters(f)}
    if full:
        after["full_numbers"] = revealed
        record("households.export_full", "households", None, actor=user,
               summary=reason.strip(), after=after)
    else:
        record("households.export", "households", None, actor=user,
               summary=f"{rows} rows, {fmt}", after=after)
    extras = tuple(ledger_extras())
    return LedgerExport(fmt, full, rows, statement(user, f, extras), Visibility.of(user, full),
                        _labels(), datetime.now(LOCAL_TZ).replace(tzinfo=None), db.engine,
                        tmp_dir, extras)
