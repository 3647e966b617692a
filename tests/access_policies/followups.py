"""Follow-up (回头看) visits: recorded on a paid case by an inspector of its township or by county
staff (``followup.record``); anyone else in scope gets 403, out of scope 404.  On a case that is
not paid the allowed roles are sent back to the case with the refusal.  The campaigns that
draw the cases to visit: ``campaigns.py``."""
from __future__ import annotations

from typing import Any


def cells(h: Any) -> dict[str, list[Any]]:
    url = lambda c: f"/inspections/case/{c.case.id}/follow-up"  # noqa: E731
    data = lambda c: {"result": "ok", "visited_on": "2026-01-10"}  # noqa: E731
    return {
        "inspections.record_follow_up": [
            h.Cell("POST", url, h.allowed({"inspector", "county"}, 302), data=data,
                   case_state="paid", name="paid"),
            h.Cell("POST", url, h.allowed({"inspector", "county"}, 302), data=data,
                   case_state="confirmed", name="not paid"),
        ],
    }
