"""Payout batches, bank files, bank results and account corrections.

A batch is in scope for the county-wide roles of its county (it names no village): the
finance, county and auditor users of the case's county see it; everyone else, and the same
roles of another county, get 404.  Payments and corrections are in scope where their case is.
The batches here are made by ``ctx.other_user`` (finance), so the finance user under test is
never the creator and may approve.
"""
from __future__ import annotations

import io
from typing import Any, Callable

from sqlalchemy import select

from heating.extensions import db
from heating.households.models import Household
from heating.payouts import bankfiles, batches, corrections, reconcile
from heating.payouts.models import Payment, PayoutBatch
from tests.fixtures import make_user
from tests.payouts.helpers import batch, confirm, live_payments, result_csv

ANON = "anonymous"
VIEWERS = {"finance", "county", "auditor"}


def _confirmed(ctx: Any) -> Household:
    hh = ctx.case
    hh.account_holder = hh.head_name
    db.session.flush()
    confirm(hh, 680000, ctx.other_user)
    return hh


def with_batch(ctx: Any, upto: str = "draft") -> PayoutBatch:
    """A batch paying the matrix case, made by ``ctx.other_user`` and taken to ``upto``."""
    if "batch" in ctx.extra:
        return ctx.extra["batch"]
    _confirmed(ctx)
    made = batch(ctx.other_user)
    if upto in ("approved", "exported", "reconciled"):
        checker = make_user("finance", ctx.world.county, username="matrix_checker")
        batches.approve(made, checker)
        db.session.commit()
    if upto in ("exported", "reconciled"):
        bankfiles.bank_file(made, "csv", ctx.other_user)
        db.session.commit()
    if upto == "reconciled":
        reconcile.import_results(made, result_csv(live_payments(made)), "r.csv",
                                 ctx.other_user)
        db.session.commit()
    ctx.extra["batch"] = made
    return made


def with_failed_payment(ctx: Any) -> Household:
    made = with_batch(ctx, "exported")
    pay = live_payments(made)[0]
    pay.status, pay.failure_reason = "failed", "账户已销户"
    hh = db.session.get(Household, ctx.case.id)
    hh.state = "payment_failed"
    db.session.commit()
    return hh


def with_correction(ctx: Any) -> Any:
    hh = with_failed_payment(ctx)
    corr = corrections.request_correction(
        hh, {"bank_name": "邮储银行", "bank_account": "6221880000000000005",
             "account_holder": hh.head_name, "reason": "换卡"}, ctx.other_user)
    db.session.commit()
    return corr


def batch_scoped(ok_roles: set[str], ok: int = 200) -> Callable[[str, str], int]:
    """ok for ``ok_roles`` over the batch's county; 403 for the other county-wide viewers;
    404 out of scope and for every role that sees no batch at all."""
    def expect(role: str, scope: str) -> int:
        if role == ANON:
            return 302
        if scope == "out" or role not in VIEWERS:
            return 404
        return ok if role in ok_roles else 403
    return expect


def _create(role: str, scope: str) -> int:
    """Finance creates (302 to the batch); a finance user of another county has nothing to
    pay there (the form comes back with the message)."""
    if role == ANON:
        return 302
    if role != "finance":
        return 403
    return 302 if scope == "in" else 200


def _results_data(ctx: Any) -> dict[str, Any]:
    made = ctx.extra["batch"]
    return {"file": (io.BytesIO(result_csv(live_payments(made))), "results.csv")}


def _roster_url(ctx: Any) -> str:
    made = with_batch(ctx)
    return f"/payouts/batches/{made.id}/roster/{ctx.world.town_a.id}.pdf"


def _payment(ctx: Any) -> Payment:
    made = with_batch(ctx)
    return db.session.scalar(select(Payment).where(Payment.batch_id == made.id))


def cells(h: Any) -> dict[str, list[Any]]:
    b = lambda c, upto="draft": f"/payouts/batches/{with_batch(c, upto).id}"  # noqa: E731
    return {
        "payouts.index": [h.Cell("GET", lambda c: "/payouts/",
                                 h.allowed(VIEWERS, scoped=False))],
        "payouts.new": [
            h.Cell("GET", lambda c: "/payouts/new", h.allowed({"finance"}, scoped=False),
                   name="form"),
            h.Cell("POST", lambda c: (_confirmed(c) and "/payouts/new"), _create,
                   data=lambda c: {"kind": "equipment", "township_id": "0", "season": "",
                                   "idempotency_key": "matrix-key-0123456789abcdef"},
                   name="create"),
        ],
        "payouts.detail": [h.Cell("GET", lambda c: b(c), batch_scoped(VIEWERS))],
        "payouts.approve": [h.Cell("POST", lambda c: b(c) + "/approve",
                                   batch_scoped({"finance"}, 302))],
        "payouts.drop": [h.Cell("POST", lambda c: b(c) + "/drop",
                                batch_scoped({"finance"}, 302),
                                data=lambda c: {"reason": "重新造册"})],
        "payouts.close": [h.Cell("POST", lambda c: b(c, "reconciled") + "/close",
                                 batch_scoped({"finance"}, 302))],
        "payouts.bankfile": [h.Cell("GET", lambda c: b(c, "approved") + "/bank.csv",
                                    batch_scoped({"finance"}))],
        "payouts.roster": [h.Cell("GET", _roster_url, batch_scoped(VIEWERS))],
        "payouts.results": [h.Cell("POST", lambda c: b(c, "exported") + "/results",
                                   batch_scoped({"finance"}, 302), data=_results_data)],
        "payouts.void": [h.Cell("POST", lambda c: f"/payouts/payments/{_payment(c).id}/void",
                                h.allowed({"finance"}, 302),
                                data=lambda c: {"reason": "户主已故"})],
        "payouts.corrections_queue": [h.Cell("GET", lambda c: "/payouts/corrections",
                                             h.allowed(VIEWERS, scoped=False))],
        "payouts.request_correction": [
            h.Cell("GET", lambda c: f"/payouts/cases/{with_failed_payment(c).id}/correction",
                   h.allowed({"clerk", "finance"}))],
        "payouts.decide_correction": [
            h.Cell("POST", lambda c: f"/payouts/corrections/{with_correction(c).id}/approve",
                   h.allowed({"finance", "county"}, 302), name="approve"),
            h.Cell("POST", lambda c: f"/payouts/corrections/{with_correction(c).id}/reject",
                   h.allowed({"finance", "county"}, 302), data=lambda c: {"note": "不符"},
                   name="reject"),
        ],
    }
