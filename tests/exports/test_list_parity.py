"""The ledger export holds exactly the rows the household list shows: both read the filters
with ``queries.Filters.from_args`` / ``from_form`` (one reader), checked here on the pages and
files themselves for combinations of good, odd and bad filter values."""
from __future__ import annotations

import csv
import io
import re

import pytest
from werkzeug.datastructures import MultiDict

from heating.households.queries import Filters
from tests.fixtures import log_in, make_case, make_user

LIST_ROW = re.compile(r'<tr>\s*<td><a href="/households/(\d+)"')


@pytest.fixture
def mixed(world):
    owner = make_user("clerk", world.village_a1, username="owner")
    other = make_user("clerk", world.village_b1, username="other")
    return [
        make_case(world.village_a1, owner, head_name="王东", conversion_type="gas",
                  device_kind="gas_boiler"),
        make_case(world.village_a1, owner, head_name="王西", state="submitted"),
        make_case(world.village_a2, owner, head_name="李南", state="approved",
                  programme_year=2025),
        make_case(world.village_b1, other, head_name="赵北", state="withdrawn"),
        make_case(world.village_b1, other, head_name="王北", state="submitted",
                  conversion_type="gas", device_kind="gas_boiler"),
    ]


def listed(client, query):
    body = client.get("/households/?" + query).get_data(as_text=True)
    return sorted(int(n) for n in LIST_ROW.findall(body))


def exported(client, query):
    response = client.get("/exports/households.csv?" + query)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    return sorted(int(r["案件编号"]) for r in rows)


@pytest.mark.parametrize("query_of", [
    lambda w, c: "",
    lambda w, c: "state=submitted",
    lambda w, c: f"township={w.town_a.id}&conversion_type=gas",
    lambda w, c: f"township={w.town_a.id}&village={w.village_a2.id}&year=2025",
    lambda w, c: "q=王&state=submitted",
    lambda w, c: f"q={c[2].id_number}",
    lambda w, c: "q=%20王%20&year=2026",  # spaces around the search are dropped
    # bad values read as "no filter" on both: an unknown state, a negative or non-numeric
    # area, a year that is not a number
    lambda w, c: "state=nonsense&township=-3&village=abc&year=20x6",
    lambda w, c: f"township={w.town_b.id}&state=withdrawn",
    lambda w, c: "state=submitted&order=oldest",  # the reviewer's queue, oldest first
], ids=["none", "state", "township+type", "village+year", "search+state", "id search",
        "padded search", "bad values", "withdrawn", "oldest first"])
def test_export_rows_are_the_list_rows(client, world, mixed, query_of):
    log_in(client, make_user("county", world.county))
    query = query_of(world, mixed)
    shown = listed(client, query)
    assert shown == exported(client, query)
    if query == "":
        assert len(shown) == len(mixed)


def test_a_clerk_sees_and_exports_the_same_rows(client, world, mixed):
    log_in(client, make_user("clerk", world.village_a1))
    for query in ("", "state=submitted", f"township={world.town_b.id}", "q=王"):
        assert listed(client, query) == exported(client, query), query
    assert listed(client, "") == sorted(c.id for c in mixed[:2])


def test_filters_from_args(app):
    with app.test_request_context():
        f = Filters.from_args(MultiDict({"q": "  王  ", "township": "7", "village": "-2",
                                         "state": "bogus", "conversion_type": "gas",
                                         "year": "2026"}))
        assert f == Filters(q="王", township=7, village=0, state="", conversion_type="gas",
                            year=2026)
        assert Filters.from_args(MultiDict({"year": "abc", "state": "approved"})) == Filters(
            state="approved")
        assert Filters.from_args(MultiDict()) == Filters()
        assert Filters.from_args(MultiDict({"order": "oldest"})) == Filters(order="oldest")
        assert Filters.from_args(MultiDict({"order": "'; DROP"})) == Filters()


def test_list_and_both_exports_use_the_one_reader(client, post, world, mixed, monkeypatch):
    """A rule added to the reader (here: every search is narrowed to submitted cases) reaches
    the list, the export and the full-number export alike."""
    original = Filters.from_form.__func__

    def narrowed(cls, form):
        f = original(cls, form)
        f.state = "submitted"
        return f

    monkeypatch.setattr(Filters, "from_form", classmethod(narrowed))
    log_in(client, make_user("county", world.county))
    submitted = sorted(c.id for c in mixed if c.state == "submitted")
    assert listed(client, "") == submitted
    assert exported(client, "") == submitted
    response = post("/exports/households/full", {"reason": "核对", "file_format": "csv"})
    rows = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    assert sorted(int(r["案件编号"]) for r in rows) == submitted
