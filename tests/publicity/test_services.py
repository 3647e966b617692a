"""公示 rules through the services: publishing freezes amounts, objections, confirmation after
the period, taking a case off its notice, and the certificate's revocation."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.certificates import services as certificates
from heating.core.i18n import local_today
from heating.extensions import db
from heating.households.models import CaseEvent
from heating.publicity import objections, services
from heating.publicity.models import Notice
from heating.publicity.services import PublicityError
from tests.fixtures import en, make_user
from tests.publicity.support import make_policy, passed_case


@pytest.fixture
def reviewer(app, world):
    return make_user("reviewer", world.town_a, display_name="李审核")


@pytest.fixture
def policy(app, world):
    return make_policy(world)


def publish(reviewer, world, cases, **kw):
    values = dict(township=world.town_a, case_ids=[c.id for c in cases],
                  title="东河镇2026年度清洁取暖设备补贴公示", objection_phone="0391-1234567",
                  issuing_office="东河镇人民政府")
    values.update(kw)
    notice = services.publish(reviewer, **values)
    db.session.commit()
    return notice


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def after_end(notice, days=1):
    return notice.ends_on + timedelta(days=days)


# --- publishing ---------------------------------------------------------------------------------

def test_publish_freezes_amounts_in_house_number_order(world, reviewer, policy):
    big = passed_case(world, invoice="10000", house_no="12号", head_name="欧阳丽娜")
    small = passed_case(world, invoice="8000", house_no="3号", head_name="张三明")
    other = passed_case(world, village=world.village_a2, invoice="4000", house_no="1号")
    notice = publish(reviewer, world, [big, small, other])
    year = local_today().year
    assert notice.number == f"GS-139901001-{year}-001"
    assert notice.period_days == 7 and notice.ends_on == notice.starts_on + timedelta(days=6)
    entries = notice.entries
    # village A1 (house 3 before house 12), then village A2
    assert [e.household_id for e in entries] == [small.id, big.id, other.id]
    assert [e.amount_fen for e in entries] == [680000, 740000, 340000]
    assert entries[0].masked_name == "张*明" and entries[1].masked_name == "欧**娜"
    assert entries[0].masked_id == small.id_number[:6] + "********" + small.id_number[14:]
    assert "6,800.00" in entries[0].explanation and entries[0].policy_id == policy.id
    assert entries[0].inputs and all(e.state == "listed" for e in entries)
    for hh in (big, small, other):
        db.session.refresh(hh)
        assert hh.state == "publicized"
    # a later policy change does not touch what was published
    policy.equipment_cap_fen = 100
    policy.equipment_rate_e4 = 1
    db.session.commit()
    db.session.expire_all()
    assert [e.amount_fen for e in db.session.get(Notice, notice.id).entries] == [
        680000, 740000, 340000]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice.published"))
    assert audit is not None and notice.number in audit.summary
    second = publish(reviewer, world, [passed_case(world, house_no="30号")])
    assert second.number == f"GS-139901001-{year}-002"


def test_case_without_amount_refuses_the_whole_notice(world, reviewer, policy):
    ok = passed_case(world)
    gas = passed_case(world, conversion_type="gas", device_kind="gas_boiler",
                      head_name="王五")
    with pytest.raises(PublicityError) as err:
        publish(reviewer, world, [ok, gas])
    db.session.rollback()
    assert len(err.value.problems) == 1
    assert f"Case {gas.id}" in en(err.value.problems[0])
    assert "No subsidy policy" in en(err.value.problems[0])
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    db.session.refresh(ok)
    assert ok.state == "passed"


def test_only_passed_cases_of_the_township_and_scope_not_yet_on_notice(world, reviewer, policy):
    on_notice = passed_case(world)
    publish(reviewer, world, [on_notice])
    far = passed_case(world, village=world.village_b1)
    fresh = passed_case(world)
    assert [c.id for c in services.eligible_cases(reviewer, world.town_a)] == [fresh.id]
    assert services.eligible_cases(reviewer, world.town_b) == []  # not their township
    for bad in (on_notice, far):
        with pytest.raises(PublicityError):
            publish(reviewer, world, [bad])
        db.session.rollback()
    with pytest.raises(PublicityError):  # the village must be one of the township's
        publish(reviewer, world, [fresh], village=world.village_b1)
    db.session.rollback()
    other_reviewer = make_user("reviewer", world.town_b)
    with pytest.raises(PublicityError):
        publish(other_reviewer, world, [fresh])
    db.session.rollback()


def test_period_cannot_start_in_the_past(world, reviewer, policy):
    hh = passed_case(world)
    with pytest.raises(PublicityError) as err:
        publish(reviewer, world, [hh], starts_on=local_today() - timedelta(days=1))
    assert err.value.field == "starts_on"
    db.session.rollback()
    with pytest.raises(PublicityError):
        publish(reviewer, world, [hh], period_days=0)
    db.session.rollback()
    notice = publish(reviewer, world, [hh], period_days=10)
    assert notice.ends_on == local_today() + timedelta(days=9)


# --- the documents ------------------------------------------------------------------------------

def test_pdf_shows_masks_only_and_is_served_identically(world, reviewer, policy):
    hh = passed_case(world, head_name="张三明", invoice="8000")
    hh2 = passed_case(world, head_name="欧阳丽娜", invoice="10000")
    notice = publish(reviewer, world, [hh, hh2])
    first = services.pdf_bytes(notice)
    assert services.pdf_bytes(notice) == first
    text = pdf_text(first)
    for case in (hh, hh2):
        assert case.id_number not in text
        assert case.phone not in text
        assert case.bank_account not in text
        assert case.id_number[:6] + "********" + case.id_number[14:] in text
    assert "张*明" in text and "欧**娜" in text
    assert "张三明" not in text and "欧阳丽娜" not in text
    assert notice.number in text and "0391-1234567" in text and "东河镇人民政府" in text
    assert "6,800.00" in text and "7,400.00" in text and "14,200.00" in text
    assert "共 2 户" in text


def test_xlsx_copy_has_the_same_masked_columns(world, reviewer, policy):
    hh = passed_case(world, head_name="张三明")
    notice = publish(reviewer, world, [hh])
    sheet = load_workbook(io.BytesIO(services.xlsx_bytes(notice))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "序号" and rows[0][-1] == "设备购置补贴（元）"
    assert rows[1][2] == "张*明" and rows[1][3] == hh.id_number[:6] + "********" + \
        hh.id_number[14:]
    assert float(rows[1][6]) == 6800.0
    assert hh.id_number not in repr(rows) and hh.phone not in repr(rows)


# --- objections ---------------------------------------------------------------------------------

def test_objection_dismissed_then_confirmed_after_the_period(world, reviewer, policy):
    hh, other = passed_case(world), passed_case(world)
    notice = publish(reviewer, world, [hh, other])
    entry = notice.entries[0]
    objection = objections.record_objection(entry, reviewer, "村民王某", "家中仍烧煤")
    db.session.commit()
    assert entry.household.state == "objected" and entry.state == "objected"
    objections.dismiss(objection, reviewer, "核实已拆除煤炉")
    db.session.commit()
    assert entry.household.state == "publicized" and entry.state == "listed"
    assert objection.outcome == "dismissed" and objection.decision_reason == "核实已拆除煤炉"
    # not before the period is over: ends_on itself is still a notice day
    assert services.confirm_due(today=notice.ends_on).confirmed == 0
    result = services.confirm_due(today=after_end(notice))
    db.session.commit()
    assert (result.confirmed, result.closed) == (2, 1)
    assert notice.state == "closed"
    assert services.confirmed_entry(hh).id == entry.id and entry.state == "confirmed"
    assert hh.state == "confirmed"
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.household_id == hh.id)
                               .order_by(CaseEvent.id.desc())).first()
    assert event.action == "confirm" and event.actor_id is None  # the daily job
    # idempotent
    assert services.confirm_due(today=after_end(notice, 5)).confirmed == 0


def test_open_objection_blocks_confirmation_and_dismissal_after_the_end_confirms(
        world, reviewer, policy, monkeypatch):
    hh, other = passed_case(world), passed_case(world)
    notice = publish(reviewer, world, [hh, other])
    objection = objections.record_objection(notice.entries[0], reviewer, "匿名电话", "面积虚报")
    second = objections.record_objection(notice.entries[0], reviewer, "村民李某", "同上")
    db.session.commit()
    result = services.confirm_due(today=after_end(notice))
    db.session.commit()
    assert result.confirmed == 1 and hh.state == "objected" and notice.state == "published"
    assert services.confirmed_entry(hh) is None
    # the period is over: no new objection
    monkeypatch.setattr(objections, "local_today", lambda: after_end(notice))
    with pytest.raises(PublicityError):
        objections.record_objection(notice.entries[1], reviewer, "某人", "迟到的异议")
    db.session.rollback()
    objections.dismiss(objection, reviewer, "不属实")
    db.session.commit()
    assert hh.state == "objected"  # another objection is still open
    objections.dismiss(second, reviewer, "不属实")
    db.session.commit()
    # dismissed after the end date: confirmed at once with the rest
    assert hh.state == "confirmed" and notice.entries[0].state == "confirmed"
    assert notice.state == "closed"


def test_uphold_revokes_certificate_and_sends_case_back(world, reviewer, policy):
    hh, other = passed_case(world), passed_case(world)
    cert = certificates.current_certificate(hh)
    notice = publish(reviewer, world, [hh, other])
    entry = notice.entries[0]
    objection = objections.record_objection(entry, reviewer, "村民", "设备未安装")
    db.session.commit()
    with pytest.raises(PublicityError):  # a reason is required
        objections.uphold(objection, reviewer, " ")
    db.session.rollback()
    objections.uphold(objection, reviewer, "现场核实设备未安装")
    db.session.commit()
    db.session.refresh(cert)
    assert cert.revoked and cert.revoke_reason == "现场核实设备未安装"
    assert hh.state == "installed" and entry.state == "removed"
    assert entry.removed_reason == "现场核实设备未安装" and objection.outcome == "upheld"
    with pytest.raises(PublicityError):  # decided once
        objections.dismiss(objection, reviewer, "x")
    db.session.rollback()
    services.confirm_due(today=after_end(notice))
    db.session.commit()
    assert other.state == "confirmed" and notice.state == "closed"
    # re-inspected and passed again, it goes on a new notice (with a new frozen amount)
    hh.state = "passed"
    db.session.commit()
    assert hh in services.eligible_cases(reviewer, world.town_a)
    again = publish(reviewer, world, [hh])
    assert again.entries[0].household_id == hh.id and hh.state == "publicized"


# --- leaving a notice ---------------------------------------------------------------------------

def test_take_off_notice(world, reviewer, policy):
    hh, objected, other = passed_case(world), passed_case(world), passed_case(world)
    notice = publish(reviewer, world, [hh, objected, other])
    assert services.take_off_notice(passed_case(world), reviewer, "x") is None
    with pytest.raises(PublicityError):
        services.take_off_notice(hh, reviewer, "")
    db.session.rollback()
    entry = services.take_off_notice(hh, reviewer, "户主姓名更正")
    db.session.commit()
    assert entry.state == "removed" and entry.removed_reason == "户主姓名更正"
    assert hh.state == "passed" and hh in services.eligible_cases(reviewer, world.town_a)
    objections.record_objection(notice.entries[1], reviewer, "村民", "理由")
    db.session.commit()
    with pytest.raises(PublicityError):
        services.take_off_notice(objected, reviewer, "更正")
    db.session.rollback()
    services.confirm_due(today=after_end(notice))
    db.session.commit()
    with pytest.raises(PublicityError):  # confirmed: only revocation takes it off
        services.take_off_notice(other, reviewer, "更正")
    db.session.rollback()


@pytest.mark.parametrize("confirm_first", [False, True])
def test_revoking_the_certificate_takes_the_case_off(world, reviewer, policy, confirm_first):
    hh = passed_case(world)
    notice = publish(reviewer, world, [hh])
    if confirm_first:
        services.confirm_due(today=after_end(notice))
        db.session.commit()
        assert services.confirmed_entry(hh) is not None
    certificates.revoke(certificates.current_certificate(hh), reviewer, "举报核实造假")
    db.session.commit()
    assert hh.state == "installed" and notice.entries[0].state == "removed"
    assert services.confirmed_entry(hh) is None


def test_withdrawn_case_leaves_its_notice_at_once(world, reviewer, policy):
    """Withdrawing (or cancelling) a case on notice takes its entry off in the same
    transaction, audited; the rest of the notice confirms as usual."""
    from heating.audit.models import AuditEvent
    from heating.households.services import transition
    hh, other = passed_case(world), passed_case(world)
    notice = publish(reviewer, world, [hh, other])
    transition(hh, "withdraw", reviewer, "户主申请")
    db.session.commit()
    entry = next(e for e in notice.entries if e.household_id == hh.id)
    assert entry.state == "removed" and entry.removed_reason == "户主申请"
    assert services.confirmed_entry(hh) is None
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "notice.entry_removed",
        AuditEvent.object_id == str(entry.id))) is not None
    result = services.confirm_due(today=after_end(notice))
    db.session.commit()
    assert (result.confirmed, result.closed) == (1, 1)
    assert hh.state == "withdrawn" and other.state == "confirmed"
