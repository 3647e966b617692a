"""Assignment, worklist and the inspection screen: the checklist per conversion type, photos,
the pass guard, failing with reasons, separation of duties, and immutable inspections."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from heating.certificates.models import Certificate
from heating.core.i18n import local_today
from heating.extensions import db
from heating.inspections import services
from heating.inspections.models import Assignment, Inspection, Upload
from heating.inspections.photos import check_picture
from tests.fixtures import log_in, make_user, says
from tests.inspections.support import (
    all_ticked,
    installation_data,
    installed_case,
    jpeg,
    photo_files,
    upload,
)


def inspect_url(hh) -> str:
    return f"/inspections/case/{hh.id}/inspect"


# --- assignment and worklist -------------------------------------------------------------------

def test_reviewer_assigns_and_inspector_sees_the_visit(app, client, post, world):
    hh = installed_case(world)
    near = installed_case(world, village=world.village_a2)
    inspector = make_user("inspector", world.town_a, display_name="孙验收")
    stranger = make_user("inspector", world.town_b)
    log_in(client, make_user("reviewer", world.town_a))
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert "孙验收" in page and f"/inspections/case/{hh.id}/assign" in page
    today = local_today()
    r = post(f"/inspections/case/{hh.id}/assign",
             {"inspector_id": stranger.id, "visit_date": today.isoformat()})
    assert says(client.get(f"/households/{hh.id}"), "Choose an inspector of this township.")
    post(f"/inspections/case/{hh.id}/assign",
         {"inspector_id": inspector.id, "visit_date": (today - timedelta(days=1)).isoformat()})
    assert db.session.scalar(select(Assignment)) is None  # a visit is not planned in the past
    r = post(f"/inspections/case/{hh.id}/assign",
             {"inspector_id": inspector.id, "visit_date": today.isoformat()})
    assert r.status_code == 302
    post(f"/inspections/case/{near.id}/assign",
         {"inspector_id": inspector.id, "visit_date": (today + timedelta(days=3)).isoformat()})
    assert db.session.scalar(select(Assignment).where(Assignment.household_id == hh.id)
                             ).inspector_id == inspector.id

    log_in(client, inspector)
    page = client.get("/inspections/").get_data(as_text=True)
    assert hh.head_name in page and near.head_name in page
    today_part = page[:page.index(near.head_name)]
    assert hh.head_name in today_part  # today's visit before the later one
    filtered = client.get(f"/inspections/?village={world.village_a2.id}").get_data(as_text=True)
    assert near.head_name in filtered and hh.head_name not in filtered
    # an overdue visit stays on the list, marked
    db.session.get(Assignment, db.session.scalar(
        select(Assignment.id).where(Assignment.household_id == hh.id))).visit_date = \
        today - timedelta(days=2)
    db.session.commit()
    assert says(client.get("/inspections/"), "overdue")
    log_in(client, stranger)
    assert hh.head_name not in client.get("/inspections/").get_data(as_text=True)


def _inspector_select(page: str) -> str:
    return re.search(r'<select[^>]*name="inspector_id".*?</select>', page, re.S).group(0)


def test_assignment_leaves_out_whoever_the_pass_guard_would_refuse(app, client, post, world):
    """The reviewer who approved the case, also an inspector, used to be offered (and the
    first name preselected), to be refused only on site by the separation-of-duties guard."""
    approver = make_user(["reviewer", "inspector"], world.town_a, display_name="周审核")
    other = make_user("inspector", world.town_a, display_name="孙验收")
    clerk_inspector = make_user(["clerk", "inspector"], world.town_a, display_name="钱录入")
    hh = installed_case(world, clerk_inspector)  # registered and installed by an inspector
    hh.approved_by_id = approver.id
    db.session.commit()
    log_in(client, approver, lang="zh_Hans_CN")
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    select_ = _inspector_select(page)
    assert "孙验收" in select_ and "周审核" not in select_ and "钱录入" not in select_
    assert re.search(r'<option selected value="">— 请选择验收人员 —</option>', select_)
    assert select_.count("selected") == 1  # nobody preselected
    assert "登记、审核或录入安装信息的人员不能验收本户，已从名单中排除。" in page
    today = local_today().isoformat()
    for refused in (approver, clerk_inspector):  # posted anyway: refused with a message
        r = post(f"/inspections/case/{hh.id}/assign",
                 {"inspector_id": refused.id, "visit_date": today})
        assert r.status_code == 302
        assert says(client.get(r.location), "%(name)s registered or approved this case or "
                    "recorded its installation, so cannot pass its inspection: choose another "
                    "inspector.", name=refused.display_name)
    r = post(f"/inspections/case/{hh.id}/assign", {"inspector_id": "", "visit_date": today})
    assert says(client.get(r.location), "Choose an inspector.")
    assert db.session.scalar(select(Assignment)) is None
    post(f"/inspections/case/{hh.id}/assign", {"inspector_id": other.id, "visit_date": today})
    assert db.session.scalar(select(Assignment)).inspector_id == other.id
    # the current inspector is shown chosen when reassigning
    select_ = _inspector_select(client.get(f"/households/{hh.id}").get_data(as_text=True))
    assert re.search(rf'<option selected value="{other.id}">', select_)


def test_no_inspector_left_to_choose_says_why(app, client, world):
    only = make_user(["reviewer", "inspector"], world.town_a)
    hh = installed_case(world)
    hh.approved_by_id = only.id
    db.session.commit()
    log_in(client, only)
    page = client.get(f"/households/{hh.id}")
    assert 'name="inspector_id"' not in page.get_data(as_text=True)
    assert says(page, "No inspector can be chosen: nobody holds the inspector role over this "
                "township, or those who do registered or approved this case or recorded its "
                "installation. Ask the administrator to grant the inspector role to someone "
                "else.")

def test_unassigned_cases_listed_for_reviewers(app, client, world):
    hh = installed_case(world)
    log_in(client, make_user("reviewer", world.town_a))
    page = client.get("/inspections/")
    assert page.status_code == 200 and hh.head_name in page.get_data(as_text=True)
    log_in(client, make_user("finance", world.county))
    assert client.get("/inspections/").status_code == 403


# --- the screen ----------------------------------------------------------------------------------

def test_phone_screen_shows_the_checklist_of_the_conversion_type(app, client, world):
    electric = installed_case(world)
    gas = installed_case(world, conversion_type="gas", device_kind="gas_boiler",
                         install={"conversion_type": "gas", "device_kind": "gas_boiler",
                                  "meter_no": "G-77"})
    log_in(client, make_user("inspector", world.town_a))
    page = client.get(inspect_url(electric)).get_data(as_text=True)
    assert 'name="viewport" content="width=device-width' in page
    assert page.count('accept="image/*" capture="environment"') == 2
    assert 'name="line_upgraded"' in page and 'name="dedicated_breaker"' in page
    assert 'name="leak_alarm"' not in page
    page = client.get(inspect_url(gas)).get_data(as_text=True)
    assert 'name="leak_alarm"' in page and 'name="pressure_test"' in page
    assert 'name="line_upgraded"' not in page


def test_pass_with_photos_issues_a_certificate(app, client, post, world):
    hh = installed_case(world, coal_stoves=2)
    inspector = make_user("inspector", world.town_a)
    log_in(client, inspector)
    r = post(inspect_url(hh), dict(all_ticked(stoves=2), result="pass",
                                   other_inspectors="周某", **photo_files()))
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.refresh(hh)
    assert hh.state == "passed"
    insp = db.session.scalar(select(Inspection))
    assert insp.result == "pass" and insp.inspector_id == inspector.id
    assert insp.installation_snapshot["factory_serial"] == "SN2026-0001"  # as typed
    assert sorted(p.kind for p in insp.photos) == ["device_with_head", "stove_site"]
    cert = db.session.scalar(select(Certificate))
    assert cert.serial == f"139901-{local_today().year}-000001"
    assert cert.inspection_id == insp.id and cert.pdf_sha256 is None
    # stored under random names in the storage folder, never under static/
    root = Path(app.config["STORAGE_DIR"])
    for photo in insp.photos:
        assert (root / photo.path).is_file() and (root / photo.thumb_path).is_file()
        assert "IMG_0001" not in photo.path and "static" not in photo.path
    jpeg_photo = next(p for p in insp.photos if p.kind == "device_with_head")
    assert jpeg_photo.content_type == "image/jpeg"
    # EXIF DateTimeOriginal 2026-11-20 10:15 (Beijing time, no offset written) kept in UTC
    assert jpeg_photo.taken_at.isoformat() == "2026-11-20T02:15:00+00:00"
    png_photo = next(p for p in insp.photos if p.kind == "stove_site")
    assert png_photo.content_type == "image/png" and png_photo.taken_at is None
    # the case page shows the inspection with thumbnails that load
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert f"/inspections/uploads/{jpeg_photo.id}/thumb" in page and cert.serial in page
    thumb = client.get(f"/inspections/uploads/{jpeg_photo.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.data[:3] == b"\xff\xd8\xff"
    full = client.get(f"/inspections/uploads/{png_photo.id}")
    assert full.mimetype == "image/png" and full.headers["X-Content-Type-Options"] == "nosniff"
    # someone outside the township cannot load it
    log_in(client, make_user("inspector", world.town_b))
    assert client.get(f"/inspections/uploads/{jpeg_photo.id}/thumb").status_code == 404


def test_exif_offset_is_respected(app, world):
    _, _, _, taken = check_picture(jpeg(taken="2026:11:20 10:15:00", offset="+02:00"))
    assert taken.isoformat() == "2026-11-20T08:15:00+00:00"
    assert check_picture(jpeg(taken="garbage"))[3] is None


def test_pass_refused_until_every_item_and_photo_is_there(app, client, post, world):
    hh = installed_case(world, coal_stoves=2)
    log_in(client, make_user("inspector", world.town_a))
    missing_item = all_ticked(stoves=2)
    del missing_item["dedicated_breaker"]
    r = post(inspect_url(hh), dict(missing_item, result="pass", **photo_files()))
    assert r.status_code == 200
    assert says(r, "Not confirmed: %(item)s", item="Dedicated circuit breaker fitted")
    db.session.refresh(hh)
    assert hh.state == "installed" and db.session.scalar(select(Inspection)) is None
    # the photos sent with the refused attempt were kept: no need to take them again
    assert db.session.scalar(select(db.func.count()).select_from(Upload)) == 2
    assert 'class="received"' in r.get_data(as_text=True)
    r = post(inspect_url(hh), dict(all_ticked(stoves=1), result="pass"))
    assert says(r, "Only %(removed)s of the %(registered)s registered coal stoves were removed.",
                removed=1, registered=2)
    r = post(inspect_url(hh), dict(all_ticked(stoves=2), result="pass"))
    assert r.status_code == 302
    db.session.refresh(hh)
    assert hh.state == "passed"


def test_pass_refused_without_photos(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a))
    r = post(inspect_url(hh), dict(all_ticked(), result="pass",
                                   photo_device_with_head=upload(jpeg())))
    assert says(r, "Photo missing: %(kind)s", kind="Site of the removed coal stove")
    db.session.refresh(hh)
    assert hh.state == "installed"


def test_fail_with_reasons_then_rework_and_a_new_inspection(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = installed_case(world, clerk)
    inspector = make_user("inspector", world.town_a)
    log_in(client, inspector)
    r = post(inspect_url(hh), dict(all_ticked(), result="fail", reasons=""))
    assert says(r, "Please give a reason.")
    r = post(inspect_url(hh), {"stoves_removed": "0", "result": "fail",
                               "reasons": "未安装专用断路器"})
    assert r.status_code == 302
    db.session.refresh(hh)
    assert hh.state == "failed"
    failed = db.session.scalar(select(Inspection))
    assert failed.result == "fail" and failed.reasons == "未安装专用断路器"
    assert not db.session.scalar(select(Certificate))
    log_in(client, clerk)
    post(f"/households/{hh.id}/do/rework", {"reason": "已安装"})
    log_in(client, inspector)
    r = post(inspect_url(hh), dict(all_ticked(), result="pass", **photo_files()))
    assert r.status_code == 302
    results = [i.result for i in db.session.scalars(select(Inspection).order_by(Inspection.id))]
    assert results == ["fail", "pass"]


def test_past_inspections_are_immutable_in_the_database(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a))
    post(inspect_url(hh), dict(all_ticked(), result="pass", **photo_files()))
    for statement in ("UPDATE inspections SET result = 'fail'", "DELETE FROM inspections",
                      "DELETE FROM uploads", "UPDATE uploads SET inspection_id = NULL",
                      "DELETE FROM certificates", "UPDATE certificates SET serial = 'x'"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement))
        db.session.rollback()
    # the certificate's PDF may be stored once, and it may be revoked once
    db.session.execute(text("UPDATE certificates SET pdf_sha256 = 'a', pdf_path = 'p'"))
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE certificates SET pdf_sha256 = 'b'"))
    db.session.rollback()


# --- separation of duties ----------------------------------------------------------------------

@pytest.mark.parametrize("duty", ["registered", "approved", "installed", "edited"])
def test_who_did_an_earlier_step_cannot_pass(app, client, post, world, duty):
    """A township staffer holding several roles may fail the case but never pass it."""
    both = make_user(["clerk", "reviewer", "inspector"], world.town_a)
    clerk = make_user("clerk", world.village_a1)
    hh = installed_case(world, both if duty in ("registered", "installed") else clerk)
    if duty == "approved":
        hh.approved_by_id = both.id
        db.session.commit()
    if duty == "registered":
        hh.created_by_id = both.id
        db.session.commit()
    if duty == "edited":
        services.save_installation(hh, installation_data(brand="格力"), both)
        db.session.commit()
    log_in(client, both)
    page = client.get(inspect_url(hh))
    assert 'value="pass" class="primary" disabled' in page.get_data(as_text=True)
    r = post(inspect_url(hh), dict(all_ticked(), result="pass", **photo_files()))
    assert r.status_code == 200
    db.session.refresh(hh)
    assert hh.state == "installed"
    assert db.session.scalar(select(Certificate)) is None
    # another inspector passes it (the photos already taken are used)
    log_in(client, make_user("inspector", world.town_a))
    assert post(inspect_url(hh), dict(all_ticked(), result="pass")).status_code == 302
    db.session.refresh(hh)
    assert hh.state == "passed"


def test_the_registering_clerk_with_an_inspector_grant_is_refused(app, client, post, world):
    clerk_inspector = make_user(["clerk", "inspector"], world.town_a)
    hh = installed_case(world, clerk_inspector)
    log_in(client, clerk_inspector)
    r = post(inspect_url(hh), dict(all_ticked(), result="pass", **photo_files()))
    assert says(r, "You registered this case, so you cannot pass its inspection.")
    assert says(r, "You recorded this case's installation, so you cannot pass its inspection.")
