"""Building household files for the import tests: .xlsx with XlsxWriter, CSV in any encoding."""
from __future__ import annotations

import io
from typing import Any

import xlsxwriter

from heating.households.imports.rules import TEMPLATE_HEADERS
from tests.factories import luhn_account, make_id_number


def row(n: int, over: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A valid row for village 东河村 of 东河镇 (the test world), keyed by template header."""
    name = f"张{'建国明华丽'[n % 5]}{'一二三四五六七八九'[n % 9]}"
    values = {"户主姓名": name, "身份证号": make_id_number(100 + n), "联系电话": f"139{n:08d}",
              "乡镇": "东河镇", "村": "东河村", "组/门牌号": f"{n % 9 + 1}组{n + 1}号",
              "常住人口": "4", "供暖面积(平方米)": "95.5", "原取暖方式": "燃煤炉",
              "原燃煤炉具数": "2", "改造类型": "煤改电", "开户银行": "中国农业银行",
              "银行账号": luhn_account(500 + n), "账户名": name, "低保户": "否"}
    values.update(over or {})
    values.update(kw)
    return values


def grid(rows: list[dict[str, Any]], headers: list[str] | tuple[str, ...] = TEMPLATE_HEADERS,
         keys: list[str] | tuple[str, ...] | None = None) -> list[list[Any]]:
    """The header row and one list per row; ``keys`` are the template headers the (possibly
    differently spelt) ``headers`` stand for."""
    keys = keys or headers
    return [list(headers)] + [[values.get(k) for k in keys] for values in rows]


def xlsx(table: list[list[Any]], *, sheet: str = "Sheet1",
         before_sheets: tuple[str, ...] = ()) -> bytes:
    """A workbook whose first data sheet holds ``table`` from A1.  A value's Python type decides
    the cell type: str → text cell, int/float → number cell, None → empty."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    for name in before_sheets:
        book.add_worksheet(name).write_string(0, 0, "说明：请在下一页填写")
    ws = book.add_worksheet(sheet)
    for r, values in enumerate(table):
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    book.close()
    return out.getvalue()


def csv_bytes(table: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    lines = [delimiter.join("" if v is None else str(v) for v in values) for values in table]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
