"""Round trip: a ledger exported with full numbers, uploaded again as an import file, is seen
row by row as duplicates of the cases it came from; nothing new is created."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from heating.extensions import db
from heating.households import import_services
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
