"""The payout roster (补贴发放花名册) of one township of a batch, as PDF bytes.

Pure, like ``heating.certificates.render``: a ``RosterData`` in, a ``Rendered`` out, the same
data giving the same bytes; a character no bundled font has stops it (``UnprintableError``
naming every case at fault).  Numbers arrive masked (the roster is filed and signed in the
township office; the bank gets the bank file).  Labels are literal Chinese: an official form.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from heating.core.money import fen_in_capitals, format_fen
from heating.core.pdf import REGULAR, NumberedCanvas, cn_date, para, print_name_note, styles
from heating.core.rendered import NOT_PRINTED, Rendered, check_printable, printed_texts

__all__ = ["Rendered", "RosterData", "RosterRow", "render_roster"]

TITLE = "补贴发放花名册"
MARGIN = 16 * mm
WIDTH = 595.28 - 2 * MARGIN
COLUMNS = ("序号", "村（社区）", "姓名", "身份证号", "银行账号", "金额（元）")
WIDTHS = (0.07, 0.19, 0.14, 0.25, 0.15, 0.20)
SIGNATURES = "制表人：＿＿＿＿＿＿　　　审核人：＿＿＿＿＿＿　　　负责人：＿＿＿＿＿＿"

#: under the list when some rows print a print spelling (印刷用名)
PRINT_NAME_NOTE = "注：序号 {rows} 的户主登记姓名含字库未收录的生僻字，按印刷用名打印。"


@dataclass(frozen=True)
class RosterRow:
    seq: int
    village: str
    name: str
    id_masked: str
    account_masked: str
    amount_fen: int
    #: ``name`` is the case's print spelling (印刷用名): a note under the list says so
    print_name_used: bool = False
    case_no: str = field(default="", metadata=NOT_PRINTED)  #: names the case in a refusal


@dataclass(frozen=True)
class RosterData:
    batch_number: str
    kind: str
    county: str
    township: str
    rows: tuple[RosterRow, ...]
    printed_on: date | None = None

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen for r in self.rows)


def _table(d: RosterData) -> Table:
    s = styles()
    body: list[list[object]] = [[para(c, s["label_center"]) for c in COLUMNS]]
    for r in d.rows:
        body.append([str(r.seq), para(r.village, s["cell"]), para(r.name, s["cell"]),
                     r.id_masked, r.account_masked, format_fen(r.amount_fen)])
    body.append(["", para("合计", s["label_center"]), f"{len(d.rows)} 户", "", "",
                 format_fen(d.total_fen)])
    last = len(body) - 1
    table = Table(body, colWidths=[WIDTH * w for w in WIDTHS], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), REGULAR), ("FONTSIZE", (0, 1), (-1, -1), 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 1), (0, -1), "CENTER"), ("ALIGN", (5, 1), (5, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("SPAN", (3, last), (4, last)),
        ("BACKGROUND", (0, last), (-1, last), colors.Color(0.97, 0.97, 0.97)),
    ]))
    return table


def _heading(d: RosterData) -> Table:
    s = styles()
    line = Table([[para(f"{d.county}{d.township}　{d.kind}", s["cell"]),
                   para(f"批次号：{d.batch_number}", s["cell"])]],
                 colWidths=[WIDTH * 0.55, WIDTH * 0.45])
    line.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR),
                              ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return line


def render_roster(d: RosterData) -> Rendered:
    check_printable([("", "", [d.batch_number, d.kind, d.county, d.township])] + [
        (r.case_no, r.name, printed_texts(r)) for r in d.rows])
    s = styles()
    story = [para(TITLE, s["title"]), _heading(d), Spacer(1, 4), _table(d), Spacer(1, 8),
             para(f"本乡镇合计：{len(d.rows)} 户，金额 {format_fen(d.total_fen)} 元", s["body"]),
             para(f"合计金额（大写）：{fen_in_capitals(d.total_fen)}", s["body"]),
             *print_name_note(d.rows, PRINT_NAME_NOTE),
             Spacer(1, 22), para(SIGNATURES, s["body"]), Spacer(1, 14),
             para(f"（单位盖章）　　　　制表日期：{cn_date(d.printed_on) if d.printed_on else ''}",
                  s["body"])]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=(595.28, 841.89), leftMargin=MARGIN,
                            rightMargin=MARGIN, topMargin=14 * mm, bottomMargin=16 * mm,
                            title=f"{TITLE} {d.batch_number} {d.township}", creator="heating",
                            producer="heating", invariant=1)
    doc.build(story, canvasmaker=NumberedCanvas)
    return Rendered(out.getvalue())
