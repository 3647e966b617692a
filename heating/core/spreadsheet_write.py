"""Spreadsheets out: CSV (UTF-8 with a BOM, so Excel picks the right encoding) and XLSX
(XlsxWriter in ``constant_memory`` mode), both produced as an iterator of byte chunks whose
memory does not grow with the number of rows.

Domain-free: callers describe the columns (a header, a kind, a width) and pass rows as
sequences of values in column order, usually a generator straight off a database cursor.

Two promises hold for every cell:

- **No formula runs.**  A string starting with ``= + - @``, a tab or a carriage return is
  written with a leading apostrophe (``neutralise``): Excel, WPS and LibreOffice would
  otherwise evaluate ``=HYPERLINK(...)`` typed into a name field.  XLSX strings are also written
  as string cells, never through XlsxWriter's formula or URL detection.
- **Long digit strings stay exact.**  ``TEXT`` columns (ID numbers, bank accounts, area codes)
  are string cells with the text number format in XLSX; in CSV an all-digit value gets a
  leading tab, which makes Excel keep it as text instead of rounding an 18-digit ID number
  to 15 significant digits.  (The tab is ours, added after the guard; readers that normalise
  whitespace, like ``heating.core.ids.normalize``, drop it.)
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator, Sequence

import xlsxwriter

#: leading characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_SET = frozenset(FORMULA_TRIGGERS)
BOM = "\ufeff".encode("utf-8")
CHUNK_SIZE = 64 * 1024

# column kinds
STRING = "string"  #: free text (names, labels); guarded
TEXT = "text"  #: digits that must stay text (ID numbers, accounts, codes); guarded
INTEGER = "integer"
#: a Decimal or float shown with two decimals, or its text ("80.50", written to CSV as is)
DECIMAL2 = "decimal2"
#: a naive datetime in the reader's local time, or its ISO text to the minute
#: ("2026-03-01 09:05", written to CSV as is): callers that already hold text save the
#: datetime round trip, which costs more per row than the rest of the CSV line
DATETIME = "datetime"
KINDS = (STRING, TEXT, INTEGER, DECIMAL2, DATETIME)

XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: data rows an .xlsx sheet can hold under its header row (Excel's limit is 1,048,576 rows;
#: XlsxWriter silently drops cells beyond it)
XLSX_MAX_ROWS = 1_048_575


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = STRING
    #: XLSX column width in characters
    width: float = 12.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def neutralise(value: Any) -> Any:
    """``=1+1`` → ``'=1+1``: a string a spreadsheet would run as a formula is prefixed with an
    apostrophe; anything else (numbers included, negative ones too) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _indexes(columns: Sequence[Column], *kinds: str) -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(columns) if c.kind in kinds)


# --- CSV -------------------------------------------------------------------------------------
def csv_stream(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
               chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The CSV file as byte chunks of about ``chunk_size``: BOM, header row, then the rows
    (Excel's dialect: commas, CRLF, quotes where needed).  ``None`` becomes an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c.header) for c in columns])
    strings, texts = _indexes(columns, STRING), _indexes(columns, TEXT)
    decimals, datetimes = _indexes(columns, DECIMAL2), _indexes(columns, DATETIME)
    triggers = _TRIGGER_SET
    prefix = BOM
    for row in rows:
        out = list(row)
        for i in strings:
            value = out[i]
            if value and value[0] in triggers:
                out[i] = "'" + value
        for i in texts:
            value = out[i]
            if value:
                if value[0] in triggers:
                    out[i] = "'" + value
                elif value.isdigit():
                    out[i] = "\t" + value
        for i in decimals:
            value = out[i]
            if value is not None and value.__class__ is not str:
                out[i] = f"{value:.2f}"
        for i in datetimes:
            value = out[i]
            if value is not None and value.__class__ is not str:
                out[i] = value.isoformat(" ", "minutes")  # 3× faster than strftime
        writer.writerow(out)
        if buffer.tell() >= chunk_size:
            yield prefix + buffer.getvalue().encode("utf-8")
            prefix = b""
            buffer.seek(0)
            buffer.truncate()
    yield prefix + buffer.getvalue().encode("utf-8")


# --- XLSX ------------------------------------------------------------------------------------
def write_xlsx(target: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
               sheet_name: str = "Sheet1", tmp_dir: str | None = None) -> int:
    """Write the workbook to the file ``target`` in constant memory (each row goes to a
    temporary file in ``tmp_dir`` as soon as the next one starts); returns the row count."""
    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "tmpdir": tmp_dir,
        # belt and braces: we only call write_string for text, but never let a string turn
        # into a formula, a link or a number
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    try:
        sheet = workbook.add_worksheet(sheet_name)
        formats = {
            STRING: None, INTEGER: None,
            TEXT: workbook.add_format({"num_format": "@"}),
            DECIMAL2: workbook.add_format({"num_format": "0.00"}),
            DATETIME: workbook.add_format({"num_format": XLSX_DATETIME_FORMAT}),
        }
        header_format = workbook.add_format({"bold": True, "bg_color": "#EEEEEE"})
        for c, column in enumerate(columns):
            sheet.set_column(c, c, column.width, formats[column.kind])
            sheet.write_string(0, c, neutralise(column.header), header_format)
        sheet.freeze_panes(1, 0)
        count = _write_rows(sheet, columns, rows, formats)
        sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    finally:
        workbook.close()
    return count


def _write_rows(sheet: Any, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
                formats: dict[str, Any]) -> int:
    write_string, write_number = sheet.write_string, sheet.write_number
    write_datetime = sheet.write_datetime
    plan = [(c, column.kind, formats[column.kind]) for c, column in enumerate(columns)]
    r = 0
    for r, row in enumerate(rows, start=1):
        for c, kind, fmt in plan:
            value = row[c]
            if value is None or value == "":
                continue
            if kind is STRING or kind is TEXT:
                if value[0] in _TRIGGER_SET:
                    value = "'" + value
                write_string(r, c, value, fmt)
            elif kind is INTEGER:
                write_number(r, c, value)
            elif kind is DECIMAL2:
                write_number(r, c, float(value), fmt)
            else:
                if value.__class__ is str:
                    value = datetime.fromisoformat(value)
                write_datetime(r, c, value, fmt)
    return r


def xlsx_stream(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                sheet_name: str = "Sheet1", tmp_dir: str | None = None,
                chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The XLSX file as byte chunks.  XlsxWriter's constant-memory mode needs a real file:
    the workbook is written into a private temporary directory (under ``tmp_dir``), then read
    back in chunks; the directory goes away when the iterator finishes or is closed (a client
    that disconnects), and nothing is written before the first chunk is asked for."""
    if tmp_dir:
        os.makedirs(tmp_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlsx-", dir=tmp_dir) as work:
        path = os.path.join(work, "export.xlsx")
        write_xlsx(path, columns, rows, sheet_name=sheet_name, tmp_dir=work)
        with open(path, "rb") as f:
            while chunk := f.read(chunk_size):
                yield chunk

