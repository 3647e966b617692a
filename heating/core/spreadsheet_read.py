"""Reading uploaded spreadsheets safely: .xlsx (python-calamine) and CSV, nothing else.

Domain-free: the caller gets the sheets as rows of raw cell values and finds its own columns
(``find_header`` helps).  Before any parser sees a file it is identified by its first bytes, not
by its name, and an .xlsx is checked as a zip: entry count, real (CRC-checked) uncompressed
size, no macros, and no DTD or entity declaration in any XML part (the two parts we parse
ourselves go through defusedxml).  Every refusal is a ``SpreadsheetError`` whose message tells
the user what to do; nothing here raises anything else for a bad file.

Cell values keep their type: calamine gives ``float`` for every number, so a caller can tell an
ID number typed as text from one Excel stored as a number (``lost_precision``).
"""
from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring
from flask_babel import lazy_gettext as _l
from python_calamine import CalamineError, CalamineWorkbook

#: limits checked before a parser runs (a 10 MB upload of real data stays far below them)
MAX_ZIP_ENTRIES = 300
MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
#: an XML part's prolog (before its root element) longer than this is not an Office file
MAX_PROLOG = 64 * 1024

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04",)
_EMPTY_ZIP = b"PK\x05\x06"
#: first bytes of common non-spreadsheet files (refused with the generic message)
_FOREIGN = (b"MZ", b"\x7fELF", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!",
            b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa",
            b"\xcf\xfa\xed\xfe", b"#!")
_MACRO_TYPES = ("macroenabled", "vbaproject", "ms-office.activex")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_ROOT_START = re.compile(rb"<[A-Za-z_]")


class SpreadsheetError(Exception):
    """A file we will not read; ``message`` is for the user, ``code`` for callers and tests."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


@dataclass
class Sheet:
    """One worksheet: ``rows[i]`` is spreadsheet row ``i + 1`` (CSV: record ``i + 1``)."""

    name: str
    rows: list[list[Any]]


@dataclass
class Book:
    kind: str  # "xlsx" | "csv"
    sheets: Iterator[Sheet]
    encoding: str | None = None


@dataclass
class Header:
    """Where a header row was found and which column holds which key."""

    row: int  # index into Sheet.rows
    columns: dict[str, int]  # key → column index
    labels: dict[str, str]  # key → the header text as written in the file
    repeated: list[str] = field(default_factory=list)  # keys found in more than one column


# --- identification ------------------------------------------------------------------------------
def sniff(data: bytes) -> str:
    """"xlsx" or "csv" from the first bytes (never from the file's name), or SpreadsheetError
    saying what the file is."""
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise SpreadsheetError(_l("The file is empty."), "empty")
    if data.startswith(_OLE):
        raise SpreadsheetError(_l(
            "This is an old Excel file (.xls) or a password-protected workbook. Open it in "
            "Excel or WPS, remove any password and save it as an Excel workbook (.xlsx), then "
            "upload that file."), "xls")
    if data.startswith(_ZIP) or data.startswith(_EMPTY_ZIP):
        return "xlsx"
    if data.startswith(_FOREIGN):
        raise SpreadsheetError(_not_a_spreadsheet(), "foreign")
    return "csv"


def _not_a_spreadsheet() -> Any:
    return _l("This file is not an Excel workbook (.xlsx) or a CSV file. Upload the filled-in "
              "template, or save your spreadsheet as .xlsx and upload that.")


def read_book(data: bytes) -> Book:
    """The file's sheets, after every safety check; rows are read lazily per sheet."""
    kind = sniff(data)
    if kind == "xlsx":
        check_xlsx(data)
        return Book("xlsx", _xlsx_sheets(data))
    text, encoding = decode_text(data)
    return Book("csv", iter([Sheet("", _csv_rows(text))]), encoding)


# --- xlsx --------------------------------------------------------------------------------------
def check_xlsx(data: bytes) -> None:
    """Refuse a zip that is not a plain .xlsx, is too big unpacked, or carries macros or DTDs."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise SpreadsheetError(_damaged(), "bad_zip") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise SpreadsheetError(_too_big(), "zip_entries")
        if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
            raise SpreadsheetError(_too_big(), "zip_size")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise SpreadsheetError(_damaged(), "zip_duplicate_names")
        lowered = {n.lower() for n in names}
        if any(n.endswith("vbaproject.bin") or n.startswith("xl/activex/") for n in lowered):
            raise SpreadsheetError(_macros(), "macros")
        if "[content_types].xml" not in lowered or "xl/workbook.xml" not in lowered:
            if "xl/workbook.bin" in lowered or "mimetype" in lowered:
                raise SpreadsheetError(_l(
                    "This workbook is not in the .xlsx format (it may be .xlsb or .ods). Save "
                    "it as an Excel workbook (.xlsx) and upload that."), "other_format")
            raise SpreadsheetError(_not_a_spreadsheet(), "not_xlsx")
        _check_parts(data, infos)
        content_types = _safe_xml(zf, "[Content_Types].xml")
        if any(m in content_types.lower() for m in _MACRO_TYPES):
            raise SpreadsheetError(_macros(), "macros")
        _safe_xml(zf, "xl/workbook.xml")


def _check_parts(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """Inflate every entry once from its raw bytes, counting what really comes out (not what
    the directory claims), checking its CRC and that it has exactly the declared size: after
    this, any reader that trusts the directory unpacks no more than we counted.  Each XML
    part's prolog is searched for DTD and entity declarations on the way."""
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            raise SpreadsheetError(_damaged(), "zip_method")  # encrypted, or not what Excel writes
        is_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        size, crc, head = 0, 0, b""
        for chunk in _inflate(data, info):
            size += len(chunk)
            total += len(chunk)
            if total > MAX_UNCOMPRESSED:
                raise SpreadsheetError(_too_big(), "zip_size")
            crc = zlib.crc32(chunk, crc)
            if is_xml and len(head) < MAX_PROLOG:
                head += chunk[:MAX_PROLOG - len(head)]
        if size != info.file_size or crc != info.CRC:
            raise SpreadsheetError(_damaged(), "zip_mismatch")
        if is_xml:
            _check_prolog(head)


def _inflate(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's content in pieces of at most 1 MB, from the compressed bytes the directory
    points at (bounded output per step: a bomb never sits in memory whole)."""
    offset = info.header_offset
    if data[offset:offset + 4] != b"PK\x03\x04":
        raise SpreadsheetError(_damaged(), "zip_header")
    name_len, extra_len = struct.unpack("<HH", data[offset + 26:offset + 30])
    start = offset + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if len(raw) != info.compress_size:
        raise SpreadsheetError(_damaged(), "zip_truncated")
    step = 1024 * 1024
    if info.compress_type == zipfile.ZIP_STORED:
        for pos in range(0, len(raw), step):
            yield bytes(raw[pos:pos + step])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for pos in range(0, len(raw), 64 * 1024):
            pending = bytes(raw[pos:pos + 64 * 1024])
            while pending:
                out = inflater.decompress(pending, step)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
        rest = inflater.flush()
    except zlib.error:
        raise SpreadsheetError(_damaged(), "zip_inflate") from None
    if rest:
        yield rest


def _check_prolog(head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    match = _ROOT_START.search(head)
    if match is None and head.strip():
        raise SpreadsheetError(_damaged(), "xml_prolog")
    prolog = head[:match.start()] if match else head
    if b"<!doctype" in prolog.lower() or b"<!entity" in prolog.lower():
        raise SpreadsheetError(_dtd(), "xml_dtd")


def _safe_xml(zf: zipfile.ZipFile, name: str) -> str:
    real = next(i for i in zf.infolist() if i.filename.lower() == name.lower())
    raw = zf.read(real)
    try:
        safe_fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise SpreadsheetError(_dtd(), "xml_dtd") from None
    except (ParseError, ValueError, SyntaxError):
        raise SpreadsheetError(_damaged(), "xml_invalid") from None
    return raw.decode("utf-8", errors="replace")


def _xlsx_sheets(data: bytes) -> Iterator[Sheet]:
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        metadata = book.sheets_metadata
    except (CalamineError, ValueError, OSError):
        raise SpreadsheetError(_damaged(), "calamine") from None
    for meta in metadata:
        if str(meta.typ).rsplit(".", 1)[-1].lower() != "worksheet":
            continue
        try:
            sheet = book.get_sheet_by_name(meta.name)
            end_row, end_col = sheet.end or (0, 0)
            if end_row + 1 > MAX_ROWS or end_col + 1 > MAX_COLUMNS:
                raise SpreadsheetError(_l(
                    "The sheet “%(sheet)s” is too large (at most %(rows)d rows and %(cols)d "
                    "columns). Delete unused rows and columns, or split the file.",
                    sheet=meta.name, rows=MAX_ROWS, cols=MAX_COLUMNS), "too_many_rows")
            # absolute positions: row i is spreadsheet row i + 1, column j is column j + 1
            rows = sheet.to_python(skip_empty_area=False) if sheet.end else []
        except (CalamineError, ValueError, OSError):
            raise SpreadsheetError(_damaged(), "calamine") from None
        yield Sheet(meta.name, rows)


# --- csv ---------------------------------------------------------------------------------------
def decode_text(data: bytes) -> tuple[str, str]:
    """The file as text: UTF-16 when it has that BOM, else UTF-8 (BOM or not), else GB18030
    (which covers GBK and GB2312, what older systems export)."""
    candidates = (("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff"))
                  else ("utf-8-sig", "gb18030"))
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise SpreadsheetError(_not_a_spreadsheet(), "binary")
        return text, encoding
    raise SpreadsheetError(_l(
        "The text encoding of this CSV file is not recognised. Save it as “CSV UTF-8” or as an "
        "Excel workbook (.xlsx) and upload again."), "encoding")


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return "\x00" in sample or controls > len(sample) // 100 + 2


def _csv_rows(text: str) -> list[list[Any]]:
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    delimiter = max((",", "\t", ";"), key=lambda d: (min((ln.count(d) for ln in lines),
                                                          default=0), d == ","))
    rows = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(record)
            if len(rows) > MAX_ROWS:
                raise SpreadsheetError(_l(
                    "The file has more than %(rows)d rows. Split it into smaller files.",
                    rows=MAX_ROWS), "too_many_rows")
    except csv.Error:
        raise SpreadsheetError(_damaged(), "csv") from None
    if any(len(r) > MAX_COLUMNS for r in rows[:50]):
        raise SpreadsheetError(_not_a_spreadsheet(), "too_many_columns")
    return rows


# --- cells and headers -------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """A cell as the text a person sees in Excel: integral numbers without ".0", at most 15
    significant digits, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # Excel shows 15 significant digits: 95.55000000000001 (a formula's result) is 95.55
        return format(value, ".15g")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def lost_precision(value: Any) -> bool:
    """True for a long number that Excel stored as a number (it keeps 15 significant digits,
    so an 18-digit ID or a 16–19 digit account is already wrong), or its CSV rendering
    (“4.10881E+17”)."""
    if isinstance(value, float):
        return abs(value) >= 1e15
    if isinstance(value, str):
        return bool(_SCIENTIFIC.fullmatch(unicodedata.normalize("NFKC", value).strip()))
    return False


def header_key(text: Any) -> str:
    """A header as compared: NFKC (full-width brackets and letters folded), no whitespace,
    no required-field stars or trailing colons, lower case."""
    folded = unicodedata.normalize("NFKC", cell_text(text))
    folded = "".join(folded.split()).strip("*:")
    return folded.lower()


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def find_header(rows: list[list[Any]], aliases: dict[str, str], *, scan: int = 30,
                min_hits: int = 3) -> Header | None:
    """The first row among the first ``scan`` that names at least ``min_hits`` known columns
    (``aliases`` maps ``header_key`` spellings to column keys); None when there is none."""
    for index, row in enumerate(rows[:scan]):
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        repeated: list[str] = []
        for col, value in enumerate(row):
            key = aliases.get(header_key(value)) if value not in (None, "") else None
            if key is None:
                continue
            if key in columns:
                repeated.append(key)
                continue
            columns[key] = col
            labels[key] = cell_text(value)
        if len(columns) >= min_hits:
            return Header(index, columns, labels, repeated)
    return None


def _damaged() -> Any:
    return _l("The file is damaged or not a real Excel workbook. Open it in Excel or WPS, save "
              "it again as .xlsx and upload that.")


def _too_big() -> Any:
    return _l("The workbook is too large once unpacked. Delete unused sheets, pictures and "
              "empty rows, or split the file, then upload again.")


def _macros() -> Any:
    return _l("Workbooks with macros (.xlsm) are refused. Save the file as an Excel workbook "
              "(.xlsx) without macros and upload that.")


def _dtd() -> Any:
    return _l("The workbook contains XML declarations (DTD/ENTITY) that Excel never writes; it "
              "is refused. Copy the data into the downloaded template and upload that.")
