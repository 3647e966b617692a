"""The programme dashboard at county scale: server time through the Flask test client against
the raw aggregate SQL that computes the same figures, run in the same process.

Database: the household list's (``--households``, default 200,000, ``--seed``; shared cache).
Pages (the demo county user, the newest programme year):
  county     GET /reports/              (by township: stages, done, money, overdue, campaigns)
  township   GET /reports/?township=T   (the county's drill-down into one township's villages)
Floor: the figures the page shows computed the naive way, by aggregate SQL over the cases
table through the stdlib ``sqlite3`` driver — one GROUP BY over (township or village, state)
with count and the frozen amounts, and the six overdue counts (state + time cut-off) — i.e.
what the counters replace.  The dashboard reads kept counters, so it is expected to be
faster than the floor; the goal is ≤ 100 ms and ≤ 2× the floor.  Requests and floor runs
alternate, so a busy neighbour slows both alike.
"""
from __future__ import annotations

import sqlite3
import statistics
import time
from typing import Any

from sqlalchemy import func, select

from bench.client import log_in, statements
from bench.data import bench_app, database
from heating.auth.models import User
from heating.core.i18n import local_today
from heating.extensions import db
from heating.households.lifecycle import OVERDUE
from heating.households.models import Household
from heating.households.queries import overdue_cutoff

GOAL_MS = 100.0
RATIO_GOAL = 2.0


def _floor(conn: sqlite3.Connection, year: int, level: str, township: int | None) -> int:
    where, params = "programme_year = ?", [year]
    if township is not None:
        where, params = where + " AND township_id = ?", [year, township]
    rows = conn.execute(f"SELECT {level}_id, state, count(*), sum(frozen_fen) FROM households "
                        f"WHERE {where} GROUP BY 1, 2", params).fetchall()
    today = local_today()
    for states, column, days in OVERDUE.values():
        cutoff = overdue_cutoff(days, today).strftime("%Y-%m-%d %H:%M:%S.%f")
        marks = ", ".join("?" * len(states))
        rows += conn.execute(f"SELECT {level}_id, count(*) FROM households WHERE {where} AND "
                             f"state IN ({marks}) AND {column} < ? GROUP BY 1",
                             [*params, *states, cutoff]).fetchall()
    return len(rows)


def run(args: Any) -> dict[str, Any]:
    path = database(args.households, args.seed, args.rebuild)
    app = bench_app(path)
    client = app.test_client()
    with app.app_context():
        county = db.session.scalar(select(User).where(User.username == "county"))
        log_in(client, county)
        year = db.session.scalar(select(func.max(Household.programme_year)))
        township = db.session.scalar(select(Household.township_id).limit(1))
        events = db.session.scalar(select(func.count()).select_from(
            db.metadata.tables["case_events"]))
    pages = {"county": (f"/reports/?year={year}", "township", None),
             "township": (f"/reports/?year={year}&township={township}", "village", township)}
    conn = sqlite3.connect(path)
    out: dict[str, Any] = {"households": args.households, "case_events": events,
                           "goal_ms": GOAL_MS, "ratio_goal": RATIO_GOAL, "pages": []}
    for name, (url, level, town) in pages.items():
        for _ in range(3):  # warm: templates compiled, caches filled
            assert client.get(url).status_code == 200, url
            _floor(conn, year, level, town)
        with statements(app) as seen:
            client.get(url)
        server, cpu, floor = [], [], []
        for _ in range(args.reps):
            t, c = time.perf_counter(), time.process_time()
            response = client.get(url)
            server.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            assert response.status_code == 200
            t = time.perf_counter()
            _floor(conn, year, level, town)
            floor.append((time.perf_counter() - t) * 1000)
        med, fl = statistics.median(server), statistics.median(floor)
        out["pages"].append({
            "name": name, "url": url, "statements": len(seen),
            "server_median_ms": round(med, 2),
            "server_p95_ms": round(sorted(server)[int(len(server) * 0.95) - 1], 2),
            "server_cpu_median_ms": round(statistics.median(cpu), 2),
            "floor_median_ms": round(fl, 2), "ratio": round(med / fl, 3),
            "met": med <= GOAL_MS and med / fl <= RATIO_GOAL})
    conn.close()
    return out


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"dashboard at {result['households']:,} households "
             f"({result['case_events']:,} case events); goal ≤ {result['goal_ms']:.0f} ms "
             f"and ≤ {result['ratio_goal']}× the raw aggregate SQL"]
    for p in result["pages"]:
        lines.append(f"  {p['name']:<9} {p['server_median_ms']:7.1f} ms (p95 "
                     f"{p['server_p95_ms']:.1f}, CPU {p['server_cpu_median_ms']:.1f}; "
                     f"{p['statements']} statements)  raw aggregate SQL "
                     f"{p['floor_median_ms']:.1f} ms  ratio {p['ratio']:.2f}  "
                     f"{'met' if p['met'] else 'NOT met'}")
    return lines

