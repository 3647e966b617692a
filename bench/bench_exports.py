"""Ledger (台账) export at county scale: the whole download through the Flask test client
against a floor measured in the same run, and peak memory at two sizes.

Timing (the demo county with ``--export-households`` cases, a county user, so every case is
one row): each file is requested and read to the end, chunk by chunk, as a browser would —
  full    POST /exports/households/full (reason given: every number in full, the path the
          "on request" roles take; audited, COUNT + audit row + commit included)
  masked  GET  /exports/households.<fmt> (numbers as on screen: ID, account and phone masked)
Floor: the export's own SELECT (captured, parameters included) replayed through the stdlib
``sqlite3`` driver and written raw by the same library — ``csv.writer`` in 64 KB chunks, or
XlsxWriter in ``constant_memory`` mode with ``write_row`` into a temporary file read back in
chunks.  Requests and floor runs alternate, so a busy neighbour slows both alike.

Memory: the full CSV and XLSX downloads of every case at ``--export-memory`` sizes (default
20,000 and 200,000), each in a fresh process warmed up by an empty export: the growth of the
resident set over its value at the start (sampled after every chunk), the process's peak RSS,
and, in a second process, the ``tracemalloc`` peak of Python allocations during the download.
Flat memory means all three stay the same at 10× the rows.
"""
from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Iterator

from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from bench.client import Statement, log_in, statements
from bench.data import ROOT, bench_app, database
from heating.auth.models import User
from heating.core import spreadsheet_write as sw
from heating.extensions import db

GOAL_S = {"csv": 2.0, "xlsx": 3.0}
RATIO_GOAL = 2.0
CHUNK = 64 * 1024
REASON = "基准测试：台账导出"


def add_arguments(parser: Any) -> None:
    parser.add_argument("--export-households", type=int, default=20_000,
                        help="cases in the county for the export timings (default 20,000)")
    parser.add_argument("--export-memory", type=int, nargs="*", default=[20_000, 200_000],
                        help="county sizes for the export memory figures")
    parser.add_argument("--export-reps", type=int, default=5,
                        help="timed downloads per format and path (default 5)")


# --- requests ---------------------------------------------------------------------------------
def _client(app: Flask) -> tuple[Any, str]:
    """A test client logged in as the demo county user, and a CSRF token for its session."""
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "county"))
        cookie_id = user.get_id()
    raw = secrets.token_hex(20)
    log_in(client, cookie_id, csrf_token=raw)
    return client, URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def download(client: Any, token: str, fmt: str, path: str = "full",
             on_chunk: Callable[[], Any] | None = None, **filters: Any) -> int:
    """One export read to the end in chunks (nothing kept); returns its size in bytes."""
    if path == "full":
        response = client.post("/exports/households/full", data={
            "csrf_token": token, "reason": REASON, "file_format": fmt, **filters})
    else:
        response = client.get(f"/exports/households.{fmt}", query_string=filters)
    if response.status_code != 200:
        raise SystemExit(f"{path} {fmt} export answered {response.status_code}")
    size = 0
    try:
        for chunk in response.response:
            size += len(chunk)
            if on_chunk is not None:
                on_chunk()
    finally:
        response.close()
    return size


def _capture_select(app: Flask, client: Any, token: str) -> Statement:
    """The ledger SELECT (with its parameters) as the export sends it to SQLite."""
    with statements(app) as seen:
        download(client, token, "csv")
    found = [s for s in seen if "JOIN areas AS village" in s[0] and "count(" not in s[0]]
    assert len(found) == 1, [s[0][:80] for s in seen]
    return found[0]


# --- the floor --------------------------------------------------------------------------------
def floor_csv(conn: sqlite3.Connection, sql: str, params: Any) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    size = 0
    for row in conn.execute(sql, params):
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            size += len(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    return size + len(buffer.getvalue().encode("utf-8"))


def floor_xlsx(conn: sqlite3.Connection, sql: str, params: Any) -> int:
    """The same rows written raw by the same XLSX writer the export uses: each column typed
    from its first value (integers as numbers, the rest as strings), no labels, masks, times
    or text formats."""
    cursor = conn.execute(sql, params)
    first = cursor.fetchone()
    kinds = [sw.INTEGER if isinstance(v, int) else sw.STRING for v in first or ()]
    columns = [sw.Column(d[0], kind) for d, kind in zip(cursor.description, kinds)]

    def rows() -> Any:
        if first is not None:
            yield first
        yield from cursor

    return sum(len(chunk) for chunk in sw.xlsx_stream(columns, rows()))


def _time(call: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure_times(path: Path, reps: int) -> list[dict[str, Any]]:
    app = bench_app(path)
    client, token = _client(app)
    sql, params = _capture_select(app, client, token)
    conn = sqlite3.connect(path)
    rows = sum(1 for _ in conn.execute(sql, params))
    floors = {"csv": floor_csv, "xlsx": floor_xlsx}
    figures = []
    for fmt in ("csv", "xlsx"):
        for kind in ("full", "masked"):
            download(client, token, fmt, kind)  # warm-up
            floors[fmt](conn, sql, params)
            ours: list[tuple[float, float]] = []
            floor: list[tuple[float, float]] = []
            for _ in range(reps):
                ours.append(_time(lambda f=fmt, k=kind: download(client, token, f, k)))
                floor.append(_time(lambda f=fmt: floors[f](conn, sql, params)))
            figures.append(_figure(fmt, kind, rows, ours, floor))
    conn.close()
    return figures


def _figure(fmt: str, kind: str, rows: int, ours: list[tuple[float, float]],
            floor: list[tuple[float, float]]) -> dict[str, Any]:
    wall = statistics.median(w for w, _ in ours)
    cpu = statistics.median(c for _, c in ours)
    floor_wall = statistics.median(w for w, _ in floor)
    floor_cpu = statistics.median(c for _, c in floor)
    return {"format": fmt, "path": kind, "rows": rows, "reps": len(ours),
            "server_median_s": round(wall, 3), "server_cpu_median_s": round(cpu, 3),
            "server_all_s": [round(w, 3) for w, _ in ours],
            "floor_median_s": round(floor_wall, 3), "floor_cpu_median_s": round(floor_cpu, 3),
            "floor_all_s": [round(w, 3) for w, _ in floor],
            "ratio_to_floor": round(wall / floor_wall, 2),
            "cpu_ratio_to_floor": round(cpu / floor_cpu, 2),
            "goal_s": GOAL_S[fmt], "meets_goal": wall <= GOAL_S[fmt],
            "meets_ratio_goal": wall <= RATIO_GOAL * floor_wall}


# --- memory, one fresh process per figure ---------------------------------------------------
def child(path: str, fmt: str, trace: bool) -> None:
    """Run in a fresh interpreter: warm up on an empty export, then download every case."""
    app = bench_app(Path(path))
    client, token = _client(app)
    download(client, token, fmt, q="不存在的户主")  # imports, templates, pools: all warm
    gc.collect()
    start_rss, start_peak = _memory_kb()
    highest = [start_rss]
    if trace:
        tracemalloc.start()
    wall = time.perf_counter()
    size = download(client, token, fmt, on_chunk=lambda: highest.append(
        max(highest.pop(), _memory_kb()[0])))
    seconds = time.perf_counter() - wall
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    end_rss, end_peak = _memory_kb()
    print(json.dumps({"bytes": size, "seconds": round(seconds, 2), "trace": trace,
                      "rss_start_kb": start_rss, "rss_growth_kb": highest[0] - start_rss,
                      "rss_end_kb": end_rss, "peak_rss_before_kb": start_peak,
                      "peak_rss_after_kb": end_peak,
                      "tracemalloc_peak_kb": None if peak is None else round(peak / 1024)}))


def _memory_kb() -> tuple[int, int]:
    """(current RSS, peak RSS of this process image) from /proc/self/status (Linux).

    Not ``ru_maxrss``: a child made by fork + exec reports its parent's high-water mark (the
    bench process that built 200,000 households), so its growth would read as zero."""
    found = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found["VmRSS"], found["VmHWM"]


def _run_child(path: Path, fmt: str, trace: bool) -> dict[str, Any]:
    code = ("import sys; from bench.bench_exports import child; "
            "child(sys.argv[1], sys.argv[2], sys.argv[3] == '1')")
    done = subprocess.run([sys.executable, "-c", code, str(path), fmt, "1" if trace else "0"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"memory run failed ({path.name}, {fmt}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_memory(households: int, seed: int, rebuild: bool) -> list[dict[str, Any]]:
    with scratch_copy(database(households, seed, rebuild=rebuild)) as path:
        return _memory(path, households)


def _memory(path: Path, households: int) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT count(*) FROM households").fetchone()[0]
    out = []
    for fmt in ("csv", "xlsx"):
        plain, traced = _run_child(path, fmt, False), _run_child(path, fmt, True)
        out.append({"households": households, "rows": rows, "format": fmt,
                    "bytes": plain["bytes"], "seconds": plain["seconds"],
                    "rss_start_kb": plain["rss_start_kb"],
                    "rss_growth_kb": plain["rss_growth_kb"],
                    "peak_rss_before_kb": plain["peak_rss_before_kb"],
                    "peak_rss_after_kb": plain["peak_rss_after_kb"],
                    "tracemalloc_peak_kb": traced["tracemalloc_peak_kb"],
                    "seconds_under_tracemalloc": traced["seconds"]})
    return out


@contextlib.contextmanager
def scratch_copy(path: Path) -> Iterator[Path]:
    """A throw-away copy of a cached database: every export writes an audit row, and the
    cached file should stay as the demo builder made it."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".scratch-") as work:
        copy = Path(work) / path.name
        shutil.copyfile(path, copy)
        yield copy


def run(args: Any) -> dict[str, Any]:
    seed, rebuild = getattr(args, "seed", 1), getattr(args, "rebuild", False)
    path = database(args.export_households, seed, rebuild=rebuild)
    with scratch_copy(path) as copy:
        timings = measure_times(copy, args.export_reps)
    memory = []
    for households in args.export_memory:
        # the timing database is already fresh when --rebuild was given
        memory.extend(measure_memory(households, seed,
                                     rebuild and (households != args.export_households)))
    return {"benchmark": "exports", "households": args.export_households,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "database": path.name, "reps": args.export_reps,
            "goal": {"seconds": GOAL_S, "ratio_to_floor": RATIO_GOAL},
            "timings": timings, "memory": memory}


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"ledger export, {result['households']:,} households, county user, "
             f"{result['reps']} downloads each (s)",
             f"{'file':<14}{'median':>8}{'cpu':>8}{'floor':>8}{'f.cpu':>8}{'ratio':>7}"
             f"{'cpu r.':>8}  goals"]
    for t in result["timings"]:
        goal = "ok" if t["meets_goal"] else "MISSED"
        ratio = "ok" if t["meets_ratio_goal"] else "MISSED"
        lines.append(f"{t['format'] + ' ' + t['path']:<14}{t['server_median_s']:>8.2f}"
                     f"{t['server_cpu_median_s']:>8.2f}{t['floor_median_s']:>8.2f}"
                     f"{t['floor_cpu_median_s']:>8.2f}{t['ratio_to_floor']:>7.2f}"
                     f"{t['cpu_ratio_to_floor']:>8.2f}  ≤ {t['goal_s']:g} s {goal}, "
                     f"≤ {RATIO_GOAL:g}× floor {ratio}")
    lines.append("peak memory of a full download (fresh process each; KB)")
    lines.append(f"{'rows':>9} {'file':<5}{'seconds':>9}{'MB out':>8}{'RSS at start':>14}"
                 f"{'RSS +':>8}{'peak RSS':>10}{'tracemalloc':>13}")
    for m in result["memory"]:
        lines.append(f"{m['rows']:>9,} {m['format']:<5}{m['seconds']:>9.1f}"
                     f"{m['bytes'] / 1e6:>8.1f}{m['rss_start_kb']:>14,}"
                     f"{m['rss_growth_kb']:>8,}{m['peak_rss_after_kb']:>10,}"
                     f"{m['tracemalloc_peak_kb']:>13,}")
    return lines
