"""The PDF kernel on every document the system makes: rare name characters (CJK Extension A,
B, C, E and the compatibility block) print in an embedded face and come back out of the text
layer (pypdf, not only pdftotext); a character no bundled font has stops the document; lines
never start with closing punctuation (避头尾).  Pure renderers, no database."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from typing import Any, Callable

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import ttfonts
from reportlab.platypus import Paragraph

from heating.certificates.render import (
    render_acceptance_record,
    render_application_form,
    render_certificate,
    render_certificates,
)
from heating.core import linebreak, pdf
from heating.core.rendered import PRINT_NAME_NOTE, UnprintableError
from heating.payouts.render import RosterData, RosterRow, render_roster
from heating.publicity import render as notice_render
from heating.publicity.render import NoticeData, NoticeRow, render_notice
from tests.certificates.test_render import acceptance, application, certificate

# name, the character that matters, the face that must draw it
RARE_NAMES = [
    ("䶮明", "\u4dae", "NotoSansSC-Regular"),  # Extension A
    ("𠮷祥", "\U00020bb7", "HanaMinB"),  # Extension B
    ("𪜀华", "\U0002a700", "HanaMinB"),  # Extension C
    ("𬌗王", "\U0002c317", "NotoSansSC-Regular"),  # Extension E, in Noto: the ToUnicode bug
    ("\ufa10本", "\ufa10", "HanaMinA"),  # CJK Compatibility Ideographs (塚)
]
UNPRINTABLE = ["\U00030000", "\ue000"]  # Extension G, private use: no bundled font


def notice(name: str = "王建国", **changes: Any) -> NoticeData:
    rows = [NoticeRow(1, "东关村", "王建国", "110105********002X", "煤改电", "空气源热泵",
                      "6,800.00", case_no="11", case_name="王建国"),
            NoticeRow(2, "东关村", name, "110105********0031", "煤改气", "燃气壁挂炉",
                      "6,800.00", case_no="12", case_name=name)]
    data = NoticeData(title="东关村清洁取暖改造补贴公示", number="GS-139901001-2026-003",
                      starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 7),
                      issuing_office="城关镇人民政府", objection_phone="0391-1234567",
                      issued_on=date(2026, 12, 1), rows=rows, total_amount="13,600.00",
                      area="示范县城关镇东关村")
    return replace(data, **changes)


def roster(name: str = "王建国", **changes: Any) -> RosterData:
    rows = (RosterRow(1, "东关村", "王建国", "110105********002X", "****5678", 680000,
                      case_no="11"),
            RosterRow(2, "东关村", name, "110105********0031", "****1234", 680000,
                      case_no="12"))
    data = RosterData(batch_number="PO-139901-2026-001", kind="设备购置补贴", county="示范县",
                      township="城关镇", rows=rows, printed_on=date(2026, 12, 20))
    return replace(data, **changes)


#: every PDF the system makes, with the head's name ``name``
DOCUMENTS: dict[str, Callable[[str], bytes]] = {
    "certificate": lambda name: render_certificate(certificate(household_name=name)).pdf,
    "certificate batch": lambda name: render_certificates(
        [certificate(), certificate(household_name=name)]).pdf,
    "application form": lambda name: render_application_form(
        application(head_name=name, account_holder=name)).pdf,
    "acceptance record": lambda name: render_acceptance_record(acceptance(head_name=name)).pdf,
    "notice": lambda name: render_notice(notice(name)).pdf,
    "payout roster": lambda name: render_roster(roster(name)).pdf,
}


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def embedded_faces(data: bytes) -> set[str]:
    """The faces embedded as TrueType programs (/FontFile2) on any page."""
    faces = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            assert font["/Subtype"] == "/TrueType"
            descriptor = font["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                faces.add(str(font["/BaseFont"]).split("+")[-1])
    return faces


@pytest.mark.parametrize("kind", DOCUMENTS)
@pytest.mark.parametrize("name,char,face", RARE_NAMES, ids=["ext-a", "ext-b", "ext-c", "ext-e",
                                                             "compat"])
def test_rare_name_characters_print_embedded_and_extract(kind, name, char, face):
    data = DOCUMENTS[kind](name)
    assert face in embedded_faces(data)
    text = text_of(data)
    # the notice prints masked names (𠮷*): the first character is the rare one
    assert (name[0] if kind == "notice" else name) in text
    assert char in text


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_character_no_font_has_stops_every_document(kind):
    for char in UNPRINTABLE:
        with pytest.raises(UnprintableError) as caught:
            DOCUMENTS[kind](char + "祥")
        assert [p.chars for p in caught.value.problems] == [(char,)]
        assert caught.value.problems[0].name.startswith(char)


def test_multi_case_documents_name_every_case_and_their_own_text():
    with pytest.raises(UnprintableError) as caught:
        render_notice(notice("\ue000祥", title="\U00030000村公示",
                             rows=[replace(r, masked_name="\U00030000" + r.masked_name[1:])
                                   for r in notice("\ue000祥").rows]))
    assert [(p.case, p.chars) for p in caught.value.problems] == [
        ("", ("\U00030000",)), ("11", ("\U00030000",)), ("12", ("\U00030000",))]
    assert caught.value.problems[1].name == "王建国"  # the full name, for the reviewer
    with pytest.raises(UnprintableError) as caught:
        render_roster(roster("\U00030000祥", township="\ue000镇"))
    assert [(p.case, p.chars) for p in caught.value.problems] == [
        ("", ("\ue000",)), ("12", ("\U00030000",))]


def test_certificate_of_a_household_named_ji_xiang_shows_and_extracts_the_ji():
    """The issue's done-when (also looked at as a PNG: pdftoppm -r 80)."""
    data = render_certificate(certificate(household_name="𠮷祥")).pdf
    assert "𠮷祥" in text_of(data)
    assert {"NotoSansSC-Regular", "NotoSansSC-Bold", "HanaMinB"} == embedded_faces(data)


# -- the text layer -----------------------------------------------------------------------

def test_to_unicode_entries_beyond_the_bmp_are_surrogate_pairs():
    pdf.fonts()
    assert ttfonts.makeToUnicodeCMap is pdf.to_unicode_cmap  # installed where fonts register
    cmap = pdf.to_unicode_cmap("AAAAAA+X", [0, 0x41, 0x20BB7, 0x2C317])
    assert "<02> <D842DFB7>" in cmap and "<03> <D870DF17>" in cmap
    assert "<01> <0041>" in cmap and "20BB7" not in cmap


def test_to_unicode_is_reportlabs_own_in_the_bmp():
    subset = [0, 32, 0x4E00, 0x9FA5, 0xFF0C, 0xFFFD]
    ours = pdf.to_unicode_cmap("AAAAAA+NotoSansSC-Regular", subset)
    assert ours == pdf.REPORTLAB_TO_UNICODE_CMAP("AAAAAA+NotoSansSC-Regular", subset)
    # what ReportLab 5.1 writes beyond it, and pypdf drops ("Odd-length string")
    assert "<01> <20BB7>" in pdf.REPORTLAB_TO_UNICODE_CMAP("X", [0, 0x20BB7])


def test_runs_pick_the_first_face_that_has_each_character():
    assert pdf.runs("王建国") == [(pdf.REGULAR, "王建国")]
    assert pdf.runs("𠮷祥 \ufa10本") == [("HanaMinB", "𠮷"), (pdf.REGULAR, "祥 "),
                                        ("HanaMinA", "\ufa10"), (pdf.REGULAR, "本")]
    assert pdf.runs("") == []
    assert pdf.text_width("𠮷祥", pdf.REGULAR, 10) == pytest.approx(20, abs=0.5)


# -- 避头尾 --------------------------------------------------------------------------------

def _line_texts(paragraph: Paragraph, width: float) -> list[str]:
    paragraph.wrap(width, 1000)
    lines = paragraph.blPara.lines
    if paragraph.blPara.kind == 0:
        return ["".join(words) for _space, words in lines]
    return ["".join(frag.text for frag in line.words) for line in lines]


#: ten characters on a line at 10.5 pt; the 11th is a full-width comma
COMMA_AT_TEN = "一二三四五六七八九十，十一十二十三"


def test_no_line_starts_with_a_comma_where_reportlab_would_put_one():
    style = pdf.styles()["body"]
    width = 10 * 10.5 + 1
    naive = _line_texts(Paragraph(COMMA_AT_TEN, style), width)
    assert naive[1].startswith("，")  # ReportLab's own CJK wrap: why we break lines ourselves
    lines = _line_texts(pdf.para(COMMA_AT_TEN, style), width)
    assert lines == ["一二三四五六七八九", "十，十一十二十三"]


@pytest.mark.parametrize("text,expected", [
    ("一二三四五六七八九（十）", ["一二三四五六七八九", "（十）"]),  # （ never ends a line
    ("一二三四五六七八九。」十一", ["一二三四五六七八", "九。」十一"]),  # two in a row
    ("型号KFR-72LW/NhIbB1W", ["型号", "KFR-72LW/NhIbB1W"]),  # a Latin word is not cut
])
def test_line_start_and_line_end_rules(text, expected):
    assert _line_texts(pdf.para(text, pdf.styles()["body"]), 10 * 10.5 + 1) == expected


def test_canvas_wrapping_keeps_the_same_rules():
    pdf.fonts()
    lines = pdf.wrap(COMMA_AT_TEN, pdf.REGULAR, 10.5, 10 * 10.5 + 1)
    assert lines == ["一二三四五六七八九", "十，十一十二十三"]
    assert pdf.wrap("word " * 30, pdf.REGULAR, 10, 100)[0].endswith("word")  # no space left


def test_the_notice_never_starts_a_line_with_closing_punctuation():
    """The 公示 intro at every length of area name: ReportLab's wrap puts "，" first on a
    line for some of them; ours for none.  Then a whole notice, through pypdf's text lines."""
    style = pdf.styles()["body"]
    naive_bad = 0
    for n in range(16):
        intro = notice_render._intro(notice(area="东" * n))
        naive_bad += any(line[:1] in linebreak.NO_START
                         for line in _line_texts(Paragraph(intro, style), notice_render.WIDTH))
        for line in _line_texts(pdf.para(intro, style), notice_render.WIDTH):
            assert line[:1] not in linebreak.NO_START and line[-1:] not in linebreak.NO_END
    assert naive_bad  # the test would catch ReportLab's wrap
    for n in range(16):
        for line in text_of(render_notice(notice(area="东" * n)).pdf).splitlines():
            assert line.strip()[:1] not in "，。、；：？！）」』", line


def test_every_document_breaks_its_paragraphs_by_the_rules():
    for kind, make in DOCUMENTS.items():
        for line in text_of(make("王建国")).splitlines():
            assert line.strip()[:1] not in "，。、；：？！）」』", (kind, line)


def test_break_lines_is_pure_and_greedy():
    items, widths = list("一二三，四"), [1.0] * 5
    assert linebreak.break_lines(items, widths, 3) == [(0, 2, False), (2, 5, False)]
    assert linebreak.break_lines(list("ab\ncd"), [1.0] * 5, 10, hard={2}) == [
        (0, 3, True), (3, 5, False)]
    # nothing but closing punctuation: still progresses, one line at a time
    assert linebreak.break_lines(list("，，，，"), [1.0] * 4, 2) == [(0, 2, False), (2, 4, False)]


# -- the print spelling note --------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: render_certificate(certificate(household_name="吉祥", print_name_used=True)).pdf,
    lambda: render_application_form(application(head_name="吉祥", print_name_used=True)).pdf,
    lambda: render_acceptance_record(acceptance(head_name="吉祥", print_name_used=True)).pdf,
], ids=["certificate", "application", "acceptance"])
def test_a_print_spelling_adds_the_note(make):
    text = " ".join(text_of(make()).split())
    assert "吉祥" in text and PRINT_NAME_NOTE in text.replace(" ", "")


def test_lists_say_which_rows_print_a_print_spelling():
    rows = [replace(r, print_name_used=r.seq == 2) for r in notice().rows]
    text = text_of(render_notice(notice(rows=rows)).pdf).replace("\n", "").replace(" ", "")
    assert "注：第2行户主登记姓名含字库未收录的生僻字，按印刷用名打印。" in text
    assert "生僻字" not in text_of(render_notice(notice()).pdf)
    spelled = roster().rows[1]
    text = text_of(render_roster(roster(rows=(roster().rows[0], replace(
        spelled, print_name_used=True)))).pdf).replace("\n", "").replace(" ", "")
    assert "注：序号2的户主登记姓名含字库未收录的生僻字，按印刷用名打印。" in text
