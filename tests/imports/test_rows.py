"""Row rules: every normalisation the import applies and every reason a row or file is refused.
The rules are the registration form's; messages are compared by their message id."""
from __future__ import annotations

from decimal import Decimal

import pytest

from heating.core.db import now_utc
from heating.core.spreadsheet_read import SpreadsheetError
from heating.extensions import db
from heating.households import imports
from heating.households.imports import rules
from tests.factories import AreaFactory, luhn_account, make_id_number
from tests.fixtures import make_case, make_user
from tests.imports.helpers import csv_bytes, grid, row, xlsx


@pytest.fixture
def clerk(world):
    return make_user("clerk", world.village_a1)


def parse(user, rows, data=None, **kw):
    return imports.parse(data if data is not None else xlsx(grid(rows, **kw)), user)


def one(user, **over):
    """The single parsed row of a file holding ``row(1)`` with ``over`` applied."""
    parsed = parse(user, [row(1, over)])
    assert len(parsed.rows) == 1
    return parsed.rows[0]


def messages(r):
    return [p.get("m") for p in r.problems + r.warnings]


# --- normalisation ---------------------------------------------------------------------------
def test_valid_row_becomes_a_draft_registration(clerk, world):
    r = one(clerk)
    assert r.status == "new" and r.problems == [] and r.warnings == []
    v = r.values
    assert v["id_number"] == make_id_number(101) and v["phone"] == "13900000001"
    assert (v["group_name"], v["house_no"]) == ("2组", "2号")
    assert v["residents"] == 4 and v["heated_area"] == Decimal("95.50")
    assert v["previous_heating"] == "coal_stove" and v["coal_stoves"] == 2
    assert (v["conversion_type"], v["device_kind"]) == ("electric", "heat_pump")
    assert v["bank_account"] == luhn_account(501) and v["low_income"] is False
    assert r.village.id == world.village_a1.id
    assert r.id_masked == make_id_number(101)[:6] + "********" + make_id_number(101)[-4:]


FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def test_full_width_digits_spaces_and_lowercase_x(clerk):
    canonical = "11010519491231002X"
    r = one(clerk, 身份证号=" " + canonical[:9].translate(FULL) + " " + canonical[9:].lower(),
            联系电话="＋86 138-1234 5678", 常住人口="４", 原燃煤炉具数="２")
    r2 = one(clerk, **{"供暖面积(平方米)": "１２０．５", "银行账号": "6222 0200 0000 0000 19"})
    assert r.values["id_number"] == canonical
    assert r.values["phone"] == "13812345678"
    assert r.values["residents"] == 4 and r.values["coal_stoves"] == 2
    assert r2.values["heated_area"] == Decimal("120.50")
    assert r2.values["bank_account"] == "622202000000000019"


def test_numbers_typed_as_numbers_are_read(clerk):
    r = one(clerk, 联系电话=13812345678.0, 常住人口=4.0, 原燃煤炉具数=0,
            **{"供暖面积(平方米)": 95.55000000000001})
    assert r.status == "new", messages(r)
    assert r.values["phone"] == "13812345678" and r.values["coal_stoves"] == 0
    assert r.values["heated_area"] == Decimal("95.55")


def test_units_after_numbers(clerk):
    r = one(clerk, 常住人口="4人", 原燃煤炉具数="2个", **{"供暖面积(平方米)": "95.5平方米"})
    assert (r.values["residents"], r.values["coal_stoves"]) == (4, 2)
    assert r.values["heated_area"] == Decimal("95.50")


@pytest.mark.parametrize("text,group,house", [
    ("3组18号", "3组", "18号"), ("18号", "", "18号"), ("三组", "三组", ""), ("", "", ""),
    ("３组 １８号", "3组", "18号"), ("第5组东头12号", "第5组", "东头12号")])
def test_group_and_house_number_split_on_the_first_group(clerk, text, group, house):
    r = one(clerk, **{"组/门牌号": text})
    assert (r.values["group_name"], r.values["house_no"]) == (group, house)


@pytest.mark.parametrize("text,code", [
    ("", "coal_stove"), ("燃煤炉", "coal_stove"), ("散煤炉", "coal_stove"),
    ("燃煤锅炉（土暖气）", "coal_boiler"), ("燃煤锅炉", "coal_boiler"), ("土暖气", "coal_boiler"),
    ("燃煤火炕", "coal_kang"), ("火炕", "coal_kang"), ("其他", "other"), (" 其它 ", "other")])
def test_previous_heating_labels_and_aliases(clerk, text, code):
    assert one(clerk, 原取暖方式=text).values["previous_heating"] == code


@pytest.mark.parametrize("text,kind,device", [("煤改气", "gas", "gas_boiler"),
                                              ("煤改电", "electric", "heat_pump"),
                                              (" 煤改电 ", "electric", "heat_pump")])
def test_conversion_type_and_default_device(clerk, text, kind, device):
    v = one(clerk, 改造类型=text).values
    assert (v["conversion_type"], v["device_kind"]) == (kind, device)


@pytest.mark.parametrize("text,flag", [("是", True), ("否", False), ("", False), ("Y", True),
                                       ("√", True), (True, True), (False, False)])
def test_low_income_yes_no(clerk, text, flag):
    assert one(clerk, 低保户=text).values["low_income"] is flag


def test_bank_fields_may_be_empty_in_a_draft(clerk):
    r = one(clerk, 开户银行=None, 银行账号=None, 账户名=None)
    assert r.status == "new"
    assert (r.values["bank_name"], r.values["bank_account"], r.values["account_holder"]) == (
        None, None, None)


def test_luhn_failure_is_a_warning_and_stays_unconfirmed(clerk):
    good = luhn_account(77)
    r = one(clerk, 银行账号=good[:-1] + str((int(good[-1]) + 1) % 10))
    assert r.status == "warning" and r.importable
    assert r.values["luhn_confirmed"] is False
    assert any("check digit" in m for m in messages(r))


def test_account_holder_not_head_is_a_warning(clerk):
    r = one(clerk, 账户名="李另一")
    assert r.status == "warning"
    assert messages(r) == ["The account holder is not the head of household. Submission is "
                           "blocked until a county user records an exception."]


def test_village_names_with_or_without_suffix_and_township_optional(world):
    reviewer = make_user("reviewer", world.town_a)
    parsed = parse(reviewer, [row(1, 乡镇="东河", 村="南岗"), row(2, 乡镇=None, 村="南岗村"),
                              row(3, 乡镇=" 东河镇 ", 村="东河村")])
    assert [r.village.id for r in parsed.rows] == [world.village_a2.id, world.village_a2.id,
                                                   world.village_a1.id]


# --- file layout -----------------------------------------------------------------------------
MESSY_HEADERS = ["序号", " 身份证号码 ", "户主", "村（社区）", "乡镇（街道）", "联系电话",
                 "供暖面积（㎡）", "常住人口（人）", "原燃煤炉具数", "改造方式", "备注"]
MESSY_KEYS = ["序号", "身份证号", "户主姓名", "村", "乡镇", "联系电话", "供暖面积(平方米)",
              "常住人口", "原燃煤炉具数", "改造类型", "备注"]


def test_messy_layout_title_rows_shuffled_headers_footer(clerk):
    table = grid([row(n, 序号=n) for n in range(1, 4)], MESSY_HEADERS, MESSY_KEYS)
    table = ([["东河村清洁取暖改造户花名册"], [], ["填报单位：东河村委会"]] + table
             + [[], [None, None, None], [4], ["填表人：李录入", None, "审核人：王审核"],
                ["日期：2026年11月28日"], ["合计", None, "3户"],
                ["东河村村民委员会（盖章）", None, None, "2026.11.28"]])
    parsed = parse(clerk, [], data=xlsx(table, before_sheets=("说明",)))
    assert parsed.header_row == 4
    assert [r.number for r in parsed.rows] == [5, 6, 7]
    assert [r.status for r in parsed.rows] == ["new"] * 3
    assert parsed.columns["id_number"] == "B" and parsed.columns["village"] == "D"


def test_a_household_row_without_id_is_an_error_not_a_footer(clerk):
    parsed = parse(clerk, [row(1, 身份证号=None, 户主姓名="说明书")])
    assert [r.status for r in parsed.rows] == ["error"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_files(clerk, encoding):
    data = csv_bytes(grid([row(1), row(2)]), encoding)
    parsed = imports.parse(data, clerk)
    assert [r.status for r in parsed.rows] == ["new", "new"]
    assert parsed.rows[0].values["head_name"] == row(1)["户主姓名"]


def test_file_without_header_row(clerk):
    with pytest.raises(SpreadsheetError) as caught:
        parse(clerk, [], data=xlsx([["姓名单"], ["张三", "110105"]]))
    assert caught.value.code == "no_header"


def test_missing_required_columns_are_named(clerk):
    headers = ("户主姓名", "身份证号", "联系电话", "村")
    with pytest.raises(SpreadsheetError) as caught:
        parse(clerk, [row(1)], headers=headers)
    assert caught.value.code == "missing_columns"
    assert "常住人口" in str(caught.value.message) and "改造类型" in str(caught.value.message)


def test_a_column_given_twice_is_refused(clerk):
    headers = rules.TEMPLATE_HEADERS + ("身份证号码",)
    with pytest.raises(SpreadsheetError) as caught:
        parse(clerk, [row(1)], headers=headers, keys=rules.TEMPLATE_HEADERS + ("身份证号",))
    assert caught.value.code == "repeated_columns"


def test_optional_columns_may_be_missing(clerk):
    required = tuple(c.header for c in rules.COLUMNS if c.required)
    r = parse(clerk, [row(1)], headers=required).rows[0]
    assert r.status == "new"
    assert r.values["previous_heating"] == "coal_stove" and r.values["low_income"] is False


# --- rejections ------------------------------------------------------------------------------
PRECISION = ("Excel stored this ID number as a number (%(shown)s) and has already lost its "
             "last digits. Format the column as text (Format Cells → Text), type the numbers "
             "again and upload again.")

BAD = [
    ({"身份证号": 4.10881199001011e17}, "身份证号", PRECISION),
    ({"身份证号": "4.10881E+17"}, "身份证号", PRECISION),
    ({"身份证号": ""}, "身份证号", "Enter the 18-character ID number."),
    ({"身份证号": "110105491231002"}, "身份证号",
     "This is an old 15-digit ID number: please enter the 18-digit number."),
    ({"身份证号": "11010519491231002"}, "身份证号",
     "An ID number has 18 characters, but %(count)d were given: please check it."),
    ({"身份证号": "1101051949123100AX"}, "身份证号",
     "An ID number has only digits, with an X allowed as the last character."),
    ({"身份证号": "110105194912310021"}, "身份证号",
     "The check character is wrong: please compare with the ID card."),
    ({"身份证号": "110105194902300024"}, "身份证号",
     "The birth date in the ID number is not a real date: please check digits 7 to 14."),
    ({"联系电话": ""}, "联系电话", "Enter an 11-digit mobile number."),
    ({"联系电话": "1381234567"}, "联系电话",
     "A mobile number has 11 digits, but %(count)d were given."),
    ({"联系电话": "23812345678"}, "联系电话",
     "A mobile number starts with 13 to 19: please check the first digits."),
    ({"户主姓名": ""}, "户主姓名", "Enter the name of the head of household."),
    ({"户主姓名": "张" * 51}, "户主姓名", "At most %(n)d characters."),
    ({"常住人口": ""}, "常住人口", "Enter the number of residents."),
    ({"常住人口": "0"}, "常住人口", "Residents must be between 1 and 30."),
    ({"常住人口": 31}, "常住人口", "Residents must be between 1 and 30."),
    ({"常住人口": "4.5"}, "常住人口", "Enter a whole number."),
    ({"常住人口": "四"}, "常住人口", "Enter a number."),
    ({"供暖面积(平方米)": ""}, "供暖面积(平方米)", "Enter the heated area in square metres."),
    ({"供暖面积(平方米)": "2"}, "供暖面积(平方米)",
     "A heated area must be between 5 and 1000 m²; check the figure."),
    ({"供暖面积(平方米)": 1000.5}, "供暖面积(平方米)",
     "A heated area must be between 5 and 1000 m²; check the figure."),
    ({"供暖面积(平方米)": "95.555"}, "供暖面积(平方米)", "At most two decimal places."),
    ({"供暖面积(平方米)": "12,5"}, "供暖面积(平方米)", "Enter a number."),
    ({"原燃煤炉具数": ""}, "原燃煤炉具数", "Enter the number of coal stoves (0 if none)."),
    ({"原燃煤炉具数": "-1"}, "原燃煤炉具数", "Coal stoves must be between 0 and 20."),
    ({"原燃煤炉具数": "21"}, "原燃煤炉具数", "Coal stoves must be between 0 and 20."),
    ({"改造类型": ""}, "改造类型", "Enter 煤改气 or 煤改电."),
    ({"改造类型": "太阳能"}, "改造类型",
     "“%(value)s” is not a conversion type: enter 煤改气 or 煤改电."),
    ({"原取暖方式": "空调"}, "原取暖方式", "Unknown heating “%(value)s”: use one of %(choices)s."),
    ({"低保户": "可能"}, "低保户", "Enter 是 or 否."),
    ({"银行账号": "62220212345678"}, "银行账号",
     "A bank account number has 16 to 19 digits, but %(count)d were given."),
    ({"银行账号": "6222A20123456789"}, "银行账号", "A bank account number has only digits."),
    ({"银行账号": 6.22202123456789e18}, "银行账号",
     "Excel stored this account number as a number (%(shown)s) and has already lost its last "
     "digits. Format the column as text (Format Cells → Text), type the numbers again and "
     "upload again."),
    ({"开户银行": "银" * 61}, "开户银行", "At most %(n)d characters."),
    ({"账户名": "李" * 51}, "账户名", "At most %(n)d characters."),
    ({"组/门牌号": "1" * 21 + "组1号"}, "组/门牌号", "At most %(n)d characters."),
    ({"组/门牌号": "1" * 31}, "组/门牌号", "At most %(n)d characters."),
    ({"村": ""}, "村", "Enter the village."),
    ({"村": "不存在村"}, "村", "“%(name)s” is not a village of %(township)s in your area."),
    ({"乡镇": "不存在镇"}, "乡镇", "“%(name)s” is not a township in your area."),
    ({"乡镇": None, "村": "不存在村"}, "村", "“%(name)s” is not a village in your area."),
    # another village of the clerk's own township: outside a clerk's scope
    ({"村": "南岗村"}, "村", "“%(name)s” is not a village of %(township)s in your area."),
]


@pytest.mark.parametrize("over,column,msgid", BAD, ids=[f"{c}:{m[:30]}" for _, c, m in BAD])
def test_each_rejection_names_column_and_reason(clerk, over, column, msgid):
    r = one(clerk, **over)
    assert r.status == "error" and not r.importable
    assert [(p["c"], p["m"]) for p in r.problems] == [(column, msgid)]
    assert r.problems[0]["l"]  # the column letter


def test_precision_message_shows_what_excel_shows(clerk):
    r = one(clerk, 身份证号=4.10881199001011e17)
    assert r.problems[0]["p"] == {"shown": "4.10881E+17"}


def test_messages_never_hold_a_full_number(clerk):
    bad_id = "110105194912310021"
    parsed = parse(clerk, [row(1, 身份证号=bad_id), row(2, 银行账号="62220212345678")])
    text = repr([r.as_json() for r in parsed.rows])
    assert bad_id not in text and "62220212345678" not in text


def test_every_problem_of_a_row_is_listed(clerk):
    r = one(clerk, 常住人口="0", 改造类型="?", 联系电话="1")
    assert {p["c"] for p in r.problems} == {"常住人口", "改造类型", "联系电话"}


# --- scope -------------------------------------------------------------------------------------
def test_reviewer_imports_into_the_township_only(world):
    reviewer = make_user("reviewer", world.town_a)
    parsed = parse(reviewer, [row(1, 村="南岗村"), row(2, 乡镇="西山乡", 村="西山村")])
    assert [r.status for r in parsed.rows] == ["new", "error"]
    assert parsed.rows[1].problems[0]["c"] == "乡镇"


def test_county_user_imports_anywhere_in_the_county(world):
    county = make_user("county", world.county)
    parsed = parse(county, [row(1, 村="南岗村"), row(2, 乡镇="西山乡", 村="西山村")])
    assert [r.status for r in parsed.rows] == ["new", "new"]


def test_same_village_name_in_two_townships_needs_the_township(world):
    AreaFactory(code="139901002009", name="东河村", level="village", parent=world.town_b)
    db.session.commit()
    county = make_user("county", world.county)
    parsed = parse(county, [row(1, 乡镇=None), row(2, 乡镇="西山乡")])
    assert parsed.rows[0].status == "error" and parsed.rows[0].problems[0]["c"] == "乡镇"
    assert parsed.rows[1].village.township_id == world.town_b.id


def test_retired_villages_take_no_imports(world):
    world.village_a1.retired_at = now_utc()
    db.session.commit()
    r = one(make_user("reviewer", world.town_a))
    assert r.status == "error" and r.problems[0]["c"] == "村"


# --- duplicates ------------------------------------------------------------------------------
def test_duplicates_within_the_file_point_at_the_first_row(clerk):
    parsed = parse(clerk, [row(1), row(2), row(3, 身份证号=row(1)["身份证号"].lower()),
                           row(4, 身份证号=row(1)["身份证号"])])
    assert [r.status for r in parsed.rows] == ["new", "new", "error", "error"]
    for r in parsed.rows[2:]:
        assert r.problems[-1]["m"] == "This ID number is already in row %(row)d of this file."
        assert r.problems[-1]["p"] == {"row": 2}  # headers in row 1: row(1) is row 2


def test_existing_active_case_is_a_duplicate_named_in_scope(clerk, world):
    make_case(world.village_a1, clerk, id_number=row(1)["身份证号"], programme_year=2025)
    r = one(clerk)
    assert r.status == "duplicate" and not r.importable
    assert r.problems[0]["p"]["village"] == "东河村" and r.problems[0]["p"]["year"] == 2025


def test_duplicate_outside_scope_does_not_name_the_village(clerk, world):
    other = make_user("clerk", world.village_b1)
    make_case(world.village_b1, other, id_number=row(1)["身份证号"])
    r = one(clerk)
    assert r.status == "duplicate"
    assert r.problems[0]["m"].startswith("This ID number already has an active case in "
                                         "another village outside your area")
    assert "西山村" not in repr(r.as_json())


def test_withdrawn_and_cancelled_cases_do_not_block(clerk, world):
    make_case(world.village_a1, clerk, id_number=row(1)["身份证号"], state="withdrawn")
    make_case(world.village_a1, clerk, id_number=row(1)["身份证号"], state="cancelled")
    assert one(clerk).status == "new"


def test_shared_bank_accounts_are_warnings(clerk, world):
    make_case(world.village_a1, clerk, bank_account=row(1)["银行账号"])
    parsed = parse(clerk, [row(1), row(2, 银行账号=row(1)["银行账号"])])
    assert [r.status for r in parsed.rows] == ["warning", "warning"]
    assert parsed.rows[1].warnings[0]["p"] == {"row": 2}


def test_row_hashes_are_the_lookup_keyed_hash(app, clerk):
    from heating.core.lookup import keyed_hash
    r = one(clerk)
    assert r.id_hash == keyed_hash("id", r.values["id_number"])
    assert r.bank_hash == keyed_hash("bank", r.values["bank_account"])


def test_bounds_and_messages_come_from_the_registration_form():
    from heating.households.forms import HouseholdForm
    validators = HouseholdForm.residents.kwargs["validators"]
    form_range = next(v for v in validators if hasattr(v, "min"))
    assert rules.RULES.residents == (form_range.min, form_range.max, form_range.message)
    assert rules.RULES.lengths["head_name"] == 50


def test_numbers_typed_in_the_wrong_column_never_reach_the_preview(clerk):
    full = make_id_number(7)
    parsed = parse(clerk, [row(1, 户主姓名=full, 改造类型=full, 村=full + "村"),
                           row(2, 户主姓名="张" + "１２３４５６７８９０１２３４５６７８")])
    text = repr([r.as_json() for r in parsed.rows])
    assert full not in text and full[:6] + "********" + full[-4:] in text
    assert "１２３４５６７８９０１２３４５６７８" not in text
