"""Payout batches at county scale (issue 5): batch creation over 20,000 confirmed cases, the
bank file's first download (both files frozen) against a floor measured in the same run, a
re-download, and the import of a 20,000-row bank result file — on SQLite and PostgreSQL.

Data: the demo county's areas and staff (``build_demo`` with no cases) plus ``--payout-cases``
confirmed cases inserted in bulk (SQLAlchemy Core), spread over the 200 villages with the
demo's uneven village weights, 60 % electric / 40 % gas, each with a live confirmed entry on
its village's closed 公示 notice (amount: 85 % × invoice ≤ 7,400 元 or 70 % × invoice ≤
2,700 元).  No case history (events, audit rows) is written for them.  SQLite: a file cached
under ``bench/.data/`` (keyed by the migrations, the demo builder and this file), copied for
each repetition; PostgreSQL: a fresh database ``bench_payouts_<pid>`` on the server of
``--pg-url`` / ``BENCH_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/``; skipped
with a note when unreachable), cloned (``CREATE DATABASE … TEMPLATE``) for each repetition,
every one dropped at the end.

Each repetition, through the Flask test client (app not in TESTING mode), on a fresh copy:
  preview  GET  /payouts/new (the new-batch page: preview of all payable cases)
  create   POST /payouts/new as the demo ``finance`` user (county-wide): create_batch + commit
           (approval by a second finance user follows, untimed)
  freeze   GET  /payouts/batches/<id>/bank.csv, the first download: CSV and XLSX rendered,
           stored, SHA-256 on the batch, payments marked exported, audit row, commit
  again    GET  bank.csv again (stored bytes, SHA-256 checked, audited) and bank.xlsx
  import   POST /payouts/batches/<id>/results with a CSV result file, 2 rows failed
Floor of the freeze: its own SELECT (captured with parameters) replayed through the raw driver
(``sqlite3`` / ``psycopg``), rows fetched, written by the same libraries the bank file uses —
``csv.writer`` into memory, and our XLSX writer (``spreadsheet_write.xlsx_stream``) with
cells typed from the first row, no header block.  A second floor (information only) writes the same rows with our
``spreadsheet_write`` (csv_stream, xlsx_stream).  Floors run 3× right after each freeze.
Printed per phase: wall time, CPU time of this process and, for PostgreSQL on this host, the CPU
the server's backends for the database used (from /proc).
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
from flask import Flask
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, insert, make_url, select, text

from bench.client import Statement, log_in, statements
from bench.data import DATA_DIR, LOOKUP_KEY, ROOT, SECRET_KEY
from heating import create_app
from heating.areas.models import Area
from heating.auth.models import RoleGrant, User
from heating.core import spreadsheet_write as sw
from heating.core.db import now_utc, writing
from heating.core.i18n import local_today
from heating.core.ids import id_check_char
from heating.core.lookup import keyed_hash
from heating.core.masking import mask_id, mask_name
from heating.demo import build_demo, person_name
from heating.extensions import db
from heating.households.models import DEVICE_KINDS_BY_TYPE, Household
from heating.payouts import services
from heating.payouts.models import Payment, PayoutBatch
from heating.publicity.models import Notice, NoticeEntry
from heating.subsidies.models import SubsidyPolicy

GOAL_S = {"create": 5.0, "freeze": 2.0, "import": 5.0}
RATIO_GOAL = 2.0
FLOOR_RUNS = 3
#: floor_run's keys → the summary's
FLOOR_KEYS = {"rows": "floor_rows", "read_s": "floor_read_s", "read_cpu_s": "floor_read_cpu_s"}
FAILURES = 2
#: the second finance user who approves (the demo's, or made here when the demo has none)
CHECKER = "finance02"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"
_BANKS = (("中国农业银行", 30, "622848"), ("中国邮政储蓄银行", 25, "621799"),
          ("农村商业银行", 20, "623199"), ("农村信用合作社", 15, "622991"),
          ("中国建设银行", 10, "621700"))
#: conversion type → (policy rate in 1/10,000, cap in fen, invoice range in yuan, share)
_TYPES = {"electric": (8500, 740_000, (6_000, 12_000), 60), "gas": (7000, 270_000,
                                                                     (3_000, 5_000), 40)}


def add_arguments(parser: Any) -> None:
    parser.add_argument("--payout-cases", type=int, default=20_000,
                        help="confirmed cases a batch pays (default 20,000)")
    parser.add_argument("--payout-reps", type=int, default=3,
                        help="repetitions per database, each on a fresh copy (default 3)")
    parser.add_argument("--payout-backends", nargs="*", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"], help="databases to measure")
    parser.add_argument("--payout-revision", default="head",
                        help="migrate the payout databases to this revision (default head)")
    parser.add_argument("--pg-url", default=None,
                        help=f"PostgreSQL server for benchmarks that use one (default "
                             f"$BENCH_PG_URL or {DEFAULT_PG}); a database is created and "
                             f"dropped on it")


# --- data -------------------------------------------------------------------------------------
def _app(url: str, storage: Path) -> Flask:
    return create_app({"HEATING_ENV": "test", "TESTING": False, "SECRET_KEY": SECRET_KEY,
                       "LOOKUP_KEY": LOOKUP_KEY, "SQLALCHEMY_DATABASE_URI": url,
                       "STORAGE_DIR": str(storage)})


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def populate(n: int, seed: int) -> None:
    """In an app context: the demo county and staff, a second finance user, two policies, a
    closed notice per village and ``n`` confirmed cases with confirmed entries."""
    build_demo(households=0, seed=seed, echo=lambda _m: None)
    rng = random.Random(seed)
    county = db.session.scalar(select(Area).where(Area.level == "county"))
    villages = list(db.session.scalars(select(Area).where(Area.level == "village")
                                       .order_by(Area.code)))
    finance = db.session.scalar(select(User).where(User.username == "finance"))
    if db.session.scalar(select(User.id).where(User.username == CHECKER)) is None:
        checker = User(username=CHECKER, display_name="复核会计", active=True, failed_logins=0,
                       password_hash=finance.password_hash, must_change_password=False)
        db.session.add(checker)
        db.session.flush()
        db.session.add(RoleGrant(user_id=checker.id, role="finance", area_id=county.id))
    year = local_today().year
    policies = {}
    for kind, (rate, cap, _inv, _share) in _TYPES.items():
        policies[kind] = SubsidyPolicy(
            county_id=county.id, programme_year=year, conversion_type=kind, device_kind="",
            version=1, name=f"{year}年{'煤改电' if kind == 'electric' else '煤改气'}设备补贴",
            equipment_method="invoice_rate", equipment_rate_e4=rate, equipment_cap_fen=cap,
            seasons=3, effective_from=date(year, 1, 1), created_by_id=finance.id)
    db.session.add_all(policies.values())
    notices = {v.id: Notice(number=f"GS-B-{v.code}", title=f"{v.name}补贴公示",
                            village_id=v.id, township_id=v.parent_id, county_id=county.id,
                            programme_year=year, state="closed", period_days=7,
                            starts_on=date(year, 1, 5), ends_on=date(year, 1, 12),
                            objection_phone="0310-1234567",
                            issuing_office=f"{v.parent.name}人民政府",
                            published_by_id=finance.id) for v in villages}
    db.session.add_all(notices.values())
    db.session.flush()
    clerk = db.session.scalar(select(User.id).where(User.username == "clerk001"))
    weights = [rng.uniform(0.5, 1.5) for _ in villages]
    first = (db.session.scalar(select(func.max(Household.id))) or 0) + 1
    cases, entries, seqs = [], [], {v.id: 0 for v in villages}
    for k in range(n):
        village = rng.choices(villages, weights)[0]
        kind = rng.choices(list(_TYPES), [t[3] for t in _TYPES.values()])[0]
        rate, cap, (low, high), _share = _TYPES[kind]
        invoice = rng.randint(low * 100, high * 100)
        amount = min((invoice * rate + 5000) // 10000, cap)
        male = rng.random() < 0.75
        name = person_name(rng, male)
        born = date(1940, 1, 1) + timedelta(days=k // 500)
        first17 = f"139901{born:%Y%m%d}{k % 500 * 2 + male:03d}"
        idn = first17 + id_check_char(first17)
        bank, _w, prefix = rng.choices(_BANKS, [b[1] for b in _BANKS])[0]
        account = _luhn(f"{prefix}{k:012d}")
        device = rng.choice(DEVICE_KINDS_BY_TYPE[kind])
        hid = first + k
        cases.append({
            "id": hid, "programme_year": year, "state": "confirmed", "version": 1,
            "village_id": village.id, "township_id": village.parent_id,
            "county_id": county.id, "head_name": name, "id_number": idn,
            "id_hash": keyed_hash("id", idn, LOOKUP_KEY), "phone": f"13{k:09d}",
            "group_name": f"{k % 9 + 1}组", "house_no": f"{k}号", "residents": rng.randint(1, 6),
            "heated_area": Decimal(rng.randint(4000, 15000)) / 100,
            "previous_heating": "coal_stove", "coal_stoves": 1, "low_income": False,
            "conversion_type": kind, "device_kind": device, "bank_name": bank,
            "bank_account": account, "bank_hash": keyed_hash("bank", account, LOOKUP_KEY),
            "account_holder": name, "luhn_confirmed": False, "created_by_id": clerk})
        seqs[village.id] += 1
        entries.append({
            "notice_id": notices[village.id].id, "household_id": hid, "seq": seqs[village.id],
            "state": "confirmed", "masked_name": mask_name(name), "masked_id": mask_id(idn),
            "village_name": village.name, "conversion_type": kind, "device_kind": device,
            "amount_fen": amount, "explanation": f"{rate / 100:g}% × {invoice / 100:.2f}",
            "inputs": {"invoice_fen": invoice}, "policy_id": policies[kind].id,
            "case_version": 1, "confirmed_at": now_utc()})
    for start in range(0, n, 2000):
        db.session.execute(insert(Household.__table__), cases[start:start + 2000])
        db.session.execute(insert(NoticeEntry.__table__), entries[start:start + 2000])
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('households', 'id'), "
                                "(SELECT max(id) FROM households))"))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _build(url: str, storage: Path, n: int, seed: int, revision: str) -> float:
    started = time.perf_counter()
    app = _app(url, storage)
    with app.app_context():
        upgrade(revision=revision)
        with writing():
            populate(n, seed)
        if url.startswith("sqlite"):
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - started


def sqlite_base(n: int, seed: int, revision: str, storage: Path) -> Path:
    h = hashlib.sha256()
    for source in [Path(__file__), ROOT / "heating" / "demo.py",
                   *sorted((ROOT / "migrations" / "versions").glob("*.py"))]:
        h.update(source.read_bytes())
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"payouts-{n}-seed{seed}-{revision}-{h.hexdigest()[:10]}.sqlite3"
    if not path.exists():
        for stale in DATA_DIR.glob(f"payouts-{n}-seed{seed}-{revision}-*.sqlite3*"):
            stale.unlink()  # built by an older version of the code or the migrations
        partial = path.with_suffix(".partial")
        for leftover in DATA_DIR.glob(partial.name + "*"):
            leftover.unlink()
        print(f"building {path.name} (once; later runs reuse it)")
        print(f"built in {_build(f'sqlite:///{partial}', storage, n, seed, revision):.0f} s")
        partial.rename(path)
    return path


# --- PostgreSQL databases ---------------------------------------------------------------------
class PgServer:
    """Create and drop databases on one server (names bench_payouts_<pid>…)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql+psycopg", database="postgres")
        self.made: list[str] = []

    def conninfo(self, name: str) -> str:
        return self.url.set(drivername="postgresql", database=name).render_as_string(False)

    def sa_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True,
                             connect_timeout=5) as conn:
            conn.execute(sql)

    def reachable(self) -> str | None:
        try:
            self._admin("SELECT 1")
        except psycopg.Error as err:
            return str(err).strip().splitlines()[0]
        return None

    def create(self, name: str, template: str | None = None) -> str:
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template
                                                    else ""))
        self.made.append(name)
        return name

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.remove(name)

    def drop_all(self) -> None:
        for name in reversed(list(self.made)):
            self.drop(name)

    def local(self) -> bool:
        return self.url.host in ("127.0.0.1", "localhost", "::1") and Path("/proc").is_dir()

    def backend_ticks(self, name: str) -> dict[int, int]:
        """CPU clock ticks (user + system) of each backend serving database ``name``, read
        from /proc (the server runs on this host)."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            pids = [pid for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]
        ticks = {}
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
        return ticks


# --- one repetition ---------------------------------------------------------------------------
def _client(app: Flask, username: str) -> tuple[Any, str]:
    client = app.test_client()
    with app.app_context():
        cookie_id = db.session.scalar(select(User).where(User.username == username)).get_id()
    raw = secrets.token_hex(20)
    log_in(client, cookie_id, csrf_token=raw)
    return client, URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return out, time.perf_counter() - wall, time.process_time() - cpu


class Phases:
    """Times the phases of one repetition: wall, CPU of this process and, when a probe is
    given, CPU of the database server's backends (PostgreSQL on this host)."""

    def __init__(self, probe: Callable[[], dict[int, int]] | None) -> None:
        self.probe, self.out = probe, {}

    def __call__(self, name: str, call: Callable[[], Any]) -> Any:
        before = self.probe() if self.probe else {}
        result, self.out[f"{name}_s"], self.out[f"{name}_cpu_s"] = _timed(call)
        if self.probe:
            after = self.probe()
            ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
            self.out[f"{name}_server_cpu_s"] = ticks / os.sysconf("SC_CLK_TCK")
        return result


def _ok(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{what} answered {response.status_code}, not {status}:\n"
                         f"{response.get_data(as_text=True)[:2000]}")
    return response


def result_file(app: Flask, batch_id: int) -> bytes:
    """The bank's answer: every payment paid on 2026-03-02 except the first FAILURES."""
    with app.app_context():
        rows = db.session.execute(select(Payment.reference, Payment.amount_fen)
                                  .where(Payment.batch_id == batch_id).order_by(Payment.seq))
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["付款参考号", "金额", "状态", "失败原因", "到账日期"])
        for k, (ref, fen) in enumerate(rows):
            failed = k < FAILURES
            w.writerow([ref, f"{fen // 100}.{fen % 100:02d}", "失败" if failed else "成功",
                        "账户已销户" if failed else "", "" if failed else "2026-03-02"])
    return out.getvalue().encode("utf-8-sig")


def _bank_select(seen: list[Statement]) -> Statement:
    found = [s for s in seen if "payments.reference" in s[0] and "JOIN households" in s[0]
             and "ORDER BY payments.seq" in s[0]]
    assert len(found) == 1, [s[0][:100] for s in seen]
    return found[0]


def repetition(url: str, storage: Path, n: int, floor: Callable[..., Any],
               probe: Callable[[], dict[int, int]] | None = None) -> dict[str, Any]:
    app = _app(url, storage)
    maker, token = _client(app, "finance")
    checker, token2 = _client(app, CHECKER)
    _ok(maker.get("/payouts/"), 200, "batch list")  # warm-up: templates, pool, scopes
    timed = Phases(probe)
    timed("preview", lambda: _ok(maker.get("/payouts/new"), 200, "new batch page"))
    key = services.new_idempotency_key()
    timed("create", lambda: _ok(maker.post("/payouts/new", data={
        "csrf_token": token, "kind": "equipment", "township_id": "0", "season": "",
        "note": "基准测试", "idempotency_key": key}), 302, "create batch"))
    with app.app_context():
        batch = db.session.scalar(select(PayoutBatch).where(PayoutBatch.idempotency_key == key))
        batch_id, count, total = batch.id, batch.payment_count, batch.total_fen
        expected = db.session.scalar(select(func.coalesce(func.sum(NoticeEntry.amount_fen), 0))
                                     .where(NoticeEntry.state == "confirmed"))
    if (count, total) != (n, expected):
        raise SystemExit(f"batch pays {count} cases, {total} fen; expected {n}, {expected}")
    _ok(checker.post(f"/payouts/batches/{batch_id}/approve", data={"csrf_token": token2}),
        302, "approve")
    base = f"/payouts/batches/{batch_id}"
    with statements(app) as seen:
        first = timed("freeze", lambda: _ok(maker.get(f"{base}/bank.csv"), 200,
                                            "first bank file download").get_data())
    if first.count(b"\r\n") != n + 9:
        raise SystemExit("the bank file does not have one line per payment")
    sql, params = _bank_select(seen)
    floors = [floor(sql, params) for _ in range(FLOOR_RUNS)]
    again = timed("again", lambda: _ok(maker.get(f"{base}/bank.csv"), 200,
                                       "re-download").get_data())
    if again != first:
        raise SystemExit("the re-downloaded bank file differs from the first")
    timed("xlsx", lambda: _ok(maker.get(f"{base}/bank.xlsx"), 200, "xlsx download"))
    data = result_file(app, batch_id)
    timed("import", lambda: _ok(maker.post(
        f"{base}/results", data={"csrf_token": token, "file": (io.BytesIO(data), "result.csv")},
        content_type="multipart/form-data"), 302, "result import"))
    with app.app_context():
        states = dict(db.session.execute(select(Household.state, func.count())
                                         .group_by(Household.state)).all())
        state = db.session.scalar(select(PayoutBatch.state).where(PayoutBatch.id == batch_id))
        db.session.remove()
        db.engine.dispose()
    if state != "reconciled" or states.get("payment_failed") != FAILURES \
            or states.get("paid") != n - FAILURES:
        raise SystemExit(f"after the import: batch {state}, cases {states}")
    return {**timed.out, "floors": floors}


# --- the floor --------------------------------------------------------------------------------
def write_same_library(rows: list[tuple[Any, ...]], columns: list[str]) -> tuple[int, int]:
    """The libraries the bank file uses: csv.writer into memory, and our XLSX writer
    (heating.core.spreadsheet_write.xlsx_stream) with cells typed from the first row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    csv_bytes = b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    cols = [sw.Column(name, sw.INTEGER if isinstance(v, int) else sw.STRING)
            for name, v in zip(columns, rows[0])]
    return len(csv_bytes), sum(len(c) for c in sw.xlsx_stream(cols, rows))


def write_our_writer(rows: list[tuple[Any, ...]], columns: list[str]) -> tuple[int, int]:
    """The same rows through heating.core.spreadsheet_write (information only)."""
    cols = [sw.Column(name, sw.INTEGER if isinstance(v, int) else sw.STRING)
            for name, v in zip(columns, rows[0])]
    return (sum(len(c) for c in sw.csv_stream(cols, rows)),
            sum(len(c) for c in sw.xlsx_stream(cols, rows)))


def floor_run(connect: Callable[[], Any], sql: str, params: Any) -> dict[str, float]:
    conn = connect()
    try:
        def read() -> tuple[list[tuple[Any, ...]], list[str]]:
            cursor = conn.execute(sql, params)
            return list(cursor.fetchall()), [d[0] for d in cursor.description]
        (rows, columns), read_s, read_cpu = _timed(read)
    finally:
        conn.close()
    _r, same_s, same_cpu = _timed(lambda: write_same_library(rows, columns))
    _r, ours_s, ours_cpu = _timed(lambda: write_our_writer(rows, columns))
    return {"rows": len(rows), "read_s": read_s, "read_cpu_s": read_cpu,
            "floor_s": read_s + same_s, "floor_cpu_s": read_cpu + same_cpu,
            "ours_floor_s": read_s + ours_s, "ours_floor_cpu_s": read_cpu + ours_cpu}


# --- per database -----------------------------------------------------------------------------
#: a fresh copy of the database: (SQLAlchemy URL, raw driver connect, server CPU probe)
Copy = tuple[str, Callable[[], Any], Callable[[], dict[int, int]] | None]


def measure(copies: Iterator[Copy], storage: Path, n: int, reps: int) -> dict[str, Any]:
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = []
    for _ in range(reps):
        url, connect, probe = next(copies)
        runs.append(repetition(url, storage, n,
                               lambda sql, params, c=connect: floor_run(c, sql, params), probe))
        print(f"  rep {len(runs)}: create {runs[-1]['create_s']:.2f} s, freeze "
              f"{runs[-1]['freeze_s']:.2f} s, import {runs[-1]['import_s']:.2f} s")
    return summarise(runs, load_before)


def summarise(runs: list[dict[str, Any]], load_before: list[float]) -> dict[str, Any]:
    med = {key: round(statistics.median(r[key] for r in runs), 3)
           for key in runs[0] if key != "floors"}
    for key in runs[0]["floors"][0]:  # every floor run of every repetition
        med[FLOOR_KEYS.get(key, key)] = round(
            statistics.median(f[key] for r in runs for f in r["floors"]), 3)
    med["ratio_to_floor"] = round(med["freeze_s"] / med["floor_s"], 2)
    med["cpu_ratio_to_floor"] = round(med["freeze_cpu_s"] / med["floor_cpu_s"], 2)
    med["meets"] = {"create": med["create_s"] <= GOAL_S["create"],
                    "freeze": med["freeze_s"] <= GOAL_S["freeze"],
                    "freeze_ratio": med["ratio_to_floor"] <= RATIO_GOAL,
                    "again": med["again_s"] <= GOAL_S["freeze"],
                    "import": med["import_s"] <= GOAL_S["import"]}
    return {"medians": med, "runs": runs, "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def _sqlite(n: int, seed: int, revision: str, storage: Path, reps: int) -> dict[str, Any]:
    base = sqlite_base(n, seed, revision, storage)

    def copies() -> Iterator[Copy]:
        while True:
            copy = base.parent / f".payouts-{os.getpid()}.sqlite3"
            shutil.copyfile(base, copy)
            try:
                yield f"sqlite:///{copy}", lambda c=copy: sqlite3.connect(c), None
            finally:
                for leftover in base.parent.glob(copy.name + "*"):
                    leftover.unlink()

    gen = copies()
    try:
        return {"database": base.name, **measure(gen, storage, n, reps)}
    finally:
        gen.close()


def _postgres(server: PgServer, n: int, seed: int, revision: str, storage: Path,
              reps: int) -> dict[str, Any]:
    base = server.create(f"bench_payouts_{os.getpid()}")
    print(f"building PostgreSQL database {base} ...")
    built = _build(server.sa_url(base), storage, n, seed, revision)
    print(f"built in {built:.0f} s")

    def copies() -> Iterator[Copy]:
        for k in range(1, reps + 1):
            name = server.create(f"{base}_r{k}", template=base)
            probe = (lambda d=name: server.backend_ticks(d)) if server.local() else None
            try:
                yield (server.sa_url(name),
                       lambda i=server.conninfo(name): psycopg.connect(i), probe)
            finally:
                server.drop(name)

    gen = copies()
    try:
        with psycopg.connect(server.conninfo(base)) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        return {"database": base, "server_version": version, "build_s": round(built, 1),
                **measure(gen, storage, n, reps)}
    finally:
        gen.close()


@contextlib.contextmanager
def _storage() -> Iterator[Path]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix=".payouts-storage-") as work:
        yield Path(work)


def run(args: Any) -> dict[str, Any]:
    n, reps, seed = args.payout_cases, args.payout_reps, getattr(args, "seed", 1)
    revision = args.payout_revision
    result: dict[str, Any] = {"benchmark": "payouts", "cases": n, "reps": reps,
                              "revision": revision, "floor_runs_per_rep": FLOOR_RUNS,
                              "goal": {"seconds": GOAL_S, "ratio_to_floor": RATIO_GOAL},
                              "migrations": sorted(p.name for p in (
                                  ROOT / "migrations" / "versions").glob("0*.py")),
                              "backends": {}}
    with _storage() as storage:
        if "sqlite" in args.payout_backends:
            print("payouts on SQLite")
            result["backends"]["sqlite"] = _sqlite(n, seed, revision, storage, reps)
        if "postgresql" in args.payout_backends:
            server = PgServer(args.pg_url or os.environ.get("BENCH_PG_URL") or DEFAULT_PG)
            problem = server.reachable()
            if problem:
                print(f"PostgreSQL skipped: {server.url.render_as_string()} unreachable "
                      f"({problem})")
                result["backends"]["postgresql"] = {"skipped": problem}
            else:
                print("payouts on PostgreSQL")
                try:
                    result["backends"]["postgresql"] = _postgres(server, n, seed, revision,
                                                                 storage, reps)
                finally:
                    server.drop_all()
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


_PHASES = (("preview", "new-batch page (preview)", None),
           ("create", "create batch + commit", "create"),
           ("freeze", "bank file, 1st download", "freeze"),
           ("again", "bank file, re-download", "freeze"),
           ("xlsx", "bank xlsx, download", None),
           ("import", "result import + commit", "import"))


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"payouts, {result['cases']:,} confirmed cases, median of {result['reps']} "
             f"fresh copies (s), migrations to {result['revision']}"]
    for name, r in result["backends"].items():
        if "skipped" in r:
            lines.append(f"{name}: skipped ({r['skipped']})")
            continue
        m, ok = r["medians"], r["medians"]["meets"]
        lines += [f"{name}, load average {r['load_average_before']} → "
                  f"{r['load_average_after']}",
                  f"  {'':<26}{'wall':>7}{'CPU':>7}{'server':>8}  goals"]
        for key, label, goal in _PHASES:
            server = m.get(f"{key}_server_cpu_s")
            line = (f"  {label:<26}{m[f'{key}_s']:>7.2f}{m[f'{key}_cpu_s']:>7.2f}"
                    f"{'' if server is None else f'{server:.2f}':>8}")
            if goal:
                line += f"  ≤ {GOAL_S[goal]:g} s {'ok' if ok[key] else 'MISSED'}"
            if key == "freeze":
                line += (f"; {m['ratio_to_floor']:.2f}× floor (CPU "
                         f"{m['cpu_ratio_to_floor']:.2f}×) ≤ {RATIO_GOAL:g}× "
                         f"{'ok' if ok['freeze_ratio'] else 'MISSED'}")
            lines.append(line)
            if key == "freeze":
                lines += [f"    {'floor: csv + our XLSX':<24}{m['floor_s']:>7.2f}"
                          f"{m['floor_cpu_s']:>7.2f}  (SELECT {m['floor_read_s']:.2f})",
                          f"    {'floor: spreadsheet_write':<24}{m['ours_floor_s']:>7.2f}"
                          f"{m['ours_floor_cpu_s']:>7.2f}  (information)"]
    lines.append("CPU: this process; server: the PostgreSQL backends' CPU (same host)")
    return lines
