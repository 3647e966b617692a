"""The 公示 notice as documents: the PDF posted on the village board and its XLSX copy.

Pure, like ``heating.certificates.render``: a ``NoticeData`` in, bytes out; the same data gives
the same PDF bytes.  A character no bundled font has stops the PDF (``UnprintableError``
naming every case at fault).  A notice is a public document: it carries masked names (张*明) and masked ID
numbers (410881********1231) only, never a phone or bank number of a household; the masks are
applied again here, so a full value handed in by mistake still prints masked.  Labels are
literal Chinese: this is an official document, not a translated screen.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Sequence

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from heating.core.masking import mask_id, mask_name
from heating.core.pdf import REGULAR, NumberedCanvas, cn_date, para, print_name_note, styles
from heating.core.rendered import NOT_PRINTED, Rendered, check_printable, printed_texts
from heating.core.spreadsheet_write import DECIMAL2, INTEGER, STRING, TEXT, Column, xlsx_stream

MARGIN = 15 * mm
WIDTH = 595.28 - 2 * MARGIN
HEADERS = ("序号", "村（社区）", "户主姓名", "身份证号", "改造类型", "设备类型", "设备购置补贴（元）")
#: column widths as shares of the table's width
SHARES = (0.07, 0.17, 0.11, 0.24, 0.11, 0.15, 0.15)

#: under the list when some rows print a print spelling (印刷用名)
PRINT_NAME_NOTE = "注：第 {rows} 行户主登记姓名含字库未收录的生僻字，按印刷用名打印。"


@dataclass(frozen=True)
class NoticeRow:
    seq: int
    village: str
    masked_name: str
    masked_id: str
    conversion_type: str  #: 煤改电 / 煤改气
    device_kind: str  #: 空气源热泵 …
    amount: str  #: "6,800.00"
    #: the masked name is of the case's print spelling (印刷用名): a note under the list says so
    print_name_used: bool = False
    case_no: str = field(default="", metadata=NOT_PRINTED)  #: names the case in a refusal
    case_name: str = field(default="", metadata=NOT_PRINTED)  #: the head, for the refusal


@dataclass(frozen=True)
class NoticeData:
    """Everything printed on a notice, as display text."""
    title: str
    number: str  #: GS-139901001-2026-003
    starts_on: date
    ends_on: date
    issuing_office: str  #: 东河镇人民政府: also where objections go
    objection_phone: str  #: the township office's phone, never a household's
    issued_on: date
    rows: Sequence[NoticeRow]
    total_amount: str  #: "13,600.00"
    area: str = ""  #: 示范县东河镇东河村
    policy_note: str = ""  #: the policies the amounts follow (name and document number)


def _intro(d: NoticeData) -> str:
    return (f"根据清洁取暖“双替代”改造补贴政策，经村级申报、乡镇审核和验收，{d.area}下列"
            f"{len(d.rows)}户已通过验收，拟发放设备购置补贴，现予以公示。"
            f"公示期自{cn_date(d.starts_on)}至{cn_date(d.ends_on)}。")


def _objection_text(d: NoticeData) -> str:
    return (f"公示期内，如对公示内容有异议，请于{cn_date(d.ends_on)}（含当日）前向{d.issuing_office}"
            f"反映，联系电话：{d.objection_phone}。反映情况请实事求是，以个人名义反映的请提供真实姓名"
            "和联系方式。")


def _table(d: NoticeData) -> Table:
    s = styles()
    head = [para(h, s["label_center"]) for h in HEADERS]
    body: list[list[Any]] = [head]
    for row in d.rows:
        body.append([
            para(str(row.seq), s["cell_center"]), para(row.village, s["cell"]),
            para(mask_name(row.masked_name), s["cell_center"]),
            para(mask_id(row.masked_id), s["cell_center"]),
            para(row.conversion_type, s["cell_center"]), para(row.device_kind, s["cell"]),
            para(row.amount, _amount_style())])
    body.append([para("合计", s["label_center"]), para(f"共 {len(d.rows)} 户", s["cell"]),
                 "", "", "", "", para(d.total_amount, _amount_style(bold=True))])
    last = len(body) - 1
    table = Table(body, colWidths=[WIDTH * share for share in SHARES], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)),
        ("SPAN", (1, last), (5, last)),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _amount_style(bold: bool = False) -> ParagraphStyle:
    base = styles()["label" if bold else "cell"]
    return ParagraphStyle(f"amount{'_bold' if bold else ''}", base, alignment=TA_RIGHT)


def render_notice(d: NoticeData) -> Rendered:
    """The notice to post: title, number and period, the list, totals, where to object, and
    the issuing office with the date; page numbers on every page."""
    s = styles()
    right = ParagraphStyle("right", s["body"], alignment=TA_RIGHT)
    story: list[Any] = [
        para(d.title, s["title"]),
        para(f"编号：{d.number}　　公示期：{cn_date(d.starts_on)}至{cn_date(d.ends_on)}",
             s["subtitle"]),
        Spacer(1, 8),
        para(_intro(d), s["body"]),
        Spacer(1, 6),
        _table(d),
        Spacer(1, 8),
    ]
    if d.policy_note:
        story += [para(f"补贴标准依据：{d.policy_note}", s["small"]), Spacer(1, 4)]
    story += [
        para(_objection_text(d), s["body"]),
        Spacer(1, 4),
        para("注：为保护个人信息，姓名、身份证号已作脱敏处理。", s["small"]),
        *print_name_note(d.rows, PRINT_NAME_NOTE),
        Spacer(1, 18),
        para(d.issuing_office, right),
        para(cn_date(d.issued_on), right),
    ]
    _check(d)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=(595.28, 841.89), leftMargin=MARGIN,
                            rightMargin=MARGIN, topMargin=15 * mm, bottomMargin=16 * mm,
                            title=f"{d.title} {d.number}", creator="heating",
                            producer="heating", invariant=1)
    doc.build(story, canvasmaker=NumberedCanvas)
    return Rendered(out.getvalue())


def _check(d: NoticeData) -> None:
    """Refuse a notice with a character no bundled font has: every row at fault by its case,
    the notice's own text (title, area, office …) apart."""
    own = [getattr(d, f.name) for f in fields(d) if f.name != "rows"]
    check_printable([("", "", [t for t in own if isinstance(t, str)])] + [
        (r.case_no, r.case_name or r.masked_name, printed_texts(r)) for r in d.rows])


XLSX_COLUMNS = (
    Column("序号", INTEGER, 6), Column("村（社区）", STRING, 16), Column("户主姓名", STRING, 10),
    Column("身份证号", TEXT, 22), Column("改造类型", STRING, 10), Column("设备类型", STRING, 16),
    Column("设备购置补贴（元）", DECIMAL2, 16),
)


def notice_xlsx(d: NoticeData) -> bytes:
    """The same list as the PDF (same columns, same masks), for the office's own records."""
    rows = ((r.seq, r.village, mask_name(r.masked_name), mask_id(r.masked_id),
             r.conversion_type, r.device_kind, r.amount.replace(",", "")) for r in d.rows)
    return b"".join(xlsx_stream(XLSX_COLUMNS, rows, sheet_name="公示名单"))
