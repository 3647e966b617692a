"""Payout batch creation: which cases (or usage records) a batch pays, and the allocation that
makes a double payment impossible.

``create_batch`` is the contract other domains call (see the issue 5 design note).  It
allocates in one transaction:

1. the batch row goes in first, carrying the create form's idempotency key: a second submit
   of the same form meets the unique key and gets the batch already made;
2. on PostgreSQL the candidate households are locked (``SELECT … FOR UPDATE``, in id order,
   so two creators never deadlock) and the candidates are read again after the lock, so a
   case another batch took meanwhile is no longer a candidate; on SQLite the writer already
   holds the database lock (``BEGIN IMMEDIATE``);
3. the payments go in with one multi-row INSERT; the partial unique index (one live payment
   per household, kind and period) is the last line of defence — a concurrent duplicate ends
   as a clean ``PayoutError``, never as two payments;
4. the cases move confirmed → rostered (or payment_failed → rostered for a 补发 batch) with
   ``transition_many``, which checks every case against the lifecycle table.

Services flush, never commit: the request owns the transaction.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ
from heating.core.money import format_fen
from heating.core.refusals import Refusal
from heating.extensions import db
from heating.households.models import Household
from heating.households.services import VersionConflict, transition_many
from heating.inspections.followups import stopped_clause
from heating.payouts.models import (
    EQUIPMENT_PERIOD,
    SUBSIDY_KINDS,
    AccountCorrection,
    Payment,
    PayoutBatch,
    UsageRecord,
)
from heating.publicity.models import NoticeEntry
from heating.subsidies.seasons import parse_season

#: payment states that still hold their household's (kind, period) slot
DEAD = ("failed", "voided")
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


class PayoutError(Refusal):
    """A payout rule refused the request; nothing was changed.  ``field`` names the form field
    the message belongs to, when there is one."""


def new_idempotency_key() -> str:
    """The hidden key a create form carries (made when the form is shown)."""
    return secrets.token_urlsafe(24)


# --- what a batch would pay ----------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """What the create form asks for, checked: the county, an optional township, the kind."""

    kind: str
    county: Area
    township: Area | None = None
    season: str | None = None
    repay: bool = False

    @property
    def period(self) -> str:
        return EQUIPMENT_PERIOD if self.kind == "equipment" else str(self.season)


@dataclass
class Candidate:
    """One household a batch would pay (a column row, not an ORM object: 20,000 of them)."""

    id: int
    state: str
    village_id: int
    township_id: int
    county_id: int
    payee_name: str
    bank_name: str
    bank_account: str
    amount_fen: int
    notice_entry_id: int | None = None
    usage_record_id: int | None = None
    repays_id: int | None = None


@dataclass
class Preview:
    count: int
    total_fen: int
    #: cases in the selection that cannot be paid yet, with why (shown under the preview)
    held_back: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> str:
        return format_fen(self.total_fen)


def payout_counties(user: Any, perm: str = "payout.create") -> list[Area]:
    """Counties where ``user`` holds ``perm`` county-wide (finance works county-wide)."""
    ids = permissions.scope_for(user, permissions.PERMISSIONS[perm]).counties
    if not ids:
        return []
    return list(db.session.scalars(select(Area).where(Area.id.in_(sorted(ids)))
                                   .order_by(Area.code)))


def selection(actor: Any, *, kind: str, season: str | None = None,
              township_id: int | None = None, repay: bool = False,
              county_id: int | None = None) -> Selection:
    """Check the create form's choices against the rules and the actor's scope."""
    if not permissions.can(actor, "payout.create"):
        raise PayoutError(_l("Only finance staff create payout batches."))
    if kind not in SUBSIDY_KINDS:
        raise PayoutError(_l("Choose the subsidy kind."), "kind")
    if kind == "running":
        if repay:
            raise PayoutError(_l("Re-pay batches are for the equipment subsidy."), "repay")
        try:
            parse_season(season or "")
        except (TypeError, ValueError):
            raise PayoutError(_l("Enter the heating season as 2025-2026."), "season") from None
    else:
        season = None
    counties = payout_counties(actor)
    township = db.session.get(Area, township_id) if township_id else None
    if township_id and (township is None or township.level != "township"):
        raise PayoutError(_l("Choose a township of your county."), "township_id")
    if township is not None:
        county_id = township.parent_id
    if county_id is None and len(counties) == 1:
        county_id = counties[0].id
    county = next((c for c in counties if c.id == county_id), None)
    if county is None:
        raise PayoutError(_l("Choose a township of your county."), "township_id")
    return Selection(kind, county, township, season, repay)


def _live_payment(kind: str, period: str) -> Any:
    return exists().where(Payment.household_id == Household.id, Payment.kind == kind,
                          Payment.period == period, Payment.status.not_in(DEAD))


def _pays_to_head() -> Any:
    return or_(Household.account_holder == Household.head_name,
               Household.holder_exception_reason.is_not(None))


_CASE_COLUMNS = (Household.id, Household.state, Household.village_id, Household.township_id,
                 Household.county_id, Household.head_name, Household.bank_name,
                 Household._bank_account)


def _area_filter(sel: Selection, actor: Any) -> list[Any]:
    where = [Household.county_id == sel.county.id,
             permissions.scope_clause(Household, actor, "payout.create")]
    if sel.township is not None:
        where.append(Household.township_id == sel.township.id)
    return where


def _candidate_query(sel: Selection, actor: Any) -> Any:
    """The payable rows of the selection, in household id order (the lock order)."""
    where = _area_filter(sel, actor) + [Household._bank_account.is_not(None), _pays_to_head(),
                                        ~_live_payment(sel.kind, sel.period)]
    if sel.kind == "running":
        # a follow-up visit that found a rebound or the device removed after the usage was
        # imported stops the payment (the latest visit decides: inspections.followups)
        return (select(*_CASE_COLUMNS, UsageRecord.amount_fen, UsageRecord.id)
                .join(UsageRecord, UsageRecord.household_id == Household.id)
                .where(UsageRecord.season == sel.season, UsageRecord.amount_fen > 0,
                       Household.state == "paid", ~stopped_clause(Household.id), *where)
                .order_by(Household.id))
    if sel.repay:
        latest = (select(Payment.household_id, func.max(Payment.id).label("pid"))
                  .where(Payment.kind == "equipment", Payment.status == "failed")
                  .group_by(Payment.household_id).subquery())
        failed = aliased(Payment)
        corrected = exists().where(AccountCorrection.payment_id == failed.id,
                                   AccountCorrection.state == "approved")
        return (select(*_CASE_COLUMNS, failed.amount_fen, failed.notice_entry_id, failed.id)
                .join(latest, latest.c.household_id == Household.id)
                .join(failed, failed.id == latest.c.pid)
                .where(Household.state == "payment_failed", corrected, *where)
                .order_by(Household.id))
    return (select(*_CASE_COLUMNS, NoticeEntry.amount_fen, NoticeEntry.id)
            .join(NoticeEntry, and_(NoticeEntry.household_id == Household.id,
                                    NoticeEntry.state == "confirmed"))
            .where(Household.state == "confirmed", NoticeEntry.amount_fen > 0, *where)
            .order_by(Household.id))


def _candidates(sel: Selection, actor: Any) -> list[Candidate]:
    out = []
    for row in db.session.execute(_candidate_query(sel, actor)):
        hid, state, village, township, county, name, bank, account, amount = row[:9]
        cand = Candidate(hid, state, village, township, county, name, bank or "",
                         Household.bank_account_from_column(account), amount)
        if sel.kind == "running":
            cand.usage_record_id = row[9]
        elif sel.repay:
            cand.notice_entry_id, cand.repays_id = row[9], row[10]
        else:
            cand.notice_entry_id = row[9]
        out.append(cand)
    return out


def _held_back(sel: Selection, actor: Any, payable: int) -> dict[str, int]:
    """Cases in the selection's state without a live payment that the batch leaves out."""
    state = {"running": "paid"}.get(sel.kind, "payment_failed" if sel.repay else "confirmed")
    if sel.kind == "running":
        stopped = db.session.scalar(
            select(func.count()).select_from(Household)
            .join(UsageRecord, UsageRecord.household_id == Household.id)
            .where(UsageRecord.season == sel.season, UsageRecord.amount_fen > 0,
                   Household.state == "paid", stopped_clause(Household.id),
                   ~_live_payment(sel.kind, sel.period), *_area_filter(sel, actor))) or 0
        return {"followup_stopped": stopped} if stopped else {}
    waiting = db.session.scalar(
        select(func.count()).select_from(Household)
        .where(Household.state == state, ~_live_payment(sel.kind, sel.period),
               *_area_filter(sel, actor))) or 0
    if waiting <= payable:
        return {}
    key = "not_corrected" if sel.repay else "not_payable"
    return {key: waiting - payable}


def preview(actor: Any, sel: Selection) -> Preview:
    cands = _candidates(sel, actor)
    total = sum(c.amount_fen for c in cands)
    return Preview(len(cands), total, _held_back(sel, actor, len(cands)))


# --- creation --------------------------------------------------------------------------------

def batch_by_key(key: str) -> PayoutBatch | None:
    return db.session.scalar(select(PayoutBatch).where(PayoutBatch.idempotency_key == key)
                             .execution_options(populate_existing=True))


def _lock(sel: Selection, actor: Any) -> None:
    """PostgreSQL: lock the candidate households in id order.  A creator that waited here sees
    the winner's changes once it holds the locks (the re-read in ``create_batch``)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the writer holds the database lock since BEGIN IMMEDIATE
    query = _candidate_query(sel, actor).with_only_columns(Household.id)
    db.session.execute(query.with_for_update(of=Household)).all()


def create_batch(actor: Any, *, kind: str, idempotency_key: str, season: str | None = None,
                 township_id: int | None = None, repay: bool = False,
                 county_id: int | None = None, note: str | None = None) -> PayoutBatch:
    """A draft batch paying every payable case (or usage record) of the selection.  The same
    ``idempotency_key`` twice returns the batch made the first time."""
    key = (idempotency_key or "").strip()
    if not _KEY.fullmatch(key):
        raise PayoutError(_l("The form has expired. Reload the page and try again."))
    existing = batch_by_key(key)
    if existing is not None:
        return _same_form(existing, actor)
    sel = selection(actor, kind=kind, season=season, township_id=township_id, repay=repay,
                    county_id=county_id)
    batch = PayoutBatch(number=f"tmp-{secrets.token_hex(16)}", kind=sel.kind, season=sel.season,
                        is_repay=sel.repay, county_id=sel.county.id,
                        township_id=sel.township.id if sel.township else None, state="draft",
                        idempotency_key=key, payment_count=0, total_fen=0,
                        note=(note or "").strip() or None, created_by_id=actor.id,
                        created_at=now_utc())
    try:
        with db.session.begin_nested():
            db.session.add(batch)
            db.session.flush()
    except IntegrityError:
        existing = batch_by_key(key)  # the same form, submitted twice at once: theirs won
        if existing is None:
            raise
        return _same_form(existing, actor)
    year = batch.created_at.astimezone(LOCAL_TZ).year
    batch.number = f"FF-{sel.county.code[:6]}-{year}-{batch.id:05d}"
    _lock(sel, actor)
    cands = _candidates(sel, actor)
    if not cands:
        raise PayoutError(_nothing_to_pay(sel))
    _insert_payments(batch, sel, cands)
    if sel.kind == "equipment":
        try:
            transition_many(cands, "repay" if sel.repay else "roster", actor,
                            reason=batch.number)
        except VersionConflict:
            raise PayoutError(taken_message()) from None
    batch.payment_count = len(cands)
    batch.total_fen = sum(c.amount_fen for c in cands)
    db.session.flush()
    record("payout.batch_created", "payout_batch", batch.id, actor=actor, summary=batch.number,
           after={"kind": batch.kind, "season": batch.season, "repay": batch.is_repay,
                  "township": sel.township.code if sel.township else None,
                  "count": batch.payment_count, "total_fen": batch.total_fen})
    return batch


def _same_form(batch: PayoutBatch, actor: Any) -> PayoutBatch:
    if batch.created_by_id != getattr(actor, "id", None):
        raise PayoutError(_l("The form has expired. Reload the page and try again."))
    return batch


def _nothing_to_pay(sel: Selection) -> Any:
    if sel.repay:
        return _l("No failed payment has an approved account correction: nothing to re-pay.")
    if sel.kind == "running":
        return _l("No running-subsidy amounts of this season are waiting for payment.")
    return _l("No confirmed case is waiting for payment in this selection.")


def taken_message() -> Any:
    return _l("Some of these cases were put in another batch at the same moment. Nothing was "
              "created; look at the batch list, then try again.")


def _insert_payments(batch: PayoutBatch, sel: Selection, cands: list[Candidate]) -> None:
    # 序号 in roster order: township, village, then case id
    cands.sort(key=lambda c: (c.township_id, c.village_id, c.id))
    rows = []
    for seq, c in enumerate(cands, start=1):
        rows.append({
            "batch_id": batch.id, "household_id": c.id, "kind": sel.kind,
            "period": sel.period, "seq": seq, "reference": f"{batch.number}-{seq:05d}",
            "amount_fen": c.amount_fen, "status": "pending",
            "notice_entry_id": c.notice_entry_id, "usage_record_id": c.usage_record_id,
            "repays_id": c.repays_id, "payee_name": c.payee_name, "bank_name": c.bank_name,
            **Payment.bank_columns(c.bank_account)})
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Payment), rows)
    except IntegrityError:
        raise PayoutError(taken_message()) from None
