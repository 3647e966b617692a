"""Recoveries (追回): read by finance, county and auditor where their case is; receipts and
waiver requests by finance; waivers decided by finance or county staff other than the
requester (the matrix's requester is ``ctx.other_user``, so the user under test never is).
The recovery is opened the real way: the matrix case is paid, its policy recovers within 3
seasons, and a county user records a rebound."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from heating.extensions import db
from heating.households.models import Household
from heating.inspections import followups
from heating.payouts import recoveries
from heating.payouts.recovery_models import Recovery
from heating.subsidies.models import SubsidyPolicy
from tests.access_policies.payouts import VIEWERS, with_batch
from tests.fixtures import make_user


def with_recovery(ctx: Any, waiver: bool = False) -> Recovery:
    if "recovery" in ctx.extra:
        return ctx.extra["recovery"]
    with_batch(ctx, "reconciled")
    for pol in db.session.scalars(select(SubsidyPolicy)):
        pol.recovery_seasons = 3
    hh = db.session.get(Household, ctx.case.id)
    visitor = make_user("county", ctx.world.county, username="matrix_visitor")
    followups.record_follow_up(hh, visitor, result="rebound", visited_on=date(2026, 4, 1),
                               note="复烧")
    rec = db.session.scalar(select(Recovery).where(Recovery.household_id == hh.id))
    if waiver:
        recoveries.request_waiver(rec, ctx.other_user, "户主已故")
    db.session.commit()
    ctx.extra["recovery"] = rec
    return rec


def cells(h: Any) -> dict[str, list[Any]]:
    r = lambda c, waiver=False: f"/payouts/recoveries/{with_recovery(c, waiver).id}"  # noqa: E731
    return {
        "payouts.recoveries_index": [h.Cell("GET", lambda c: "/payouts/recoveries",
                                            h.allowed(VIEWERS, scoped=False))],
        "payouts.recovery": [h.Cell("GET", lambda c: r(c), h.allowed(VIEWERS))],
        "payouts.record_receipt": [h.Cell(
            "POST", lambda c: r(c) + "/receipts", h.allowed({"finance"}, 302),
            data=lambda c: {"received_on": "2026-04-02", "amount": "100.00"})],
        "payouts.request_waiver": [h.Cell(
            "POST", lambda c: r(c) + "/waiver", h.allowed({"finance"}, 302),
            data=lambda c: {"reason": "户主已故"})],
        "payouts.decide_waiver": [
            h.Cell("POST", lambda c: r(c, True) + "/waiver/approve",
                   h.allowed({"finance", "county"}, 302), name="approve"),
            h.Cell("POST", lambda c: r(c, True) + "/waiver/reject",
                   h.allowed({"finance", "county"}, 302), data=lambda c: {"note": "不同意"},
                   name="reject"),
        ],
    }
