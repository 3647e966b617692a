"""Round trip: a ledger exported with full numbers, uploaded again as an import file, is seen
row by row as duplicates of the cases it came from; nothing new is created."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from heating.extensions import db
from heating.households.imports import services as import_services
from heating.households.models import Household
from tests.factories import make_id_number
from tests.fixtures import log_in, make_case, make_user

FIELDS = ("head_name", "phone", "group_name", "house_no", "residents", "heated_area",
          "previous_heating", "coal_stoves", "conversion_type", "bank_name", "bank_account",
          "account_holder", "low_income")
ACTIVE_STATES = ("draft", "submitted", "returned", "approved", "installed", "passed")


def _households() -> int:
    return db.session.scalar(select(func.count()).select_from(Household))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_full_number_ledger_reimports_as_duplicates(client, world, fmt):
    clerk = make_user("clerk", world.village_a1)
    for n, state in enumerate(ACTIVE_STATES * 2):
        # one name a spreadsheet would run: the guard's apostrophe must not break the match
        name = {"head_name": "=SUM(A1)", "account_holder": "=SUM(A1)"} if n == 5 else {}
        make_case(world.village_a1, clerk, state=state, id_number=make_id_number(700 + n),
                  group_name="" if n % 3 == 0 else f"{n}组", house_no=f"{n + 10}号",
                  heated_area=Decimal("95.55"), low_income=n % 2 == 0,
                  conversion_type="gas" if n % 2 else "electric",
                  device_kind="gas_boiler" if n % 2 else "heat_pump",
                  previous_heating=("coal_stove", "coal_boiler", "coal_kang", "other")[n % 4],
                  **name)
    log_in(client, clerk)
    response = client.get(f"/exports/households.{fmt}")
    assert response.status_code == 200
    before = _households()

    record, parsed = import_services.upload(response.data, f"台账.{fmt}", 2026, clerk)
    db.session.commit()
    assert parsed is not None, record.preview
    statuses = [row.status for row in parsed.rows]
    assert len(statuses) == 2 * len(ACTIVE_STATES)
    assert set(statuses) == {"duplicate"}, [(r.number, r.status, r.problems) for r in parsed.rows]
    assert parsed.importable == []
    # and every column reads back as the case holds it (the guarded name with its apostrophe)
    cases = {hh.id_number: hh for hh in db.session.scalars(select(Household))}
    for row in parsed.rows:
        hh = cases[row.values["id_number"]]
        assert row.village.id == hh.village_id
        for key in FIELDS:
            expected = getattr(hh, key)
            if key in ("head_name", "account_holder") and expected.startswith("="):
                expected = "'" + expected
            assert row.values[key] == expected, (key, row.values[key], expected)
    assert _households() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_withdrawn_and_cancelled_cases_of_a_ledger_are_skipped(client, world, fmt):
    """The ledger's 状态 column names withdrawn (撤销) and cancelled (注销) cases: re-uploaded,
    they are shown as skipped and never come back as new cases — also when the household has
    since a new active case (in the same file), which stays a plain duplicate."""
    clerk = make_user("clerk", world.village_a1)
    active = make_case(world.village_a1, clerk, id_number=make_id_number(800))
    withdrawn = make_case(world.village_a1, clerk, state="withdrawn",
                          id_number=make_id_number(801))
    cancelled = make_case(world.village_a1, clerk, state="cancelled",
                          id_number=make_id_number(802))
    # withdrawn earlier, registered again since: two rows of the file with one ID number
    old = make_case(world.village_a1, clerk, state="withdrawn", id_number=make_id_number(803))
    again = make_case(world.village_a1, clerk, state="submitted", id_number=old.id_number)
    log_in(client, clerk)
    response = client.get(f"/exports/households.{fmt}")
    assert response.status_code == 200
    before = _households()

    record, parsed = import_services.upload(response.data, f"台账.{fmt}", 2026, clerk)
    db.session.commit()
    assert parsed is not None, record.preview
    by_id = {hh.id: hh for hh in (active, withdrawn, cancelled, old, again)}
    statuses = {}
    for row, case_id in zip(parsed.rows, sorted(by_id)):  # the ledger is in case order
        assert row.id_masked == by_id[case_id].id_masked
        statuses[case_id] = row
    assert {k: r.status for k, r in statuses.items()} == {
        active.id: "duplicate", withdrawn.id: "skipped", cancelled.id: "skipped",
        old.id: "skipped", again.id: "duplicate"}
    assert parsed.importable == []
    message = statuses[withdrawn.id].as_json()[5]
    assert [m["m"] for m in message] == [
        "This case was withdrawn or cancelled (%(state)s): it is not imported."]
    assert message[0]["p"] == {"state": "撤销"} and message[0]["c"] == "状态"
    assert statuses[cancelled.id].as_json()[5][0]["p"] == {"state": "注销"}
    assert statuses[withdrawn.id].as_json()[4] == "东河镇 东河村"  # the village, for the reader
    assert _households() == before

    # the preview page lists them as skipped; the confirmation imports nothing
    page = client.get(f"/imports/{record.id}?show=all").get_data(as_text=True)
    assert page.count('class="import-skipped"') == 3
    assert "withdrawn or cancelled" in page or "已撤销" in page
    assert import_services.confirm(record, clerk).imported == 0
    assert _households() == before
