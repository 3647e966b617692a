"""No double payment, ever: creators racing over the same confirmed cases.

On PostgreSQL 20 threads, each with its own app context and connection, create batches over
the same cases at once (some county-wide, some limited to a township, so their sets overlap
without being equal): every case ends in exactly one batch, no household holds two live
payments, and the batch totals add up to the frozen amounts exactly.  On SQLite the writers
queue on BEGIN IMMEDIATE; the same-key race runs on both databases.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from heating.auth.models import User
from heating.core.db import writing
from heating.extensions import db
from heating.households.models import Household
from heating.payouts import services
from heating.payouts.models import Payment, PayoutBatch
from heating.publicity.models import NoticeEntry
from tests.conftest import BACKEND
from tests.fixtures import make_user
from tests.payouts.helpers import bulk_confirmed


def _race(app, jobs):
    """Run each job (a callable taking nothing) in its own thread and app context, all
    released at once; returns the outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[tuple] = []

    def run(job):
        with app.app_context():
            try:
                barrier.wait()
                with writing():
                    outcomes.append(("ok", job()))
                    db.session.commit()
            except services.PayoutError as err:
                db.session.rollback()
                outcomes.append(("refused", str(err)))
            except Exception as err:  # noqa: BLE001 - the test reports what went wrong
                db.session.rollback()
                outcomes.append(("error", repr(err)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


@pytest.mark.skipif(BACKEND != "postgresql", reason="row locks are a PostgreSQL matter; "
                    "SQLite writers are serialised by BEGIN IMMEDIATE")
def test_twenty_creators_never_pay_a_case_twice(app, world):
    clerk = make_user("clerk", world.village_a1)
    ids = (bulk_confirmed(world.village_a1, clerk, 120, amount_fen=680000, start=1000)
           + bulk_confirmed(world.village_a2, clerk, 80, amount_fen=270050, start=2000)
           + bulk_confirmed(world.village_b1, clerk, 100, amount_fen=140950, start=3000))
    finance = [make_user("finance", world.county).id for _ in range(20)]
    towns = [None, world.town_a.id, world.town_b.id, None]

    def job(uid, township):
        def create():
            user = db.session.get(User, uid)
            return services.create_batch(user, kind="equipment", township_id=township,
                                         idempotency_key=services.new_idempotency_key()).id
        return create

    db.session.commit()
    outcomes = _race(app, [job(uid, towns[i % 4]) for i, uid in enumerate(finance)])
    db.session.rollback()
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    assert any(o[0] == "ok" for o in outcomes)
    live = select(Payment).where(Payment.status.not_in(("failed", "voided")))
    per_household = db.session.execute(
        select(Payment.household_id, func.count()).where(Payment.status != "voided")
        .group_by(Payment.household_id)).all()
    assert len(per_household) == len(ids)  # every case in a batch
    assert max(n for _, n in per_household) == 1  # and in exactly one
    assert {h.state for h in db.session.scalars(select(Household))} == {"rostered"}
    totals = db.session.scalar(select(func.sum(PayoutBatch.total_fen)))
    entries = db.session.scalar(select(func.sum(NoticeEntry.amount_fen)))
    assert totals == entries == 120 * 680000 + 80 * 270050 + 100 * 140950
    assert db.session.scalar(select(func.sum(Payment.amount_fen)).where(
        Payment.id.in_(live.with_only_columns(Payment.id)))) == totals
    counts = db.session.scalar(select(func.sum(PayoutBatch.payment_count)))
    assert counts == len(ids)


def test_the_same_form_submitted_at_once_makes_one_batch(app, world):
    clerk = make_user("clerk", world.village_a1)
    bulk_confirmed(world.village_a1, clerk, 30)
    uid = make_user("finance", world.county).id
    key = services.new_idempotency_key()

    def create():
        user = db.session.get(User, uid)
        return services.create_batch(user, kind="equipment", idempotency_key=key).id

    db.session.commit()  # end the test's read snapshot before the threads write
    outcomes = _race(app, [create] * 5)
    db.session.rollback()
    assert [o[0] for o in outcomes] == ["ok"] * 5, outcomes
    assert len({o[1] for o in outcomes}) == 1
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 1
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 30
