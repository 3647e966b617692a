"""The acceptance certificate (清洁取暖改造验收合格证明) as PDF bytes, one or many in one file.

Pure: a ``CertificateData`` in, a ``Rendered`` (PDF bytes) out; the same data gives the same
bytes.  A certificate holding a character no bundled font has is not made: the renderer
raises ``UnprintableError`` naming the case and the character.  The page is drawn with plain canvas calls
(no platypus), which keeps a 1,000-page print run within seconds; the layout is fixed, and a
value too long for its cell is set smaller and on two lines.  Labels are literal Chinese: this
is an official document, not a translated screen.

The application form and the acceptance record live in ``render_forms``, re-exported here.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Sequence

from reportlab.pdfgen.canvas import Canvas

from heating.certificates.render_forms import (
    AcceptanceRecordData,
    ApplicationFormData,
    CheckItem,
    Photo,
    render_acceptance_record,
    render_application_form,
)
from heating.core.masking import mask_id
from heating.core.pdf import (
    BOLD,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    REGULAR,
    cn_date,
    draw_string,
    draw_title,
    face_for,
    fit,
    new_canvas,
    qr_path,
    wrap,
)
from heating.core.rendered import (
    NOT_PRINTED,
    PRINT_NAME_NOTE,
    Rendered,
    Unprintable,
    UnprintableError,
    check_printable,
    printed_texts,
)

__all__ = ["AcceptanceRecordData", "ApplicationFormData", "CertificateData", "CheckItem",
           "Photo", "Rendered", "Unprintable", "UnprintableError",
           "render_acceptance_record", "render_application_form", "render_certificate",
           "render_certificates"]

TITLE = "清洁取暖改造验收合格证明"


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate, as display text (labels already resolved).

    The certificate is the household's own document: the head's full name is printed, the ID
    number only masked (a full number given here is masked anyway).
    """
    serial: str  #: 139901-2026-000123
    issue_date: date
    household_name: str
    id_masked: str  #: 410881********1231
    township: str
    village: str
    group_name: str = ""
    house_no: str = ""
    conversion_type: str = ""  #: 煤改电 / 煤改气
    device_kind: str = ""  #: 空气源热泵 …
    brand: str = ""
    model: str = ""
    factory_serial: str = ""
    inspection_date: date | None = None
    inspectors: Sequence[str] = ()
    result: str = "合格"
    verify_url: str = ""  #: {PUBLIC_BASE_URL}/verify/<serial>?t=<token>
    token: str = ""
    county: str = ""  #: in the PDF's subject line
    issuer: str = ""  #: the issuing office, printed at the foot; the PDF's author
    #: ``household_name`` is the case's print spelling (印刷用名): a note says so
    print_name_used: bool = False
    case_no: str = field(default="", metadata=NOT_PRINTED)  #: names the case in a refusal


def render_certificate(data: CertificateData) -> Rendered:
    """One certificate, one A4 page."""
    return render_certificates([data])


def render_certificates(items: Iterable[CertificateData]) -> Rendered:
    """Certificates one per page, in the order given (sort with ``house_number_key`` first)."""
    items = list(items)
    if not items:
        raise ValueError("no certificates to render")
    check_printable((d.case_no, d.household_name, printed_texts(d)) for d in items)
    out = io.BytesIO()
    first = items[0]
    canvas = new_canvas(out, title=TITLE, subject=f"{first.county}{first.township}"
                        f"{first.village}　{len(items)}份", author=first.issuer)
    for data in items:
        draw_certificate(canvas, data)
        canvas.showPage()
    canvas.save()
    return Rendered(out.getvalue())


# -- the page --------------------------------------------------------------------------------

MARGIN = 60.0
TABLE_TOP = PAGE_HEIGHT - 200
ROW = 30.0
#: section, label, value, label, value: 475.28 points, the width inside the margins
COLUMNS = (30.0, 78.0, 150.0, 78.0, PAGE_WIDTH - 2 * MARGIN - 336.0)
#: (font size, most lines) tried in turn for a value: 30 points of row hold three 7-pt lines
VALUE_STEPS = ((11.0, 1), (10.0, 2), (9.0, 2), (8.0, 2), (7.0, 3))
INTRO = "经现场验收，下列农户的清洁取暖改造符合验收要求，验收合格，特此证明。"


Row = list[tuple[str, str]]


def _rows(d: CertificateData) -> list[tuple[str, list[Row]]]:
    """(section, rows); a row is [(label, value)] once (spanning) or twice."""
    return [
        ("农户信息", [
            [("户主姓名", d.household_name), ("身份证号", mask_id(d.id_masked))],
            [("乡　　镇", d.township), ("村（社区）", d.village)],
            [("组　　别", d.group_name), ("门 牌 号", d.house_no)],
        ]),
        ("改造信息", [
            [("改造类型", d.conversion_type), ("设备类型", d.device_kind)],
            [("品　　牌", d.brand), ("型　　号", d.model)],
            [("出厂编号", d.factory_serial)],
        ]),
        ("验收信息", [
            [("验收日期", cn_date(d.inspection_date)), ("验收结论", d.result)],
            [("验收人员", "、".join(d.inspectors))],
        ]),
    ]


def draw_certificate(canvas: Canvas, d: CertificateData) -> None:
    """Draw one certificate on the canvas's current page."""
    _frame(canvas)
    draw_string(canvas, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 62, f"编号：{d.serial}", REGULAR, 10,
                "right")
    draw_title(canvas, TITLE, PAGE_HEIGHT - 122, size=26, spacing=3)
    draw_string(canvas, MARGIN + 24, PAGE_HEIGHT - 166, INTRO, REGULAR, 12)
    bottom = _table(canvas, _rows(d), TABLE_TOP)
    if d.print_name_used:
        draw_string(canvas, MARGIN + 2, bottom - 15, PRINT_NAME_NOTE, REGULAR, 8.5)
    _signatures(canvas, d, bottom - 26)
    _verification(canvas, d)
    _foot(canvas, d)


def _frame(canvas: Canvas) -> None:
    canvas.setStrokeColorRGB(0.55, 0.1, 0.1)
    canvas.setLineWidth(2.4)
    canvas.rect(24, 24, PAGE_WIDTH - 48, PAGE_HEIGHT - 48)
    canvas.setLineWidth(0.7)
    canvas.rect(30, 30, PAGE_WIDTH - 60, PAGE_HEIGHT - 60)
    canvas.setStrokeGray(0)


def _table(canvas: Canvas, sections: list[tuple[str, list[Row]]], top: float) -> float:
    """Draw the bordered field table from ``top`` down; returns its bottom."""
    x = [MARGIN]
    for width in COLUMNS:
        x.append(x[-1] + width)
    y = top
    canvas.setLineWidth(0.6)
    for section, rows in sections:
        height = ROW * len(rows)
        canvas.setFillGray(0.93)
        canvas.rect(x[0], y - height, COLUMNS[0], height, stroke=1, fill=1)
        canvas.setFillGray(0)
        _vertical(canvas, section, x[0] + COLUMNS[0] / 2, y - height / 2, height)
        for row in rows:
            y -= ROW
            cells = [(x[1], x[2], row[0][0]), (x[2], x[3] if len(row) > 1 else x[5], row[0][1])]
            if len(row) > 1:
                cells += [(x[3], x[4], row[1][0]), (x[4], x[5], row[1][1])]
            for i, (left, right, text) in enumerate(cells):
                if i % 2 == 0:
                    _label(canvas, text, left, right, y)
                else:
                    canvas.rect(left, y, right - left, ROW)
                    _value(canvas, text, left, right, y)
    canvas.setLineWidth(1.2)
    canvas.rect(x[0], y, x[5] - x[0], top - y)
    return y


def _vertical(canvas: Canvas, text: str, cx: float, cy: float, height: float) -> None:
    """Characters stacked top to bottom, centred on (cx, cy), within ``height``."""
    size = 11
    pitch = min(16.0, (height - 8) / len(text))
    first = cy + pitch * (len(text) - 1) / 2 - size * 0.35
    for i, ch in enumerate(text):
        draw_string(canvas, cx, first - i * pitch, ch, BOLD, size, "centre")


def _label(canvas: Canvas, text: str, left: float, right: float, y: float) -> None:
    canvas.setFillGray(0.96)
    canvas.rect(left, y, right - left, ROW, stroke=1, fill=1)
    canvas.setFillGray(0)
    draw_string(canvas, (left + right) / 2, y + ROW / 2 - 3.7, text, face_for(text), 10.5,
                "centre")


def _value(canvas: Canvas, text: str, left: float, right: float, y: float) -> None:
    if not text:
        return
    size, lines = fit(text, REGULAR, right - left - 14, VALUE_STEPS)
    leading = size * 1.2
    baseline = y + ROW / 2 + (len(lines) - 1) * leading / 2 - size * 0.35
    for i, line in enumerate(lines):
        draw_string(canvas, left + 7, baseline - i * leading, line, REGULAR, size)


def _signatures(canvas: Canvas, d: CertificateData, top: float) -> None:
    """Two boxes: inspectors' signatures, and the township's seal over the issue date."""
    height, gap = 118.0, 14.0
    width = (PAGE_WIDTH - 2 * MARGIN - gap) / 2
    seal = f"{d.township}人民政府（盖章）" if d.township else "乡镇人民政府（盖章）"
    canvas.setLineWidth(0.6)
    for i, (label, foot) in enumerate((("验收人员签字：", "年　　月　　日"),
                                       (seal, f"发证日期：{cn_date(d.issue_date)}"))):
        left = MARGIN + i * (width + gap)
        canvas.rect(left, top - height, width, height)
        draw_string(canvas, left + 10, top - 20, label, face_for(label), 10.5)
        draw_string(canvas, left + width - 12, top - height + 14, foot, REGULAR, 10.5, "right")


QR_SIZE = 96.0


def _verification(canvas: Canvas, d: CertificateData) -> None:
    """QR code at the lower left, the same URL and token printed beside it."""
    x, y = MARGIN + 4, 92.0
    if d.verify_url:
        qr_path(canvas, d.verify_url, x, y, QR_SIZE)
    left = x + QR_SIZE + 16
    width = PAGE_WIDTH - MARGIN - left
    line_y = y + QR_SIZE - 10
    draw_string(canvas, left, line_y, "真伪核验", BOLD, 10.5)
    line_y -= 16
    for line in wrap("扫描左侧二维码，或在浏览器中打开下列网址，核对证明内容：", REGULAR, 8.5, width):
        draw_string(canvas, left, line_y, line, REGULAR, 8.5)
        line_y -= 12
    for line in wrap(d.verify_url, REGULAR, 8, width):
        draw_string(canvas, left, line_y, line, REGULAR, 8)
        line_y -= 11
    for line in wrap(f"核验码：{d.token}", REGULAR, 8.5, width):
        draw_string(canvas, left, line_y - 2, line, REGULAR, 8.5)
        line_y -= 12


def _foot(canvas: Canvas, d: CertificateData) -> None:
    note = "本证明一户一证，涂改无效"
    if d.issuer:
        note = f"{d.issuer}制　·　{note}"
    canvas.setFillGray(0.3)
    draw_string(canvas, PAGE_WIDTH / 2, 48, note, REGULAR, 8, "centre")
    canvas.setFillGray(0)
