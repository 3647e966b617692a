"""Registration and editing through the screens: every bad input re-renders the form with a
message and saves nothing; duplicates, conflicts, corrections."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.households import services
from heating.households.models import Household
from tests.factories import luhn_account, make_id_number
from tests.fixtures import en, log_in, make_case, make_user
from tests.households.test_flow import form_data


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Household))


BAD_INPUTS = [
    ({"id_number": "11010519491231002"}, "17"),
    ({"id_number": "110105194912310021"}, "check"),
    ({"id_number": "110105194902300024"}, "date"),
    ({"id_number": ""}, "ID"),
    ({"phone": "1381234567"}, "mobile"),
    ({"phone": "23812345678"}, "mobile"),
    ({"bank_account": "622202123456789"}, "16"),
    ({"bank_account": "62220212345678901234"}, "16"),
    ({"residents": "0"}, "Residents"),
    ({"residents": "abc"}, "residents"),
    ({"heated_area": "2"}, "heated area"),
    ({"heated_area": "99999"}, "heated area"),
    ({"heated_area": "12,5"}, "heated area"),
    ({"coal_stoves": "-1"}, "Coal stoves"),
    ({"head_name": ""}, "head of household"),
    ({"head_name": "张" * 51}, "50"),
    ({"conversion_type": "gas", "device_kind": "heat_pump"}, "does not match"),
    ({"conversion_type": "nuclear"}, "Not a valid choice"),
    ({"village_id": "999999"}, "Not a valid choice"),
    ({"programme_year": "1999"}, "2016"),
    ({"previous_heating": "<script>"}, "Not a valid choice"),
]


@pytest.mark.parametrize("override,message", BAD_INPUTS)
def test_bad_input_rerenders_with_message_and_saves_nothing(client, post, world, override,
                                                            message):
    log_in(client, make_user("clerk", world.village_a1))
    r = post("/households/new", form_data(world, **override))
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert message.lower() in body.lower()
    assert "nothing has been saved" in body
    assert count() == 0


def test_normalises_fullwidth_lowercase_and_spaces(client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    canonical = "11010519491231002X"
    typed = "１１０１０５ 1949 1231 002x"
    r = post("/households/new", form_data(world, id_number=typed, phone="138 1234 5678",
                                          bank_account="6222 0212 3456 7890 128"))
    assert r.status_code == 302, r.get_data(as_text=True)
    hh = db.session.scalar(select(Household))
    assert hh.id_number == canonical
    assert hh.phone == "13812345678"
    assert hh.bank_account == "6222021234567890128"


def test_luhn_failure_needs_confirmation(client, post, world):
    log_in(client, make_user("clerk", world.village_a1))
    bad_luhn = luhn_account(3)[:-1] + str((int(luhn_account(3)[-1]) + 1) % 10)
    r = post("/households/new", form_data(world, bank_account=bad_luhn))
    assert r.status_code == 200 and "tick the box" in r.get_data(as_text=True)
    assert count() == 0
    r = post("/households/new", form_data(world, bank_account=bad_luhn, luhn_confirmed="y"))
    assert r.status_code == 302
    hh = db.session.scalar(select(Household))
    assert hh.luhn_confirmed is True
    assert "fails the card check digit" in client.get(f"/households/{hh.id}").get_data(True)


def test_duplicate_id_in_scope_names_the_village(client, post, world):
    clerk = make_user("clerk", world.village_a1, world.village_a2)
    make_case(world.village_a2, clerk, id_number=make_id_number(5), programme_year=2025)
    log_in(client, clerk)
    r = post("/households/new", form_data(world))
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "南岗村" in body and "2025" in body
    assert count() == 1


def test_duplicate_id_out_of_scope_hides_the_village(client, post, world):
    other = make_user("clerk", world.village_b1)
    make_case(world.village_b1, other, id_number=make_id_number(5))
    log_in(client, make_user("clerk", world.village_a1))
    body = post("/households/new", form_data(world)).get_data(as_text=True)
    assert "outside your area" in body and "西山村" not in body
    assert count() == 1


def test_withdrawn_case_does_not_block_reregistration(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    make_case(world.village_a1, clerk, id_number=make_id_number(5), state="withdrawn")
    log_in(client, clerk)
    assert post("/households/new", form_data(world)).status_code == 302
    assert count() == 2


def test_partial_unique_index_enforced_by_database(app, world):
    clerk = make_user("clerk", world.village_a1)
    make_case(world.village_a1, clerk, id_number=make_id_number(9))
    with pytest.raises(Exception) as err:
        make_case(world.village_a1, clerk, id_number=make_id_number(9))
    assert "unique" in str(err.value).lower()
    db.session.rollback()


def test_edit_conflict_shows_both_and_loses_nothing(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, house_no="1号")
    stale_version = hh.version
    log_in(client, clerk)
    first = post(f"/households/{hh.id}/edit", form_data(
        world, id_number=hh.id_number, house_no="2号", version=str(stale_version)))
    assert first.status_code == 302
    second = post(f"/households/{hh.id}/edit", form_data(
        world, id_number=hh.id_number, house_no="3号", version=str(stale_version)))
    body = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else saved" in body and "2号" in body and 'value="3号"' in body
    db.session.refresh(hh)
    assert hh.house_no == "2号"
    # saving again from the conflict page (it carries the new version) overwrites knowingly
    again = post(f"/households/{hh.id}/edit", form_data(
        world, id_number=hh.id_number, house_no="3号", version=str(hh.version)))
    assert again.status_code == 302
    db.session.refresh(hh)
    assert hh.house_no == "3号"


def test_clerk_cannot_edit_after_submission(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="submitted")
    log_in(client, clerk)
    r = post(f"/households/{hh.id}/edit", form_data(world, id_number=hh.id_number,
                                                   version=str(hh.version)))
    assert r.status_code == 302
    db.session.refresh(hh)
    assert hh.house_no != "18号"


def test_reviewer_correction_after_approval_needs_reason_and_is_audited(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="approved")
    log_in(client, clerk)
    assert client.get(f"/households/{hh.id}/edit").status_code == 302  # clerk: no longer
    log_in(client, make_user("reviewer", world.town_a))
    data = form_data(world, id_number=hh.id_number, residents="5", version=str(hh.version))
    r = post(f"/households/{hh.id}/edit", data)
    assert r.status_code == 200 and "needs a reason" in r.get_data(as_text=True)
    r = post(f"/households/{hh.id}/edit", dict(data, reason="户口本核对后更正人数"))
    assert r.status_code == 302
    db.session.refresh(hh)
    assert hh.residents == 5
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                       "household.corrected"))
    assert event.summary == "户口本核对后更正人数" and '"residents": 5' in event.after


def test_holder_differs_blocks_submission_until_county_exception(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, account_holder="张小红")
    log_in(client, clerk)
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert "not the head of household" in page
    post(f"/households/{hh.id}/do/submit")
    db.session.refresh(hh)
    assert hh.state == "draft"
    # the clerk cannot record the exception
    assert post(f"/households/{hh.id}/holder-exception", {"reason": "x"}).status_code == 403
    log_in(client, make_user("county", world.county))
    assert post(f"/households/{hh.id}/holder-exception", {"reason": ""}).status_code == 302
    db.session.refresh(hh)
    assert hh.holder_exception_reason is None
    post(f"/households/{hh.id}/holder-exception", {"reason": "户主已故，由配偶代领"})
    db.session.refresh(hh)
    assert hh.holder_exception_reason == "户主已故，由配偶代领"
    log_in(client, clerk)
    post(f"/households/{hh.id}/do/submit")
    db.session.refresh(hh)
    assert hh.state == "submitted"


@pytest.mark.parametrize("closed", ["withdrawn", "cancelled", "paid"])
def test_holder_exception_refused_on_a_closed_case(client, post, world, closed):
    """The button is hidden outside lifecycle.ACTIVITIES["record_holder_exception"]; the
    service refuses there too (it used to accept a withdrawn case)."""
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, account_holder="张小红")
    hh.state = closed
    db.session.commit()
    county = make_user("county", world.county)
    log_in(client, county)
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert "/holder-exception" not in page
    with pytest.raises(services.CaseError) as err:
        services.record_holder_exception(hh, "户主已故，由配偶代领", county)
    assert "closed" in en(err.value.message)
    db.session.rollback()
    r = post(f"/households/{hh.id}/holder-exception", {"reason": "户主已故，由配偶代领"})
    assert r.status_code == 302
    db.session.refresh(hh)
    assert hh.holder_exception_reason is None


def test_submit_lists_missing_fields(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, bank_name=None, bank_account=None,
                   account_holder=None, house_no="")
    log_in(client, clerk)
    r = post(f"/households/{hh.id}/do/submit", follow_redirects=True)
    body = r.get_data(as_text=True)
    for label in ("Bank", "Account number", "Account holder", "House number"):
        assert f"Missing: {label}" in body
    db.session.refresh(hh)
    assert hh.state == "draft"


def test_shared_bank_account_warning(client, world):
    clerk = make_user("clerk", world.village_a1)
    a = make_case(world.village_a1, clerk, bank_account=luhn_account(42))
    make_case(world.village_a2, clerk, bank_account=luhn_account(42))
    log_in(client, clerk)
    assert "also used by 1 other" in client.get(f"/households/{a.id}").get_data(as_text=True)
    assert services.shared_account_count(a) == 1


def test_malformed_posts_never_500(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk)
    log_in(client, clerk)
    assert post("/households/new", {"village_id": "x", "heated_area": "∞"}).status_code == 200
    assert post(f"/households/{hh.id}/edit", {"version": "abc"}).status_code == 200
    assert post(f"/households/{hh.id}/do/nonsense").status_code == 404
    assert post(f"/households/{hh.id}/do/install").status_code == 404  # no button yet
    assert post(f"/households/{hh.id}/reveal", {"field": "id_number"}).status_code == 403
    assert client.post("/households/new", data=form_data(world)).status_code == 400  # no CSRF
    assert client.get("/households/?after=abc&township=x&year=zz").status_code == 200
    assert count() == 1
