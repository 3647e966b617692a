"""Spreadsheets out: CSV (UTF-8 with a BOM, so Excel picks the right encoding) and XLSX,
both produced as an iterator of byte chunks whose memory does not grow with the number of
rows.

XLSX is written here, not by a library: the sheet XML is generated row by row (inline strings,
no shared-string table) straight into a deflate stream, so nothing is kept but the current
chunk and no temporary file is needed.  XlsxWriter's constant-memory mode, which we used
before, took about 6 s for the 20,000-row ledger on our 2-core machines; this takes about
0.5 s for the same cells (see docs/benchmarks.md).  The package holds only what Excel, WPS,
LibreOffice, openpyxl and calamine need: content types, relationships, workbook, styles and
one sheet.

Domain-free: callers describe the columns (a header, a kind, a width) and pass rows as
sequences of values in column order, usually a generator straight off a database cursor.

Two promises hold for every cell:

- **No formula runs.**  A string starting with ``= + - @``, a tab or a carriage return is
  written with a leading apostrophe (``neutralise``): Excel, WPS and LibreOffice would
  otherwise evaluate ``=HYPERLINK(...)`` typed into a name field.  XLSX strings are always
  inline string cells: nothing we write is ever a formula.
- **Long digit strings stay exact.**  ``TEXT`` columns (ID numbers, bank accounts, area codes)
  are string cells with the text number format (``@``) in XLSX; in CSV an all-digit value gets a
  leading tab, which makes Excel keep it as text instead of rounding an 18-digit ID number
  to 15 significant digits.  (The tab is ours, added after the guard; readers that normalise
  whitespace, like ``heating.core.ids.normalize``, drop it.)
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence
from xml.sax.saxutils import quoteattr

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
#: a longer sheet would not open)
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
#: style indexes in _STYLES' cellXfs
_S_HEADER, _S_TEXT, _S_DECIMAL2, _S_DATETIME, _S_PLAIN, _S_BOLD = 1, 2, 3, 4, 5, 6
#: characters XML 1.0 cannot hold at all (tab, LF and CR can): written as Excel's _xHHHH_
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DEFLATE_LEVEL = 1  # the XML is repetitive: level 1 is 3x faster than 6 and ~15% larger

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{XLSX_DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFEEEEEE"/>'
    '<bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs>'
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
    'applyFill="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def _workbook_xml(sheet_name: str, last_ref: str | None) -> str:
    # the hidden name Excel keeps for an autofilter's range
    names = (f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
             f'hidden="1">{_xml_text(_sheet_ref(sheet_name))}!{last_ref}</definedName>'
             '</definedNames>') if last_ref else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name={quoteattr(sheet_name)} sheetId="1" r:id="rId1"/></sheets>'
            f'{names}</workbook>')


def _sheet_ref(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _column_letter(index: int) -> str:
    letters, n = "", index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in value:  # a parser turns a raw CR into LF: only a reference keeps it
        value = value.replace("\r", "&#13;")
    if _ILLEGAL_XML.search(value):
        value = _ILLEGAL_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


def _string_cell(ref: str, value: str, style: int) -> str:
    if value[0] in _TRIGGER_SET:
        value = "'" + value
    text = _xml_text(value)
    space = ' xml:space="preserve"' if value[0] == " " or value[-1] in " \t\r\n" else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so the same workbook always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    # the entry's own level (zipfile ignores the archive's level for a ZipInfo); 3.13 renamed
    # the slot to compress_level and kept this name as an alias
    info._compresslevel = _DEFLATE_LEVEL  # type: ignore[attr-defined]
    return info


class _Sink(io.RawIOBase):
    """The zip's output: an unseekable stream whose bytes we hand out as chunks (zipfile
    then writes data descriptors instead of seeking back)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer += data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _sheet_head(columns: Sequence[Column], preamble: Sequence[Sequence[Any]]) -> str:
    cols = "".join(f'<col min="{c}" max="{c}" width="{column.width}" customWidth="1"'
                   f'{_COLUMN_STYLE[column.kind]}/>' for c, column in enumerate(columns, 1))
    lines = []
    for r, line in enumerate(preamble, start=1):
        cells = []
        for c, value in enumerate(line):
            ref = f"{_column_letter(c)}{r}"
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                cells.append(f'<c r="{ref}" s="{_S_DECIMAL2}"><v>{value}</v></c>')
            elif value:
                cells.append(_string_cell(ref, str(value), _S_BOLD if c == 0 else _S_TEXT))
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    top = len(preamble) + 1
    header = "".join(_string_cell(f"{_column_letter(c)}{top}", column.header, _S_HEADER)
                     for c, column in enumerate(columns) if column.header)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{top}" '
            f'topLeftCell="A{top + 1}" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            f'<cols>{cols}</cols><sheetData>{"".join(lines)}<row r="{top}">{header}</row>')


_COLUMN_STYLE = {STRING: "", INTEGER: "", TEXT: f' style="{_S_TEXT}"',
                 DECIMAL2: f' style="{_S_DECIMAL2}"', DATETIME: f' style="{_S_DATETIME}"'}


def _row_xml(r: int, row: Sequence[Any], plan: Sequence[tuple[int, str, str]]) -> str:
    cells = []
    for c, kind, letter in plan:
        value = row[c]
        if value is None or value == "":
            continue
        ref = f"{letter}{r}"
        if kind is STRING:
            cells.append(_string_cell(ref, value, _S_PLAIN))
        elif kind is TEXT:
            cells.append(_string_cell(ref, value, _S_TEXT))
        elif kind is INTEGER:
            if value.__class__ is str:
                cells.append(_string_cell(ref, value, _S_PLAIN))
            else:
                cells.append(f'<c r="{ref}"><v>{int(value)}</v></c>')
        elif kind is DECIMAL2:
            if value.__class__ is not str:
                value = f"{value:.2f}"
            cells.append(f'<c r="{ref}" s="{_S_DECIMAL2}"><v>{value}</v></c>')
        else:
            if value.__class__ is str:
                value = datetime.fromisoformat(value)
            delta = value - _EXCEL_EPOCH
            serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
            cells.append(f'<c r="{ref}" s="{_S_DATETIME}"><v>{serial!r}</v></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'


def xlsx_stream(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                sheet_name: str = "Sheet1", tmp_dir: str | None = None,
                chunk_size: int = CHUNK_SIZE,
                preamble: Sequence[Sequence[Any]] = ()) -> Iterator[bytes]:
    """The XLSX file as byte chunks of about ``chunk_size`` (compressed), header row frozen
    and filtered.  ``preamble`` rows go above the header (a title block: first cell bold, the
    rest text; an int or Decimal is a two-decimal number).  The same input gives the same
    bytes (fixed entry dates in the zip).  Nothing is written anywhere but the chunks
    (``tmp_dir`` is accepted for callers of the earlier XlsxWriter version and ignored)."""
    sink = _Sink()
    book = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED,
                           compresslevel=_DEFLATE_LEVEL)
    for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                       ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                       ("xl/styles.xml", _STYLES)):
        book.writestr(_entry(name), text)
    plan = [(c, column.kind, _column_letter(c)) for c, column in enumerate(columns)]
    count, top = 0, len(preamble) + 1
    with book.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as sheet:
        parts = [_sheet_head(columns, preamble)]
        size = len(parts[0])
        for count, row in enumerate(rows, start=1):
            if count > XLSX_MAX_ROWS:
                raise ValueError(f"more than {XLSX_MAX_ROWS} rows do not fit on one sheet")
            xml = _row_xml(count + top, row, plan)
            parts.append(xml)
            size += len(xml)
            if size >= chunk_size:
                sheet.write("".join(parts).encode("utf-8"))
                parts, size = [], 0
                if sink.buffer:
                    yield sink.take()
        last = f"{_column_letter(len(columns) - 1)}{max(count, 1) + top}"
        parts.append(f'</sheetData><autoFilter ref="A{top}:{last}"/>'
                     '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                     'header="0.3" footer="0.3"/></worksheet>')
        sheet.write("".join(parts).encode("utf-8"))
    book.writestr(_entry("xl/workbook.xml"), _workbook_xml(
        sheet_name, f"$A${top}:$" + last.rstrip("0123456789") + "$"
        + last.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
    book.close()
    yield sink.take()


def write_xlsx(target: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
               sheet_name: str = "Sheet1", tmp_dir: str | None = None) -> int:
    """Write the workbook to the file ``target``; returns the number of data rows."""
    counted = _Counted(rows)
    with open(target, "wb") as f:
        for chunk in xlsx_stream(columns, counted, sheet_name=sheet_name):
            f.write(chunk)
    return counted.n


class _Counted:
    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[Sequence[Any]]:
        for row in self.rows:
            self.n += 1
            yield row
