"""Numbers no database integer holds, and dates beyond any notice, on the new-notice screen:
the page with a message, never a 500 (the service already bounds the first day)."""
from __future__ import annotations

from sqlalchemy import select

from heating.core.i18n import local_today
from heating.extensions import db
from heating.publicity.models import Notice
from tests.fixtures import log_in, make_user, says
from tests.publicity.support import make_policy, passed_case

HUGE = "99999999999999999999"


def _form(world, case, **over):
    data = {"township_id": str(world.town_a.id), "village_id": "0", "year": "2026",
            "case_ids": [str(case.id)], "title": "东河镇设备补贴公示",
            "starts_on": local_today().isoformat(), "period_days": "7",
            "objection_phone": "0391-1234567", "issuing_office": "东河镇人民政府"}
    data.update(over)
    return data


def test_bad_area_in_the_address_is_ignored_with_a_message(client, world):
    log_in(client, make_user("reviewer", world.town_a))
    for query in (f"township={HUGE}", "township=abc", f"township={world.town_a.id}&village=x",
                  f"township={world.town_a.id}&village={HUGE}&year={HUGE}"):
        page = client.get(f"/publicity/new?{query}")
        assert page.status_code == 200, query
        assert "ignored" in page.get_data(as_text=True), query
    page = client.get("/publicity/new?township=abc")
    assert says(page, "The value for “%(what)s” in the address is not valid and was ignored.",
                what="Township")


def test_publishing_refuses_ids_and_dates_no_notice_can_have(client, post, world):
    make_policy(world)
    case = passed_case(world)
    log_in(client, make_user("reviewer", world.town_a))
    for bad in ({"case_ids": [HUGE]}, {"case_ids": [str(case.id), "abc"]},
                {"period_days": HUGE}, {"starts_on": "9999-12-31"},
                {"starts_on": "0001-01-01"}, {"township_id": HUGE}):
        r = post("/publicity/new", _form(world, case, **bad))
        assert r.status_code in (200, 404), bad
        assert db.session.scalar(select(Notice)) is None, bad
    r = post("/publicity/new", _form(world, case, case_ids=[HUGE]))
    assert r.status_code == 200 and "could not be coerced" in r.get_data(as_text=True)
