"""Certificates end to end: issued on pass with a gapless serial, the PDF rendered once and
then served byte for byte, public verification with right and wrong tokens, revocation,
batch printing, the printable paperwork, and the verification rate limit."""
from __future__ import annotations

import hashlib
import io
import threading
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from heating.audit.models import AuditEvent
from heating.auth.models import User
from heating.certificates import services
from heating.certificates.models import Certificate, CertificateCounter
from heating.certificates.paperwork import local_date
from heating.core.i18n import local_today
from heating.core.ratelimit import (
    MemoryLimiter,
    RateLimitConfigError,
    RedisLimiter,
    make_limiter,
    parse_limit,
)
from heating.extensions import db
from heating.households.models import Household
from heating.inspections import services as inspections
from heating.inspections.models import Upload
from tests.conftest import BACKEND, make_app
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_case, make_user, says
from tests.inspections.support import (
    all_ticked,
    installation_form,
    installed_case,
    passed_case,
    photo_files,
)


@pytest.fixture
def inspector(app, world):
    return make_user("inspector", world.town_a, display_name="孙验收")


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _embedded_fonts(data: bytes) -> set[str]:
    found = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor and "/FontFile2" in descriptor.get_object():
                    found.add(str(font["/BaseFont"]))
    return found


def test_download_renders_once_then_serves_identical_bytes(app, client, post, world, inspector,
                                                           monkeypatch):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post, head_name="张三明")
    cert = db.session.scalar(select(Certificate))
    first = client.get(f"/certificates/{cert.id}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    db.session.refresh(cert)
    assert cert.pdf_sha256 == hashlib.sha256(first.data).hexdigest()
    text = _pdf_text(first.data)
    assert "验收合格" in text and cert.serial in text and "张三明" in text
    assert services.verify_url(cert.serial) in text.replace("\n", "")
    assert hh.id_number not in text  # the ID number only masked
    assert _embedded_fonts(first.data), "the CJK font must be embedded"
    # later downloads are the stored bytes, whatever the renderer would make today
    monkeypatch.setattr(services.render, "render_certificate",
                        lambda data: pytest.fail("rendered twice"))
    log_in(client, make_user("auditor", world.county))
    again = client.get(f"/certificates/{cert.id}.pdf")
    assert again.data == first.data
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "certificate")))
    assert actions.count("certificate.rendered") == 1
    assert actions.count("certificate.downloaded") == 2


def test_a_tampered_stored_pdf_is_never_served(app, client, post, world, inspector):
    log_in(client, inspector)
    passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    client.get(f"/certificates/{cert.id}.pdf")
    db.session.refresh(cert)
    path = Path(app.config["STORAGE_DIR"]) / cert.pdf_path
    path.chmod(0o640)
    path.write_bytes(path.read_bytes() + b"%tampered")
    app.config["PROPAGATE_TEST_ERRORS"] = False
    assert client.get(f"/certificates/{cert.id}.pdf").status_code == 500


def test_verification_right_and_wrong_tokens(app, client, post, world, inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post, head_name="欧阳丽娜")
    cert = db.session.scalar(select(Certificate))
    anonymous = app.test_client()
    token = services.token(cert.serial)
    assert len(token) == 16
    ok = anonymous.get(f"/verify/{cert.serial}?t={token}")
    assert ok.status_code == 200
    body = ok.get_data(as_text=True)
    assert says(ok, "Valid") and "欧**娜" in body and "欧阳丽娜" not in body
    assert world.village_a1.name in body and cert.serial in body
    assert str(local_today()) in body and says(ok, "Coal to electricity")
    assert hh.phone not in body and hh.id_masked not in body and hh.house_no not in body
    # typed by hand from the paper: case and spaces do not matter
    assert anonymous.get(f"/verify/{cert.serial}?t={token.lower()[:8]} {token.lower()[8:]}"
                         ).status_code == 200
    wrong = anonymous.get(f"/verify/{cert.serial}?t={'A' * 16}")
    assert wrong.status_code == 403 and says(wrong, "Cannot be verified")
    assert "欧**娜" not in wrong.get_data(as_text=True)
    assert anonymous.get(f"/verify/{cert.serial}").status_code == 403  # no token at all
    unknown = anonymous.get(f"/verify/139901-2026-999999?t={token}")
    assert unknown.status_code == 404 and says(unknown, "Unknown")
    assert anonymous.get("/verify/not-a-serial").status_code == 404


def test_token_is_keyed_by_the_certificate_key_not_the_session_secret(app):
    serial = "139901-2026-000001"
    before = services.token(serial)
    app.config["SECRET_KEY"] = "rotated session secret"
    assert services.token(serial) == before
    app.config["CERTIFICATE_KEY"] = "another certificate key"
    assert services.token(serial) != before


def test_revocation_shows_revoked_and_a_new_pass_gets_a_new_serial(app, client, post, world,
                                                                   inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    url = f"/verify/{cert.serial}?t={services.token(cert.serial)}"
    # an inspector cannot revoke; a reviewer must give a reason
    assert post(f"/certificates/{cert.id}/revoke", {"reason": "x"}).status_code == 403
    log_in(client, make_user("reviewer", world.town_a))
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert f"/certificates/{cert.id}/revoke" in page
    post(f"/certificates/{cert.id}/revoke", {"reason": ""})
    db.session.refresh(cert)
    assert cert.revoked_at is None
    r = post(f"/certificates/{cert.id}/revoke", {"reason": "核查发现设备未安装"})
    assert r.status_code == 302
    db.session.refresh(cert)
    db.session.refresh(hh)
    assert cert.revoked and cert.revoke_reason == "核查发现设备未安装"
    assert hh.state == "installed" and hh.events[-1].action == "revoke"
    revoked = app.test_client().get(url)
    assert revoked.status_code == 200 and says(revoked, "Revoked")
    assert post(f"/certificates/{cert.id}/revoke", {"reason": "again"}).status_code == 302
    # inspected again and passed: a new serial, the revoked one never comes back
    log_in(client, inspector)
    r = post(f"/inspections/case/{hh.id}/inspect",
             dict(all_ticked(), result="pass", **photo_files()))
    assert r.status_code == 302
    serials = sorted(db.session.scalars(select(Certificate.serial)))
    year = local_today().year
    assert serials == [f"139901-{year}-000001", f"139901-{year}-000002"]
    assert says(app.test_client().get(url), "Revoked")


def test_revoking_under_objection_review_is_the_uphold_move(app, client, post, world, inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post)
    hh.state = "objected"
    db.session.commit()
    cert = db.session.scalar(select(Certificate))
    log_in(client, make_user("reviewer", world.town_a))
    post(f"/certificates/{cert.id}/revoke", {"reason": "异议属实"})
    db.session.refresh(hh)
    assert hh.state == "installed" and hh.events[-1].action == "uphold"


def test_a_cancelled_case_no_longer_verifies_as_valid(app, client, post, world, inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    hh.state = "cancelled"
    db.session.commit()
    r = app.test_client().get(f"/verify/{cert.serial}?t={services.token(cert.serial)}")
    assert says(r, "Revoked")


def test_serials_are_per_county_and_year_and_a_rollback_gives_the_number_back(app, world):
    assert services.next_sequence("139901", 2026) == 1
    assert services.next_sequence("139901", 2026) == 2
    assert services.next_sequence("139902", 2026) == 1
    assert services.next_sequence("139901", 2027) == 1
    db.session.commit()
    services.next_sequence("139901", 2026)  # a pass that then fails …
    db.session.rollback()  # … gives its number back
    assert services.next_sequence("139901", 2026) == 3
    assert services.format_serial("139901", 2026, 3) == "139901-2026-000003"


@pytest.mark.skipif(BACKEND != "postgresql", reason="row locks are raced on PostgreSQL")
def test_simultaneous_passes_get_unique_gapless_serials(app, world):
    """Eight inspectors pass eight cases at the same moment, each in its own connection.
    Each case lies in its own village: cases of one village would already queue on that
    village's row of household_counts (its trigger), hiding a missing lock on the counter."""
    villages = [AreaFactory(code=f"139901001{n + 101:03d}", name=f"并发村{n}", level="village",
                            parent=world.town_a) for n in range(8)]
    db.session.commit()
    cases = [installed_case(world, village=v) for v in villages]
    inspectors = [make_user("inspector", world.town_a) for _ in cases]
    for hh, person in zip(cases, inspectors):  # the photos, as if taken on site
        for kind in ("device_with_head", "stove_site"):
            db.session.add(Upload(household_id=hh.id, kind=kind, path="p", thumb_path="t",
                                  sha256="0" * 64, content_type="image/jpeg", size=1,
                                  width=1, height=1, uploaded_by_id=person.id))
    db.session.commit()
    ids = [(hh.id, person.id) for hh, person in zip(cases, inspectors)]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def pass_one(case_id: int, user_id: int) -> None:
        try:
            with app.app_context():
                hh = db.session.get(Household, case_id)
                user = db.session.get(User, user_id)
                barrier.wait()
                inspections.record_inspection(
                    hh, user, result="pass", stoves_removed=hh.coal_stoves, reasons=None,
                    checklist=dict.fromkeys(("device_running", "stove_removed",
                                             "line_upgraded", "dedicated_breaker",
                                             "head_confirmed"), True))
                db.session.commit()
                db.session.remove()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=pass_one, args=pair) for pair in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db.session.expire_all()
    sequences = sorted(db.session.scalars(select(Certificate.sequence)))
    assert sequences == list(range(1, len(ids) + 1))
    counter = db.session.scalar(select(CertificateCounter))
    assert counter.last_sequence == len(ids)


# --- batch printing and paperwork -----------------------------------------------------------------

def test_batch_print_of_a_village_in_house_number_order(app, client, post, world, inspector):
    log_in(client, inspector)
    for house, name in (("10号", "王十号"), ("2号", "王二号"), ("1号", "王一号"), ("3号", "王三号")):
        passed_case(world, inspector, post, house_no=house, head_name=name, group_name="1组")
    revoked = db.session.scalar(select(Certificate).join(Household).where(
        Household.house_no == "3号"))
    log_in(client, make_user("reviewer", world.town_a))
    post(f"/certificates/{revoked.id}/revoke", {"reason": "撤销"})
    page = client.get(f"/certificates/?village={world.village_a1.id}").get_data(as_text=True)
    page = page[page.index("<table"):]  # the list (not the inspector's messages above it)
    assert page.index("王一号") < page.index("王二号") < page.index("王十号")
    assert "王三号" not in page
    r = client.get(f"/certificates/batch.pdf?village={world.village_a1.id}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages]
    assert len(pages) == 3
    assert ["王一号" in pages[0], "王二号" in pages[1], "王十号" in pages[2]] == [True] * 3
    some = db.session.scalar(select(Certificate).join(Household).where(
        Household.house_no == "2号"))
    r = client.get(f"/certificates/batch.pdf?village={world.village_a1.id}&ids={some.id}")
    assert len(PdfReader(io.BytesIO(r.data)).pages) == 1
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "certificate.batch_printed"))
    # another township's reviewer cannot print this village
    log_in(client, make_user("reviewer", world.town_b))
    assert client.get(f"/certificates/batch.pdf?village={world.village_a1.id}"
                      ).status_code == 404


def test_acceptance_record_and_application_form(app, client, post, world, inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post, head_name="李四")
    insp_id = db.session.scalar(select(Certificate.inspection_id))
    record = client.get(f"/inspections/{insp_id}/record.pdf")
    assert record.status_code == 200
    text = _pdf_text(record.data)
    assert "验收单" in text and "李四" in text and hh.id_number not in text
    assert _embedded_fonts(record.data)
    log_in(client, make_user("clerk", world.village_a1))
    form = client.get(f"/households/{hh.id}/application.pdf")
    assert form.status_code == 200
    text = _pdf_text(form.data)
    assert "申请表" in text and "李四" in text and hh.id_number not in text
    assert hh.bank_account not in text


# --- the public page's rate limit --------------------------------------------------------------------

def test_verification_is_rate_limited_per_client(db_url, tmp_path):
    app: Flask = make_app(db_url, VERIFY_RATE_LIMIT="3/minute",
                          STORAGE_DIR=str(tmp_path / "s"))
    with app.app_context():
        client = app.test_client()
        codes = [client.get("/verify/139901-2026-000001?t=x").status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        limited = client.get("/verify/139901-2026-000001")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        other = client.get("/verify/139901-2026-000001",
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 404
        db.session.remove()
        db.engine.dispose()


def test_sliding_window_limiter_and_its_settings():
    now = [1000.0]
    limiter = MemoryLimiter(2, 60, clock=lambda: now[0])
    assert [limiter.hit("a")[0] for _ in range(3)] == [True, True, False]
    assert limiter.hit("b")[0]
    now[0] += 61
    assert limiter.hit("a") == (True, 0)
    assert parse_limit("30/minute") == (30, 60) and parse_limit("5/hours") == (5, 3600)
    for bad in ("30", "x/minute", "0/minute", "3/fortnight"):
        with pytest.raises(RateLimitConfigError):
            parse_limit(bad)
    with pytest.raises(RateLimitConfigError):
        make_limiter("3/minute", "memcached://x")

    class FakeRedis:
        """Just the sorted-set calls the limiter makes."""

        def __init__(self):
            self.sets: dict[str, dict[str, float]] = {}

        def pipeline(self):
            return FakePipe(self)

        def zrange(self, name, start, end, withscores=False):
            items = sorted(self.sets.get(name, {}).items(), key=lambda kv: kv[1])
            return items[start:end + 1]

    class FakePipe:
        def __init__(self, r):
            self.r, self.ops = r, []

        def __getattr__(self, op):
            return lambda *a, **k: self.ops.append((op, a))

        def execute(self):
            out = []
            for op, a in self.ops:
                s = self.r.sets.setdefault(a[0], {})
                if op == "zremrangebyscore":
                    for m in [m for m, sc in s.items() if a[1] <= sc <= a[2]]:
                        del s[m]
                    out.append(None)
                elif op == "zcard":
                    out.append(len(s))
                elif op == "zadd":
                    s.update(a[1])
                    out.append(1)
                else:
                    out.append(True)
            return out

    shared = RedisLimiter(FakeRedis(), 2, 60)
    assert [shared.hit("c")[0] for _ in range(3)] == [True, True, False]


def test_issue_date_and_year_in_beijing_time():
    late = datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc)  # 01:30 on 1 Jan in Beijing
    assert local_date(late) == date(2027, 1, 1)


def test_done_when_walk(app, client, post, world):
    """The issue's walk, through the screens only: a clerk records the installation, the
    reviewer assigns it, the inspector ticks the checklist on the phone screen, sends two
    photos and passes; the certificate downloads with its Chinese text and the QR address,
    and checking that address says valid, then revoked after revocation."""
    clerk = make_user("clerk", world.village_a1)
    reviewer = make_user("reviewer", world.town_a)
    inspector = make_user("inspector", world.town_a, display_name="孙验收")
    hh = make_case(world.village_a1, clerk, state="approved", head_name="张建明")
    log_in(client, clerk)
    assert post(f"/inspections/case/{hh.id}/installation",
                installation_form()).status_code == 302
    log_in(client, reviewer)
    today = local_today().isoformat()
    assert post(f"/inspections/case/{hh.id}/assign",
                {"inspector_id": inspector.id, "visit_date": today}).status_code == 302
    log_in(client, inspector)
    assert "张建明" in client.get("/inspections/").get_data(as_text=True)
    assert client.get(f"/inspections/case/{hh.id}/inspect").status_code == 200
    r = post(f"/inspections/case/{hh.id}/inspect",
             dict(all_ticked(), result="pass", **photo_files()))
    assert r.status_code == 302
    cert = db.session.scalar(select(Certificate))
    pdf = client.get(f"/certificates/{cert.id}.pdf").data
    text = _pdf_text(pdf).replace("\n", "")
    assert "清洁取暖改造验收合格证明" in text and "张建明" in text
    url = services.verify_url(cert.serial)
    assert url in text
    public = app.test_client()
    path = url.removeprefix(app.config["PUBLIC_BASE_URL"])
    assert says(public.get(path), "Valid")
    log_in(client, reviewer)
    post(f"/certificates/{cert.id}/revoke", {"reason": "发现弄虚作假"})
    assert says(public.get(path), "Revoked")
