"""The programme dashboard: read by every role with case scope but the inspector, each in its
own scope (so no 404 out of scope: the page shows the user's own areas); the settings screen
and its two forms for county staff only, saved for the user's own county."""
from __future__ import annotations

from typing import Any

VIEWERS = {"clerk", "reviewer", "finance", "county", "auditor"}
THRESHOLDS = {"submitted": "7", "inspection": "14", "notice": "14", "unpaid": "30",
              "objection": "15", "repay": "30"}


def cells(h: Any) -> dict[str, list[Any]]:
    return {
        "reports.index": [
            h.Cell("GET", lambda c: "/reports/", h.allowed(VIEWERS, scoped=False)),
            h.Cell("GET", lambda c: "/reports/?year=2026&township=" + str(c.world.town_a.id),
                   h.allowed(VIEWERS, scoped=False), name="drill-down"),
        ],
        "reports.settings_page": [h.Cell("GET", lambda c: "/reports/settings",
                                         h.allowed({"county"}, scoped=False))],
        "reports.save_thresholds": [h.Cell("POST", lambda c: "/reports/settings/thresholds",
                                           h.allowed({"county"}, 302, scoped=False),
                                           data=lambda c: dict(THRESHOLDS))],
        "reports.save_year_dates": [h.Cell(
            "POST", lambda c: "/reports/settings/year", h.allowed({"county"}, 302, scoped=False),
            data=lambda c: {"programme_year": "2026", "starts_on": "2026-03-01",
                            "deadline": "2026-11-15"})],
    }
