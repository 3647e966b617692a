"""The domain-free spreadsheet writers: formula guard, BOM, text cells, chunking, flat memory.
No app, no database."""
from __future__ import annotations

import csv
import io
import os
import tracemalloc
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest

from heating.core import spreadsheet_write as sw

COLUMNS = (
    sw.Column("姓名", sw.STRING), sw.Column("身份证号", sw.TEXT), sw.Column("人数", sw.INTEGER),
    sw.Column("面积", sw.DECIMAL2), sw.Column("时间", sw.DATETIME),
)
ID = "11010519491231002X"
ACCOUNT = "6222020000000000013"
WHEN = datetime(2026, 3, 1, 9, 5)


def _csv(rows, columns=COLUMNS, **kw):
    data = b"".join(sw.csv_stream(columns, rows, **kw))
    assert data.startswith(sw.BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(rows, columns=COLUMNS, **kw):
    data = b"".join(sw.xlsx_stream(columns, rows, **kw))
    return openpyxl.load_workbook(io.BytesIO(data)).active


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_neutralise_every_formula_trigger(lead):
    assert sw.neutralise(lead + "1+1") == "'" + lead + "1+1"


@pytest.mark.parametrize("value", ["王建国", "", "1组18号", "'=quoted", " =1", 42, -3, 1.5,
                                   Decimal("-2.50"), None])
def test_neutralise_leaves_everything_else(value):
    assert sw.neutralise(value) == value


def test_csv_has_bom_header_and_typed_values():
    rows = _csv([("王建国", ID, 3, Decimal("80.50"), WHEN), ("李四", None, None, None, None)])
    assert rows[0] == ["姓名", "身份证号", "人数", "面积", "时间"]
    assert rows[1] == ["王建国", ID, "3", "80.50", "2026-03-01 09:05"]
    assert rows[2] == ["李四", "", "", "", ""]


def test_csv_keeps_long_digit_strings_as_text_for_excel():
    """An all-digit value in a TEXT column gets a leading tab (Excel then keeps it as text
    instead of rounding it to 15 digits); values with other characters are left alone."""
    columns = (sw.Column("账号", sw.TEXT), sw.Column("名称", sw.STRING))
    rows = _csv([(ACCOUNT, ACCOUNT), ("****0013", "x"), ("410881********1231", "")], columns)
    assert rows[1] == ["\t" + ACCOUNT, ACCOUNT]
    assert rows[2][0] == "****0013" and rows[3][0] == "410881********1231"


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_guards_string_and_text_cells(lead):
    evil = lead + 'HYPERLINK("http://evil.example","点我")'
    rows = _csv([(evil, evil, 1, Decimal("1"), WHEN)])
    assert rows[1][:2] == ["'" + evil, "'" + evil]


def test_csv_is_streamed_in_bounded_chunks():
    rows = (("王建国" * 3, ID, n, Decimal("80.00"), WHEN) for n in range(5000))
    chunks = list(sw.csv_stream(COLUMNS, rows, chunk_size=4096))
    assert len(chunks) > 20
    assert chunks[0].startswith(sw.BOM) and not any(c.startswith(sw.BOM) for c in chunks[1:])
    # chunk_size counts characters: up to 3 bytes each in UTF-8, plus the row that crossed it
    assert max(len(c) for c in chunks) < 3 * (4096 + 200)


def test_xlsx_cells_are_typed_and_numbers_stay_text():
    sheet = _xlsx([("王建国", ID, 3, Decimal("80.50"), WHEN),
                   ("李四", "139901198001010011", None, None, None)], sheet_name="台账")
    assert sheet.title == "台账"
    header = [c.value for c in sheet[1]]
    assert header == ["姓名", "身份证号", "人数", "面积", "时间"]
    name, number, people, area, when = sheet[2]
    assert number.value == ID and number.data_type == "s" and number.number_format == "@"
    assert sheet["B3"].value == "139901198001010011" and sheet["B3"].data_type == "s"
    assert people.value == 3 and area.value == 80.5 and area.number_format == "0.00"
    assert when.value == WHEN and when.is_date
    assert sheet["C3"].value is None
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_xlsx_guards_string_and_text_cells(lead):
    evil = lead + 'HYPERLINK("http://evil.example","点我")'
    sheet = _xlsx([(evil, evil, 1, Decimal("1"), WHEN)])
    for cell in sheet[2][:2]:
        assert cell.data_type == "s"  # a string cell, never a formula ("f")
        # XlsxWriter writes a CR as Excel's escape _x000D_, which openpyxl leaves as is
        assert cell.value.replace("_x000D_", "\r") == "'" + evil


def test_xlsx_writes_no_files_at_all(tmp_path):
    """The workbook is deflated straight into the chunks: no temporary file, even for a
    client that goes away after the first chunk."""
    rows = [("王建国", ID, n, Decimal("1"), WHEN) for n in range(2000)]
    data = b"".join(sw.xlsx_stream(COLUMNS, rows, tmp_dir=str(tmp_path)))
    assert data[:2] == b"PK" and os.listdir(tmp_path) == []
    stream = sw.xlsx_stream(COLUMNS, iter(rows), tmp_dir=str(tmp_path), chunk_size=256)
    next(stream)
    stream.close()
    assert os.listdir(tmp_path) == []


def test_xlsx_is_streamed_in_chunks():
    chunks = list(sw.xlsx_stream(COLUMNS, _rows(5000), chunk_size=4096))
    assert len(chunks) > 5 and chunks[0][:2] == b"PK"
    assert max(len(c) for c in chunks) < 64 * 1024


def test_xlsx_opens_in_calamine_too_with_the_same_values(tmp_path):
    """Our package must satisfy the other reader we use (and which Excel-like tools resemble
    more closely than openpyxl: it reads the raw XML)."""
    from python_calamine import CalamineWorkbook
    path = tmp_path / "x.xlsx"
    count = sw.write_xlsx(str(path), COLUMNS, [("王<&>建国", ID, 3, Decimal("80.50"), WHEN),
                                               (" 前导空格", "=1+1", None, "1.00", None)])
    assert count == 2
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["姓名", "身份证号", "人数", "面积", "时间"]
    assert rows[1][:4] == ["王<&>建国", ID, 3, 80.5] and rows[1][4] == WHEN
    assert rows[2][:2] == [" 前导空格", "'=1+1"] and rows[2][3] == 1.0


def test_xlsx_control_characters_do_not_break_the_file():
    sheet = _xlsx([("a\x01b\x1fc", "\x0b", 1, Decimal("1"), WHEN)])
    assert sheet["A2"].value.replace("_x0001_", "\x01").replace("_x001F_", "\x1f") == \
        "a\x01b\x1fc"


def test_xlsx_header_is_bold_frozen_and_filtered():
    data = b"".join(sw.xlsx_stream(COLUMNS, list(_rows(3))))
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"
    assert sheet.column_dimensions["B"].width > 0


def _rows(n):
    """Fresh rows made on demand, as a database cursor hands them over."""
    for i in range(n):
        yield (f"王建国{i}", f"{139901198001010000 + i}", i, Decimal(i).scaleb(-2), WHEN)


def _peak(stream) -> int:
    tracemalloc.start()
    try:
        for _ in stream:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_csv_memory_does_not_grow_with_rows():
    """Ten times the rows, the same peak: one chunk is held at a time, never the rows."""
    small = _peak(sw.csv_stream(COLUMNS, _rows(1_000), chunk_size=4096))
    large = _peak(sw.csv_stream(COLUMNS, _rows(10_000), chunk_size=4096))
    # 10,000 rows held at once would be over 1 MB; allow noise of 25% + 32 KB
    assert large < small * 1.25 + 32 * 1024, (small, large)


def test_xlsx_memory_does_not_grow_with_rows(tmp_path):
    """Five times the rows, the same peak: each chunk is deflated and handed out before the
    next rows are read (the benchmark measures 20,000 and 200,000)."""
    small = _peak(sw.xlsx_stream(COLUMNS, _rows(1_000), tmp_dir=str(tmp_path)))
    large = _peak(sw.xlsx_stream(COLUMNS, _rows(5_000), tmp_dir=str(tmp_path)))
    assert large < small * 1.25 + 32 * 1024, (small, large)


def test_text_values_in_number_and_time_columns():
    """Callers that already hold the text (the ledger does, per row) pass it through to CSV;
    XLSX still gets a number and a date cell."""
    rows = [("王建国", ID, 3, "80.55", "2026-03-01 09:05")]
    assert _csv(rows)[1][3:] == ["80.55", "2026-03-01 09:05"]
    area, when = _xlsx(rows)[2][3:]
    assert area.value == 80.55 and area.number_format == "0.00"
    assert when.value == WHEN and when.is_date


def test_xlsx_same_input_same_bytes():
    rows = [("王建国", ID, 3, Decimal("80.50"), WHEN)]
    assert b"".join(sw.xlsx_stream(COLUMNS, rows)) == b"".join(sw.xlsx_stream(COLUMNS, rows))


def test_xlsx_preamble_above_the_header():
    """A title block (the bank file's) above the table: the header row, the frozen pane and
    the filter move down with it; a Decimal in the block is a number."""
    preamble = [["补贴发放银行代发文件"], ["批次号", "FF-1"], ["付款总金额（元）", Decimal("6800.50")],
                []]
    data = b"".join(sw.xlsx_stream(COLUMNS, list(_rows(2)), preamble=preamble))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "补贴发放银行代发文件" and sheet["A1"].font.b
    assert sheet["B2"].value == "FF-1" and sheet["B3"].value == 6800.5
    assert [c.value for c in sheet[5]] == ["姓名", "身份证号", "人数", "面积", "时间"]
    assert sheet["A6"].value == "王建国0" and sheet.freeze_panes == "A6"
    assert sheet.auto_filter.ref == "A5:E7"
