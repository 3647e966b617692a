"""The downloadable import template (.xlsx): the columns with their Chinese headers, text
format on the number columns so Excel keeps every digit, drop-down lists and number checks from
the same rules the import applies, and an instructions sheet.  Pure: data in, bytes out."""
from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from flask_babel import gettext as _

from heating.households.imports.rules import COLUMNS, RULES, previous_heating_choices

DATA_SHEET = "户籍信息"
HELP_SHEET = "填写说明"
TEMPLATE_ROWS = 5000
#: columns whose digits must stay text (ID, phone, account) or that Excel would turn into dates
TEXT_COLUMNS = {"id_number", "phone", "bank_account", "address"}
WIDTHS = {"head_name": 10, "id_number": 21, "phone": 13, "township": 10, "village": 10,
          "address": 12, "residents": 9, "heated_area": 15, "previous_heating": 16,
          "coal_stoves": 13, "conversion_type": 10, "bank_name": 18, "bank_account": 23,
          "account_holder": 10, "low_income": 8}
EXAMPLE = {"head_name": "张建明", "id_number": "11010519491231002X", "phone": "13812345678",
           "township": "东河镇", "village": "东河村", "address": "3组18号", "residents": "4",
           "heated_area": "95.5", "previous_heating": "燃煤炉", "coal_stoves": "2",
           "conversion_type": "煤改电", "bank_name": "中国农业银行",
           "bank_account": "6228480000000000004", "account_holder": "张建明",
           "low_income": "否"}


def template_bytes() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    styles = {
        "head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                 "text_wrap": True, "valign": "vcenter"}),
        "required": book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1,
                                     "text_wrap": True, "valign": "vcenter"}),
        "text": book.add_format({"num_format": "@"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "bold": book.add_format({"bold": True, "valign": "top", "text_wrap": True}),
    }
    _data_sheet(book, styles)
    _help_sheet(book, styles)
    book.close()
    return out.getvalue()


def _data_sheet(book: Any, styles: dict[str, Any]) -> None:
    sheet = book.add_worksheet(DATA_SHEET)
    last = TEMPLATE_ROWS
    for col, column in enumerate(COLUMNS):
        fmt = styles["text"] if column.key in TEXT_COLUMNS else None
        sheet.set_column(col, col, WIDTHS.get(column.key, 12), fmt)
        sheet.write_string(0, col, column.header,
                           styles["required"] if column.required else styles["head"])
        check = _validation(column.key)
        if check:
            sheet.data_validation(1, col, last, col, check)
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 0)
    sheet.activate()


def _validation(key: str) -> dict[str, Any] | None:
    """Excel's own cell checks, from the rules the import applies (a clerk sees a mistake
    while typing; the import checks again anyway)."""
    def between(rule: tuple[Any, Any, Any], kind: str) -> dict[str, Any]:
        low, high, message = rule
        return {"validate": kind, "criteria": "between", "minimum": float(low),
                "maximum": float(high), "error_title": _("Check the value"),
                "error_message": str(message)[:255], "ignore_blank": True}

    if key == "residents":
        return between(RULES.residents, "integer")
    if key == "coal_stoves":
        return between(RULES.coal_stoves, "integer")
    if key == "heated_area":
        return between(RULES.heated_area, "decimal")
    lists = {"conversion_type": ["煤改气", "煤改电"], "low_income": ["是", "否"],
             "previous_heating": previous_heating_choices()}
    if key in lists:
        return {"validate": "list", "source": lists[key], "ignore_blank": True}
    return None


def _help_sheet(book: Any, styles: dict[str, Any]) -> None:
    sheet = book.add_worksheet(HELP_SHEET)
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 80)
    sheet.set_column(3, 3, 22)
    sheet.write_string(0, 0, _("How to fill in the household import template"),
                       styles["title"])
    row = 2
    for line in _general_notes():
        sheet.merge_range(row, 0, row, 3, line, styles["wrap"])
        sheet.set_row(row, 32)
        row += 1
    row += 1
    # the example runs down a column: laid out as a row it would read as a second table
    for col, title in enumerate((_("Column"), _("Required"), _("How to fill it in"),
                                 _("Example"))):
        sheet.write_string(row, col, title, styles["bold"])
    row += 1
    notes = _column_notes()
    for column in COLUMNS:
        sheet.write_string(row, 0, column.header, styles["bold"])
        sheet.write_string(row, 1, _("Yes") if column.required else _("No"), styles["wrap"])
        sheet.write_string(row, 2, notes[column.key], styles["wrap"])
        sheet.write_string(row, 3, EXAMPLE[column.key], styles["wrap"])
        row += 1


def _general_notes() -> list[str]:
    return [
        _("Fill in one household per row on the sheet “%(sheet)s”, starting under the headers. "
          "Do not change the headers; extra columns are ignored.", sheet=DATA_SHEET),
        _("The ID number, mobile number and account number columns are formatted as text. "
          "If you paste numbers from elsewhere, paste them as values and make sure the column "
          "stays text: a number stored by Excel loses its last digits and the row is refused."),
        _("Upload the file on the Import page. You first see a preview listing, row by row, "
          "what will be created and what is wrong; nothing is saved until you confirm. Only "
          "the valid rows are imported; fix the others and upload them in a new file."),
        _("Imported cases are drafts in the programme year chosen when uploading. The device "
          "kind starts as a gas wall-hung boiler (煤改气) or an air-source heat pump (煤改电): "
          "correct it on the case if the household chose another device."),
        _("The same file can be imported only once. Files up to 10 MB; .xlsx or CSV (UTF-8 "
          "or GBK). Title rows above the headers and signature lines under the table "
          "(填表人, 审核人, 日期) may stay."),
    ]


def _column_notes() -> dict[str, str]:
    return {
        "head_name": _("Name of the head of household, at most 50 characters."),
        "id_number": _("18 characters as on the ID card; the last may be X. Each ID number "
                       "may appear only once and must not already have an active case."),
        "phone": _("11-digit mobile number."),
        "township": _("Name of the township, as in the system. May be left empty when no "
                      "other village in your area has the same name."),
        "village": _("Name of the village, as in the system. Only villages in your area."),
        "address": _("Group and house number, e.g. 3组18号 (split at “组”); without “组” the "
                     "whole text is the house number."),
        "residents": _("Whole number from %(low)s to %(high)s.", low=RULES.residents[0],
                       high=RULES.residents[1]),
        "heated_area": _("Square metres, from %(low)s to %(high)s, at most two decimals.",
                         low=RULES.heated_area[0], high=RULES.heated_area[1]),
        "previous_heating": _("One of the listed kinds (燃煤炉 when left empty)."),
        "coal_stoves": _("Whole number from %(low)s to %(high)s.", low=RULES.coal_stoves[0],
                         high=RULES.coal_stoves[1]),
        "conversion_type": _("煤改气 or 煤改电."),
        "bank_name": _("May be left empty in a draft; needed before submission."),
        "bank_account": _("16 to 19 digits, in the head of household's name. May be left "
                          "empty in a draft. A number failing the card check digit is "
                          "imported with a warning; confirm it on the case."),
        "account_holder": _("Normally the head of household; another holder needs a county "
                            "exception before submission."),
        "low_income": _("是 or 否 (否 when left empty)."),
    }
