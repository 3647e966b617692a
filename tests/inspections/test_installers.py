"""Installer companies the county keeps: credit-code validation, unique per county, audited
edits with the phone masked, free-text names matched when a company is recorded, the
"installer names to resolve" screen, the installation form's list, and the migration's
matching step."""
from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.core.ids import company_name_key
from heating.extensions import db
from heating.households.services import CaseError
from heating.inspections import installers, services
from heating.inspections.models import Installation, InstallerCompany
from tests.factories import AreaFactory
from tests.fixtures import en, log_in, make_case, make_user, says
from tests.inspections.support import (
    CREDIT_CODE,
    OTHER_CREDIT_CODE,
    company,
    installation_data,
    installation_form,
)
from tests.payouts.usage_helpers import paid_case

MIGRATION = (Path(__file__).resolve().parents[2] / "migrations" / "versions"
             / "0011_follow_up_campaigns.py")


def _data(**over):
    return {"name": "县燃气工程有限公司", "credit_code": CREDIT_CODE, "contact_name": "张工",
            "contact_phone": "0399-5550100", "active": True, **over}


def _typed(world, *names):
    clerk = make_user("clerk", world.village_a1)
    inspector = make_user("inspector", world.town_a)
    cases = []
    for n, name in enumerate(names):
        case = paid_case(world.village_a1, clerk, inspector, f"EI{n:03d}")
        inst = db.session.scalar(select(Installation).where(Installation.household_id == case.id))
        inst.installer = name
        cases.append(case)
    db.session.commit()
    return cases


def _company_of(case):
    return db.session.scalar(select(Installation.installer_company_id).where(
        Installation.household_id == case.id))


def test_recording_a_company_checks_the_code_and_is_audited_with_the_phone_masked(world):
    county = make_user("county", world.county)
    made = installers.create_company(world.county, _data(credit_code=" 91139901ma00000019 "),
                                     county)
    db.session.commit()
    assert made.credit_code == CREDIT_CODE and made.name_key == company_name_key(made.name)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "installer.created"))
    assert "5550100" not in event.after and json.loads(event.after)["contact_phone"] == "***0100"
    for bad, field in ((_data(credit_code="91139901MA0000001X"), "credit_code"),
                       (_data(credit_code="12345"), "credit_code"), (_data(name=" "), "name"),
                       (_data(contact_phone="call me"), "contact_phone"),
                       (_data(), "credit_code")):  # the same code twice in one county
        with pytest.raises(CaseError) as refused:
            installers.create_company(world.county, bad, county)
        assert refused.value.field == field, bad
        db.session.rollback()
    # another county may record the same company
    far = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    installers.create_company(far, _data(), make_user("county", far))
    db.session.commit()


@pytest.mark.parametrize("role,area", [("clerk", "village_a1"), ("reviewer", "town_a"),
                                       ("auditor", "county"), ("finance", "county")])
def test_only_county_staff_keep_companies(world, role, area):
    with pytest.raises(CaseError):
        installers.create_company(world.county, _data(), make_user(role, getattr(world, area)))


def test_a_new_company_takes_over_free_text_names_that_are_its_own(world):
    same, spaced, other = _typed(world, "县燃气工程有限公司", "县燃气工程　有限公司 ",
                                 "鑫达电器安装部")
    county = make_user("county", world.county)
    made = installers.create_company(world.county, _data(), county)
    db.session.commit()
    assert _company_of(same) == _company_of(spaced) == made.id and _company_of(other) is None
    assert [(u.names, u.installations) for u in installers.unresolved_names(world.county.id)] \
        == [(["鑫达电器安装部"], 1)]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "installer.matched"))
    assert json.loads(event.after)["installations"] == 2


def test_the_county_resolves_a_name_for_all_its_installations(app, client, post, world):
    cases = _typed(world, "鑫达电器安装部", "鑫达电器安装部", "鑫达 电器安装部", "另一家")
    made = company(world.county, "鑫达电器安装有限公司")
    county = make_user("county", world.county)
    log_in(client, county)
    page = client.get("/inspections/installers/resolve")
    body = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "鑫达电器安装部" in body and "另一家" in body
    key = company_name_key("鑫达电器安装部")
    r = post("/inspections/installers/resolve", {"key": key, "company_id": str(made.id)})
    assert r.status_code == 302
    assert [_company_of(c) for c in cases] == [made.id, made.id, made.id, None]
    assert "3 installations now name 鑫达电器安装有限公司." in html.unescape(
        client.get("/inspections/installers/resolve").get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "installer.name_resolved")) == 1
    # again (nothing waits any more), a company of another county, garbage: a message
    far = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    elsewhere = company(far, "邻县公司", OTHER_CREDIT_CODE)
    for data in ({"key": key, "company_id": str(made.id)},
                 {"key": company_name_key("另一家"), "company_id": str(elsewhere.id)},
                 {"key": "x", "company_id": "99999999999999999999"}, {"company_id": "1"}):
        assert post("/inspections/installers/resolve", data).status_code == 302
    assert _company_of(cases[3]) is None


def test_the_company_pages_refuse_bad_input_with_a_message(app, client, post, world):
    log_in(client, make_user("county", world.county))
    assert client.get("/inspections/installers").status_code == 200
    assert client.get("/inspections/installers/new").status_code == 200
    r = post("/inspections/installers/new", _data(credit_code="91139901MA0000001X"))
    assert r.status_code == 200
    assert says(r, "The last character of this credit code does not match the others: please "
                   "check it against the business licence.")
    r = post("/inspections/installers/new", _data())
    assert r.status_code == 302
    made = db.session.scalar(select(InstallerCompany))
    r = post("/inspections/installers/new", _data(name="另一家"))
    assert r.status_code == 200 and says(r, "A company with this credit code is already on "
                                            "record in this county.")
    r = post(f"/inspections/installers/{made.id}/edit", _data(name="县燃气工程集团有限公司",
                                                             active=""))
    assert r.status_code == 302
    db.session.refresh(made)
    assert made.name == "县燃气工程集团有限公司" and not made.active
    edit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "installer.edited"))
    assert json.loads(edit.before) == {"name": "县燃气工程有限公司", "offered": True}
    log_in(client, make_user("clerk", world.village_a1))
    assert client.get("/inspections/installers").status_code == 403
    assert client.get(f"/inspections/installers/{made.id}/edit").status_code == 404
    log_in(client, make_user("county", AreaFactory(code="139903000000", name="三县",
                                                   level="county")))
    assert client.get(f"/inspections/installers/{made.id}/edit").status_code == 404


def test_the_installation_form_lists_the_countys_active_companies(app, client, post, world):
    active = company(world.county)
    retired = company(world.county, "停业公司", OTHER_CREDIT_CODE)
    retired.active = False
    db.session.commit()
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="approved")
    log_in(client, clerk)
    body = client.get(f"/inspections/case/{hh.id}/installation").get_data(as_text=True)
    assert f'value="{active.id}"' in body and f'value="{retired.id}"' not in body
    r = post(f"/inspections/case/{hh.id}/installation",
             installation_form(installer_company_id=str(retired.id)))
    assert r.status_code == 200 and says(r, "Choose the installer company from the list (ask "
                                            "the county to add a company that is missing).")
    r = post(f"/inspections/case/{hh.id}/installation", installation_form())
    assert r.status_code == 302
    inst = db.session.scalar(select(Installation))
    assert (inst.installer_company_id, inst.installer) == (active.id, active.name)


def test_a_service_caller_with_a_typed_name_is_matched_or_left_to_resolve(world):
    made = company(world.county)
    clerk = make_user("clerk", world.village_a1)
    one = make_case(world.village_a1, clerk, state="approved")
    two = make_case(world.village_a1, clerk, state="approved")
    services.save_installation(one, installation_data(installer=" 县供电安装公司 "), clerk)
    services.save_installation(two, installation_data(installer="某某公司"), clerk)
    db.session.commit()
    assert _company_of(one) == made.id and _company_of(two) is None
    with pytest.raises(CaseError) as refused:
        services.save_installation(two, installation_data(installer=""), clerk)
    assert "from the list" in en(refused.value.message)


def test_the_migration_matches_typed_names_onto_companies_of_the_same_county(world):
    spec = importlib.util.spec_from_file_location("m0011", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.name_key(" 县燃气 工程（有限）公司") == company_name_key("县燃气工程(有限)公司")
    cases = _typed(world, "县燃气工程 有限公司", "县燃气工程有限公司", "无此公司")
    far = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    company(far, "无此公司", OTHER_CREDIT_CODE)  # another county's: not a match
    made = InstallerCompany(county_id=world.county.id, name="县燃气工程有限公司",
                            name_key=company_name_key("县燃气工程有限公司"),
                            credit_code=CREDIT_CODE)
    db.session.add(made)
    db.session.commit()
    assert migration.match_installer_names(db.session.connection()) == 2
    db.session.commit()
    assert [_company_of(c) for c in cases] == [made.id, made.id, None]
    assert migration.match_installer_names(db.session.connection()) == 0  # idempotent
