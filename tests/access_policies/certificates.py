"""Certificates: download, revoke, the village list and batch print, the public verification
page (no login: the same answer for everyone, anonymous included), and the application form."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from heating.certificates import services
from heating.certificates.models import Certificate
from heating.extensions import db
from heating.inspections.models import Installation
from tests.access_policies.inspections import with_inspection

ANON = "anonymous"


def with_certificate(ctx: Any) -> Certificate:
    insp = with_inspection(ctx)
    inst = db.session.scalar(select(Installation).where(Installation.household_id == ctx.case.id))
    cert = services.issue(ctx.case, insp, inst, insp.inspector)
    db.session.commit()
    return cert


def _village_list(role: str, scope: str) -> int:
    """The list names a village: out of scope it does not exist for the user."""
    if role == ANON:
        return 302
    if role == "admin":
        return 403
    return 200 if scope == "in" else 404


def cells(h: Any) -> dict[str, list[Any]]:
    village = lambda c: c.world.village_a1.id  # noqa: E731
    return {
        "certificates.download": [
            h.Cell("GET", lambda c: f"/certificates/{with_certificate(c).id}.pdf",
                   h.allowed(h.CASE_ROLES), case_state="passed")],
        "certificates.revoke": [
            h.Cell("POST", lambda c: f"/certificates/{with_certificate(c).id}/revoke",
                   h.allowed({"reviewer", "county"}, 302), case_state="passed",
                   data=lambda c: {"reason": "核查发现问题"})],
        "certificates.index": [
            h.Cell("GET", lambda c: "/certificates/", h.allowed(h.CASE_ROLES, scoped=False),
                   name="choose"),
            h.Cell("GET", lambda c: f"/certificates/?village={village(c)}", _village_list,
                   name="village"),
        ],
        "certificates.batch": [
            h.Cell("GET", lambda c: (with_certificate(c) and
                                     f"/certificates/batch.pdf?village={village(c)}"),
                   _village_list, case_state="passed")],
        "certificates.verify": [
            h.Cell("GET", lambda c: (lambda cert: f"/verify/{cert.serial}?t="
                                     f"{services.token(cert.serial)}")(with_certificate(c)),
                   h.everyone(200, anon=200), case_state="passed", name="valid"),
            h.Cell("GET", lambda c: "/verify/139901-2026-000077?t=AAAA",
                   h.everyone(404, anon=404), name="unknown"),
        ],
        "households.application_pdf": [
            h.Cell("GET", lambda c: f"/households/{c.case.id}/application.pdf",
                   h.allowed({"clerk", "reviewer", "county"}))],
    }
