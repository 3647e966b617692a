"""Bank-account corrections after a failed payment (four eyes).

A clerk (own village) or finance requests a new account for a case whose payment failed; a
finance or county user who is not the requester approves it — the case's bank fields are
changed through the Household accessors and audited (masked before → after) — or rejects it
with a note.  An approved correction makes the failed payment eligible for a re-pay batch
(补发, ``create_batch(repay=True)``).
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.payouts.batches import latest_failed
from heating.payouts.models import AccountCorrection
from heating.payouts.services import PayoutError


def pending_for(household_id: int) -> AccountCorrection | None:
    return db.session.scalar(select(AccountCorrection).where(
        AccountCorrection.household_id == household_id, AccountCorrection.state == "pending"))


def may_request(hh: Household, user: Any) -> bool:
    """The activity table and the permission allow it, and no request is pending (one at a
    time: a rule on the data, so it stays here)."""
    return (lifecycle.may(user, "request_account_correction", hh)
            and pending_for(hh.id) is None)


def holder_problem(hh: Household, holder: str) -> Any:
    """The account must be in the head's own name (no 代持), unless the county recorded an
    exception for exactly this holder."""
    holder = (holder or "").strip()
    if holder == hh.head_name.strip():
        return None
    if hh.holder_exception_reason and holder == (hh.account_holder or "").strip():
        return None
    return _l("The account must be in the name of the head of household (%(name)s). A "
              "different holder needs a county exception recorded on the case first.",
              name=hh.head_name)


def request_correction(hh: Household, data: dict[str, Any], actor: Any) -> AccountCorrection:
    """``data``: bank_name, bank_account (canonical), account_holder, luhn_confirmed, reason."""
    if not permissions.can(actor, "account.correction.request", hh):
        raise PayoutError(_l("Only the village clerk or finance staff request account "
                             "corrections."))
    if not lifecycle.allowed("request_account_correction", hh):
        raise PayoutError(_l("An account correction is requested after a failed payment."))
    if pending_for(hh.id) is not None:
        raise PayoutError(_l("A correction for this case is already awaiting approval."))
    failed = latest_failed(hh.id)
    if failed is None:
        raise PayoutError(_l("This case has no failed payment."))
    problem = holder_problem(hh, data.get("account_holder") or "")
    if problem:
        raise PayoutError(problem, "account_holder")
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise PayoutError(_l("Please give a reason."), "reason")
    corr = AccountCorrection(household_id=hh.id, payment_id=failed.id,
                             bank_name=(data["bank_name"] or "").strip(),
                             account_holder=(data["account_holder"] or "").strip(),
                             luhn_confirmed=bool(data.get("luhn_confirmed")), reason=reason,
                             state="pending", requested_by_id=actor.id,
                             requested_at=now_utc())
    corr.bank_account = data["bank_account"]
    db.session.add(corr)
    db.session.flush()
    record("payout.correction_requested", "account_correction", corr.id, actor=actor,
           summary=f"{failed.reference}: {reason}",
           after={"household": hh.id, "bank_name": corr.bank_name,
                  "bank_account": corr.bank_masked, "bank_hash": corr.bank_hash[:12],
                  "account_holder": corr.account_holder})
    return corr


def _decidable(corr: AccountCorrection, actor: Any) -> None:
    if not permissions.can(actor, "account.correction.approve", corr.household):
        raise PayoutError(_l("Only finance or county staff approve account corrections."))
    if not permissions.not_maker(actor, corr.requested_by_id):
        raise PayoutError(_l("You requested this correction, so another finance or county "
                             "user must decide it."))
    if corr.state != "pending":
        raise PayoutError(_l("This correction has already been decided."))


def approve_correction(corr: AccountCorrection, actor: Any, note: str | None = None
                       ) -> AccountCorrection:
    _decidable(corr, actor)
    hh = corr.household
    if not lifecycle.allowed("decide_account_correction", hh):
        raise PayoutError(_l("The case is no longer waiting for an account correction."))
    problem = holder_problem(hh, corr.account_holder)
    if problem:
        raise PayoutError(problem)
    before = hh.audit_snapshot()
    hh.bank_name = corr.bank_name
    hh.bank_account = corr.bank_account
    hh.account_holder = corr.account_holder
    hh.luhn_confirmed = corr.luhn_confirmed
    corr.state = "approved"
    corr.decided_by_id = actor.id
    corr.decided_at = now_utc()
    corr.decision_note = (note or "").strip() or None
    db.session.flush()
    record("household.bank_corrected", "household", hh.id, actor=actor,
           summary=f"correction {corr.id}: {corr.reason}", before=before,
           after=hh.audit_snapshot())
    record("payout.correction_approved", "account_correction", corr.id, actor=actor,
           summary=corr.decision_note or "", before={"state": "pending"},
           after={"state": "approved"})
    return corr


def reject_correction(corr: AccountCorrection, actor: Any, note: str) -> AccountCorrection:
    _decidable(corr, actor)
    note = (note or "").strip()
    if not note:
        raise PayoutError(_l("Say why the correction is rejected."), "note")
    corr.state = "rejected"
    corr.decided_by_id = actor.id
    corr.decided_at = now_utc()
    corr.decision_note = note
    db.session.flush()
    record("payout.correction_rejected", "account_correction", corr.id, actor=actor,
           summary=note, before={"state": "pending"}, after={"state": "rejected"})
    return corr


def pending_queue(user: Any) -> list[AccountCorrection]:
    """Pending corrections in the user's scope (the approvers' queue)."""
    query = (select(AccountCorrection).join(Household,
                                            AccountCorrection.household_id == Household.id)
             .where(AccountCorrection.state == "pending",
                    permissions.scope_clause(Household, user, "household.view"))
             .order_by(AccountCorrection.id))
    return list(db.session.scalars(query.limit(500)))
