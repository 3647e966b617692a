"""The bulk paths at scale: batch creation, bank file and result import over many cases give
exact totals.  PAYOUTS_SCALE=20000 prints rough timings (the real benchmark is in bench/)."""
from __future__ import annotations

import os
import time

from sqlalchemy import func, select

from heating.extensions import db
from heating.households.models import CaseEvent, Household
from heating.payouts import bankfiles, batches, reconcile
from tests.factories import AreaFactory
from tests.fixtures import make_user
from tests.payouts.helpers import batch, bulk_confirmed, live_payments, result_csv

N = int(os.environ.get("PAYOUTS_SCALE", "1500"))
#: cases per village: a county's 20,000 households live in a few hundred villages (one village
#: of 20,000 is a worst case for the per-village count triggers on PostgreSQL, see the note)
PER_VILLAGE = 250


def test_many_cases_round_trip(world, capsys):
    clerk = make_user("clerk", world.village_a1)
    fin, checker = make_user("finance", world.county), make_user("finance", world.county)
    ids: list[int] = []
    for v in range(0, N, PER_VILLAGE):
        village = AreaFactory(code=f"139901001{v // PER_VILLAGE + 100:03d}", level="village",
                              parent=world.town_a if v % 2 else world.town_b)
        ids += bulk_confirmed(village, clerk, min(PER_VILLAGE, N - v), amount_fen=123456,
                              start=100_000 + v)
    t0 = time.perf_counter()
    made = batch(fin)
    t1 = time.perf_counter()
    assert made.payment_count == N and made.total_fen == N * 123456
    assert db.session.scalar(select(func.count()).select_from(Household).where(
        Household.state == "rostered")) == N
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.action == "roster")) == N
    batches.approve(made, checker)
    db.session.commit()
    t2 = time.perf_counter()
    data = bankfiles.bank_file(made, "csv", fin)
    db.session.commit()
    t3 = time.perf_counter()
    assert data.count(b"\r\n") == N + bankfiles.TABLE_HEADER_ROW + 1
    pays = live_payments(made)
    failed = {p.id: "账户冻结" for p in pays[:7]}
    results = result_csv(pays, failed=failed)
    t4 = time.perf_counter()
    report = reconcile.import_results(made, results, "big.csv", fin)
    db.session.commit()
    t5 = time.perf_counter()
    assert report.ok
    assert report.imported.paid_fen + report.imported.failed_fen == made.total_fen
    assert db.session.scalar(select(func.count()).select_from(Household).where(
        Household.state == "payment_failed")) == 7
    assert len(ids) == N
    with capsys.disabled():
        print(f"\n[payouts scale n={N} {db.engine.dialect.name}] create {t1 - t0:.2f}s, "
              f"bank file (csv+xlsx frozen) {t3 - t2:.2f}s, result import {t5 - t4:.2f}s")
