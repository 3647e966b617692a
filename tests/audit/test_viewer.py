"""The audit log as a county office reads it (in Chinese): labelled actions, objects by name
with links where the reader may open them, before → after as "field: old → new", the
actions offered as a choice, and one page costs the same few queries whatever it holds."""
from __future__ import annotations

import html
import re

from sqlalchemy import event, select

from heating.audit.services import record
from heating.extensions import db
from heating.publicity.models import NoticeEntry
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_case, make_user
from tests.payouts.helpers import batch, confirmed_case, policy


def visible_text(page: str) -> str:
    """What a reader sees: no tags, no attribute values (the filter's option values are
    codes, and may be)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page)))


def _body(page: str) -> str:
    """The table of rows (not the filter, whose options name every action)."""
    return page[page.index('<table class="dense audit">'):]


def _setup(world):
    clerk = make_user("clerk", world.village_a1, username="clerk_zhang", display_name="张录入")
    fin = make_user("finance", world.county, username="fin_li", display_name="李财务")
    hh = confirmed_case(world.village_a1, clerk, 680000, head_name="王大明")
    made = batch(fin)  # payout.batch_created, by the service
    notice_id = db.session.scalar(select(NoticeEntry.notice_id))
    pol = policy(world.county, fin)
    record("household.publicize", "household", hh.id, actor=clerk,
           before={"state": "passed"}, after={"state": "publicized"})
    record("user.role_granted", "user", clerk.id, actor=None, summary="",
           after={"role": "clerk", "area_id": world.village_a1.id})
    record("notice.published", "notice", notice_id, actor=clerk,
           after={"number": "GS-1", "total_fen": 680000, "cases": [hh.id],
                  "starts_on": "2026-01-01"})
    record("policy.update", "subsidy_policy", pol.id, actor=fin,
           before={"equipment_cap_fen": 700000, "seasons": 3},
           after={"equipment_cap_fen": 740000, "seasons": 2})
    record("inspection.recorded", "household", hh.id, actor=clerk,
           after={"result": "pass", "checklist": {"device_running": True}, "photos": [7, 8]})
    record("test.unknown", "thing", 1, actor=None, after={"mystery_key": 5})
    db.session.commit()
    return clerk, fin, hh, made, notice_id, pol


def test_the_log_reads_in_chinese_with_names_links_and_changes(app, client, world):
    clerk, fin, hh, made, notice_id, pol = _setup(world)
    log_in(client, make_user("auditor", world.county), lang="zh_Hans_CN")
    page = client.get("/audit/").get_data(as_text=True)
    text = visible_text(_body(page))
    # no raw codes, no JSON
    for raw in ("household.publicize", "user.role_granted", "payout.batch_created",
                "notice.published", "policy.update", "subsidy_policy", "{", "}", '"state"'):
        assert raw not in text, raw
    # labelled actions and objects
    for label in ("列入公示", "授予角色", "发布公示", "修改补贴政策", "新建发放批次", "登记验收结果"):
        assert label in text, label
    # before → after, field by field, values in words
    for line in ("状态：验收通过 → 公示中", "角色：村级录入员", "区域：东河镇 东河村",
                 "设备补贴上限：7,000.00 元 → 7,400.00 元", "运行补贴季数：3 → 2",
                 "合计金额：6,800.00 元", "案件：#%d" % hh.id, "结果：通过",
                 "验收项目：设备已安装并正常运行：是", "照片：#7、#8", "开始日期：2026-01-01",
                 "mystery_key：5"):
        assert line in text, line
    # objects by name, linked where the auditor may open them; the case by its masked name
    assert f'<a href="/households/{hh.id}">王*明 #{hh.id}</a>' in page
    assert "王大明" not in page
    assert f'href="/publicity/{notice_id}"' in page
    assert f'<a href="/payouts/batches/{made.id}">{made.number}</a>' in page
    assert f'href="/subsidies/policies/{pol.id}"' in page
    # a user by display name; the administrator's page is not linked for an auditor
    assert "张录入" in text and "李财务" in text
    assert "/admin/users/" not in page


def test_an_administrator_reader_gets_the_user_links(app, client, world):
    clerk, *_ = _setup(world)
    log_in(client, make_user(["auditor", "admin"], world.county), lang="zh_Hans_CN")
    page = client.get("/audit/").get_data(as_text=True)
    assert f'<a href="/admin/users/{clerk.id}">张录入</a>' in page


def test_objects_outside_the_readers_county_are_named_but_not_opened(app, client, world):
    _clerk, _fin, hh, made, notice_id, _pol = _setup(world)
    elsewhere = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    log_in(client, make_user("county", elsewhere), lang="zh_Hans_CN")
    page = client.get("/audit/").get_data(as_text=True)
    text = visible_text(_body(page))
    assert f"案件 #{hh.id}" in text and "王*明" not in page  # not even the masked name
    for url in (f"/households/{hh.id}", f"/publicity/{notice_id}",
                f"/payouts/batches/{made.id}"):
        assert f'href="{url}"' not in page, url
    assert made.number in text


def test_the_filter_offers_the_actions_by_name(app, client, world):
    clerk, *_ = _setup(world)
    record("login", "user", clerk.id, actor=clerk, summary="clerk_zhang")
    db.session.commit()
    log_in(client, make_user("auditor", world.county), lang="zh_Hans_CN")
    page = client.get("/audit/").get_data(as_text=True)
    select_ = re.search(r'<select[^>]*name="action".*?</select>', page, re.S).group(0)
    assert '<option selected value="">全部操作</option>' in select_
    assert '<optgroup label="案件">' in select_
    assert '<option value="household.publicize">列入公示</option>' in select_
    assert '<option value="group:cases">全部：案件</option>' in select_
    body = visible_text(_body(client.get("/audit/?action=household.publicize")
                              .get_data(as_text=True)))
    assert "列入公示" in body and "授予角色" not in body and "登录" not in body
    body = visible_text(_body(client.get("/audit/?action=group:cases").get_data(as_text=True)))
    assert "列入公示" in body and "登记验收结果" in body and "登录" not in body
    body = visible_text(_body(client.get("/audit/?object_type=subsidy_policy")
                              .get_data(as_text=True)))
    assert "修改补贴政策" in body and "列入公示" not in body
    # a value not offered: the page says so and shows everything, never a 500
    r = client.get("/audit/?action=household.nonsense&object_type=x&after=99999999999999999999")
    assert r.status_code == 200
    text = visible_text(r.get_data(as_text=True))
    assert "操作" in text and "列入公示" in text


def _statements(app, client, url: str) -> int:
    count = [0]

    def counted(*_args):
        count[0] += 1
    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count[0]


def test_a_page_costs_the_same_queries_for_5_rows_or_50(app, client, world):
    """Names are loaded per kind of object, not per row."""
    clerk = make_user("clerk", world.village_a1)
    fin = make_user("finance", world.county)
    cases = [make_case(world.village_a1, clerk) for _ in range(12)]
    cases.append(confirmed_case(world.village_a1, clerk))
    made = batch(fin)
    log_in(client, make_user("auditor", world.county), lang="zh_Hans_CN")

    def rows(n):
        for i in range(n):
            hh = cases[i % len(cases)]
            record("household.publicize", "household", hh.id, actor=clerk,
                   before={"state": "passed"}, after={"state": "publicized"})
            record("user.role_granted", "user", clerk.id, actor=fin,
                   after={"role": "clerk", "area_id": world.village_a1.id})
            record("inspection.assigned", "household", hh.id, actor=fin,
                   after={"inspector": fin.id, "visit_date": "2026-11-01"})
            record("payout.batch_totals", "payout_batch", made.id, actor=fin,
                   before={"count": 1}, after={"count": 2})
            record("followup.sampled", "area", world.town_a.id, actor=fin, after={"asked": 2})
        db.session.commit()

    rows(1)
    few = _statements(app, client, "/audit/")
    rows(12)  # 65 rows: a full page of 50
    many = _statements(app, client, "/audit/")
    assert many == few
    assert many <= 12
