"""公示 screens: a reviewer publishes from the eligible cases, records and decides objections,
downloads the posted PDF (same bytes every time, audited), confirms ended notices; the case page
shows the entry; other roles read, out of scope nothing exists; the daily command."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.certificates import services as certificates
from heating.core.i18n import local_today
from heating.extensions import db
from heating.publicity import objections, services, views
from heating.publicity.models import Notice, Objection
from tests.fixtures import log_in, make_user, says
from tests.publicity.support import make_policy, passed_case


@pytest.fixture
def reviewer(app, client, world):
    user = make_user("reviewer", world.town_a, display_name="李审核")
    log_in(client, user)
    return user


@pytest.fixture
def policy(app, world):
    return make_policy(world)


def publish_form(world, cases, **over):
    data = {"township_id": str(world.town_a.id), "village_id": "0", "year": "2026",
            "case_ids": [str(c.id) for c in cases], "title": "东河镇设备补贴公示",
            "starts_on": local_today().isoformat(), "period_days": "7",
            "objection_phone": "0391-1234567", "issuing_office": "东河镇人民政府"}
    data.update(over)
    return data


def published(reviewer, world, cases):
    notice = services.publish(reviewer, township=world.town_a, case_ids=[c.id for c in cases],
                              title="公示", objection_phone="0391-1234567",
                              issuing_office="东河镇人民政府")
    db.session.commit()
    return notice


def test_new_notice_lists_eligible_cases_with_amounts_and_publishes(
        client, post, world, reviewer, policy):
    a = passed_case(world, head_name="张三明", invoice="8000")
    b = passed_case(world, invoice="10000")
    gas = passed_case(world, conversion_type="gas", device_kind="gas_boiler")
    page = client.get(f"/publicity/new?township={world.town_a.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "6,800.00" in body and "7,400.00" in body
    assert says(page, "No subsidy policy is in force for programme year %(year)s, %(type)s, "
                "on %(date)s. The county office enters it under Subsidy policies.",
                year=2026, type="Coal to gas", date="2026-09-01")
    assert f'value="{a.id}" aria-label="张三明"\n             checked' in body
    assert f'value="{gas.id}"' in body and "disabled" in body
    assert "data-confirm" in body and "frozen" in body
    # ticking the case without an amount refuses the whole notice, with the case named
    refused = post("/publicity/new", publish_form(world, [a, gas]))
    assert refused.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    assert f"Case {gas.id}" in refused.get_data(as_text=True)
    done = post("/publicity/new", publish_form(world, [a, b]))
    assert done.status_code == 302
    notice = db.session.scalar(select(Notice))
    assert done.headers["Location"].endswith(f"/publicity/{notice.id}")
    assert [e.amount_fen for e in notice.entries] == [680000, 740000]
    db.session.refresh(a)
    assert a.state == "publicized"
    detail = client.get(f"/publicity/{notice.id}")
    assert notice.number in detail.get_data(as_text=True)
    assert "张*明" in detail.get_data(as_text=True)
    assert a.id_number not in detail.get_data(as_text=True)


def test_objection_screens_and_confirm_now(client, post, world, reviewer, policy, monkeypatch):
    a, b, c = passed_case(world), passed_case(world), passed_case(world)
    notice = published(reviewer, world, [a, b, c])
    entries = notice.entries
    for entry in entries[:2]:
        r = post(f"/publicity/entries/{entry.id}/objections",
                 {"raised_by": "村民王某", "reason": "家中仍烧煤"})
        assert r.status_code == 302
    objs = list(db.session.scalars(select(Objection).order_by(Objection.id)))
    assert [o.outcome for o in objs] == ["open", "open"]
    db.session.refresh(a)
    assert a.state == "objected"
    # a decision needs a reason
    post(f"/publicity/objections/{objs[0].id}/dismiss", {"reason": ""})
    db.session.refresh(objs[0])
    assert objs[0].outcome == "open"
    assert post(f"/publicity/objections/{objs[0].id}/dismiss",
                {"reason": "核实不属实"}).status_code == 302
    assert post(f"/publicity/objections/{objs[1].id}/uphold",
                {"reason": "设备未安装"}).status_code == 302
    db.session.expire_all()
    a, b = db.session.merge(a), db.session.merge(b)
    assert a.state == "publicized" and b.state == "installed"
    assert certificates.current_certificate(b) is None
    # not before the period is over
    post(f"/publicity/{notice.id}/confirm")
    db.session.refresh(c)
    assert c.state == "publicized"
    day_after = notice.ends_on + timedelta(days=1)
    for module in (services, objections, views):
        monkeypatch.setattr(module, "local_today", lambda: day_after)
    page = client.get("/publicity/")
    assert says(page, "Confirm ended notices (%(n)s)", n=1)
    assert post(f"/publicity/{notice.id}/confirm").status_code == 302
    db.session.expire_all()
    notice = db.session.get(Notice, notice.id)
    assert [e.household.state for e in notice.entries] == ["confirmed", "installed",
                                                           "confirmed"]
    assert notice.state == "closed"


def test_take_off_screen(client, post, world, reviewer, policy):
    a = passed_case(world)
    notice = published(reviewer, world, [a])
    assert post(f"/publicity/entries/{notice.entries[0].id}/take-off",
                {"reason": "户主信息更正"}).status_code == 302
    db.session.refresh(a)
    assert a.state == "passed" and notice.entries[0].state == "removed"


def test_pdf_and_xlsx_downloads_are_identical_and_audited(client, world, reviewer, policy):
    a = passed_case(world, head_name="张三明")
    notice = published(reviewer, world, [a])
    first = client.get(f"/publicity/{notice.id}.pdf")
    second = client.get(f"/publicity/{notice.id}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data
    assert hashlib.sha256(first.data).hexdigest() == notice.pdf_sha256
    sheet = client.get(f"/publicity/{notice.id}.xlsx")
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"
    assert "attachment" in sheet.headers["Content-Disposition"]
    downloads = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "notice.downloaded"))
    assert downloads == 3


def test_case_page_shows_the_entry(client, post, world, reviewer, policy):
    a = passed_case(world)
    notice = published(reviewer, world, [a])
    post(f"/publicity/entries/{notice.entries[0].id}/objections",
         {"raised_by": "匿名电话", "reason": "面积虚报"})
    page = client.get(f"/households/{a.id}")
    body = page.get_data(as_text=True)
    assert notice.number in body and "6,800.00" in body and "面积虚报" in body
    other = passed_case(world)
    assert notice.number not in client.get(f"/households/{other.id}").get_data(as_text=True)


def test_scope_and_permissions(client, post, world, reviewer, policy):
    a = passed_case(world)
    notice = published(reviewer, world, [a])
    entry = notice.entries[0]
    clerk = make_user("clerk", world.village_a1)
    log_in(client, clerk)
    assert client.get(f"/publicity/{notice.id}").status_code == 200  # reads the notice
    assert client.get("/publicity/new").status_code == 403
    assert post(f"/publicity/entries/{entry.id}/objections",
                {"raised_by": "x", "reason": "y"}).status_code == 403
    log_in(client, make_user("reviewer", world.town_b))
    assert client.get(f"/publicity/{notice.id}").status_code == 404
    assert client.get(f"/publicity/{notice.id}.pdf").status_code == 404
    assert client.get(f"/publicity/new?township={world.town_a.id}").status_code == 404
    assert post(f"/publicity/entries/{entry.id}/objections",
                {"raised_by": "x", "reason": "y"}).status_code == 404
    assert notice.number not in client.get("/publicity/").get_data(as_text=True)
    # a clerk of another village of the township sees a township notice, not a village one
    log_in(client, make_user("clerk", world.village_a2))
    assert client.get(f"/publicity/{notice.id}").status_code == 200
    log_in(client, make_user("clerk", world.village_b1))
    assert client.get(f"/publicity/{notice.id}").status_code == 404


def test_confirm_notices_command(app, world, policy):
    reviewer = make_user("reviewer", world.town_a)
    a = passed_case(world)
    notice = published(reviewer, world, [a])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["confirm-notices", "--date", notice.ends_on.isoformat()])
    assert result.exit_code == 0 and "confirmed 0 case(s)" in result.output
    day_after = (notice.ends_on + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["confirm-notices", "--date", day_after])
    assert result.exit_code == 0 and "confirmed 1 case(s)" in result.output
    db.session.expire_all()
    assert db.session.merge(a).state == "confirmed"
    again = runner.invoke(args=["confirm-notices", "--date", day_after])
    assert "confirmed 0 case(s)" in again.output
    bad = runner.invoke(args=["confirm-notices", "--date", "2026-13-01"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_pages_render_in_chinese(client, post, world, reviewer, policy):
    a, b = passed_case(world), passed_case(world)
    notice = published(reviewer, world, [a])
    post(f"/publicity/entries/{notice.entries[0].id}/objections",
         {"raised_by": "村民", "reason": "有异议"})
    log_in(client, reviewer, lang="zh_Hans_CN")
    for url in ("/publicity/", f"/publicity/new?township={world.town_a.id}",
                f"/publicity/{notice.id}", f"/households/{a.id}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert notice.number in page.get_data(as_text=True) or url.startswith("/publicity/new")
    assert f'value="{b.id}"' in client.get(
        f"/publicity/new?township={world.town_a.id}").get_data(as_text=True)


def test_notice_list_title_says_public_notices_once(client, world, reviewer):
    log_in(client, reviewer, lang="zh_Hans_CN")
    page = client.get("/publicity/").get_data(as_text=True)
    heading = page[page.index("<h1>"):page.index("</h1>")]
    assert heading.count("公示") == 1  # not 公示 公示
    log_in(client, reviewer)
    page = client.get("/publicity/").get_data(as_text=True)
    assert "Public notices <small>公示</small>" in page  # the English page names the term
