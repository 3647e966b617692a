"""Recording the installation: the clerk's form on an approved case moves it to installed;
the record stays editable until the inspection passes; money is exact; duplicates are
flagged; rework after a failed inspection."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, text

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.inspections.models import Installation
from tests.fixtures import log_in, make_case, make_user, says
from tests.inspections.support import installation_form, installed_case


def test_clerk_records_installation_and_case_is_installed(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="approved")
    log_in(client, clerk)
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert f"/inspections/case/{hh.id}/installation" in page
    form = client.get(f"/inspections/case/{hh.id}/installation")
    assert form.status_code == 200
    r = post(f"/inspections/case/{hh.id}/installation",
             installation_form(factory_serial=" sn 2026－0001 ", invoice_amount="12345.67"))
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.refresh(hh)
    assert hh.state == "installed"
    inst = db.session.scalar(select(Installation))
    assert inst.invoice_amount == Decimal("12345.67") and inst.rated_power == Decimal("7.20")
    # kept as typed (half-width, trimmed) for display and printing; compared on the key
    assert inst.factory_serial == "sn 2026-0001"
    assert inst.factory_serial_key == "SN20260001"  # half-width, upper, no spaces/dashes
    # money is stored as integer fen
    raw = db.session.execute(text("SELECT invoice_amount FROM installations")).scalar()
    assert raw == 1234567
    assert [e.action for e in hh.events][-1] == "install"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"installation.recorded", "household.install"} <= actions


def test_invalid_installation_input_is_refused(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="approved")
    log_in(client, clerk)
    for bad in ({"invoice_amount": "100.005"}, {"install_date": "2099-01-01"},
                {"device_kind": "gas_boiler"}, {"brand": ""}, {"units": "0"},
                {"rated_power": "-1"}):
        r = post(f"/inspections/case/{hh.id}/installation", installation_form(**bad))
        assert r.status_code == 200, bad
        assert db.session.scalar(select(Installation)) is None, bad
    # the conversion type was approved with the case: a different one needs a correction first
    r = post(f"/inspections/case/{hh.id}/installation",
             installation_form(conversion_type="gas", device_kind="gas_boiler"))
    assert says(r, "The case was approved for another conversion type. Ask the township to "
                   "correct the case before recording this installation.")
    db.session.refresh(hh)
    assert hh.state == "approved"


def test_only_the_clerk_records_and_not_before_approval(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    draft = make_case(world.village_a1, clerk)
    log_in(client, clerk)
    r = client.get(f"/inspections/case/{draft.id}/installation")
    assert r.status_code == 302  # back to the case with a message
    approved = make_case(world.village_a1, clerk, state="approved")
    log_in(client, make_user("reviewer", world.town_a))
    assert client.get(f"/inspections/case/{approved.id}/installation").status_code == 403
    # the generic action route never makes a move that has its own screen
    log_in(client, clerk)
    assert post(f"/households/{approved.id}/do/install").status_code == 404


def test_editable_until_passed_with_conflict_detection(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = installed_case(world, clerk)
    inst = db.session.scalar(select(Installation))
    log_in(client, clerk)
    r = post(f"/inspections/case/{hh.id}/installation",
             installation_form(brand="格力", version=str(inst.version)))
    assert r.status_code == 302
    db.session.refresh(inst)
    assert inst.brand == "格力" and inst.version == 2
    stale = post(f"/inspections/case/{hh.id}/installation",
                 installation_form(brand="海尔", version="1"))
    assert stale.status_code == 409
    db.session.refresh(inst)
    assert inst.brand == "格力"
    edited = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "installation.edited"))
    assert "美的" in edited.before and "格力" in edited.after
    hh.state = "passed"
    db.session.commit()
    r = post(f"/inspections/case/{hh.id}/installation",
             installation_form(brand="海尔", version=str(inst.version)))
    assert r.status_code == 302
    db.session.refresh(inst)
    assert inst.brand == "格力"


def test_duplicate_serials_and_meters_are_flagged(app, client, world):
    clerk = make_user("clerk", world.village_a1)
    first = installed_case(world, clerk)
    other_village = make_user("clerk", world.village_b1)
    second = installed_case(world, other_village, village=world.village_b1,
                            install={"factory_serial": "sn2026-0001", "meter_no": "E100 0001"})
    third = installed_case(world, clerk, install={"factory_serial": "OTHER-1",
                                                  "meter_no": "E2"})
    log_in(client, clerk)
    page = client.get(f"/households/{first.id}")
    # typed differently ("sn2026-0001", "E100 0001"), the same device: flagged, and the
    # warning names this case's number as its clerk typed it
    assert says(page, "The factory serial number %(serial)s is also recorded for %(n)d other "
                      "household(s): check the device on site.", serial="SN2026-0001", n=1)
    assert says(page, "The meter or gas account number %(no)s is also recorded for %(n)d "
                      "other household(s).", no=first_meter(first), n=1)
    calm = client.get(f"/households/{third.id}").get_data(as_text=True)
    assert "SN2026-0001" not in calm
    # a withdrawn household no longer counts
    second.state = "withdrawn"
    db.session.commit()
    page = client.get(f"/households/{first.id}")
    assert not says(page, "The factory serial number %(serial)s is also recorded for %(n)d "
                          "other household(s): check the device on site.",
                    serial="SN2026-0001", n=1)


def first_meter(hh):
    from heating.inspections.services import installation_of
    return installation_of(hh).meter_no


def test_rework_after_a_failed_inspection(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = installed_case(world, clerk)
    hh.state = "failed"
    db.session.commit()
    log_in(client, clerk)
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert f"/households/{hh.id}/do/rework" in page
    assert f"/inspections/case/{hh.id}/installation" in page  # still editable when failed
    post(f"/households/{hh.id}/do/rework", {"reason": ""})
    db.session.refresh(hh)
    assert hh.state == "failed"  # rework says what was fixed
    post(f"/households/{hh.id}/do/rework", {"reason": "已加装专用断路器"})
    db.session.refresh(hh)
    assert hh.state == "installed"
    assert hh.events[-1].action == "rework" and hh.events[-1].reason == "已加装专用断路器"


def test_numbers_typed_with_hyphens_are_shown_as_typed_and_compared_without(app, client, world):
    """RQ-0099001 is shown and printed as RQ-0099001 (not RQ0099001), while rq 0099001 on
    another household is still the same device, and a usage file's meter number matches
    whichever way either side wrote it."""
    from heating.inspections.services import installation_of
    from heating.payouts.usage.match import _cases_by_meter
    clerk = make_user("clerk", world.village_a1)
    first = installed_case(world, clerk, conversion_type="gas", device_kind="gas_boiler",
                           install={"conversion_type": "gas", "device_kind": "gas_boiler",
                                    "factory_serial": "RQ-0099001", "meter_no": "GR-77-01"})
    installed_case(world, clerk, conversion_type="gas", device_kind="gas_boiler",
                   install={"conversion_type": "gas", "device_kind": "gas_boiler",
                            "factory_serial": "rq 0099001", "meter_no": "gr7701"})
    inst = installation_of(first)
    assert (inst.factory_serial, inst.meter_no) == ("RQ-0099001", "GR-77-01")
    assert inst.snapshot()["factory_serial"] == "RQ-0099001"
    log_in(client, clerk)
    body = client.get(f"/households/{first.id}").get_data(as_text=True)
    assert "RQ-0099001" in body and "GR-77-01" in body and "RQ0099001" not in body
    assert says(client.get(f"/households/{first.id}"),
                "The factory serial number %(serial)s is also recorded for %(n)d other "
                "household(s): check the device on site.", serial="RQ-0099001", n=1)
    found = _cases_by_meter({"GR7701"}, "gas", world.county.id)
    assert {row.id for row in found["GR7701"]} >= {first.id}
