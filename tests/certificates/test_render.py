"""The PDF renderers, checked with pypdf only (no system tools): fonts embedded as TrueType,
text extractable, rare characters printed or the document refused, identical bytes for
identical data."""
from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image as PILImage
from pypdf import PdfReader

from heating.certificates.render import (
    AcceptanceRecordData,
    ApplicationFormData,
    CertificateData,
    CheckItem,
    Photo,
    render_acceptance_record,
    render_application_form,
    render_certificate,
    render_certificates,
)
from heating.core import pdf
from heating.core.masking import mask_id
from heating.core.paperwork import house_number_key
from heating.core.rendered import UnprintableError

FULL_ID = "11010519491231002X"
MASKED_ID = "110105********002X"
RARE = "堃喆昇赟珺䶮"  # CJK Unified (not GB 2312) and Extension A: the font has them
EXT_B = "\U0002020c"  # 𠈌: Noto lacks it, HanaMinB has it
EXT_G = "\U00030000"  # 𰀀: no bundled font has Extension G


def certificate(**changes: object) -> CertificateData:
    data = CertificateData(
        serial="139901-2026-000123", issue_date=date(2026, 11, 28), household_name="王建国",
        id_masked=mask_id(FULL_ID), township="城关镇", village="东关村", group_name="三组",
        house_no="17号", conversion_type="煤改电", device_kind="空气源热泵", brand="格力",
        model="KFR-72LW/NhIbB1W", factory_serial="GL2026A0012345678",
        inspection_date=date(2026, 11, 20), inspectors=("李建国", "赵昇"), result="合格",
        verify_url="https://heating.example.gov.cn/verify/139901-2026-000123?t=q3VdX9k2LmP0aB7c",
        token="q3VdX9k2LmP0aB7c", county="示范县", issuer="示范县清洁取暖工作领导小组办公室")
    return replace(data, **changes)


def jpeg(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (120, 160, 200)
         ) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def application(**changes: object) -> ApplicationFormData:
    data = ApplicationFormData(
        case_no="481", programme_year=2026, head_name="欧阳丽娜", id_masked=mask_id(FULL_ID),
        township="城关镇", village="东关村", county="示范县", phone="138****5678",
        group_name="三组", house_no="17号", residents=4, heated_area="86.50",
        previous_heating="燃煤炉", coal_stoves=2, low_income=True, conversion_type="煤改电",
        device_kind="空气源热泵", bank_name="中国农业银行示范县支行", bank_masked="****5678",
        account_holder="欧阳丽娜", printed_on=date(2026, 11, 28))
    return replace(data, **changes)


def acceptance(**changes: object) -> AcceptanceRecordData:
    data = AcceptanceRecordData(
        record_no="481-7", head_name="欧阳丽娜", id_masked=mask_id(FULL_ID), township="城关镇",
        village="东关村", group_name="三组", house_no="17号", conversion_type="煤改电",
        device_kind="空气源热泵", brand="格力", model="KFR-72LW", factory_serial="GL2026A001",
        installer="示范县安泰暖通设备安装有限公司", install_date=date(2026, 11, 2),
        inspection_date=date(2026, 11, 20), inspectors=("李建国", "赵昇"),
        checklist=(CheckItem("设备已安装并正常运行", True),
                   CheckItem("燃煤炉具已拆除", True, 2),
                   CheckItem("已安装燃气泄漏报警器", None)),
        photos=(Photo("设备与户主合影", jpeg()), Photo("原燃煤炉具拆除现场", jpeg((48, 64), (180, 150, 120)))),
        passed=True)
    return replace(data, **changes)


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def fonts_of(data: bytes) -> list[dict]:
    """Every font dictionary used by any page (resolved)."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            found.append(ref.get_object())
    return found


# -- fonts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: render_certificate(certificate()),
    lambda: render_application_form(application()),
    lambda: render_acceptance_record(acceptance()),
], ids=["certificate", "application", "acceptance"])
def test_every_font_is_embedded_truetype(make):
    fonts = fonts_of(make().pdf)
    assert fonts
    names = set()
    for font in fonts:
        assert font["/Subtype"] == "/TrueType", font["/BaseFont"]
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 1000
        names.add(str(font["/BaseFont"]).split("+")[-1])
    # both faces, and nothing a reader must supply (no Helvetica)
    assert names == {"NotoSansSC-Regular", "NotoSansSC-Bold"}


# -- the certificate --------------------------------------------------------------------------

def test_certificate_text_comes_back_from_the_pdf():
    rendered = render_certificate(certificate())
    text = text_of(rendered.pdf)
    for expected in ("清洁取暖改造验收合格证明", "139901-2026-000123", "王建国", MASKED_ID,
                     "城关镇", "东关村", "17号", "空气源热泵", "KFR-72LW/NhIbB1W",
                     "GL2026A0012345678", "李建国、赵昇", "2026年11月20日", "2026年11月28日",
                     "验收人员签字", "城关镇人民政府（盖章）", "q3VdX9k2LmP0aB7c",
                     "https://heating.example.gov.cn/verify/139901-2026-000123?t=q3VdX9k2LmP0aB7c"):
        assert expected in text, expected
    assert FULL_ID not in text
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) == 1


def test_a_full_id_number_given_by_mistake_is_printed_masked():
    text = text_of(render_certificate(certificate(id_masked=FULL_ID)).pdf)
    assert MASKED_ID in text
    assert FULL_ID not in text and "19491231" not in text


def test_rare_name_characters_print_and_extract():
    rendered = render_certificate(certificate(household_name="王" + RARE + EXT_B))
    assert "王" + RARE + EXT_B in text_of(rendered.pdf)


def test_a_character_no_font_has_stops_the_certificate():
    with pytest.raises(UnprintableError) as caught:
        render_certificate(certificate(household_name="李" + EXT_G + "明", case_no="481",
                                       village="堃" + EXT_G + "\ue000村"))
    (problem,) = caught.value.problems
    assert problem.case == "481" and problem.name == "李" + EXT_G + "明"
    assert problem.chars == (EXT_G, "\ue000")
    assert "U+30000" in str(caught.value) and "李" not in str(caught.value)  # codes, no name


def test_same_data_gives_identical_bytes():
    assert render_certificate(certificate()).pdf == render_certificate(certificate()).pdf
    assert render_certificate(certificate()).pdf != render_certificate(
        certificate(house_no="18号")).pdf


def test_batch_has_one_page_per_certificate_in_the_given_order():
    serials = ["139901-2026-000003", "139901-2026-000001", "139901-2026-000002"]
    items = [certificate(serial=s, household_name=name, verify_url=f"https://x/verify/{s}")
             for s, name in zip(serials, ["甲一", "乙二", "丙三"])]
    rendered = render_certificates(items)
    pages = PdfReader(io.BytesIO(rendered.pdf)).pages
    assert len(pages) == 3
    for page, serial, name in zip(pages, serials, ["甲一", "乙二", "丙三"]):
        text = page.extract_text()
        assert serial in text and name in text


def test_a_batch_with_an_unprintable_name_names_every_case_at_fault():
    with pytest.raises(UnprintableError) as caught:
        render_certificates([certificate(case_no="1"),
                             certificate(household_name="李" + EXT_G, case_no="2"),
                             certificate(case_no="3"),
                             certificate(household_name="\ue000王", case_no="4")])
    assert [(p.case, p.chars) for p in caught.value.problems] == [("2", (EXT_G,)),
                                                                   ("4", ("\ue000",))]


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError):
        render_certificates([])


def test_empty_optional_fields_do_not_crash():
    bare = CertificateData(serial="139901-2026-000001", issue_date=date(2026, 1, 5),
                           household_name="张三", id_masked="", township="", village="")
    text = text_of(render_certificate(bare).pdf)
    assert "张三" in text and "乡镇人民政府（盖章）" in text and "2026年1月5日" in text


def test_long_values_stay_on_the_page():
    long_names = tuple(f"验收员{i}号" for i in range(12))
    rendered = render_certificate(certificate(
        inspectors=long_names, village="非常非常非常长的村民委员会名称东关村第一居民小区",
        verify_url="https://heating.example.gov.cn/" + "a" * 150 + "?t=tok"))
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace("\n", "")
    assert "验收员0号" in text and "验收员11号" in text and "a" * 40 in text


# -- house numbers ----------------------------------------------------------------------------

def test_house_numbers_sort_naturally():
    numbers = ["10号", "2号", "1号", "2-10", "2-3", "", "东3排1号", "１１号", None]
    assert sorted(numbers, key=house_number_key) == [
        "", None, "1号", "2-3", "2-10", "2号", "10号", "１１号", "东3排1号"]


def test_chinese_numerals_in_group_names_sort_as_numbers():
    groups = ["十组", "二组", "十二组", "一组", "三组", "二十组", "一百零五号"]
    assert sorted(groups, key=house_number_key) == [
        "一组", "二组", "三组", "十组", "十二组", "二十组", "一百零五号"]


# -- application form and acceptance record ---------------------------------------------------

def test_application_form_has_the_case_and_signature_lines():
    rendered = render_application_form(application())
    text = text_of(rendered.pdf)
    for expected in ("清洁取暖“双替代”改造申请表", "欧阳丽娜", MASKED_ID, "****5678",
                     "86.50 m²", "中国农业银行示范县支行", "户主签字（按手印）", "村委会意见",
                     "村民委员会（盖章）", "乡镇审核意见", "申请人承诺", "第 1 页 / 共 1 页"):
        assert expected in text, expected
    assert FULL_ID not in text


def test_application_form_with_only_the_required_fields():
    minimal = ApplicationFormData(case_no="1", programme_year=2026, head_name="张" + EXT_B,
                                  id_masked="", township="", village="")
    text = text_of(render_application_form(minimal).pdf)
    assert "清洁取暖“双替代”改造申请表" in text and "张" + EXT_B in text
    with pytest.raises(UnprintableError) as caught:
        render_application_form(replace(minimal, head_name="张" + EXT_G))
    assert caught.value.problems[0].case == "1"


def test_acceptance_record_has_checklist_photos_and_confirmation():
    rendered = render_acceptance_record(acceptance())
    reader = PdfReader(io.BytesIO(rendered.pdf))
    text = text_of(rendered.pdf)
    for expected in ("清洁取暖改造验收单", "欧阳丽娜", MASKED_ID, "燃煤炉具已拆除",
                     "设备与户主合影", "原燃煤炉具拆除现场", "李建国、赵昇", "验收人员签字",
                     "户主签字（按手印）", "户主确认", "■ 合格", "2026年11月20日"):
        assert expected in text, expected
    assert FULL_ID not in text
    images = [name for page in reader.pages
              for name, obj in page["/Resources"].get("/XObject", {}).items()
              if obj.get_object()["/Subtype"] == "/Image"]
    assert len(images) == 2


def test_acceptance_record_of_a_failure_lists_the_reasons():
    text = text_of(render_acceptance_record(acceptance(
        passed=False, reasons=("燃煤炉具未拆除", "专用断路器未安装"))).pdf)
    assert "■ 不合格" in text and "1. 燃煤炉具未拆除" in text and "2. 专用断路器未安装" in text


def test_a_passed_record_prints_the_remark_under_its_own_heading():
    text = text_of(render_acceptance_record(acceptance(
        passed=True, remark="户主要求下月回访一次")).pdf)
    conclusion = " ".join(text[text.index("四、验收结论"):].split())
    assert conclusion.startswith("四、验收结论 验收结论 ■ 合格 □ 不合格 备 注 户主要求下月回访一次")
    assert "问题及整改要求" not in text  # a pass asks for no rework
    failed = text_of(render_acceptance_record(acceptance(
        passed=False, reasons=("燃煤炉具未拆除",))).pdf)
    assert "问题及整改要求" in failed and "1. 燃煤炉具未拆除" in failed


def test_acceptance_record_survives_a_damaged_photo_and_empty_fields():
    minimal = AcceptanceRecordData(record_no="1", head_name="张三", id_masked="",
                                   township="", village="",
                                   photos=(Photo("设备", b"not a jpeg"),))
    text = text_of(render_acceptance_record(minimal).pdf)
    assert "照片无法显示" in text and "无检查记录" in text


def test_paperwork_is_deterministic():
    assert render_application_form(application()).pdf == render_application_form(
        application()).pdf
    assert render_acceptance_record(acceptance()).pdf == render_acceptance_record(
        acceptance()).pdf


# -- the pdf kernel ------------------------------------------------------------------------

def test_missing_glyphs_and_the_bold_fallback():
    assert pdf.missing_glyphs("王建国 ABC 123\n　") == []
    assert pdf.missing_glyphs(["李" + EXT_G, EXT_G + "x\ue000"]) == [EXT_G, "\ue000"]
    assert pdf.missing_glyphs(RARE + EXT_B + "\ufa10") == []
    assert pdf.face_for("验收合格") == pdf.BOLD
    assert pdf.face_for("王堃") == pdf.REGULAR  # Bold covers GB 2312 only
    assert pdf.face_for("王" + EXT_B) == pdf.BOLD  # Regular lacks 𠈌 too: HanaMinB sets it
    assert pdf.runs("王" + EXT_B + "明", pdf.BOLD) == [
        (pdf.BOLD, "王"), ("HanaMinB", EXT_B), (pdf.BOLD, "明")]


def test_wrap_keeps_lines_within_the_width():
    pdf.fonts()
    url = "https://heating.example.gov.cn/verify/139901-2026-000123?t=" + "x" * 60
    for text in (url, "扫描左侧二维码，或在浏览器中打开下列网址，核对证明内容" * 3,
                 "Gree heat pump model KFR 72LW NhIbB1W and more words here"):
        lines = pdf.wrap(text, pdf.REGULAR, 9, 150)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(pdf.text_width(line, pdf.REGULAR, 9) <= 150 for line in lines)
    assert pdf.wrap("", pdf.REGULAR, 9, 100) == [""]


def test_chinese_dates():
    assert pdf.cn_date(date(2026, 11, 28)) == "2026年11月28日"
    assert pdf.cn_date(date(2027, 1, 5)) == "2027年1月5日"
    assert pdf.cn_date(None) == ""


def test_bytes_are_identical_across_processes():
    """Nothing in the output may depend on the process: dates, IDs, memory addresses."""
    script = (
        "import hashlib, sys; sys.path.insert(0, 'tests/certificates'); import test_render as t; "
        "print(hashlib.sha256(t.render_certificate(t.certificate()).pdf"
        " + t.render_acceptance_record(t.acceptance()).pdf"
        " + t.render_application_form(t.application()).pdf).hexdigest())")
    root = Path(__file__).resolve().parents[2]
    other = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                           text=True, check=True, timeout=120).stdout
    here = hashlib.sha256(render_certificate(certificate()).pdf
                          + render_acceptance_record(acceptance()).pdf
                          + render_application_form(application()).pdf).hexdigest()
    assert other == here + "\n"


def test_fit_shrinks_then_cuts_visibly():
    pdf.fonts()
    steps = ((11.0, 1), (8.0, 2))
    assert pdf.fit("王建国", pdf.REGULAR, 100, steps) == (11.0, ["王建国"])
    size, lines = pdf.fit("验收员" * 8, pdf.REGULAR, 100, steps)
    assert size == 8.0 and len(lines) == 2 and "".join(lines) == "验收员" * 8
    size, lines = pdf.fit("很长的名字" * 20, pdf.REGULAR, 100, steps)
    assert size == 8.0 and len(lines) == 2 and lines[-1].endswith("…")
    assert all(pdf.text_width(line, pdf.REGULAR, 8) <= 100 for line in lines)
