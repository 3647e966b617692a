"""The import through the screens: the clerk's walk from the template to the imported cases,
a messy file of their own, hostile files (never a 500), visibility and the lost race."""
from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.households.imports.models import ImportRecord
from heating.households.imports.rules import TEMPLATE_HEADERS
from heating.households.imports.template import DATA_SHEET, HELP_SHEET
from heating.households.models import CaseEvent, Household
from tests.factories import make_id_number
from tests.fixtures import log_in, make_case, make_user, says
from tests.imports.helpers import grid, row, xlsx
from tests.imports.test_rows import MESSY_HEADERS, MESSY_KEYS


def count(model=Household):
    return db.session.scalar(select(func.count()).select_from(model))


def upload(post, data, name="households.xlsx", year="2026"):
    return post("/imports/", {"file": (io.BytesIO(data), name), "programme_year": year},
                content_type="multipart/form-data")


def last_record():
    return db.session.scalar(select(ImportRecord).order_by(ImportRecord.id.desc()))


def fill_template(template: bytes, rows: list[dict]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book[DATA_SHEET]
    for r, values in enumerate(rows, start=2):
        for c, header in enumerate(TEMPLATE_HEADERS, start=1):
            if values.get(header) not in (None, ""):
                sheet.cell(r, c, values[header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_has_the_columns_text_formats_and_instructions(client, login_as):
    login_as("clerk")
    r = client.get("/imports/template.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == [DATA_SHEET, HELP_SHEET]
    sheet = book[DATA_SHEET]
    assert tuple(c.value for c in sheet[1]) == TEMPLATE_HEADERS == (
        "户主姓名", "身份证号", "联系电话", "乡镇", "村", "组/门牌号", "常住人口",
        "供暖面积(平方米)", "原取暖方式", "原燃煤炉具数", "改造类型", "开户银行", "银行账号",
        "账户名", "低保户")
    for letter in ("B", "C", "M"):  # ID, phone and account columns are text
        assert sheet.column_dimensions[letter].number_format == "@"
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["K2:K5001"] == '"煤改气,煤改电"' and lists["O2:O5001"] == '"是,否"'
    assert book[HELP_SHEET]["A1"].value


def test_clerk_walk_template_fifty_rows_a_few_mistakes_confirm_and_again(
        app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    log_in(client, clerk)
    rows = [row(n) for n in range(1, 51)]
    rows[9]["身份证号"] = "110105194912310021"  # row 11: wrong check character
    rows[19]["常住人口"] = "0"  # row 21
    rows[29]["身份证号"] = rows[4]["身份证号"]  # row 31 repeats row 6
    rows[39]["村"] = "西山村"  # row 41: another township's village
    rows[44]["身份证号"] = 4.10881199001011e17  # row 46: Excel's number
    data = fill_template(client.get("/imports/template.xlsx").data, rows)

    r = upload(post, data)
    assert r.status_code == 302
    rec = last_record()
    assert r.location.endswith(f"/imports/{rec.id}") and rec.status == "previewed"
    assert (rec.row_count, rec.new_count, rec.duplicate_count, rec.error_count) == (50, 45, 0, 5)
    assert count() == 0  # nothing written before the confirmation

    page = client.get(f"/imports/{rec.id}").get_data(as_text=True)
    problem_rows = [int(n) for n in re.findall(r'<tr class="import-error">\s*<td>(\d+)</td>', page)]
    assert problem_rows == [11, 21, 31, 41, 46]
    assert "Column B (身份证号)" in page and "Column G (常住人口)" in page
    assert says(client.get(f"/imports/{rec.id}"), "This ID number is already in row %(row)d "
                "of this file.", row=6)
    assert 'data-confirm="Create 45 households as drafts in programme year 2026?' in page
    for full in (rows[0]["身份证号"], rows[0]["银行账号"]):
        assert full not in page and full not in rec.preview

    r = post(f"/imports/{rec.id}/confirm")
    assert r.status_code == 302
    db.session.refresh(rec)
    assert rec.status == "imported" and rec.imported_count == 45
    assert count() == 45 and count(CaseEvent) == 45
    cases = db.session.scalars(select(Household)).all()
    assert {c.state for c in cases} == {"draft"} and {c.programme_year for c in cases} == {2026}
    assert {c.created_by_id for c in cases} == {clerk.id}
    assert "110105194912310021" not in {c.id_number for c in cases}
    first = db.session.scalar(select(Household).where(Household.head_name == rows[0]["户主姓名"]))
    assert (first.group_name, first.house_no, first.version) == ("2组", "2号", 1)
    assert [e.action for e in first.events] == ["create"]
    audit = db.session.scalars(select(AuditEvent.action)).all()
    assert audit.count("household.imported") == 45
    trail = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "household",
                                                       AuditEvent.object_id == str(first.id)))
    assert trail.action == "household.imported" and trail.actor_id == clerk.id
    assert trail.summary == f"{first.head_name} @ 139901001001 (import {rec.id}, row 2)"
    assert audit.count("imports.previewed") == 1 and audit.count("imports.confirmed") == 1

    # the same file again: refused as already imported, nothing changes
    r = upload(post, data)
    assert r.status_code == 200 and "already imported" in r.get_data(as_text=True)
    assert count() == 45 and last_record().status == "rejected"
    r = post(f"/imports/{rec.id}/confirm")
    assert r.status_code == 302 and count() == 45


def test_messy_own_spreadsheet_imports_the_same_way(client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    FULL = str.maketrans("0123456789", "０１２３４５６７８９")
    rows = [row(n, 序号=n, 联系电话=f"139 {n:04d} {n:04d}".translate(FULL),
                常住人口="３", 身份证号=make_id_number(300 + n).translate(FULL))
            for n in range(1, 11)]
    table = ([["东河村清洁取暖改造户花名册（2026年度）"], []] + grid(rows, MESSY_HEADERS, MESSY_KEYS)
             + [[], ["填表人：李录入", None, None, "审核人：王审核", None, "日期：2026.11.28"]])
    assert upload(post, xlsx(table), "东河村花名册.xlsx").status_code == 302
    rec = last_record()
    assert (rec.row_count, rec.new_count, rec.error_count) == (10, 10, 0)
    post(f"/imports/{rec.id}/confirm")
    assert count() == 10
    hh = db.session.scalar(select(Household).where(Household.head_name == rows[0]["户主姓名"]))
    assert hh.id_number == make_id_number(301) and hh.phone == "13900010001"
    assert hh.residents == 3


def test_csv_in_gbk_through_the_screen(client, post, world):
    from tests.imports.helpers import csv_bytes
    log_in(client, make_user("clerk", world.village_a1))
    assert upload(post, csv_bytes(grid([row(1), row(2)]), "gbk"), "导出.csv").status_code == 302
    assert last_record().new_count == 2


HOSTILE = {
    "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000, ".xlsx"),
    "setup.xlsx": (b"MZ\x90\x00" + bytes(range(256)) * 10, "not an Excel workbook"),
    "empty.csv": (b"", "empty"),
    "garbage.xlsx": (b"PK\x03\x04garbage" * 10, "damaged"),
}


def test_hostile_and_wrong_files_get_a_message_never_a_500(app, client, post, world):
    app.config["PROPAGATE_TEST_ERRORS"] = False
    log_in(client, make_user("clerk", world.village_a1))
    from tests.imports.test_reader import ENTITIES, TABLE, rezip
    data = xlsx(TABLE)
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        body = zf.read("xl/workbook.xml").split(b"?>", 1)[1]
    files = dict(HOSTILE)
    files["macro.xlsm"] = (rezip(data, add={"xl/vbaProject.bin": b"x"}), "macros")
    files["entities.xlsx"] = (rezip(data, replace={"xl/workbook.xml": ENTITIES + body}),
                              "DTD/ENTITY")
    files["noheader.xlsx"] = (xlsx([["一些"], ["别的", "东西"]]), "No header row")
    for name, (content, words) in files.items():
        r = upload(post, content, name)
        assert r.status_code == 200, name
        assert words in r.get_data(as_text=True), name
        rec = last_record()
        assert rec.status == "rejected" and rec.stored_path is None and rec.filename == name
    assert count() == 0
    assert count(ImportRecord) == len(files)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "imports.rejected")) == len(files)


def test_oversized_upload_gets_the_import_limit_message(app, client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
    r = upload(post, b"a,b,c\r\n" * 200_000, "big.csv")
    assert r.status_code == 200 and "larger than 1 MB" in r.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    assert upload(post, b"a,b\r\n" * 600_000, "huge.csv").status_code == 413


def test_kept_file_has_a_random_name_under_storage(app, client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    data = xlsx(grid([row(1)]))
    upload(post, data, "../../etc/passwd.xlsx")
    rec = last_record()
    assert rec.filename == "passwd.xlsx"
    assert re.fullmatch(r"imports/[0-9a-f]{32}\.xlsx", rec.stored_path)
    assert (Path(app.config["STORAGE_DIR"]) / rec.stored_path).read_bytes() == data


def test_year_defaults_to_the_current_one_and_is_checked(client, post, world):
    from heating.households.forms import default_programme_year
    log_in(client, make_user("clerk", world.village_a1))
    page = client.get("/imports/").get_data(as_text=True)
    assert f'value="{default_programme_year()}"' in page
    r = upload(post, xlsx(grid([row(1)])), year="1999")
    assert r.status_code == 200 and "2016" in r.get_data(as_text=True)
    upload(post, xlsx(grid([row(1)])), year="2027")
    rec = last_record()
    post(f"/imports/{rec.id}/confirm")
    assert db.session.scalar(select(Household.programme_year)) == 2027


def test_record_visible_to_uploader_and_county_only(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    log_in(client, clerk)
    upload(post, xlsx(grid([row(1)])))
    rec = last_record()
    for user, status in ((make_user("clerk", world.village_a1), 404),
                         (make_user("reviewer", world.town_a), 404),
                         (make_user("county", world.county), 200)):
        log_in(client, user)
        assert client.get(f"/imports/{rec.id}").status_code == status
    assert post(f"/imports/{rec.id}/confirm").status_code == 403  # county reads, never confirms
    assert count() == 0


def test_case_registered_since_the_preview_imports_nothing_and_refreshes(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    log_in(client, clerk)
    upload(post, xlsx(grid([row(1), row(2), row(3)])))
    rec = last_record()
    assert rec.new_count == 3
    make_case(world.village_a1, clerk, id_number=row(2)["身份证号"])
    r = post(f"/imports/{rec.id}/confirm", follow_redirects=True)
    assert says(r, "Nothing was imported: cases were registered or changed since the "
                   "preview. The preview below is up to date; check it and confirm again.")
    db.session.refresh(rec)
    assert count() == 1 and rec.status == "previewed"
    assert (rec.new_count, rec.duplicate_count) == (2, 1)
    post(f"/imports/{rec.id}/confirm")
    db.session.refresh(rec)
    assert count() == 3 and rec.status == "imported" and rec.imported_count == 2


def test_chinese_screen(client, post, world):
    log_in(client, make_user("clerk", world.village_a1), lang="zh_Hans_CN")
    upload(post, xlsx(grid([row(1, 身份证号="110105194912310021")])))
    page = client.get(f"/imports/{last_record().id}").get_data(as_text=True)
    assert "校验" in page  # the ID rule's own Chinese message
    assert 'lang="zh-CN"' in page


def test_refused_record_page_and_preview_paging(client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    upload(post, b"MZ" + bytes(300), "virus.xlsx")
    page = client.get(f"/imports/{last_record().id}").get_data(as_text=True)
    assert "not an Excel workbook" in page and "Import 0" not in page
    upload(post, xlsx(grid([row(n) for n in range(1, 251)] + [row(300, 常住人口="0")])))
    rec = last_record()
    problems = client.get(f"/imports/{rec.id}").get_data(as_text=True)
    assert problems.count('<tr class="import-') == 1  # only the row with a problem
    second = client.get(f"/imports/{rec.id}?show=all&page=2").get_data(as_text=True)
    assert second.count('<tr class="import-') == 51 and ">252</td>" in second
