"""Ledger exports: every role that may view cases may download the ledger of its own scope
(an out-of-scope user gets their own scope's file, not a 404: the route names no record);
the full-number form and download only for the roles that see some number "on request"."""
from __future__ import annotations

from typing import Any

ON_REQUEST = {"reviewer", "finance", "county", "auditor"}


def cells(h: Any) -> dict[str, list[Any]]:
    return {
        "exports.households": [
            h.Cell("GET", lambda c: "/exports/households.xlsx",
                   h.allowed(h.CASE_ROLES, scoped=False), name="xlsx"),
            h.Cell("GET", lambda c: "/exports/households.csv?state=draft",
                   h.allowed(h.CASE_ROLES, scoped=False), name="csv"),
        ],
        "exports.households_full": [
            h.Cell("GET", lambda c: "/exports/households/full?state=draft",
                   h.allowed(ON_REQUEST, scoped=False), name="form"),
            h.Cell("POST", lambda c: "/exports/households/full",
                   h.allowed(ON_REQUEST, scoped=False), name="csv",
                   data=lambda c: {"reason": "年度核查", "file_format": "csv"}),
            h.Cell("POST", lambda c: "/exports/households/full",
                   h.allowed(ON_REQUEST, scoped=False), name="xlsx",
                   data=lambda c: {"reason": "年度核查", "file_format": "xlsx",
                                   "state": "draft"}),
        ],
    }
