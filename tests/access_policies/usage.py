"""Usage files of the running subsidy.  Importing (upload, preview, confirm) is finance's
(``usage.import``); a preview is its uploader's only (404 for another finance user).  Imports
are read with ``payout.view`` (finance, county, auditor) over their county: another county's
import is 404.  Roles without the permission get 403 before any lookup."""
from __future__ import annotations

from typing import Any

from heating.auth import permissions
from heating.extensions import db
from heating.payouts import usage
from heating.payouts.models import UsageImport
from tests.payouts.usage_helpers import usage_csv

ANON = "anonymous"
READERS = {"finance", "county", "auditor"}


def _preview(user: Any) -> str:
    """A preview of a one-row file (it matches nothing) uploaded by ``user`` in their county."""
    county = usage.counties_for(user)[0]
    preview = usage.upload(usage_csv([(f"X{user.id}", "100")]), "f.csv", utility="power",
                           season="2025-2026", county_id=county.id, user=user)
    db.session.commit()
    return preview.token


def _own(c: Any) -> str:
    uploader = c.user if c.user is not None and permissions.can(c.user, "usage.import") \
        else c.other_user
    return _preview(uploader)


def _import(c: Any) -> int:
    """An import of the world's county (made by the other finance user)."""
    imp = UsageImport(sha256="a" * 64, filename="f.csv", path="usage/x.csv", utility="power",
                      season="2025-2026", county_id=c.world.county.id,
                      imported_by_id=c.other_user.id, row_count=1, matched_count=0,
                      report={"v": 1, "counts": {"low": 0, "total_fen": 0}, "excluded": []})
    db.session.add(imp)
    db.session.commit()
    return imp.id


def _importer(ok: int, others: int = 403) -> Any:
    """``ok`` for finance wherever granted (a preview is found by its token, not by area)."""
    return lambda role, scope: 302 if role == ANON else (ok if role == "finance" else others)


def _readers(ok: int) -> Any:
    def expect(role: str, scope: str) -> int:
        if role == ANON:
            return 302
        if role not in READERS:
            return 403
        return ok if scope == "in" else 404
    return expect


def cells(h: Any) -> dict[str, list[Any]]:
    return {
        "payouts.usage_index": [
            h.Cell("GET", lambda c: "/payouts/usage/", h.allowed(READERS, scoped=False))],
        "payouts.usage_upload": [
            h.Cell("GET", lambda c: "/payouts/usage/upload", _importer(200), name="form"),
            # no file: the form comes back with its message
            h.Cell("POST", lambda c: "/payouts/usage/upload", _importer(200),
                   data=lambda c: {"utility": "power", "season": "2025-2026"}, name="upload"),
        ],
        "payouts.usage_preview": [
            h.Cell("GET", lambda c: f"/payouts/usage/preview/{_own(c)}", _importer(200),
                   name="own"),
            h.Cell("GET", lambda c: f"/payouts/usage/preview/{_preview(c.other_user)}",
                   _importer(404), name="another's"),
        ],
        "payouts.usage_confirm": [
            # nothing in the file matches: back to the preview with the message
            h.Cell("POST", lambda c: f"/payouts/usage/preview/{_own(c)}/confirm",
                   _importer(302), name="own"),
            h.Cell("POST", lambda c: f"/payouts/usage/preview/{_preview(c.other_user)}/confirm",
                   _importer(404), name="another's"),
        ],
        "payouts.usage_detail": [
            h.Cell("GET", lambda c: f"/payouts/usage/{_import(c)}", _readers(200))],
        "payouts.usage_low_csv": [
            h.Cell("GET", lambda c: f"/payouts/usage/{_import(c)}/low-usage.csv",
                   _readers(200))],
    }
