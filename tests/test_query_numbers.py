"""A number in the address that is no number, or beyond what the database holds, is ignored
with a message naming it (one helper, ``core.web.int_arg``, for every view), never a 500."""
from __future__ import annotations

import pytest

from tests.fixtures import log_in, make_user, says

HUGE = "99999999999999999999"
INVALID = "The value for “%(what)s” in the address is not valid and was ignored."
RANGE = ("“%(what)s” must be a whole number from %(low)s to %(high)s; the value in the "
         "address was ignored.")


@pytest.mark.parametrize("role,url,message,what", [
    ("clerk", f"/certificates/?village={HUGE}", INVALID, "Village"),
    ("clerk", "/certificates/?village=abc", INVALID, "Village"),
    ("county", f"/subsidies/policies/?year={HUGE}", RANGE, "Programme year"),
    ("county", "/subsidies/policies/?year=1999", RANGE, "Programme year"),
    ("auditor", f"/audit/?after={HUGE}", INVALID, "Page"),
    ("inspector", "/inspections/?village=-3", INVALID, "Village"),
    ("clerk", f"/households/?after={HUGE}", INVALID, "Page"),
])
def test_the_page_opens_and_says_what_was_ignored(client, world, role, url, message, what):
    area = {"clerk": world.village_a1, "inspector": world.town_a}.get(role, world.county)
    log_in(client, make_user(role, area))
    page = client.get(url)
    assert page.status_code == 200
    assert says(page, message, what=what, low=2016, high=2100)


def test_the_message_is_in_chinese_too(client, world):
    log_in(client, make_user("county", world.county), lang="zh_Hans_CN")
    body = client.get("/subsidies/policies/?year=99999").get_data(as_text=True)
    assert "“年度”应为 2016 至 2100 之间的整数，网址中的值已忽略。" in body


def test_audit_dates_beyond_any_record_are_refused_on_the_form(client, world):
    log_in(client, make_user("auditor", world.county))
    for query in ("date_to=9999-12-31", "date_from=0001-01-01", "date_from=1999-12-31"):
        page = client.get(f"/audit/?{query}")
        assert page.status_code == 200, query
        assert says(page, "Enter a date between %(low)s and %(high)s.", low="2000-01-01",
                    high="9998-12-31"), query
