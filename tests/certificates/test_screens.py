"""What the browser review of the certificate screens fixed: a void certificate is never
printed again, the public check lets a person type the code from the paper, the village list
explains itself and prints all or the ticked ones, and certificates load through the one
scope rule for cases."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.certificates import services, views
from heating.certificates.models import Certificate
from heating.extensions import db
from tests.fixtures import log_in, make_user, says
from tests.inspections.support import passed_case


@pytest.fixture
def inspector(app, world):
    return make_user("inspector", world.town_a, display_name="孙验收")


def _audit(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == action))


def test_a_revoked_certificate_is_not_printed_again(app, client, post, world, inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    reviewer = make_user("reviewer", world.town_a)
    log_in(client, reviewer)
    assert f"/certificates/{cert.id}.pdf" in client.get(f"/households/{hh.id}").get_data(
        as_text=True)
    post(f"/certificates/{cert.id}/revoke", {"reason": "异议属实"})
    downloads = _audit("certificate.downloaded")
    r = client.get(f"/certificates/{cert.id}.pdf")
    assert r.status_code == 302 and r.location.endswith(f"/households/{hh.id}")
    page = client.get(r.location)
    assert says(page, "Certificate %(serial)s is no longer valid (revoked, or its case withdrawn "
                "or cancelled), so its PDF is not issued any more. The case page shows when and "
                "why.", serial=cert.serial)
    # no download is offered, none is rendered or counted
    assert f"/certificates/{cert.id}.pdf" not in page.get_data(as_text=True)
    db.session.refresh(cert)
    assert cert.pdf_sha256 is None and _audit("certificate.downloaded") == downloads


def test_a_cancelled_case_s_certificate_is_not_printed_either(app, client, post, world,
                                                              inspector):
    log_in(client, inspector)
    hh = passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    assert client.get(f"/certificates/{cert.id}.pdf").status_code == 200
    hh.state = "cancelled"
    db.session.commit()
    assert client.get(f"/certificates/{cert.id}.pdf").status_code == 302


def test_certificates_load_through_the_case_scope_rule(app, client, post, world, inspector,
                                                       monkeypatch):
    log_in(client, inspector)
    passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    assert client.get("/certificates/999999.pdf").status_code == 404
    seen = []

    def spy(model, record_id, user, **kw):
        seen.append((model, record_id))
        return real(model, record_id, user, **kw)

    real = views.permissions.get_in_scope  # the one scoped loader; a certificate by its case
    monkeypatch.setattr(views.permissions, "get_in_scope", spy)
    log_in(client, make_user("inspector", world.town_b))
    assert client.get(f"/certificates/{cert.id}.pdf").status_code == 404
    assert seen == [(Certificate, cert.id)]


def test_the_public_check_asks_for_the_code_printed_on_the_paper(app, client, post, world,
                                                                 inspector):
    log_in(client, inspector)
    passed_case(world, inspector, post)
    cert = db.session.scalar(select(Certificate))
    public = app.test_client()
    bare = public.get(f"/verify/{cert.serial}")
    assert bare.status_code == 403
    assert says(bare, "This address has no check code. Type the 16-character check code "
                      "printed under the QR code on the certificate.")
    body = bare.get_data(as_text=True)
    assert f'action="/verify/{cert.serial}"' in body and 'name="t"' in body
    wrong = public.get(f"/verify/{cert.serial}?t=ABCDEFGH")
    assert says(wrong, "The check code does not match this serial number. Scan the QR code on "
                       "the certificate again, or type the check code printed under it.")
    typed = public.get(f"/verify/{cert.serial}?t={services.token(cert.serial).lower()}")
    assert typed.status_code == 200 and says(typed, "Valid")
    assert 'name="t"' not in typed.get_data(as_text=True)  # nothing more to type


def test_the_village_list_explains_itself_and_prints_all_or_the_ticked(app, client, post,
                                                                      world, inspector):
    log_in(client, inspector)
    passed_case(world, inspector, post, head_name="王一号", house_no="1号")
    cert = db.session.scalar(select(Certificate))
    log_in(client, make_user("reviewer", world.town_a))
    empty = client.get("/certificates/")
    assert says(empty, "Choose a village to list its valid acceptance certificates in "
                       "house-number order, then print them all, or the ticked ones, as one PDF.")
    page = client.get(f"/certificates/?village={world.village_a1.id}")
    body = page.get_data(as_text=True)
    assert 'data-check-all="ids"' in body and f'name="ids" value="{cert.id}"' in body
    assert f"/certificates/{cert.id}.pdf" in body  # one certificate again, on its own
    assert says(page, "Print all (PDF)") and world.county.name in body  # the area crumbs


def test_on_a_phone_each_certificate_is_a_card_with_its_pdf_button_in_view():
    """Issue 9 item 10 (looked at in Chromium at 390 px): below the phone breakpoint the
    certificate table is laid out as one grid card per certificate, whose areas include the
    PDF button, instead of a table whose last column ran off the screen."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    css = (root / "heating" / "static" / "app.css").read_text(encoding="utf-8")
    phone = css[css.index("@media (max-width"):]
    rule = re.search(r"table\.certs tbody tr \{([^}]*)\}", phone)
    assert rule and "display: grid" in rule.group(1) and '"pick' in rule.group(1)
    assert "pdf" in rule.group(1)  # the PDF button has its own area in every card
    template = (root / "templates" / "certificates" / "index.html").read_text(encoding="utf-8")
    assert 'class="c-pdf"' in template and 'class="c-pick"' in template
