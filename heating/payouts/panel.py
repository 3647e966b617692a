"""The payments panel on the case page: the case's payments with their status and the bank's
reason, its account corrections, and the way to request one after a failed payment; and the
recoveries panel (追回)."""
from __future__ import annotations

from typing import Any

from flask_login import current_user

from heating.auth import permissions
from heating.payouts import batches, corrections, recoveries
from heating.payouts.models import CORRECTION_STATES, PAYMENT_STATES, SUBSIDY_KINDS
from heating.payouts.recovery_models import RECOVERY_STATES

#: case states in which the panel has something to say even before any payment exists
_MONEY_STATES = ("rostered", "paid", "payment_failed")


def case_panel(case: Any, user: Any = None) -> dict[str, Any] | None:
    user = user if user is not None else current_user
    viewer = permissions.can(user, "payout.view", case)
    requester = permissions.can(user, "account.correction.request", case)
    if not (viewer or requester):
        return None
    payments = batches.payments_of_case(case.id)
    if not payments and case.state not in _MONEY_STATES:
        return None
    return {
        "payments": payments, "corrections": batches.corrections_of_case(case.id),
        "may_request": corrections.may_request(case, user),
        "show_batches": viewer, "PAYMENT_STATES": PAYMENT_STATES,
        "SUBSIDY_KINDS": SUBSIDY_KINDS, "CORRECTION_STATES": CORRECTION_STATES,
    }


def recovery_panel(case: Any, user: Any = None) -> dict[str, Any] | None:
    """The case's recoveries (追回), for the roles that read them; nothing when it has none."""
    user = user if user is not None else current_user
    if not permissions.can(user, "recovery.view", case):
        return None
    found = recoveries.recoveries_of_case(case.id)
    if not found:
        return None
    return {"recoveries": found, "RECOVERY_STATES": RECOVERY_STATES}
