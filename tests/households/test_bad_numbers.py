"""Numbers a database integer cannot hold, or that are no numbers at all, in the household
list's filters, its export and the registration form: the page with a message, never a 500."""
from __future__ import annotations

from sqlalchemy import select

from heating.extensions import db
from heating.households.models import Household
from tests.fixtures import log_in, make_case, make_user, says
from tests.households.test_flow import form_data

HUGE = "99999999999999999999"


def test_a_year_beyond_64_bits_is_ignored_with_a_message(client, world):
    clerk = make_user("clerk", world.village_a1)
    make_case(world.village_a1, clerk, head_name="王建国")
    log_in(client, clerk, lang="zh_Hans_CN")
    page = client.get(f"/households/?year={HUGE}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "王建国" in body  # the filter was ignored: the list shows the case
    assert "年度：请输入2016至2100之间的年份。已忽略该筛选条件。" in body


def test_bad_filters_and_pages_never_fail(client, world):
    clerk = make_user("clerk", world.village_a1)
    make_case(world.village_a1, clerk)
    log_in(client, clerk)
    for query in (f"township={HUGE}", f"village={HUGE}", "township=abc", "year=1e309",
                  "year=-1", "year=1999", f"after={HUGE}", "after=-5", "after=x",
                  f"year={HUGE}&township={HUGE}&village={HUGE}&after={HUGE}"):
        page = client.get(f"/households/?{query}")
        assert page.status_code == 200, query
        assert "ignored" in page.get_data(as_text=True), query


def test_the_out_of_range_year_says_the_range(client, world):
    log_in(client, make_user("clerk", world.village_a1))
    page = client.get("/households/?year=1999")
    assert says(page, "%(field)s: %(error)s The filter was ignored.", field="Programme year",
                error="Enter a year between 2016 and 2100.")


def test_the_export_reads_the_same_bounded_filters(client, world):
    clerk = make_user("clerk", world.village_a1)
    make_case(world.village_a1, clerk, head_name="王建国")
    log_in(client, clerk)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/exports/households.{fmt}?year={HUGE}&township={HUGE}&village=x")
        assert r.status_code == 200, fmt
    assert "王建国" in client.get(f"/exports/households.csv?year={HUGE}").get_data(as_text=True)


def test_registration_form_refuses_huge_and_nan_numbers(client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    for bad in ({"residents": HUGE}, {"coal_stoves": HUGE}, {"programme_year": HUGE},
                {"heated_area": "sNaN"}, {"heated_area": "NaN"}, {"heated_area": "Infinity"},
                {"heated_area": "1e309"}, {"village_id": HUGE}):
        r = post("/households/new", form_data(world, **bad))
        assert r.status_code == 200, bad
        assert db.session.scalar(select(Household)) is None, bad
    log_in(client, make_user("clerk", world.village_a1), lang="zh_Hans_CN")
    r = post("/households/new", form_data(world, heated_area="sNaN"))
    assert "不是有效的小数。" in r.get_data(as_text=True)


def test_a_filter_that_is_no_number_is_named_in_plain_words(client, world):
    log_in(client, make_user("clerk", world.village_a1), lang="zh_Hans_CN")
    body = client.get("/households/?township=abc&year=x").get_data(as_text=True)
    assert "网址中“乡镇”的值无效，已忽略。" in body and "网址中“年度”的值无效，已忽略。" in body
    assert "无法转化" not in body  # WTForms' own words about types
