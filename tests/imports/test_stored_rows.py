"""The bulk insert writes every column exactly as the ORM does for a household registered one
by one: the same stored forms (SQLite's datetime text, hundredths, booleans), so the imported
cases read back like any other.  Both databases."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.households.imports import services as import_services
from heating.households.models import CaseEvent, Household
from tests.fixtures import make_case, make_user
from tests.imports.helpers import grid, row, xlsx


def _form(value: Any) -> Any:
    """A stored value's form without its digits: its type, and for text its shape."""
    return re.sub(r"[0-9]", "0", value) if isinstance(value, str) else type(value)


def _raw(sql: str, **params: Any) -> dict[str, Any]:
    return dict(db.session.execute(text(sql), params).mappings().one())


def test_imported_rows_are_stored_like_registered_ones(app, world):
    clerk = make_user("clerk", world.village_a1)
    registered = make_case(world.village_a1, clerk, heated_area=Decimal("80.25"))
    rec, _parsed = import_services.upload(xlsx(grid([row(1)])), "f.xlsx", 2026, clerk)
    assert import_services.confirm(rec, clerk).imported == 1
    db.session.commit()
    imported = db.session.scalar(select(Household).where(Household.id != registered.id))

    ours, theirs = (_raw("SELECT * FROM households WHERE id = :id", id=hh.id)
                    for hh in (imported, registered))
    for column in ("created_at", "updated_at", "heated_area", "low_income", "luhn_confirmed",
                   "residents", "version", "state"):
        assert _form(ours[column]) == _form(theirs[column]), column
    assert ours["heated_area"] == 9550 and ours["state"] == "draft" and ours["version"] == 1

    # the creation event and the audit row (UTCDateTime too) against the registered case's
    # event, written through the ORM
    reference = _raw("SELECT at FROM case_events WHERE household_id = :id", id=registered.id)
    event = _raw("SELECT at FROM case_events WHERE household_id = :id", id=imported.id)
    audit = _raw("SELECT at FROM audit_events WHERE action = 'household.imported' "
                 "AND object_id = :id", id=str(imported.id))
    assert _form(event["at"]) == _form(audit["at"]) == _form(reference["at"])

    db.session.expire_all()
    imported = db.session.get(Household, imported.id)
    assert imported.heated_area == Decimal("95.50")
    assert imported.created_at.tzinfo is not None
    assert imported.created_at.utcoffset() == timedelta(0)
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.household_id == imported.id))
    audit = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "household.imported", AuditEvent.object_id == str(imported.id)))
    assert event.at == imported.created_at == imported.updated_at == audit.at
    assert (imported.low_income, imported.luhn_confirmed) == (False, False)
