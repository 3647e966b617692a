"""Certificate rules: issue on pass (gapless serial per county and year), the verification
token, the PDF rendered once and then served byte for byte, revocation, public verification.
Services flush, never commit."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.certificates import paperwork, render
from heating.certificates.models import Certificate, CertificateCounter
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ
from heating.core.masking import mask_name
from heating.core.paperwork import house_number_key, store_pdf
from heating.core.pdf import show_chars
from heating.core.refusals import Refusal
from heating.core.rendered import UnprintableError
from heating.core.storage import read_checked
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.households.services import CaseError, transition

SERIAL_RE = re.compile(r"^(\d{6})-(\d{4})-(\d{6})$")
#: 10 bytes of the HMAC: 80 bits, 16 characters of base32 (A-Z, 2-7: no 0/O or 1/I mix-ups
#: when someone types the token printed under the QR code)
TOKEN_BYTES = 10

#: ``certificate_revoked.send(cert, case=…, actor=…, reason=…)`` after a revocation from the
#: certificate screen; the domains built on certificates (publicity: the case leaves its notice)
#: connect in their ``init_app``, so certificates imports none of them.
certificate_revoked = Namespace().signal("certificate-revoked")




# --- serials and tokens -----------------------------------------------------------------------

def token(serial: str, key: str | None = None) -> str:
    secret = key if key is not None else current_app.config["CERTIFICATE_KEY"]
    digest = hmac.new(secret.encode(), f"certificate:{serial}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:TOKEN_BYTES]).decode()


def token_ok(serial: str, given: str | None) -> bool:
    candidate = (given or "").strip().upper().replace(" ", "").replace("-", "")
    return hmac.compare_digest(candidate.encode(), token(serial).encode())


def verify_url(serial: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/verify/{serial}?t={token(serial)}"


def next_sequence(county_code: str, year: int) -> int:
    """Take the next number for this county and year.  The counter row stays locked until the
    transaction ends (SELECT … FOR UPDATE on PostgreSQL; on SQLite the writer already holds the
    database lock from BEGIN IMMEDIATE), so two passes at the same moment queue here; a
    rolled-back pass releases its number with the lock: no gaps."""
    query = (select(CertificateCounter)
             .where(CertificateCounter.county_code == county_code,
                    CertificateCounter.year == year)
             .with_for_update())
    counter = db.session.scalar(query)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(CertificateCounter(county_code=county_code, year=year,
                                                  last_sequence=0))
        except IntegrityError:
            pass  # another pass created it first: lock theirs below
        counter = db.session.scalar(query.execution_options(populate_existing=True))
    counter.last_sequence += 1
    db.session.flush()
    return counter.last_sequence


def format_serial(county_code: str, year: int, sequence: int) -> str:
    return f"{county_code}-{year}-{sequence:06d}"


# --- issue ------------------------------------------------------------------------------------

def current_certificate(hh: Household) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.household_id == hh.id,
                                                       Certificate.revoked_at.is_(None)))


def certificates_of(hh: Household) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.household_id == hh.id)
                                   .order_by(Certificate.id.desc())))


def issue(hh: Household, inspection: Any, installation: Any, actor: Any) -> Certificate:
    """Issue the certificate of a passed inspection (called in the pass's transaction)."""
    county = db.session.get(Area, hh.county_id)
    county_code = county.code[:6]
    issued_at = now_utc()
    year = issued_at.astimezone(LOCAL_TZ).year
    sequence = next_sequence(county_code, year)
    serial = format_serial(county_code, year, sequence)
    cert = Certificate(
        serial=serial, county_code=county_code, year=year, sequence=sequence,
        household_id=hh.id, inspection_id=inspection.id,
        content=paperwork.certificate_content(hh, inspection, installation, serial, issued_at),
        issued_at=issued_at, issued_by_id=actor.id)
    db.session.add(cert)
    db.session.flush()
    record("certificate.issued", "certificate", cert.id, actor=actor, summary=serial,
           after={"serial": serial, "household": hh.id, "inspection": inspection.id})
    return cert


# --- the PDF: rendered once, then the same bytes for ever -----------------------------------------

def _read_stored(cert: Certificate) -> bytes:
    return read_checked(cert.pdf_path, cert.pdf_sha256, f"certificate {cert.serial}")


def needs_render(cert: Certificate) -> bool:
    return cert.pdf_sha256 is None


def pdf_bytes(cert: Certificate, actor: Any) -> bytes:
    """The certificate's PDF.  The first call renders and stores it; later calls return the
    stored bytes, checked against the stored SHA-256.  When two first downloads race, the
    conditional UPDATE lets one win and the other serves the winner's bytes."""
    if not needs_render(cert):
        return _read_stored(cert)
    print_name = cert.household.print_name
    rendered = render.render_certificate(paperwork.certificate_data(
        cert.content, token(cert.serial), verify_url(cert.serial), str(cert.household_id),
        print_name))
    relative = store_pdf(rendered.pdf, f"certificates/{cert.county_code}/{cert.year}",
                                   cert.serial)
    digest = hashlib.sha256(rendered.pdf).hexdigest()
    stored = db.session.execute(
        update(Certificate).where(Certificate.id == cert.id, Certificate.pdf_sha256.is_(None))
        .values(pdf_path=relative, pdf_sha256=digest, pdf_rendered_at=now_utc())
        .execution_options(synchronize_session=False))
    db.session.refresh(cert)
    if stored.rowcount == 0:  # someone else stored it first
        return _read_stored(cert)
    record("certificate.rendered", "certificate", cert.id, actor=actor, summary=cert.serial,
           after={"sha256": digest[:16], "print_name": print_name})
    return rendered.pdf


# --- revocation --------------------------------------------------------------------------------

def revoke(cert: Certificate, actor: Any, reason: str) -> Certificate:
    """Revoke with a reason; the case goes back to installed (objection upheld when it is
    under objection review, otherwise the revoke move)."""
    hh = cert.household
    if not permissions.can(actor, "certificate.revoke", hh):
        raise CaseError(_l("Only the township reviewer or county staff revoke certificates."))
    if cert.revoked:
        raise CaseError(_l("This certificate is already revoked."))
    if not (reason or "").strip():
        raise CaseError(_l("Please give a reason."), "reason")
    action = "uphold" if hh.state == "objected" else "revoke"
    transition(hh, action, actor, reason)
    mark_revoked(cert, actor, reason)
    # a case on a 公示 notice leaves it (publicity listens: its objections closed as upheld)
    certificate_revoked.send(cert, case=hh, actor=actor, reason=reason.strip())
    return cert


def mark_revoked(cert: Certificate, actor: Any, reason: str) -> Certificate:
    """Record the revocation on the certificate, audited, without moving the case: the caller
    makes the move (``revoke`` above; an upheld objection makes its own ``uphold`` move)."""
    if cert.revoked:
        raise CaseError(_l("This certificate is already revoked."))
    cert.revoked_at = now_utc()
    cert.revoked_by_id = actor.id
    cert.revoke_reason = reason.strip()
    db.session.flush()
    record("certificate.revoked", "certificate", cert.id, actor=actor,
           summary=f"{cert.serial}: {reason.strip()}", before={"revoked": False},
           after={"revoked": True, "case_state": cert.household.state})
    return cert


# --- public verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    #: "valid" | "revoked" | "unknown" | "unverifiable" (wrong or missing token)
    status: str
    serial: str
    masked_name: str = ""
    village: str = ""
    conversion_type: str = ""
    issued_on: str = ""


def verify(serial: str, given_token: str | None) -> Verification:
    """What the public page may show: nothing but the status when the token is wrong."""
    serial = (serial or "").strip()
    if not SERIAL_RE.match(serial):
        return Verification("unknown", serial[:24])
    cert = db.session.scalar(select(Certificate).where(Certificate.serial == serial))
    if cert is None:
        return Verification("unknown", serial)
    if not token_ok(serial, given_token):
        return Verification("unverifiable", serial)
    # a withdrawn or cancelled case no longer holds a valid certificate, whatever its row says
    revoked = cert.revoked or cert.household.state in lifecycle.INACTIVE_STATES
    c = cert.content
    return Verification(
        "revoked" if revoked else "valid", serial, mask_name(c.get("head_name")),
        f"{c.get('township_name', '')}{c.get('village_name', '')}",
        c.get("conversion_type", ""), c.get("issued_on", ""))


def record_download(cert: Certificate, actor: Any) -> None:
    """A certificate carries a name and a masked ID: every download is in the audit log."""
    record("certificate.downloaded", "certificate", cert.id, actor=actor, summary=cert.serial)


# --- batch printing -----------------------------------------------------------------------------

#: one print run; 1,000 pages take ~30 s (TECH-NOTES), inside the worker timeout
BATCH_LIMIT = 1000


def village_certificates(village_id: int, ids: list[int] | None = None) -> list[Certificate]:
    """Valid certificates of one village in house-number order (group, then house number)."""
    query = (select(Certificate).join(Household, Household.id == Certificate.household_id)
             .where(Household.village_id == village_id, Certificate.revoked_at.is_(None),
                    Household.state.not_in(lifecycle.INACTIVE_STATES)))
    if ids is not None:
        query = query.where(Certificate.id.in_(ids))
    certs = list(db.session.scalars(query))
    certs.sort(key=lambda c: (house_number_key(c.content.get("group_name")),
                              house_number_key(c.content.get("house_no")), c.serial))
    return certs


def batch_pdf(certs: list[Certificate], village: Area, actor: Any) -> bytes:
    """Every certificate of the selection in one PDF, one page each, for printing; the pages
    are drawn from the same frozen content as each certificate's own PDF (with the case's
    print spelling, when it has one)."""
    if not certs:
        raise CaseError(_l("No valid certificate in this selection."))
    if len(certs) > BATCH_LIMIT:
        raise CaseError(_l("At most %(n)d certificates can be printed at once: select fewer.",
                           n=BATCH_LIMIT))
    spelled = dict(db.session.execute(
        select(Household.id, Household.print_name)
        .where(Household.id.in_(sorted({c.household_id for c in certs})),
               Household.print_name.is_not(None))).all())
    rendered = render.render_certificates(
        paperwork.certificate_data(c.content, token(c.serial), verify_url(c.serial),
                                   str(c.household_id), spelled.get(c.household_id))
        for c in certs)
    record("certificate.batch_printed", "area", village.id, actor=actor,
           summary=f"{village.code}: {len(certs)}",
           after={"serials": [c.serial for c in certs][:50], "count": len(certs)})
    return rendered.pdf


def application_form_pdf(hh: Household, phone: str, actor: Any) -> bytes:
    """The application form (申请表) of a case, as registered."""
    rendered = render.render_application_form(paperwork.application_data(hh, phone=phone))
    record("household.application_printed", "household", hh.id, actor=actor)
    return rendered.pdf


# --- documents that would print a box -------------------------------------------------------

#: cases listed one by one in the message; a longer list ends with how many more
UNPRINTABLE_LISTED = 20


def unprintable_messages(err: UnprintableError) -> list[str]:
    """What the user is told when a PDF was not made: what happened and what to do, then one
    line per case at fault, each character shown with its code (a browser may lack it too)."""
    lines = [_("The PDF was not made: no font of the system has the characters below, so they "
               "would print as boxes. For a name, a reviewer or county user records a print "
               "spelling on the case page; correct any other text. Then print again.")]
    for problem in err.problems[:UNPRINTABLE_LISTED]:
        chars = show_chars(problem.chars)
        if problem.case:
            lines.append(_("Case %(case)s (%(name)s): %(chars)s", case=problem.case,
                           name=problem.name, chars=chars))
        else:
            lines.append(_("The document's own text (title, area or office): %(chars)s",
                           chars=chars))
    if len(err.problems) > UNPRINTABLE_LISTED:
        lines.append(_("… and %(n)d more cases.", n=len(err.problems) - UNPRINTABLE_LISTED))
    return lines


def unprintable_refusal(err: UnprintableError) -> Refusal:
    """The document was not made: the same lines, as a refusal the unit of work shows."""
    first, *rest = unprintable_messages(err)
    return Refusal(first, problems=rest)


#: for ``core.web.attempt(also=…)`` around anything that renders a PDF
PRINT_REFUSALS = {UnprintableError: unprintable_refusal}
