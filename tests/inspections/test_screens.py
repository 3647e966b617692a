"""What the browser review of the phone screens fixed: a refused pass lists what is missing in
one box, a fail without reasons is marked on the reasons box, and the worklist gives the
inspector the household's phone and a button, but gives a reviewer no empty button column."""
from __future__ import annotations

import html
from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select

from heating.certificates.models import Certificate
from heating.core.i18n import local_today
from heating.extensions import db
from heating.inspections.models import Inspection
from tests.fixtures import log_in, make_case, make_user, says
from tests.inspections.support import all_ticked, installation_form, installed_case, photo_files


def _messages_of(body: str, css_class: str) -> int:
    return body.count(f'flash flash-{css_class}')


def test_a_refused_pass_lists_what_is_missing_in_one_box(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a))
    data = dict(all_ticked(), result="pass")
    del data["device_running"]
    r = post(f"/inspections/case/{hh.id}/inspect", data)
    assert r.status_code == 200
    body = html.unescape(r.get_data(as_text=True))
    assert says(r, "Not passed yet: the inspection was not saved.")
    box = body[body.index('class="flash flash-error refusal"'):]
    box = box[:box.index("</div>")]
    assert box.count("<li>") >= 2  # the unticked item and the missing photos, as a list
    assert _messages_of(body, "error") == 1  # not one red bar per problem
    db.session.refresh(hh)
    assert hh.state == "installed" and db.session.scalar(select(Inspection)) is None
    assert db.session.scalar(select(Certificate)) is None


def _reasons_box(body: str) -> str:
    """The form field holding the reasons textarea, from its opening <div class="field"."""
    end = body.index('name="reasons"')
    start = body.rindex('<div class="field', 0, end)
    return body[start:body.index("</div>", end)]


def test_a_fail_without_reasons_is_marked_on_the_reasons_box(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a))
    r = post(f"/inspections/case/{hh.id}/inspect", dict(all_ticked(), result="fail"))
    box = _reasons_box(r.get_data(as_text=True))
    assert "has-error" in box.split(">")[0] and says(r, "Please give a reason.")
    db.session.refresh(hh)
    assert hh.state == "installed" and db.session.scalar(select(Inspection)) is None
    # a pass needs no reasons (it is refused here for the missing photos, not for them)
    r = post(f"/inspections/case/{hh.id}/inspect", dict(all_ticked(), result="pass"))
    assert "has-error" not in _reasons_box(r.get_data(as_text=True)).split(">")[0]


def test_worklist_gives_the_inspector_the_phone_and_no_empty_column_to_a_reviewer(
        app, client, post, world):
    hh = installed_case(world, phone="13912345678")
    inspector = make_user("inspector", world.town_a)
    reviewer = make_user("reviewer", world.town_a)
    log_in(client, reviewer)
    post(f"/inspections/case/{hh.id}/assign",
         {"inspector_id": inspector.id,
          "visit_date": (local_today() + timedelta(days=1)).isoformat()})
    page = client.get("/inspections/").get_data(as_text=True)
    assert hh.head_name in page and 'class="v-go"' not in page
    assert f"/inspections/case/{hh.id}/inspect" not in page
    log_in(client, inspector)
    page = client.get("/inspections/").get_data(as_text=True)
    assert 'href="tel:13912345678"' in page
    assert f"/inspections/case/{hh.id}/inspect" in page
    # county staff see the number only on request (on the case page): masked here, where the
    # column used to be empty
    log_in(client, make_user("county", world.county))
    page = client.get("/inspections/").get_data(as_text=True)
    assert hh.head_name in page and "139****5678" in page and "13912345678" not in page


def test_a_duplicate_serial_warning_shows_once_after_saving(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    installed_case(world, clerk)
    hh = make_case(world.village_a1, clerk, state="approved")
    log_in(client, clerk)
    r = post(f"/inspections/case/{hh.id}/installation", installation_form())
    assert r.status_code == 302
    page = client.get(r.location)
    warning = "The factory serial number %(serial)s is also recorded for %(n)d other " \
              "household(s): check the device on site."
    assert says(page, warning, serial="SN2026-0001", n=1)
    body = html.unescape(page.get_data(as_text=True))
    assert sum(body.count(text) for text in _renderings(warning, serial="SN2026-0001", n=1)) == 1


def _renderings(msgid: str, **kw) -> set[str]:
    with force_locale("en"):
        english = gettext(msgid, **kw)
    with force_locale("zh_Hans_CN"):
        chinese = gettext(msgid, **kw)
    return {english, chinese}


def test_after_a_pass_or_a_fail_the_inspector_is_back_on_the_visit_list(app, client, post,
                                                                         world):
    """Not on the case page (6,500 px on a phone) but on the list of visits, with the result
    said at the top."""
    passing = installed_case(world, head_name="赵通过")
    failing = installed_case(world, head_name="钱整改")
    left = installed_case(world, head_name="孙待验")
    inspector = make_user("inspector", world.town_a)
    reviewer = make_user("reviewer", world.town_a)
    log_in(client, reviewer)
    for hh in (passing, failing, left):
        post(f"/inspections/case/{hh.id}/assign",
             {"inspector_id": inspector.id, "visit_date": local_today().isoformat()})
    client.get("/")  # the reviewer's messages are shown (and gone)
    log_in(client, inspector, lang="zh_Hans_CN")
    r = post(f"/inspections/case/{passing.id}/inspect",
             dict(all_ticked(), result="pass", **photo_files()))
    assert r.status_code == 302 and r.location.endswith("/inspections/")
    page = client.get(r.location).get_data(as_text=True)
    flash = page[page.index('class="flash flash-success"'):]
    assert flash[:flash.index("</div>")].endswith(
        f"{world.village_a1.name} 赵通过 户的验收已登记：通过。")
    assert "孙待验" in page and page.count("赵通过") == 1  # in the message, no longer a visit
    r = post(f"/inspections/case/{failing.id}/inspect",
             {"stoves_removed": "0", "result": "fail", "reasons": "未安装专用断路器"})
    assert r.status_code == 302 and r.location.endswith("/inspections/")
    assert f"{world.village_a1.name} 钱整改 户的验收已登记：不通过。" in client.get(
        r.location).get_data(as_text=True)
    db.session.refresh(passing)
    db.session.refresh(failing)
    assert (passing.state, failing.state) == ("passed", "failed")
