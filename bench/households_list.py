"""The household list at county scale: server time through the Flask test client against the
floor, the same SQL statements replayed through the stdlib ``sqlite3`` module.

Pages (a county user, 50 rows a page, newest first):
  state page 1       /households/?state=S
  state page 300     /households/?state=S&after=<id of row 14,950>   (keyset)
  township + state   /households/?township=T&state=S
  ID-number search   /households/?q=<an ID number>
"""
from __future__ import annotations

import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import select

from bench.client import Statement, log_in, statements
from bench.data import bench_app, database
from heating.areas.models import Area
from heating.auth.models import User
from heating.core.redact import redact
from heating.extensions import db
from heating.households.models import Household

STATE = "submitted"
PAGE = 300
SIZE = 50  # the app's PAGE_SIZE; checked below
GOAL_MS = 15.0
DEPTH_GOAL = 1.5  # page 300 at most 1.5 × page 1


@dataclass
class Figure:
    name: str
    url: str
    server_ms: list[float] = field(default_factory=list)
    server_cpu_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    floor_cpu_ms: list[float] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.server_ms)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_ms)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "server_median_ms": round(self.median, 3),
                "server_p95_ms": round(_p95(self.server_ms), 3),
                "server_cpu_median_ms": round(statistics.median(self.server_cpu_ms), 3),
                "floor_median_ms": round(self.floor, 3),
                "floor_cpu_median_ms": round(statistics.median(self.floor_cpu_ms), 3),
                "floor_p95_ms": round(_p95(self.floor_ms), 3),
                "ratio_to_floor": round(self.median / self.floor, 2),
                "goal_ms": GOAL_MS, "meets_goal": self.median <= GOAL_MS,
                "statements": self.statements}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _urls(app: Flask) -> dict[str, str]:
    with app.app_context():
        assert app.config["PAGE_SIZE"] == SIZE
        ordered = select(Household.id).where(Household.state == STATE).order_by(
            Household.id.desc())
        after = db.session.scalar(ordered.offset((PAGE - 1) * SIZE - 1).limit(1))
        township = db.session.scalar(select(Area.id).where(Area.level == "township")
                                     .order_by(Area.code).limit(1))
        count = db.session.scalar(select(db.func.count()).select_from(Household))
        wanted = db.session.scalar(select(Household).where(Household.state == "approved")
                                   .order_by(Household.id).offset(count // 2).limit(1))
        if wanted is None:
            wanted = db.session.scalar(select(Household).order_by(Household.id).limit(1))
        number = wanted.id_number
    return {
        "state, page 1": "/households/?" + urlencode({"state": STATE}),
        f"state, page {PAGE}": "/households/?" + urlencode({"state": STATE, "after": after}),
        "township + state, page 1": "/households/?" + urlencode(
            {"township": township, "state": STATE}),
        "ID-number search": "/households/?" + urlencode({"q": number}),
    }


def _capture(app: Flask, client: Any, url: str) -> list[Statement]:
    """The SQL statements (with parameters) one request issues, in order."""
    with statements(app) as seen:
        response = client.get(url)
    _check(response, url)
    return seen


def _check(response: Any, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")


def _replay(conn: sqlite3.Connection, statements: list[tuple[str, Any]]) -> None:
    """Run the statements as the page did, rows fetched; the pool's rollback ends it."""
    for sql, params in statements:
        conn.execute(sql, params or ()).fetchall()
    if conn.in_transaction:
        conn.rollback()


def _per_statement(conn: sqlite3.Connection, statements: list[tuple[str, Any]],
                   reps: int) -> list[dict[str, Any]]:
    """Each statement's own time (the sequence replayed ``reps`` times) and query plan."""
    times: list[list[float]] = [[] for _ in statements]
    counts = [0] * len(statements)
    for _ in range(reps):
        for i, (sql, params) in enumerate(statements):
            started = time.perf_counter()
            counts[i] = len(conn.execute(sql, params or ()).fetchall())
            times[i].append((time.perf_counter() - started) * 1000)
        if conn.in_transaction:
            conn.rollback()
    out = []
    for (sql, params), spent, rows in zip(statements, times, counts):
        plan = [] if sql.strip().upper() in ("BEGIN", "COMMIT", "ROLLBACK") else [
            row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params or ())]
        out.append({"sql": " ".join(sql.split()), "params": [str(p) for p in params or ()],
                    "rows": rows, "median_ms": round(statistics.median(spent), 3),
                    "plan": plan})
    return out


def _time(call: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call (CPU time shows how much a busy neighbour on a
    shared machine inflated the wall time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def add_arguments(parser: Any) -> None:
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=30, help="timed requests per page")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--database", type=Path, help="measure this SQLite file instead (a "
                        "copy with an index added, say); it must hold the demo county")


def run(args: Any) -> dict[str, Any]:
    path = (args.database.resolve() if args.database
            else database(args.households, args.seed, rebuild=args.rebuild))
    result = measure(path, reps=args.reps)
    result["database"] = path.name
    return result


def measure(path: Path, reps: int = 30, warmup: int = 5) -> dict[str, Any]:
    app = bench_app(path)
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "county"))
        log_in(client, user)
    urls = _urls(app)
    floor_conn = sqlite3.connect(path, isolation_level=None)  # we send BEGIN as the app does
    figures = []
    for name, url in urls.items():
        figure = Figure(name, redact(url))  # results name the searched ID by its mask
        for _ in range(warmup):
            _check(client.get(url), url)
        statements = _capture(app, client, url)
        for _ in range(warmup):
            _replay(floor_conn, statements)
        # interleaved, so that a busy neighbour on the machine slows both alike
        for _ in range(reps):
            wall, cpu = _time(lambda u=url: _check(client.get(u), u))
            figure.server_ms.append(wall)
            figure.server_cpu_ms.append(cpu)
            wall, cpu = _time(lambda s=statements: _replay(floor_conn, s))
            figure.floor_ms.append(wall)
            figure.floor_cpu_ms.append(cpu)
        figure.statements = _per_statement(floor_conn, statements, max(5, reps // 3))
        figures.append(figure)
    floor_conn.close()
    first, deep = figures[0], figures[1]
    return {
        "benchmark": "households_list",
        "households": _count(app), "state": STATE, "page_size": SIZE, "reps": reps,
        "goal": {"median_ms": GOAL_MS, "page_300_over_page_1": DEPTH_GOAL},
        "depth_ratio": round(deep.median / first.median, 2),
        "meets_depth_goal": deep.median <= DEPTH_GOAL * first.median,
        "pages": [f.as_json() for f in figures],
    }


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(Household)) or 0


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"household list, {result['households']:,} households, county user, "
             f"{result['page_size']} rows a page, {result['reps']} requests each (ms)",
             f"{'page':<26}{'median':>8}{'p95':>8}{'cpu':>8}{'floor':>8}{'ratio':>7}"
             f"  goal ≤ {GOAL_MS:g}"]
    for page in result["pages"]:
        lines.append(f"{page['name']:<26}{page['server_median_ms']:>8.2f}"
                     f"{page['server_p95_ms']:>8.2f}{page['server_cpu_median_ms']:>8.2f}"
                     f"{page['floor_median_ms']:>8.2f}{page['ratio_to_floor']:>7.1f}  "
                     f"{'ok' if page['meets_goal'] else 'MISSED'}")
    lines.append(f"page {PAGE} / page 1: {result['depth_ratio']:.2f}  goal ≤ {DEPTH_GOAL:g}  "
                 f"{'ok' if result['meets_depth_goal'] else 'MISSED'}")
    for page in result["pages"]:
        slowest = max(page["statements"], key=lambda s: s["median_ms"])
        lines.append(f"  {page['name']}: {len(page['statements'])} statements, slowest "
                     f"{slowest['median_ms']:.2f} ms: {slowest['sql'][:90]}")
    return lines
