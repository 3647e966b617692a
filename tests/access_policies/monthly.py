"""The monthly ranking report: the screen for county staff and auditors (their own county's
reports), drafts and publishing for county staff; a published report's files are read by
county staff and auditors of its county — another county's report is 404 for everyone, and
other roles of the county get 403.  The report is published the real way, by a county user."""
from __future__ import annotations

from datetime import date
from typing import Any

from heating.extensions import db
from heating.reports import publishing
from tests.fixtures import make_user

MONTH = {"programme_year": "2025", "month": "2025-11"}


def with_report(ctx: Any) -> int:
    if "monthly_report" not in ctx.extra:
        publisher = make_user("county", ctx.world.county, username="matrix_publisher")
        report = publishing.publish(ctx.world.county, 2025, date(2025, 11, 1), publisher)
        db.session.commit()
        ctx.extra["monthly_report"] = report.id
    return ctx.extra["monthly_report"]


def _file(role: str, scope: str) -> int:
    if role == "anonymous":
        return 302
    if role == "admin" or (scope == "out" and role in ("county", "auditor", "finance")):
        return 404
    return 200 if role in ("county", "auditor") else 403


def cells(h: Any) -> dict[str, list[Any]]:
    query = "?programme_year=2025&month=2025-11"
    return {
        "reports.monthly_index": [
            h.Cell("GET", lambda c: "/reports/monthly", h.allowed({"county", "auditor"},
                                                                   scoped=False)),
            h.Cell("GET", lambda c: "/reports/monthly" + query,
                   h.allowed({"county", "auditor"}, scoped=False), name="month")],
        "reports.monthly_draft": [
            h.Cell("GET", lambda c, fmt=fmt: f"/reports/monthly/draft.{fmt}" + query,
                   h.allowed({"county"}, scoped=False), name=fmt) for fmt in ("pdf", "xlsx")],
        "reports.monthly_publish": [h.Cell(
            "POST", lambda c: "/reports/monthly/publish", h.allowed({"county"}, 302, scoped=False),
            data=lambda c: dict(MONTH))],
        "reports.monthly_file": [
            h.Cell("GET", lambda c, fmt=fmt: f"/reports/monthly/{with_report(c)}.{fmt}", _file,
                   name=fmt)
            for fmt in ("pdf", "xlsx")],
    }
