"""A name no bundled font can print (生僻字 beyond every font: CJK Extension G, private use):
every PDF route says so on screen, naming the character and the case, instead of printing a
box (no 500, no PDF); a reviewer or county user records a print spelling (印刷用名) with a
reason, audited; then every document prints it, with a note that the registered name differs.
"""
from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.certificates import services as certificates
from heating.core.db import now_utc
from heating.core.i18n import local_today
from heating.core.rendered import PRINT_NAME_NOTE, UnprintableError
from heating.extensions import db
from heating.households import services
from heating.households.models import Household
from heating.inspections.models import Inspection, Installation
from heating.publicity.models import Notice
from tests.fixtures import log_in, make_case, make_user, says
from tests.payouts.helpers import batch, confirmed_case
from tests.publicity.support import make_policy

EXT_G = "\U00030000"  # 𰀀: no bundled font has CJK Extension G
BAD = EXT_G + "祥"  # the rare character first: a masked name (𰀀*) keeps it
SPELLED = "吉祥"
NOTE = PRINT_NAME_NOTE
REFUSED = ("The PDF was not made: no font of the system has the characters below, so they "
           "would print as boxes. For a name, a reviewer or county user records a print "
           "spelling on the case page; correct any other text. Then print again.")


def text_of(data: bytes) -> str:
    return "".join("".join(page.extract_text().split())
                   for page in PdfReader(io.BytesIO(data)).pages)


def case_line(hh: Household) -> dict[str, str]:
    return {"case": str(hh.id), "name": hh.head_name, "chars": f"“{EXT_G}” U+30000"}


def passed(world, head_name: str = BAD, remark: str | None = None) -> Household:
    """A passed case with installation, inspection (``remark`` as its reasons) and
    certificate, written directly (the inspection screens have their own tests)."""
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, state="passed", head_name=head_name)
    inst = Installation(
        household_id=hh.id, conversion_type=hh.conversion_type, device_kind=hh.device_kind,
        brand="美的", model="M1", factory_serial=f"S{hh.id}", units=1,
        rated_power=Decimal("7"), invoice_amount=Decimal("8000"), installer="安装公司",
        install_date=date(2026, 10, 1), meter_no=f"E{hh.id}", recorded_by_id=clerk.id,
        updated_by_id=clerk.id)
    db.session.add(inst)
    db.session.flush()
    inspector = make_user("inspector", world.town_a)
    insp = Inspection(household_id=hh.id, installation_id=inst.id, result="pass",
                      conversion_type=inst.conversion_type, checklist={"device_running": True},
                      stoves_registered=1, stoves_removed=1, inspector_id=inspector.id,
                      inspected_at=now_utc(), installation_snapshot=inst.snapshot(),
                      reasons=remark)
    db.session.add(insp)
    db.session.flush()
    certificates.issue(hh, insp, inst, inspector)
    db.session.commit()
    return hh


def spell(hh: Household, actor, name: str = SPELLED) -> None:
    services.record_print_name(hh, name, "“𰀀”字库无法打印，按户主确认的写法", actor)
    db.session.commit()


@pytest.fixture
def reviewer(app, client, world):
    user = make_user("reviewer", world.town_a, display_name="李审核")
    log_in(client, user)
    return user


# -- recording the print spelling -----------------------------------------------------------

def test_the_case_page_warns_and_a_reviewer_records_the_print_spelling(
        client, post, world, reviewer):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, head_name=BAD)
    page = client.get(f"/households/{hh.id}")
    warning = ("The registered name contains %(chars)s, which no font of the system can print: "
               "no document of this case is made until a reviewer or county user records a "
               "print spelling.")
    assert says(page, warning, chars=f"“{EXT_G}” U+30000")
    assert f'action="/households/{hh.id}/print-name"' in page.get_data(as_text=True)
    url = f"/households/{hh.id}/print-name"
    # both a name and a reason; the name must print itself
    assert says(post(url, {"print_name": SPELLED, "reason": ""}, follow_redirects=True),
                "Please give a reason.")
    assert says(post(url, {"print_name": "", "reason": "x"}, follow_redirects=True),
                "Enter the print spelling.")
    assert says(post(url, {"print_name": "\ue000祥", "reason": "x"}, follow_redirects=True),
                "No font of the system has %(chars)s either: the print spelling must print. "
                "Use the common form of the character, or pinyin.", chars="“\ue000” U+E000")
    db.session.refresh(hh)
    assert hh.print_name is None
    done = post(url, {"print_name": SPELLED, "reason": "字库无法打印"}, follow_redirects=True)
    assert says(done, "Print spelling recorded: documents now print “%(name)s”, with a note "
                      "that the registered name differs.", name=SPELLED)
    db.session.refresh(hh)
    assert (hh.print_name, hh.print_name_reason) == (SPELLED, "字库无法打印")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "household.print_name"))
    assert event.actor_id == reviewer.id and event.object_id == str(hh.id)
    assert json.loads(event.before) == {"print_name": None, "print_name_reason": None}
    assert json.loads(event.after) == {"print_name": SPELLED, "print_name_reason": "字库无法打印"}
    page = client.get(f"/households/{hh.id}")
    assert says(page, "Print spelling") and SPELLED in page.get_data(as_text=True)
    assert not says(page, warning, chars=f"“{EXT_G}” U+30000")  # the way forward is taken
    # emptied, with a reason: documents print the registered name again (and refuse it)
    removed = post(url, {"print_name": "", "reason": "登记姓名已更正"}, follow_redirects=True)
    assert says(removed, "Print spelling removed: documents print the registered name again.")
    db.session.refresh(hh)
    assert hh.print_name is None and hh.print_name_reason is None


def test_only_reviewer_and_county_see_the_form(client, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk, head_name=BAD)
    log_in(client, clerk)
    body = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert "print-name" not in body and "U+30000" in body  # the warning, not the form
    log_in(client, make_user("county", world.county))
    assert "print-name" in client.get(f"/households/{hh.id}").get_data(as_text=True)


# -- every PDF route: the message, then the print spelling -----------------------------------

def test_application_form_refused_with_the_message_then_printed_in_the_print_spelling(
        client, world, reviewer):
    hh = make_case(world.village_a1, make_user("clerk", world.village_a1), head_name=BAD)
    r = client.get(f"/households/{hh.id}/application.pdf")
    assert r.status_code == 302 and r.location.endswith(f"/households/{hh.id}")
    page = client.get(r.location)
    assert says(page, REFUSED) and says(page, "Case %(case)s (%(name)s): %(chars)s",
                                        **case_line(hh))
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "household.application_printed")) == 0
    # services and the CLI get the exception, with the character and the case
    with pytest.raises(UnprintableError) as caught:
        certificates.application_form_pdf(hh, "13800000000", reviewer)
    assert [(p.case, p.chars) for p in caught.value.problems] == [(str(hh.id), (EXT_G,))]
    db.session.rollback()
    spell(hh, reviewer)
    r = client.get(f"/households/{hh.id}/application.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    text = text_of(r.data)
    assert SPELLED in text and NOTE in text and EXT_G not in text


def test_the_chinese_message_names_the_case(client, world, reviewer):
    hh = make_case(world.village_a1, make_user("clerk", world.village_a1), head_name=BAD)
    log_in(client, reviewer, lang="zh_Hans_CN")
    page = client.get(f"/households/{hh.id}/application.pdf", follow_redirects=True)
    assert page.status_code == 200
    assert f"案件 {hh.id}（{BAD}）：“{EXT_G}” U+30000" in page.get_data(as_text=True)
    assert "未生成 PDF" in page.get_data(as_text=True)


def test_certificate_and_acceptance_record_refused_then_printed(client, world, reviewer):
    hh = passed(world, remark="户主要求下月回访")
    cert = certificates.current_certificate(hh)
    insp = db.session.scalar(select(Inspection).where(Inspection.household_id == hh.id))
    for url in (f"/certificates/{cert.id}.pdf", f"/inspections/{insp.id}/record.pdf"):
        r = client.get(url)
        assert r.status_code == 302 and r.location.endswith(f"/households/{hh.id}"), url
        assert says(client.get(r.location), "Case %(case)s (%(name)s): %(chars)s",
                    **case_line(hh))
    db.session.refresh(cert)
    assert cert.pdf_sha256 is None  # nothing stored
    spell(hh, reviewer)
    pdf = client.get(f"/certificates/{cert.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert SPELLED in text_of(pdf.data) and NOTE in text_of(pdf.data)
    db.session.refresh(cert)
    assert cert.content["head_name"] == BAD  # the frozen content keeps the registered name
    rendered = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "certificate.rendered"))
    assert json.loads(rendered.after)["print_name"] == SPELLED  # what the stored PDF prints
    assert client.get(f"/certificates/{cert.id}.pdf").data == pdf.data  # byte for byte
    record = client.get(f"/inspections/{insp.id}/record.pdf")
    assert record.status_code == 200
    text = text_of(record.data)
    assert SPELLED in text and NOTE in text
    # item 13: a pass prints the inspector's remark under 备注, not as rework to do
    assert "备注户主要求下月回访" in text and "问题及整改要求" not in text


def test_batch_print_names_every_case_at_fault(client, world, reviewer):
    fine, bad1, bad2 = passed(world, "王建国"), passed(world), passed(world, EXT_G + "明")
    url = f"/certificates/batch.pdf?village={world.village_a1.id}"
    r = client.get(url)
    assert r.status_code == 302 and f"/certificates/?village={world.village_a1.id}" in r.location
    page = client.get(r.location)
    for hh in (bad1, bad2):
        assert says(page, "Case %(case)s (%(name)s): %(chars)s", **case_line(hh))
    assert f"Case {fine.id} " not in page.get_data(as_text=True)
    spell(bad1, reviewer)
    spell(bad2, reviewer, "吉明")
    r = client.get(url)
    assert r.status_code == 200
    text = text_of(r.data)
    assert "王建国" in text and SPELLED in text and "吉明" in text and NOTE in text


def test_a_notice_with_unprintable_names_is_not_published(client, post, world, reviewer):
    make_policy(world)
    fine, bad1, bad2 = passed(world, "王建国"), passed(world), passed(world, EXT_G + "明")
    data = {"township_id": str(world.town_a.id), "village_id": "0", "year": "2026",
            "case_ids": [str(c.id) for c in (fine, bad1, bad2)], "title": "东河镇设备补贴公示",
            "starts_on": local_today().isoformat(), "period_days": "7",
            "objection_phone": "0391-1234567", "issuing_office": "东河镇人民政府"}
    refused = post("/publicity/new", data)
    assert refused.status_code == 200
    assert says(refused, REFUSED)
    for hh in (bad1, bad2):
        assert says(refused, "Case %(case)s (%(name)s): %(chars)s", **case_line(hh))
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    db.session.refresh(bad1)
    assert bad1.state == "passed"
    spell(bad1, reviewer)
    spell(bad2, reviewer, "吉明")
    assert post("/publicity/new", data).status_code == 302
    notice = db.session.scalar(select(Notice))
    text = text_of(client.get(f"/publicity/{notice.id}.pdf").data)
    assert "吉*" in text and "王*国" in text
    rows = "、".join(str(e.seq) for e in notice.entries if e.household_id != fine.id)
    assert f"注：第{rows}行户主登记姓名含字库未收录的生僻字，按印刷用名打印。" in text


def test_the_roster_names_the_case_then_prints_the_print_spelling(client, world):
    clerk = make_user("clerk", world.village_a1)
    fine = confirmed_case(world.village_a1, clerk, head_name="王建国")
    bad = confirmed_case(world.village_a1, clerk, head_name=BAD)
    maker = make_user("finance", world.county, username="maker")
    made = batch(maker)
    log_in(client, maker)
    url = f"/payouts/batches/{made.id}/roster/{world.town_a.id}.pdf"
    r = client.get(url)
    assert r.status_code == 302 and r.location.endswith(f"/payouts/batches/{made.id}")
    page = client.get(r.location)
    assert says(page, "Case %(case)s (%(name)s): %(chars)s", **case_line(bad))
    assert f"Case {fine.id} " not in page.get_data(as_text=True)
    spell(bad, make_user("county", world.county))
    r = client.get(url)
    assert r.status_code == 200
    text = text_of(r.data)
    assert SPELLED in text and "王建国" in text and "按印刷用名打印" in text
