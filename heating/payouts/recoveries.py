"""Recovery (追回) of a paid equipment subsidy after a follow-up finding.

Opening: the inspections domain sends ``followups.follow_up_recorded`` in the follow-up's own
transaction; ``open_on_finding`` opens a recovery when the visit found a rebound or the
device removed (``STOPS_RUNNING_SUBSIDY``), the case's equipment subsidy was paid (a ``paid``
equipment payment), the payment's policy version (its frozen notice entry's) has a
``recovery_seasons`` and the visit's date lies in the window ``seasons.recovery_window``
gives: from the payment's ``paid_on`` to the last day of season N, both inclusive.  The amount
is the payment's, frozen.  One recovery per payment, ever (a later finding opens nothing; a
recovery recovered or waived stays closed), and one being worked per case (a partial unique
index).

Working it (finance): receipts (date, amount; several until the full amount; never more than
the outstanding amount) move it open → partially_recovered → recovered; a waiver (reason) is
asked by one finance user and approved, or sent back, by another finance or county user.
The table ``TRANSITIONS`` and ``next_state`` are pure (no database).  Services flush, never
commit; every change is audited.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, outerjoin, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import joinedload, selectinload

from heating.audit.services import record
from heating.auth import permissions
from heating.core import spreadsheet_write as sw
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.money import format_fen, to_fen
from heating.extensions import db
from heating.households.exports import LedgerColumn
from heating.households.models import Household
from heating.inspections.models import STOPS_RUNNING_SUBSIDY, FollowUp
from heating.payouts.models import Payment
from heating.payouts.recovery_models import (
    RECOVERY_STATES,
    WORKED_STATES,
    Recovery,
    RecoveryReceipt,
)
from heating.payouts.services import PayoutError
from heating.subsidies.seasons import recovery_window

#: (state, action) → the states it may lead to; ``next_state`` picks one from the amounts
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("open", "receive"): ("partially_recovered", "recovered"),
    ("partially_recovered", "receive"): ("partially_recovered", "recovered"),
    ("open", "request_waiver"): ("waive_requested",),
    ("partially_recovered", "request_waiver"): ("waive_requested",),
    ("waive_requested", "approve_waiver"): ("waived",),
    # sent back: where it was, which its receipts tell
    ("waive_requested", "reject_waiver"): ("open", "partially_recovered"),
}
REASON_MAX = 500
REFERENCE_MAX = 60


class IllegalMove(ValueError):
    """The action is not possible from the state (a bug or a stale page, never a user input)."""


def by_amounts(recovered_fen: int, amount_fen: int) -> str:
    """The state the money alone says: nothing in, some in, all in."""
    if recovered_fen >= amount_fen:
        return "recovered"
    return "partially_recovered" if recovered_fen > 0 else "open"


def next_state(state: str, action: str, *, recovered_fen: int, amount_fen: int) -> str:
    """The state after ``action`` with ``recovered_fen`` in (after the receipt, if any)."""
    targets = TRANSITIONS.get((state, action))
    if targets is None:
        raise IllegalMove(f"{action} is not possible from {state}")
    if len(targets) == 1:
        return targets[0]
    wanted = by_amounts(recovered_fen, amount_fen)
    if wanted not in targets:
        raise IllegalMove(f"{action} from {state} cannot end {wanted}")
    return wanted


def allowed(action: str, recovery: Any) -> bool:
    return (recovery.state, action) in TRANSITIONS


def _move(rec: Recovery, action: str) -> tuple[str, str]:
    if not allowed(action, rec):
        raise PayoutError(_l("This recovery is %(state)s: that cannot be done now. Reload the "
                             "page.", state=_state_label(rec.state)))
    before = rec.state
    rec.state = next_state(rec.state, action, recovered_fen=rec.recovered_fen,
                           amount_fen=rec.amount_fen)
    if rec.state not in WORKED_STATES:
        rec.closed_at = now_utc()
    return before, rec.state


def _state_label(state: str) -> Any:
    return RECOVERY_STATES.get(state, state)


# --- opening ----------------------------------------------------------------------------------

def paid_equipment(household_id: int) -> Payment | None:
    """The case's paid equipment payment (at most one: the live-payment unique index)."""
    return db.session.scalar(select(Payment).where(
        Payment.household_id == household_id, Payment.kind == "equipment",
        Payment.status == "paid").order_by(Payment.id.desc()).limit(1))


def payment_day(payment: Payment) -> date | None:
    """The bank's value date, or the (Beijing) day its result was imported when it gave none."""
    if payment.paid_on is not None:
        return payment.paid_on
    if payment.settled_at is not None:
        return payment.settled_at.astimezone(LOCAL_TZ).date()
    return None


def window_for(payment: Payment) -> tuple[str, date] | None:
    """(season 1, last day) of the payment's recovery window; None when its policy recovers
    nothing (or the payment has no frozen policy)."""
    entry = payment.notice_entry
    paid = payment_day(payment)
    if entry is None or paid is None or not entry.policy.recovery_seasons:
        return None
    policy = entry.policy
    return recovery_window(paid, policy.recovery_seasons, policy.season_start,
                           policy.season_end)


def open_on_finding(visit: FollowUp, *, case: Household, actor: Any, **_: Any
                    ) -> Recovery | None:
    """The receiver of ``follow_up_recorded``: open the recovery the finding calls for, or
    nothing (see the module's docstring for when)."""
    if visit.result not in STOPS_RUNNING_SUBSIDY:
        return None
    # one opening at a time per case (PostgreSQL; SQLite writers are serialised already).
    # FOR NO KEY UPDATE: the visit's own insert holds a KEY SHARE lock on the case's row, which
    # FOR UPDATE would wait for (two findings at once would deadlock)
    db.session.execute(select(Household.id).where(Household.id == case.id)
                       .with_for_update(key_share=True))
    payment = paid_equipment(case.id)
    if payment is None:
        return None
    window = window_for(payment)
    if window is None:
        return None
    first_season, last_day = window
    paid = payment_day(payment)
    assert paid is not None  # window_for returned one
    if not paid <= visit.visited_on <= last_day:
        return None
    if db.session.scalar(select(Recovery.id).where(Recovery.payment_id == payment.id)):
        return None  # recovered once (or being recovered, or waived): never twice
    rec = Recovery(household_id=case.id, payment_id=payment.id, follow_up_id=visit.id,
                   policy_id=payment.notice_entry.policy_id, state="open",
                   amount_fen=payment.amount_fen, recovered_fen=0, waived_fen=0, paid_on=paid,
                   window_ends=last_day, opened_at=now_utc(), opened_by_id=actor.id)
    db.session.add(rec)
    db.session.flush()
    record("recovery.opened", "recovery", rec.id, actor=actor,
           summary=f"{visit.result} {visit.visited_on.isoformat()}: {format_fen(rec.amount_fen)}",
           after={"household": case.id, "payment": payment.reference,
                  "follow_up": visit.id, "result": visit.result,
                  "visited_on": visit.visited_on, "amount_fen": rec.amount_fen,
                  "paid_on": paid, "season": first_season, "window_ends": last_day,
                  "policy": rec.policy_id, "state": rec.state})
    return rec


# --- working it -------------------------------------------------------------------------------

def _locked(rec: Recovery) -> None:
    """Re-read the row under a lock (PostgreSQL) so the outstanding amount is current."""
    db.session.refresh(rec, with_for_update=True)


def receive(rec: Recovery, actor: Any, *, received_on: date | None, amount: Decimal | None,
            reference: str | None = None, note: str | None = None) -> RecoveryReceipt:
    """Money paid back: at most the outstanding amount; the last fen makes it recovered."""
    if not permissions.can(actor, "recovery.record", rec):
        raise PayoutError(_l("Only finance staff record money recovered."))
    _locked(rec)
    if not allowed("receive", rec):
        raise PayoutError(_l("Money is recorded on an open or partly recovered recovery only "
                             "(a waiver awaiting approval is decided first)."))
    if received_on is None:
        raise PayoutError(_l("Enter the date the money came in."), "received_on")
    if received_on > local_today():
        raise PayoutError(_l("The date cannot be in the future."), "received_on")
    if received_on < rec.paid_on:
        raise PayoutError(_l("The date is before the subsidy was paid (%(date)s).",
                             date=rec.paid_on.isoformat()), "received_on")
    if amount is None:
        raise PayoutError(_l("Enter the amount recovered in yuan, e.g. 1,000.00."), "amount")
    try:
        fen = to_fen(amount)
    except (TypeError, ValueError):
        raise PayoutError(_l("Enter the amount in yuan with at most two decimals, e.g. "
                             "1,000.00."), "amount") from None
    outstanding = rec.amount_fen - rec.recovered_fen
    if fen <= 0:
        raise PayoutError(_l("The amount must be more than 0."), "amount")
    if fen > outstanding:
        raise PayoutError(_l("%(amount)s yuan is more than the %(outstanding)s yuan still "
                             "outstanding. Nothing was recorded.", amount=format_fen(fen),
                             outstanding=format_fen(outstanding)), "amount")
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > REFERENCE_MAX:
        raise PayoutError(_l("The receipt number is at most %(n)d characters.",
                             n=REFERENCE_MAX), "reference")
    note = (note or "").strip() or None
    if note is not None and len(note) > REASON_MAX:
        raise PayoutError(_l("The note is at most %(n)d characters.", n=REASON_MAX), "note")
    before_fen = rec.recovered_fen
    receipt = RecoveryReceipt(recovery_id=rec.id, received_on=received_on, amount_fen=fen,
                              reference=reference, note=note, recorded_by_id=actor.id,
                              recorded_at=now_utc())
    db.session.add(receipt)
    rec.recovered_fen = before_fen + fen
    before, after = _move(rec, "receive")
    db.session.flush()
    record("recovery.received", "recovery", rec.id, actor=actor,
           summary=f"{format_fen(fen)} {received_on.isoformat()} → {after}",
           before={"state": before, "recovered_fen": before_fen},
           after={"state": after, "recovered_fen": rec.recovered_fen, "amount_fen": fen,
                  "received_on": received_on, "reference": reference, "note": note,
                  "outstanding_fen": rec.outstanding_fen})
    return receipt


def request_waiver(rec: Recovery, actor: Any, reason: str | None) -> Recovery:
    """Ask for the outstanding amount to be waived; another user decides."""
    if not permissions.can(actor, "recovery.record", rec):
        raise PayoutError(_l("Only finance staff ask for a waiver."))
    _locked(rec)
    reason = (reason or "").strip()
    if not reason:
        raise PayoutError(_l("Say why the amount should be waived."), "reason")
    if len(reason) > REASON_MAX:
        raise PayoutError(_l("The reason is at most %(n)d characters.", n=REASON_MAX),
                          "reason")
    before, after = _move(rec, "request_waiver")
    rec.waiver_reason = reason
    rec.waiver_requested_by_id = actor.id
    rec.waiver_requested_at = now_utc()
    db.session.flush()
    record("recovery.waiver_requested", "recovery", rec.id, actor=actor, summary=reason,
           before={"state": before}, after={"state": after, "waiver_reason": reason,
                                            "outstanding_fen": rec.outstanding_fen})
    return rec


def decide_waiver(rec: Recovery, actor: Any, *, approve: bool, note: str | None = None
                  ) -> Recovery:
    """Approve (the outstanding amount is waived, the recovery closes) or send back (it is
    worked again from where it was).  Never by the finance user who asked."""
    if not permissions.can(actor, "recovery.waive", rec):
        raise PayoutError(_l("Only finance or county staff decide waivers."))
    _locked(rec)
    if rec.state == "waive_requested" and not permissions.not_maker(
            actor, rec.waiver_requested_by_id):
        raise PayoutError(_l("You asked for this waiver, so another finance or county user "
                             "must decide it."))
    note = (note or "").strip() or None
    if not approve and note is None:
        raise PayoutError(_l("Say why the waiver is sent back."), "note")
    if note is not None and len(note) > REASON_MAX:
        raise PayoutError(_l("The note is at most %(n)d characters.", n=REASON_MAX), "note")
    asked = {"waiver_reason": rec.waiver_reason, "requested_by": rec.waiver_requested_by_id}
    before, after = _move(rec, "approve_waiver" if approve else "reject_waiver")
    if approve:
        rec.waived_fen = rec.amount_fen - rec.recovered_fen
        rec.waiver_decided_by_id = actor.id
        rec.waiver_decided_at = now_utc()
    else:
        rec.waiver_reason = rec.waiver_requested_by_id = rec.waiver_requested_at = None
    db.session.flush()
    record("recovery.waived" if approve else "recovery.waiver_rejected", "recovery", rec.id,
           actor=actor, summary=note or asked["waiver_reason"] or "",
           before={"state": before, **asked},
           after={"state": after, "waived_fen": rec.waived_fen, "note": note})
    return rec


# --- reading ----------------------------------------------------------------------------------

def recoveries_of_case(household_id: int) -> list[Recovery]:
    return list(db.session.scalars(select(Recovery).where(
        Recovery.household_id == household_id).order_by(Recovery.id.desc())))


def _worked() -> Any:
    return Recovery.state.in_(WORKED_STATES)


def recoveries_for(user: Any, *, state: str | None = None, limit: int = 200
                   ) -> tuple[list[Recovery], int]:
    """The user's recoveries (scoped by ``recovery.view``), the ones still worked first,
    newest first within; and how many there are in all."""
    where = [permissions.scope_clause(Household, user, "recovery.view")]
    if state:
        where.append(Recovery.state == state)
    base = select(Recovery).join(Household, Household.id == Recovery.household_id).where(*where)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.scalars(base.options(
        joinedload(Recovery.household).joinedload(Household.village),
        joinedload(Recovery.household).joinedload(Household.township),
        selectinload(Recovery.follow_up)).order_by(sql_case((_worked(), 0), else_=1),
                                            Recovery.opened_at.desc(), Recovery.id.desc())
                              .limit(limit))
    return list(rows), total


_TOTAL_KEYS = ("count", "open_count", "opened_fen", "recovered_fen", "waived_fen",
               "outstanding_fen")


def recovery_totals(user: Any, programme_year: int | None = None,
                    as_of: date | None = None, *, by_village: bool = False) -> dict[str, Any]:
    """Recovery money in the user's scope (the cases ``household.view`` lets them see: the
    county, a township reviewer's township, a clerk's villages), optionally of one programme
    year (the case's), and optionally as of the end of a (Beijing) day — from what the system
    had recorded by then: recoveries opened, receipts recorded (``recorded_at``, not the
    receipt's own date), waivers approved.  All amounts are integer fen::

        {"count": 3,               # recoveries opened
         "open_count": 2,          # still being worked (open, partial, waiver asked)
         "opened_fen": 1_360_000,  # their frozen amounts
         "recovered_fen": 200_000, # receipts
         "waived_fen": 0,          # outstanding amounts waived (approved waivers)
         "outstanding_fen": 1_160_000,  # still to come in
         "townships": {township_id: {the same six keys}, …}}

    ``opened_fen == recovered_fen + waived_fen + outstanding_fen`` always, per township too.
    ``by_village``: the same per village, under the key ``villages`` instead of ``townships``.
    One grouped query over the recoveries (a few per thousand cases)."""
    # the case's conditions as a correlated EXISTS and its area as a scalar subquery, so that
    # both databases walk the few recoveries and look each case up by its key (a join lets
    # SQLite's planner scan the county's cases through their index first: 170 ms at 200,000)
    case_of = [Household.id == Recovery.household_id,
               permissions.scope_clause(Household, user, "household.view")]
    if programme_year is not None:
        case_of.append(Household.programme_year == programme_year)
    where: list[Any] = [exists().where(*case_of)]
    if as_of is None:
        recovered: Any = Recovery.recovered_fen
        waived: Any = Recovery.waived_fen
        worked: Any = _worked()
        source: Any = Recovery
    else:
        end = datetime.combine(as_of + timedelta(days=1), time(), LOCAL_TZ)
        receipts = (select(RecoveryReceipt.recovery_id,
                           func.sum(RecoveryReceipt.amount_fen).label("fen"))
                    .where(RecoveryReceipt.recorded_at < end)
                    .group_by(RecoveryReceipt.recovery_id).subquery())
        recovered = func.coalesce(receipts.c.fen, 0)
        waived = sql_case((and_(Recovery.state == "waived", Recovery.waiver_decided_at < end),
                           Recovery.waived_fen), else_=0)
        worked = or_(Recovery.closed_at.is_(None), Recovery.closed_at >= end)
        source = outerjoin(Recovery, receipts, receipts.c.recovery_id == Recovery.id)
        where.append(Recovery.opened_at < end)
    outstanding = sql_case((worked, Recovery.amount_fen - recovered), else_=0)
    area = (select(Household.village_id if by_village else Household.township_id)
            .where(Household.id == Recovery.household_id).scalar_subquery())
    query = (select(area, func.count(Recovery.id),
                    func.sum(sql_case((worked, 1), else_=0)), func.sum(Recovery.amount_fen),
                    func.sum(recovered), func.sum(waived), func.sum(outstanding))
             .select_from(source).where(*where).group_by(area))
    totals: dict[str, Any] = dict.fromkeys(_TOTAL_KEYS, 0)
    townships: dict[int, dict[str, int]] = {}
    for township_id, *values in db.session.execute(query):
        row = {k: int(v or 0) for k, v in zip(_TOTAL_KEYS, values)}
        townships[township_id] = row
        for k in _TOTAL_KEYS:
            totals[k] += row[k]
    totals["villages" if by_village else "townships"] = townships
    return totals


# --- the ledger's columns ---------------------------------------------------------------------

def _yuan_text(fen: Any) -> str | None:
    return None if fen is None else "%d.%02d" % divmod(int(fen), 100)


def ledger_columns() -> list[LedgerColumn]:
    """已追回金额 and 待追回金额 per case in the household ledger (empty without a recovery)."""
    outstanding = sql_case((_worked(), Recovery.amount_fen - Recovery.recovered_fen), else_=0)

    def summed(value: Any) -> Any:
        return lambda household_id: (select(func.sum(value))
                                     .where(Recovery.household_id == household_id)
                                     .scalar_subquery())

    return [
        LedgerColumn(sw.Column("已追回金额(元)", sw.DECIMAL2, 14),
                     summed(Recovery.recovered_fen), _yuan_text),
        LedgerColumn(sw.Column("待追回金额(元)", sw.DECIMAL2, 14), summed(outstanding),
                     _yuan_text),
    ]
