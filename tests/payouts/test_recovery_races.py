"""Recoveries under concurrency: finance users recording receipts on one recovery at once
never take in more than its amount, and findings recorded at once on one case open one
recovery.  On PostgreSQL the row locks (the recovery's, the case's) order them; on SQLite the
writers queue on BEGIN IMMEDIATE."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from heating.auth.models import User
from heating.extensions import db
from heating.households.models import Household
from heating.inspections import followups
from heating.payouts import recoveries
from heating.payouts.recovery_models import Recovery, RecoveryReceipt
from tests.fixtures import make_user
from tests.payouts.recovery_helpers import paid_cases, people, recoveries_of, set_recovery, visit
from tests.payouts.test_concurrency import _race


def test_racing_receipts_never_exceed_the_amount(app, world):
    p = people(world)
    set_recovery(world.county, p.county, 3)
    case, = paid_cases(world, p, [(world.village_a1, 500_000)])
    visit(case, p.inspector, "rebound", date(2026, 2, 1))
    rec_id = recoveries_of(case)[0].id
    finance = [make_user("finance", world.county).id for _ in range(6)]
    db.session.commit()

    def job(uid):
        def pay():
            rec = db.session.get(Recovery, rec_id)
            return recoveries.receive(rec, db.session.get(User, uid),
                                      received_on=date(2026, 3, 1),
                                      amount=Decimal("2000.00")).id
        return pay

    outcomes = _race(app, [job(uid) for uid in finance])
    db.session.rollback()
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    assert [o[0] for o in outcomes].count("ok") == 2  # 4,000 of 5,000; a third would exceed
    rec = db.session.get(Recovery, rec_id)
    summed = db.session.scalar(select(func.sum(RecoveryReceipt.amount_fen)).where(
        RecoveryReceipt.recovery_id == rec_id))
    assert rec.recovered_fen == summed == 400_000 and rec.state == "partially_recovered"


def test_racing_findings_open_one_recovery(app, world):
    p = people(world)
    set_recovery(world.county, p.county, 3)
    case, = paid_cases(world, p, [(world.village_a1, 500_000)])
    case_id = case.id  # read here: the threads must not touch this session's objects
    visitors = [make_user("county", world.county).id for _ in range(4)]
    db.session.commit()

    def job(uid):
        def find():
            hh = db.session.get(Household, case_id)
            return followups.record_follow_up(hh, db.session.get(User, uid), result="rebound",
                                              visited_on=date(2026, 2, 1), note="复烧").id
        return find

    outcomes = _race(app, [job(uid) for uid in visitors])
    db.session.rollback()
    assert [o[0] for o in outcomes] == ["ok"] * 4, outcomes  # every visit is kept …
    assert len(recoveries_of(case)) == 1  # … and one recovery opened
