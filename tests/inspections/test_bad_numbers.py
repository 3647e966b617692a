"""Numbers no database integer holds, NaN and dates beyond any real visit in the installation,
assignment, installer and campaign forms and the worklist: a message, never a 500."""
from __future__ import annotations

from sqlalchemy import select

from heating.extensions import db
from heating.inspections.campaign_models import FollowUpCampaign
from heating.inspections.models import Assignment, Installation
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_case, make_user, says
from tests.inspections.support import company, installation_form, installed_case

HUGE = "99999999999999999999"


def test_installation_form_refuses_nan_and_huge_numbers(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="approved")
    log_in(client, clerk)
    for bad in ({"invoice_amount": "sNaN"}, {"rated_power": "sNaN"}, {"invoice_amount": "NaN"},
                {"rated_power": "Infinity"}, {"invoice_amount": "1e309"}, {"units": HUGE}):
        r = post(f"/inspections/case/{hh.id}/installation", installation_form(**bad))
        assert r.status_code == 200, bad
        assert db.session.scalar(select(Installation)) is None, bad
    r = post(f"/inspections/case/{hh.id}/installation", installation_form(rated_power="sNaN"))
    assert says(r, "Not a valid decimal value.")
    # the hidden version of an edit is read the same bounded way (a conflict, not a 500)
    assert post(f"/inspections/case/{hh.id}/installation", installation_form()).status_code == 302
    r = post(f"/inspections/case/{hh.id}/installation", installation_form(version=HUGE))
    assert r.status_code == 409


def test_assigning_an_inspector_id_beyond_64_bits_is_refused(client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("reviewer", world.town_a))
    for bad in (HUGE, "abc", "-1"):
        r = post(f"/inspections/case/{hh.id}/assign",
                 {"inspector_id": bad, "visit_date": "2026-12-01"})
        assert r.status_code == 302, bad
    assert db.session.scalar(select(Assignment)) is None


def test_the_campaign_form_refuses_huge_and_garbled_numbers(client, post, world):
    log_in(client, make_user("county", world.county))
    good = {"name": "冬季回头看", "programme_year": "2026", "rate_percent": "5", "first_n": "0"}
    for bad in ({"programme_year": HUGE}, {"rate_percent": HUGE}, {"first_n": HUGE},
                {"township_ids": HUGE}, {"township_ids": "abc"}, {"rate_percent": "0"},
                {"rate_percent": "5.5"}, {"first_n": "-1"}):
        r = post("/inspections/campaigns/new", {**good, **bad})
        assert r.status_code == 200, bad
        assert says(r, "Please correct the marked fields; nothing has been saved yet."), bad
    assert db.session.scalar(select(FollowUpCampaign)) is None


def test_the_installer_choice_beyond_64_bits_or_of_another_county_is_refused(client, post,
                                                                             world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="approved")
    far = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    elsewhere = company(far, name="邻县安装公司")
    log_in(client, clerk)
    for bad in (HUGE, "abc", "-1", "", str(elsewhere.id)):
        r = post(f"/inspections/case/{hh.id}/installation",
                 installation_form(installer_company_id=bad))
        assert r.status_code == 200, bad
        assert db.session.scalar(select(Installation)) is None, bad


def test_worklist_ignores_a_bad_village_with_a_message(client, world):
    log_in(client, make_user("inspector", world.town_a))
    for bad in (HUGE, "abc"):
        page = client.get(f"/inspections/?village={bad}")
        assert page.status_code == 200
        assert says(page, "The value for “%(what)s” in the address is not valid and was "
                          "ignored.", what="Village")
