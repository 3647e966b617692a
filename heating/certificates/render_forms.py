"""The printed paperwork of a case: the application form (申请表) and the acceptance record
(验收单), as PDF bytes.

Pure, like ``render``: plain data in, ``Rendered`` out, the same data giving the same bytes;
a character no bundled font has stops the document (``UnprintableError``).  These are flowing
documents (a long reason or many photos add a page), so they use platypus tables; page
numbers come from ``NumberedCanvas``.  Values are set in the Regular face, rare characters in
the Hanazono fallbacks (``heating.core.pdf.para``); labels are literal Chinese.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Sequence

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

from heating.core.masking import mask_id
from heating.core.pdf import REGULAR, NumberedCanvas, cn_date, para, styles
from heating.core.rendered import (
    NOT_PRINTED,
    PRINT_NAME_NOTE,
    Rendered,
    check_printable,
    printed_texts,
)

MARGIN = 20 * mm
WIDTH = 595.28 - 2 * MARGIN  # A4 inside the margins
BLANK_DATE = "　　　　年　　月　　日"
#: FONTNAME: cells that are plain strings ("" in spans) would otherwise select Helvetica,
#: which is not embedded
PLAIN = [("FONTNAME", (0, 0), (-1, -1), REGULAR)]
GRID = PLAIN + [("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
LABEL_FILL = colors.Color(0.95, 0.95, 0.95)


def _count(value: int | None, unit: str) -> str:
    return "" if value is None else f"{value} {unit}"


def _area(value: Decimal | str | None) -> str:
    return "" if value in (None, "") else f"{value} m²"


def _build(story: list[Flowable], title: str, data: Any, case_no: str) -> Rendered:
    check_printable([(case_no, data.head_name, printed_texts(data))])
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=(595.28, 841.89), leftMargin=MARGIN,
                            rightMargin=MARGIN, topMargin=15 * mm, bottomMargin=16 * mm,
                            title=title, creator="heating", producer="heating",
                            invariant=1)
    doc.build(story, canvasmaker=NumberedCanvas)
    return Rendered(out.getvalue())


def _heading(title: str, left: str, right: str) -> list[Flowable]:
    s = styles()
    line = Table([[para(left, s["cell"]), para(right, s["cell"])]],
                 colWidths=[WIDTH * 0.6, WIDTH * 0.4])
    line.setStyle(TableStyle(PLAIN + [("ALIGN", (1, 0), (1, 0), "RIGHT"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [para(title, s["title"]), Spacer(1, 4), line, Spacer(1, 4)]


def _pairs(rows: Sequence[Sequence[tuple[str, str]]], label_width: float = 82) -> Table:
    """A bordered table of (label, value) pairs, two to a row; a row with one pair spans."""
    s = styles()
    value_width = WIDTH / 2 - label_width
    body, style = [], list(GRID)
    for r, row in enumerate(rows):
        cells: list[Any] = []
        for label, value in row:
            cells += [para(label, s["label_center"]), para(value, s["cell"])]
        style.append(("BACKGROUND", (0, r), (0, r), LABEL_FILL))
        if len(row) == 1:
            cells += ["", ""]
            style.append(("SPAN", (1, r), (3, r)))
        else:
            style.append(("BACKGROUND", (2, r), (2, r), LABEL_FILL))
        body.append(cells)
    table = Table(body, colWidths=[label_width, value_width, label_width, value_width])
    table.setStyle(TableStyle(style))
    return table


def _signature_box(label: str, lines: Sequence[str], height: float = 62) -> Table:
    """A label cell at the left, a tall cell with signature lines at the bottom right."""
    s = styles()
    body = [[para(label, s["label_center"]),
             [Spacer(1, max(0, height - 16 * len(lines)))] + [para(t, s["cell"]) for t in lines]]]
    table = Table(body, colWidths=[82, WIDTH - 82])
    table.setStyle(TableStyle(GRID + [("BACKGROUND", (0, 0), (0, 0), LABEL_FILL),
                                      ("VALIGN", (1, 0), (1, 0), "BOTTOM")]))
    return table


# -- 申请表 -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationFormData:
    """The application as the clerk entered it.  Numbers arrive as the reader may see them:
    ``id_masked`` (a full number is masked anyway), ``bank_masked``; ``phone`` as the caller
    decides (the form stays in the office file)."""
    case_no: str
    programme_year: int
    head_name: str
    id_masked: str
    township: str
    village: str
    county: str = ""
    phone: str = ""
    group_name: str = ""
    house_no: str = ""
    residents: int | None = None
    heated_area: Decimal | str | None = None
    previous_heating: str = ""
    coal_stoves: int | None = None
    low_income: bool = False
    conversion_type: str = ""
    device_kind: str = ""
    bank_name: str = ""
    bank_masked: str = ""
    account_holder: str = ""
    printed_on: date | None = None
    #: ``head_name`` is the case's print spelling (印刷用名): a note says so
    print_name_used: bool = False


APPLICATION_TITLE = "清洁取暖“双替代”改造申请表"
PLEDGE = ("申请人承诺：本户自愿申请清洁取暖改造，所填信息及所附材料真实、准确；改造后不再使用散煤取暖，"
          "不拆除、不转卖补贴设备；如有虚报冒领，自愿退回补贴并承担相应责任。")


def render_application_form(d: ApplicationFormData) -> Rendered:
    s = styles()
    story = _heading(APPLICATION_TITLE, f"{d.county}{d.township}{d.village}　{d.programme_year}年度",
                     f"申请编号：{d.case_no}")
    story += [
        _section("一、农户基本情况"),
        _pairs([[("户主姓名", d.head_name), ("身份证号", mask_id(d.id_masked))],
                [("联系电话", d.phone), ("常住人口", _count(d.residents, "人"))],
                [("乡　　镇", d.township), ("村（社区）", d.village)],
                [("组　　别", d.group_name), ("门 牌 号", d.house_no)],
                [("供暖面积", _area(d.heated_area)), ("低保/困难户", "是" if d.low_income else "否")],
                [("原取暖方式", d.previous_heating),
                 ("原燃煤炉具", _count(d.coal_stoves, "台"))]]),
        _section("二、申请改造内容"),
        _pairs([[("改造类型", d.conversion_type), ("拟装设备", d.device_kind)]]),
        _section("三、补贴发放账户（须为户主本人账户）"),
        _pairs([[("开户银行", d.bank_name), ("银行账号", d.bank_masked)],
                [("账户户名", d.account_holder)]]),
        Spacer(1, 8),
        para(PLEDGE, s["body"]),
        Spacer(1, 6),
        _signature_box("户主签字", [f"户主签字（按手印）：＿＿＿＿＿＿＿＿　　日期：{BLANK_DATE}"],
                       height=50),
        _signature_box("村委会意见", ["经办人签字：＿＿＿＿＿＿＿＿　　负责人签字：＿＿＿＿＿＿＿＿",
                                      f"村民委员会（盖章）　　{BLANK_DATE}"], height=96),
        _signature_box("乡镇审核意见", ["审核人签字：＿＿＿＿＿＿＿＿",
                                        f"乡镇人民政府（盖章）　　{BLANK_DATE}"], height=96),
        Spacer(1, 8),
        para("附件：户主身份证复印件、户口簿复印件、银行卡（社保卡）复印件。", s["small"]),
    ]
    if d.print_name_used:
        story.append(para(PRINT_NAME_NOTE, s["small"]))
    if d.printed_on:
        story.append(para(f"打印日期：{cn_date(d.printed_on)}", s["small"]))
    return _build(story, APPLICATION_TITLE, d, d.case_no)


def _section(text: str) -> Flowable:
    return para(text, styles()["heading"])


# -- 验收单 -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckItem:
    """One line of the acceptance checklist."""
    label: str  #: 设备已安装并正常运行
    ok: bool | None  #: None: does not apply to this conversion type ("—")
    count: int | None = None  #: e.g. coal stoves removed
    note: str = ""


@dataclass(frozen=True)
class Photo:
    caption: str
    jpeg: bytes  #: a thumbnail; bytes that are not a readable image print as a note


@dataclass(frozen=True)
class AcceptanceRecordData:
    record_no: str
    head_name: str
    id_masked: str
    township: str
    village: str
    group_name: str = ""
    house_no: str = ""
    conversion_type: str = ""
    device_kind: str = ""
    brand: str = ""
    model: str = ""
    factory_serial: str = ""
    installer: str = ""
    install_date: date | None = None
    inspection_date: date | None = None
    inspectors: Sequence[str] = ()
    checklist: Sequence[CheckItem] = ()
    photos: Sequence[Photo] = ()
    passed: bool | None = None  #: None: no conclusion yet (a blank form to fill on site)
    #: why it failed, one problem a line: printed under 问题及整改要求
    reasons: Sequence[str] = ()
    #: what the inspector noted on a pass: printed under 备注 (a pass asks for no rework)
    remark: str = ""
    #: ``head_name`` is the case's print spelling (印刷用名): a note says so
    print_name_used: bool = False
    case_no: str = field(default="", metadata=NOT_PRINTED)  #: names the case in a refusal


RECORD_TITLE = "清洁取暖改造验收单"
PHOTO_BOX = (WIDTH / 3 - 12, 86.0)


def render_acceptance_record(d: AcceptanceRecordData) -> Rendered:
    story = _heading(RECORD_TITLE, f"{d.township}{d.village}", f"编号：{d.record_no}")
    story += [
        _section("一、农户及设备信息"),
        _pairs([[("户主姓名", d.head_name), ("身份证号", mask_id(d.id_masked))],
                [("乡　　镇", d.township), ("村（社区）", d.village)],
                [("组　　别", d.group_name), ("门 牌 号", d.house_no)],
                [("改造类型", d.conversion_type), ("设备类型", d.device_kind)],
                [("品　　牌", d.brand), ("型　　号", d.model)],
                [("出厂编号", d.factory_serial), ("安装日期", cn_date(d.install_date))],
                [("安装单位", d.installer)]]),
        _section("二、验收检查项目"),
        _checklist(d.checklist),
        _section("三、现场照片"),
        _photos(d.photos),
        _section("四、验收结论"),
        _conclusion(d),
        Spacer(1, 6),
        _signature_box("验收人员", [f"验收人员签字：＿＿＿＿＿＿＿＿＿＿＿＿　（{'、'.join(d.inspectors)}）"
                                    if d.inspectors else "验收人员签字：＿＿＿＿＿＿＿＿＿＿＿＿",
                                    f"验收日期：{cn_date(d.inspection_date) or BLANK_DATE}"],
                       height=48),
        _signature_box("户主确认", ["本人已在现场，知悉上述验收结果。",
                                    f"户主签字（按手印）：＿＿＿＿＿＿＿＿　　日期：{BLANK_DATE}"],
                       height=48),
    ]
    if d.print_name_used:
        story += [Spacer(1, 6), para(PRINT_NAME_NOTE, styles()["small"])]
    return _build(story, RECORD_TITLE, d, d.case_no or d.record_no.split("-")[0])


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("是" if ok else "否")


def _checklist(items: Sequence[CheckItem]) -> Flowable:
    s = styles()
    widths = [34, WIDTH - 34 - 56 - 56 - 130, 56, 56, 130]
    body: list[list[Any]] = [[para(h, s["label_center"]) for h in
                              ("序号", "检查项目", "结果", "数量", "备注")]]
    for i, item in enumerate(items, 1):
        body.append([para(str(i), s["cell_center"]), para(item.label, s["cell"]),
                     para(_mark(item.ok), s["cell_center"]),
                     para("" if item.count is None else str(item.count), s["cell_center"]),
                     para(item.note, s["cell"])])
    if not items:
        body.append(["", para("（无检查记录）", s["cell"]), "", "", ""])
    table = Table(body, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(GRID + [("BACKGROUND", (0, 0), (-1, 0), LABEL_FILL),
                                      ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return table


class _Thumbnail(Flowable):
    """A photo drawn from an ``ImageReader``: ReportLab then names the image by its content
    (a file object would be named by its memory address, which changes between runs and can
    be reused within one, showing one photo twice).  A JPEG is embedded as it is."""

    def __init__(self, reader: ImageReader, width: float, height: float) -> None:
        super().__init__()
        self.reader, self.width, self.height = reader, width, height
        self.hAlign = "CENTER"

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.reader, 0, 0, self.width, self.height)


def _photo(photo: Photo) -> list[Flowable]:
    s = styles()
    box_w, box_h = PHOTO_BOX
    try:
        reader = ImageReader(io.BytesIO(photo.jpeg))
        width, height = reader.getSize()
        scale = min(box_w / width, box_h / height)
        image: Flowable = _Thumbnail(reader, width * scale, height * scale)
    except Exception:  # a damaged file must not stop the record from printing
        image = para("（照片无法显示）", s["small_center"])
    return [image, Spacer(1, 2), para(photo.caption, s["small_center"])]


def _photos(photos: Sequence[Photo]) -> Flowable:
    s = styles()
    if not photos:
        return para("（无照片）", s["cell"])
    cells = [_photo(p) for p in photos]
    rows = [cells[i:i + 3] for i in range(0, len(cells), 3)]
    rows[-1] += [""] * (3 - len(rows[-1]))
    table = Table(rows, colWidths=[WIDTH / 3] * 3)
    table.setStyle(TableStyle(PLAIN + [("ALIGN", (0, 0), (-1, -1), "CENTER"),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _conclusion(d: AcceptanceRecordData) -> Flowable:
    """The result, then what goes with it: a failure's problems to put right (numbered), or a
    pass's remark under 备注; a blank form leaves room to write either by hand."""
    s = styles()
    marks = {True: "■ 合格　　□ 不合格", False: "□ 合格　　■ 不合格", None: "□ 合格　　□ 不合格"}
    if d.passed:
        heading, text = "备　　注", d.remark.strip() or "无"
    else:
        heading = "问题及整改要求"
        text = "\n".join(f"{i}. {r}" for i, r in enumerate(d.reasons, 1))
    written: list[Flowable] = [para(text, s["cell"])]
    if not text:  # room to write by hand
        written.append(Spacer(1, 36))
    body = [[para("验收结论", s["label_center"]), para(marks[d.passed], s["cell"])],
            [para(heading, s["label_center"]), written]]
    table = Table(body, colWidths=[82, WIDTH - 82])
    table.setStyle(TableStyle(GRID + [("BACKGROUND", (0, 0), (0, -1), LABEL_FILL)]))
    return table
