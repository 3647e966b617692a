"""The household list (scoped search, filters, counts, keyset pages), the detail page's masks
and the audited reveal."""
from __future__ import annotations

from sqlalchemy import select

from heating.audit.models import AuditEvent
from heating.extensions import db
from tests.factories import make_id_number
from tests.fixtures import log_in, make_case, make_user


def rows(body: str) -> int:
    return body.count('<tr>\n    <td><a href="/households/')


def test_list_is_scoped_and_counts_per_state(client, world):
    clerk_a = make_user("clerk", world.village_a1)
    for _ in range(3):
        make_case(world.village_a1, clerk_a)
    make_case(world.village_a1, clerk_a, state="submitted")
    make_case(world.village_b1, make_user("clerk", world.village_b1), head_name="外村人")
    log_in(client, clerk_a)
    body = client.get("/households/").get_data(as_text=True)
    assert rows(body) == 4 and "外村人" not in body
    assert "4 found" in body
    body = client.get("/households/?state=submitted").get_data(as_text=True)
    assert rows(body) == 1 and "1 found" in body

    log_in(client, make_user("county", world.county))
    body = client.get("/households/").get_data(as_text=True)
    assert rows(body) == 5 and "外村人" in body
    body = client.get(f"/households/?township={world.town_b.id}").get_data(as_text=True)
    assert rows(body) == 1 and "西山乡" in body  # the breadcrumb names the township


def test_keyset_pages_cover_everything_once(app, client, world):
    app.config["PAGE_SIZE"] = 4
    clerk = make_user("clerk", world.village_a1)
    ids = {make_case(world.village_a1, clerk).id for _ in range(10)}
    log_in(client, clerk)
    seen, url = [], "/households/"
    while url:
        body = client.get(url).get_data(as_text=True)
        import re
        seen += [int(i) for i in re.findall(r'<td><a href="/households/(\d+)">\1</a>', body)]
        nxt = re.search(r'href="(/households/\?[^"]*after=\d+[^"]*)"', body)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == sorted(ids, reverse=True)


def test_search_by_name_id_phone_house(client, world):
    clerk = make_user("clerk", world.village_a1)
    target = make_case(world.village_a1, clerk, head_name="欧阳丽娜", phone="13900001111",
                       house_no="88号", id_number=make_id_number(777))
    make_case(world.village_a1, clerk, head_name="张三", house_no="1号")  # never …88号
    log_in(client, clerk)
    for q in ("欧阳", make_id_number(777), make_id_number(777).lower(), "13900001111", "139000",
              "88号"):
        body = client.get("/households/", query_string={"q": q}).get_data(as_text=True)
        assert rows(body) == 1 and f"/households/{target.id}" in body, q
    body = client.get("/households/", query_string={"q": "李"}).get_data(as_text=True)
    assert rows(body) == 0 and "No household matches" in body


def test_masks_per_role_on_detail(client, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, phone="13812345678")
    full_id, full_bank = hh.id_number, hh.bank_account
    log_in(client, clerk)
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert full_id in body and full_bank in body and "13812345678" in body
    log_in(client, make_user("inspector", world.town_a))
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert full_id not in body and full_bank not in body and hh.id_masked in body
    assert "13812345678" in body and "Show a full number" not in body
    for role in ("finance", "county", "auditor"):
        log_in(client, make_user(role, world.county))
        body = client.get(f"/households/{hh.id}").get_data(as_text=True)
        assert full_id not in body and full_bank not in body
        assert "Show a full number" in body
    # finance sees the phone masked; county and auditor may reveal it
    log_in(client, make_user("finance", world.county))
    assert "138****5678" in client.get(f"/households/{hh.id}").get_data(as_text=True)


def test_reveal_is_audited_with_reason(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk)
    log_in(client, make_user("reviewer", world.town_a))
    r = post(f"/households/{hh.id}/reveal", {"field": "id_number", "reason": ""})
    assert r.status_code == 400 and hh.id_number not in r.get_data(as_text=True)
    r = post(f"/households/{hh.id}/reveal", {"field": "id_number", "reason": "核对户籍"})
    assert r.status_code == 200 and hh.id_number in r.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "household.reveal_id_number"))
    assert event.summary == "核对户籍" and event.object_id == str(hh.id)
    assert hh.id_number not in (event.before or "") + (event.after or "") + event.summary
    # a later plain view is masked again
    assert hh.id_number not in client.get(f"/households/{hh.id}").get_data(as_text=True)


def test_inspector_and_admin_cannot_reveal(client, post, world):
    hh = make_case(world.village_a1, make_user("clerk", world.village_a1))
    log_in(client, make_user("inspector", world.town_a))
    assert post(f"/households/{hh.id}/reveal", {"field": "bank_account",
                                                "reason": "x"}).status_code == 403
    log_in(client, make_user("admin", world.county))
    assert client.get(f"/households/{hh.id}").status_code == 404
    assert client.get("/households/").status_code == 403


def test_out_of_scope_is_404_and_in_scope_forbidden_is_403(client, post, world):
    hh = make_case(world.village_a1, make_user("clerk", world.village_a1))
    log_in(client, make_user("clerk", world.village_b1))
    assert client.get(f"/households/{hh.id}").status_code == 404
    assert client.get(f"/households/{hh.id}/edit").status_code == 404
    assert post(f"/households/{hh.id}/do/submit").status_code == 404
    log_in(client, make_user("auditor", world.county))
    assert client.get(f"/households/{hh.id}").status_code == 200
    assert client.get(f"/households/{hh.id}/edit").status_code == 403
    assert post(f"/households/{hh.id}/do/submit").status_code == 403
    assert client.get("/households/999999").status_code == 404


def test_buttons_come_from_the_lifecycle_table(client, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="submitted")
    log_in(client, make_user(["reviewer", "inspector"], world.town_a))
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    for action in ("approve", "return", "withdraw", "cancel"):
        assert f"/households/{hh.id}/do/{action}" in body
    assert "/do/submit" not in body and "/do/pass" not in body
    log_in(client, clerk)
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert "/do/withdraw" in body and "/do/approve" not in body and "/do/cancel" not in body


def test_home_shows_my_work(client, world):
    clerk = make_user("clerk", world.village_a1)
    returned = make_case(world.village_a1, clerk, state="returned", head_name="退回户")
    draft = make_case(world.village_a1, clerk, state="draft", head_name="草稿户")
    submitted = make_case(world.village_a1, clerk, state="submitted", head_name="待审户")
    log_in(client, clerk)
    body = client.get("/").get_data(as_text=True)
    assert "退回户" in body and "草稿户" in body and "待审户" not in body
    log_in(client, make_user("reviewer", world.town_a))
    body = client.get("/").get_data(as_text=True)
    assert "待审户" in body and "草稿户" not in body
    log_in(client, make_user("reviewer", world.town_b))
    assert "待审户" not in client.get("/").get_data(as_text=True)
    assert returned.id and draft.id and submitted.id
