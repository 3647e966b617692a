"""The generic reader (heating.core.spreadsheet_read): what it accepts, what it refuses before
any parser runs, and how cells become text.  No database."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import date

import pytest

from heating.core import spreadsheet_read as sr
from tests.imports.helpers import csv_bytes, xlsx

TABLE = [["户主姓名", "身份证号", "联系电话"], ["张三", "11010519491231002X", "13812345678"]]


def rezip(data: bytes, replace: dict[str, bytes] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w",
                                                                   zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info)))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def refused(data: bytes, code: str) -> sr.SpreadsheetError:
    with pytest.raises(sr.SpreadsheetError) as caught:
        book = sr.read_book(data)
        list(book.sheets)
    assert caught.value.code == code
    assert str(caught.value.message)  # a message for the user, not only a code
    return caught.value


def sheet_rows(data: bytes) -> list[list]:
    return next(sr.read_book(data).sheets).rows


# --- accepted -------------------------------------------------------------------------------
def test_reads_xlsx_keeping_cell_types():
    rows = sheet_rows(xlsx([["身份证号", "面积"], ["11010519491231002X", 95.5],
                            [410881199001011231, 80]]))
    assert rows[1] == ["11010519491231002X", 95.5]
    assert isinstance(rows[2][0], float) and rows[2][1] == 80.0


def test_rows_keep_their_spreadsheet_positions():
    rows = sheet_rows(xlsx([[None], [None, None, "x"]]))
    assert rows[1][2] == "x"  # row 2, column C, even though A1:B1 are empty


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_reads_csv_in_every_accepted_encoding(encoding):
    book = sr.read_book(csv_bytes(TABLE, encoding))
    assert book.kind == "csv"
    assert next(book.sheets).rows == TABLE


def test_csv_separated_by_tabs_or_semicolons():
    for delimiter in ("\t", ";"):
        rows = next(sr.read_book(csv_bytes(TABLE, "utf-8", delimiter)).sheets).rows
        assert rows == TABLE


def test_type_comes_from_the_content():
    assert sr.read_book(xlsx(TABLE)).kind == "xlsx"
    assert sr.read_book(csv_bytes(TABLE)).kind == "csv"


# --- refused before parsing ------------------------------------------------------------------
def test_empty_file():
    refused(b"", "empty")
    refused(b"\xef\xbb\xbf\r\n", "empty")


def test_old_xls_gets_save_as_xlsx_message():
    err = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "xls")
    assert ".xlsx" in str(err.message)


@pytest.mark.parametrize("magic", [b"MZ\x90\x00\x03", b"\x7fELF\x02\x01", b"%PDF-1.7\n",
                                   b"\x89PNG\r\n\x1a\n", b"\x1f\x8b\x08\x00"])
def test_renamed_binaries_are_refused(magic):
    refused(magic + bytes(range(256)) * 4, "foreign")


def test_text_in_an_unknown_encoding():
    refused("户主姓名,身份证号\r\n".encode() + b"\x80\xff", "encoding")


def test_csv_with_too_many_rows(monkeypatch):
    monkeypatch.setattr(sr, "MAX_ROWS", 10)
    refused(csv_bytes([["a", "b"]] * 20), "too_many_rows")


def test_binary_without_known_magic_is_not_read_as_csv():
    refused(b"abc\x00\x01\x02" * 200, "binary")


def test_xlsm_with_vba_project_is_refused():
    refused(rezip(xlsx(TABLE), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "macros")


def test_macro_enabled_content_type_is_refused():
    data = xlsx(TABLE)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        types = zf.read("[Content_Types].xml").replace(
            b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
    refused(rezip(data, replace={"[Content_Types].xml": types}), "macros")


def test_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    refused(out.getvalue(), "not_xlsx")
    refused(b"PK\x03\x04" + b"\x00" * 100, "bad_zip")


def test_too_many_zip_entries(monkeypatch):
    monkeypatch.setattr(sr, "MAX_ZIP_ENTRIES", 20)
    refused(rezip(xlsx(TABLE), add={f"xl/media/p{i}.png": b"x" for i in range(25)}),
            "zip_entries")


def _bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b"".join(packer.compress(b"\0" * 1024 * 1024) for _ in range(megabytes)) + \
        packer.flush()


def test_zip_bomb_refused_by_declared_size(monkeypatch):
    monkeypatch.setattr(sr, "MAX_UNCOMPRESSED", 2 * 1024 * 1024)
    refused(rezip(xlsx(TABLE), add={"xl/media/bomb.bin": b"\0" * 3 * 1024 * 1024}),
            "zip_size")


def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the central directory so ``name`` claims ``size`` bytes unpacked."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack("<H", buf[pos + 28:pos + 30])[0]
        if buf[pos + 46:pos + 46 + name_len] == name.encode():
            buf[pos + 24:pos + 28] = struct.pack("<I", size)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def test_zip_bomb_with_lying_directory_is_stopped_while_inflating(monkeypatch):
    monkeypatch.setattr(sr, "MAX_UNCOMPRESSED", 2 * 1024 * 1024)
    data = rezip(xlsx(TABLE), add={"xl/media/bomb.bin": b"\0" * 5 * 1024 * 1024})
    refused(_patch_declared_size(data, "xl/media/bomb.bin", 1000), "zip_size")
    assert len(_bomb(1)) < 5000  # what such a part weighs in the upload


def test_entry_larger_than_declared_is_damaged():
    data = rezip(xlsx(TABLE), add={"xl/media/a.bin": b"\1" * 5000})
    refused(_patch_declared_size(data, "xl/media/a.bin", 10), "zip_mismatch")


ENTITIES = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n')


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml",
                                  "[Content_Types].xml", "xl/_rels/workbook.xml.rels"])
def test_entity_declarations_in_any_xml_part_are_refused(part):
    data = xlsx(TABLE)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        body = zf.read(part).split(b"?>", 1)[1]
    refused(rezip(data, replace={part: ENTITIES + body}), "xml_dtd")


def test_external_entity_after_a_long_comment_is_still_found():
    data = xlsx(TABLE)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        body = zf.read("xl/workbook.xml").split(b"?>", 1)[1]
    evil = (b'<?xml version="1.0"?><!--' + b"x" * 5000 + b'-->'
            b'<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body)
    refused(rezip(data, replace={"xl/workbook.xml": evil}), "xml_dtd")


def test_sheet_dimensions_checked_before_loading(monkeypatch):
    monkeypatch.setattr(sr, "MAX_ROWS", 50)
    refused(xlsx([["a"]] + [[None]] * 60 + [["far down"]]), "too_many_rows")


# --- cells and headers ----------------------------------------------------------------------
@pytest.mark.parametrize("value,text", [
    (None, ""), ("  张三 ", "张三"), (13812345678.0, "13812345678"), (95.5, "95.5"),
    (95.55000000000001, "95.55"), (4.0, "4"), (True, "TRUE"), (date(2026, 1, 2), "2026-01-02"),
    (4.108811990010112e17, "4.10881199001011e+17"),
])
def test_cell_text(value, text):
    assert sr.cell_text(value) == text


@pytest.mark.parametrize("value,lost", [
    (4.108811990010112e17, True), (6.228480000000000e18, True), (13812345678.0, False),
    ("4.10881E+17", True), ("４.１０８８１Ｅ＋１７", True), ("11010519491231002X", False),
    (410881199001011.0, False), ("", False),
])
def test_lost_precision(value, lost):
    assert sr.lost_precision(value) is lost


def test_header_key_folds_spaces_brackets_and_stars():
    assert sr.header_key(" 供暖面积（平方米） ") == sr.header_key("供暖面积(平方米)")
    assert sr.header_key("*户主 姓名：") == "户主姓名"


def test_column_letters():
    assert [sr.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ",
                                                                   "AAA"]


def test_find_header_below_titles_and_blank_rows():
    aliases = {"户主姓名": "name", "身份证号": "id", "联系电话": "phone"}
    rows = [["花名册", "", ""], ["", "", ""], ["联系电话", " 户主姓名 ", "身份证号", "备注"],
            ["1", "2", "3", "4"]]
    header = sr.find_header(rows, aliases)
    assert header.row == 2
    assert header.columns == {"phone": 0, "name": 1, "id": 2}
    assert header.labels["name"] == "户主姓名"
    assert sr.find_header(rows[:2], aliases) is None
