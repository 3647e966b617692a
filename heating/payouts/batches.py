"""A batch after creation: maker–checker approval, dropping a draft, voiding a payment before
the bank file is out, closing after reconciliation, and the queries the screens read.

States: draft → approved → exported (first bank-file download) → reconciled (every payment
settled by bank results) → closed; draft → dropped.  Every change is audited; the batch's
version column makes two screens acting on one batch at once fail cleanly (StaleDataError)
instead of both winning.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.masking import mask_id
from heating.extensions import db
from heating.households.models import Household
from heating.households.services import VersionConflict, transition_many
from heating.payouts.models import SENT_BATCH_STATES, AccountCorrection, Payment, PayoutBatch
from heating.payouts.services import PayoutError

#: batch states in which a payment can still be voided (the bank has not got the file)
VOIDABLE = ("draft", "approved")


# --- loaders ------------------------------------------------------------------------------------

def batch_in_scope(user: Any, batch_id: int) -> PayoutBatch:
    """The batch, or 404 when it does not exist or lies outside the user's scopes."""
    return permissions.get_in_scope(PayoutBatch, batch_id, user)


def payment_in_scope(user: Any, payment_id: int) -> Payment:
    return permissions.get_in_scope(Payment, payment_id, user)


def batches_for(user: Any, state: str | None = None, limit: int = 200) -> list[PayoutBatch]:
    scope = permissions.scope_for(user, permissions.PERMISSIONS["payout.view"])
    if not (scope.counties or scope.townships):
        return []
    query = select(PayoutBatch).where(
        (PayoutBatch.county_id.in_(sorted(scope.counties)))
        | (PayoutBatch.township_id.in_(sorted(scope.townships))))
    if state:
        query = query.where(PayoutBatch.state == state)
    return list(db.session.scalars(query.order_by(PayoutBatch.id.desc()).limit(limit)))


def payments_page(batch: PayoutBatch, status: str | None, offset: int, size: int
                  ) -> list[tuple[Payment, str]]:
    """(payment, the case's masked ID) for one page of the batch, in sequence order."""
    query = (select(Payment, Household._id_number, Household.village_id)
             .join(Household, Payment.household_id == Household.id)
             .where(Payment.batch_id == batch.id))
    if status:
        sent = batch.state in SENT_BATCH_STATES
        if status == "pending" and sent:  # shown as exported: nothing reads "pending" here
            return []
        query = query.where(Payment.status == ("pending" if status == "exported" else status))
    rows = db.session.execute(query.order_by(Payment.seq).offset(offset).limit(size))
    return [(p, mask_id(Household.id_number_from_column(raw))) for p, raw, _ in rows]


def status_counts(batch: PayoutBatch) -> dict[str, tuple[int, int]]:
    """status → (count, fen) over the batch's payments."""
    rows = db.session.execute(
        select(Payment.status, func.count(), func.coalesce(func.sum(Payment.amount_fen), 0))
        .where(Payment.batch_id == batch.id).group_by(Payment.status))
    sent = batch.state in SENT_BATCH_STATES
    return {("exported" if sent and status == "pending" else status): (n, int(fen))
            for status, n, fen in rows}


def townships_of(batch: PayoutBatch) -> list[tuple[int, str, int]]:
    """(township id, name, payment count) for the roster PDF links."""
    rows = db.session.execute(
        select(Area.id, Area.name, func.count(Payment.id))
        .select_from(Payment).join(Household, Payment.household_id == Household.id)
        .join(Area, Area.id == Household.township_id)
        .where(Payment.batch_id == batch.id, Payment.status != "voided")
        .group_by(Area.id, Area.name).order_by(Area.code))
    return [(i, name, n) for i, name, n in rows]


# --- moves --------------------------------------------------------------------------------------

def approve(batch: PayoutBatch, actor: Any) -> PayoutBatch:
    if not permissions.can(actor, "payout.approve", batch):
        raise PayoutError(_l("Only finance staff approve payout batches."))
    if not permissions.not_maker(actor, batch.created_by_id):
        raise PayoutError(_l("You created this batch, so you cannot approve it. Another "
                             "finance colleague must check and approve it."))
    if batch.state != "draft":
        raise PayoutError(_l("Only a draft batch can be approved."))
    if batch.payment_count == 0:
        raise PayoutError(_l("This batch has no payments left; drop it instead."))
    batch.state = "approved"
    batch.approved_by_id = actor.id
    batch.approved_at = now_utc()
    db.session.flush()
    record("payout.batch_approved", "payout_batch", batch.id, actor=actor, summary=batch.number,
           before={"state": "draft"},
           after={"state": "approved", "count": batch.payment_count,
                  "total_fen": batch.total_fen})
    return batch


def _unroster(payments: list[tuple[int, int, str]], actor: Any, reason: str) -> None:
    """Cases of voided equipment payments go back to confirmed."""
    ids = [hid for _, hid, kind in payments if kind == "equipment"]
    if not ids:
        return
    cases = []
    for start in range(0, len(ids), 500):
        cases += db.session.execute(
            select(Household.id, Household.state, Household.village_id, Household.township_id,
                   Household.county_id).where(Household.id.in_(ids[start:start + 500]))).all()
    try:
        transition_many(cases, "unroster", actor, reason=reason)
    except VersionConflict:
        raise PayoutError(_l("A case of this batch changed meanwhile. Reload and try "
                             "again.")) from None


def drop_batch(batch: PayoutBatch, actor: Any, reason: str) -> PayoutBatch:
    """A draft batch is dropped whole: its payments voided, its cases back to confirmed."""
    if not permissions.can(actor, "payout.create", batch):
        raise PayoutError(_l("Only finance staff drop payout batches."))
    if batch.state != "draft":
        raise PayoutError(_l("Only a draft batch can be dropped; void single payments until "
                             "the bank file is exported."))
    reason = (reason or "").strip()
    if not reason:
        raise PayoutError(_l("Please give a reason."), "reason")
    live = db.session.execute(
        select(Payment.id, Payment.household_id, Payment.kind)
        .where(Payment.batch_id == batch.id, Payment.status == "pending")).all()
    now = now_utc()
    db.session.execute(
        update(Payment).where(Payment.batch_id == batch.id, Payment.status == "pending")
        .values(status="voided", voided_at=now, voided_by_id=actor.id, void_reason=reason)
        .execution_options(synchronize_session=False))
    _unroster(live, actor, reason)
    before = {"state": batch.state, "count": batch.payment_count, "total_fen": batch.total_fen}
    batch.state = "dropped"
    batch.payment_count = 0
    batch.total_fen = 0
    db.session.flush()
    record("payout.batch_dropped", "payout_batch", batch.id, actor=actor,
           summary=f"{batch.number}: {reason}", before=before,
           after={"state": "dropped", "count": 0, "total_fen": 0})
    return batch


def void_payment(payment: Payment, actor: Any, reason: str) -> Payment:
    """One payment out of a batch whose bank file is not yet exported; its case goes back to
    confirmed and the batch's totals drop by its amount."""
    batch = payment.batch
    if not permissions.can(actor, "payout.create", payment):
        raise PayoutError(_l("Only finance staff void payments."))
    if batch.state not in VOIDABLE or payment.status != "pending":
        raise PayoutError(_l("This payment can no longer be voided: the bank file of its batch "
                             "has been exported."))
    reason = (reason or "").strip()
    if not reason:
        raise PayoutError(_l("Please give a reason."), "reason")
    payment.status = "voided"
    payment.voided_at = now_utc()
    payment.voided_by_id = actor.id
    payment.void_reason = reason
    db.session.flush()
    _unroster([(payment.id, payment.household_id, payment.kind)], actor, reason)
    before = {"count": batch.payment_count, "total_fen": batch.total_fen}
    batch.payment_count -= 1
    batch.total_fen -= payment.amount_fen
    db.session.flush()
    record("payout.payment_voided", "payment", payment.id, actor=actor,
           summary=f"{payment.reference}: {reason}", before={"status": "pending"},
           after={"status": "voided", "batch": batch.number})
    record("payout.batch_totals", "payout_batch", batch.id, actor=actor, summary=batch.number,
           before=before, after={"count": batch.payment_count, "total_fen": batch.total_fen})
    return payment


def close_batch(batch: PayoutBatch, actor: Any) -> PayoutBatch:
    if not permissions.can(actor, "payout.results", batch):
        raise PayoutError(_l("Only finance staff close payout batches."))
    if batch.state != "reconciled":
        raise PayoutError(_l("A batch is closed after every payment has a bank result."))
    batch.state = "closed"
    batch.closed_by_id = actor.id
    batch.closed_at = now_utc()
    db.session.flush()
    record("payout.batch_closed", "payout_batch", batch.id, actor=actor, summary=batch.number,
           before={"state": "reconciled"}, after={"state": "closed"})
    return batch


# --- the case page ------------------------------------------------------------------------------

def payments_of_case(household_id: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.household_id == household_id)
                                   .order_by(Payment.id)))


def latest_failed(household_id: int) -> Payment | None:
    return db.session.scalar(select(Payment).where(
        Payment.household_id == household_id, Payment.kind == "equipment",
        Payment.status == "failed").order_by(Payment.id.desc()).limit(1))


def corrections_of_case(household_id: int) -> list[AccountCorrection]:
    return list(db.session.scalars(select(AccountCorrection).where(
        AccountCorrection.household_id == household_id).order_by(AccountCorrection.id)))
