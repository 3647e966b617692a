"""The 'done when' walk of the foundation: register, submit, return, fix, resubmit, approve."""
from __future__ import annotations

from sqlalchemy import select

from heating.extensions import db
from heating.households.models import Household
from tests.factories import luhn_account, make_id_number
from tests.fixtures import log_in, make_user


def form_data(world, **over):
    data = {
        "village_id": world.village_a1.id, "programme_year": "2026", "head_name": "张建明",
        "id_number": make_id_number(5), "phone": "13812345678", "group_name": "3组",
        "house_no": "18号", "residents": "4", "heated_area": "95.5",
        "previous_heating": "coal_stove", "coal_stoves": "2", "conversion_type": "electric",
        "device_kind": "heat_pump", "bank_name": "农业银行", "bank_account": luhn_account(7),
        "account_holder": "张建明",
    }
    data.update(over)
    return data


def test_register_submit_return_resubmit_approve(app, client, post, world):
    clerk = make_user("clerk", world.village_a1, display_name="李录入")
    reviewer = make_user("reviewer", world.town_a, display_name="赵审核")
    log_in(client, clerk)

    bad_id = make_id_number(5)[:-1] + ("0" if make_id_number(5)[-1] != "0" else "1")
    r = post("/households/new", form_data(world, id_number=bad_id))
    assert r.status_code == 200
    assert "check character" in r.get_data(as_text=True) or "校验" in r.get_data(as_text=True)
    assert db.session.scalar(select(Household)) is None

    r = post("/households/new", form_data(world))
    assert r.status_code == 302
    hh = db.session.scalar(select(Household))
    assert hh.state == "draft" and hh.heated_area == __import__("decimal").Decimal("95.50")

    assert post(f"/households/{hh.id}/do/submit").status_code == 302
    db.session.refresh(hh)
    assert hh.state == "submitted"

    log_in(client, reviewer)
    r = post(f"/households/{hh.id}/do/return", {"reason": ""})
    db.session.refresh(hh)
    assert hh.state == "submitted"  # a return needs a reason
    post(f"/households/{hh.id}/do/return", {"reason": "门牌号不对"})
    db.session.refresh(hh)
    assert hh.state == "returned"

    log_in(client, clerk)
    home = client.get("/").get_data(as_text=True)
    assert f"/households/{hh.id}" in home
    r = post(f"/households/{hh.id}/edit", form_data(world, house_no="19号",
                                                   version=str(hh.version)))
    assert r.status_code == 302, r.get_data(as_text=True)
    post(f"/households/{hh.id}/do/resubmit")
    db.session.refresh(hh)
    assert hh.state == "submitted" and hh.house_no == "19号"

    log_in(client, reviewer)
    post(f"/households/{hh.id}/do/approve")
    db.session.refresh(hh)
    assert hh.state == "approved"

    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    for name in ("李录入", "赵审核", "门牌号不对"):
        assert name in page
    assert [e.action for e in hh.events] == ["create", "submit", "return", "resubmit",
                                            "approve"]

    other_clerk = make_user("clerk", world.village_a2)
    log_in(client, other_clerk)
    assert client.get(f"/households/{hh.id}").status_code == 404
