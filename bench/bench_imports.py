"""Household import of a 20,000-row .xlsx: the preview (upload, full validation, duplicate
checks, the kept file and its preview record) and the confirmed insert (the file read and
validated again, cases + events + audit rows in one transaction), through the Flask test client
as a county user, against the floor measured in the same run: a bare read of the same file
with python-calamine plus a bare SQLAlchemy Core insert of the same rows as households.

Each repetition starts from a fresh copy of the demo database (the same IDs cannot be imported
twice); floor and import alternate, so a busy neighbour on the machine slows both alike.
"""
from __future__ import annotations

import io
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import insert, select

from bench.data import DATA_DIR, bench_app, database
from bench.households_list import log_in
from heating.areas.models import Area
from heating.auth.models import User
from heating.core.db import now_utc, writing
from heating.core.ids import id_check_char
from heating.core.lookup import keyed_hash
from heating.extensions import db
from heating.households.imports.models import ImportRecord
from heating.households.imports.rules import TEMPLATE_HEADERS
from heating.households.models import Household

GOAL_SECONDS = 5.0
GOAL_RATIO = 3.0
#: an area code the demo county never uses, so generated ID numbers never meet its cases
AREA = "139960"


def add_arguments(parser: Any) -> None:
    parser.add_argument("--import-rows", type=int, default=20_000,
                        help="rows in the imported file (default 20,000)")
    parser.add_argument("--import-households", type=int, default=20_000,
                        help="cases already in the database (default 20,000, as `make run`)")
    parser.add_argument("--import-reps", type=int, default=3,
                        help="repetitions of floor and import (default 3)")


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def make_file(path: Path, rows: int, villages: list[tuple[str, str]], seed: int = 1) -> None:
    """A valid template file: unique ID numbers and accounts, villages of the demo county."""
    rng = random.Random(seed)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("户籍信息")
    sheet.write_row(0, 0, TEMPLATE_HEADERS)
    born = date(1950, 1, 1)
    for n in range(rows):
        first17 = f"{AREA}{born + timedelta(days=n // 500):%Y%m%d}{n % 500 * 2:03d}"
        township, village = villages[rng.randrange(len(villages))]
        name = rng.choice("王李张刘陈杨赵黄周吴") + rng.choice("建国明华军伟秀英兰芳")
        sheet.write_row(n + 1, 0, [
            name, first17 + id_check_char(first17), f"139{n:08d}", township, village,
            f"{n % 12 + 1}组{n % 300 + 1}号", str(rng.randint(1, 8)),
            f"{rng.randint(3000, 20000) / 100:.2f}", "燃煤炉", str(rng.randint(0, 3)),
            rng.choice(("煤改气", "煤改电")), "中国农业银行", _luhn(f"625999{n:012d}"), name,
            rng.choice(("是", "否", "否", "否"))])
    book.close()


def _villages(path: Path) -> list[tuple[str, str]]:
    app = bench_app(path)
    with app.app_context():
        town = Area.__table__.alias("t")
        rows = db.session.execute(select(town.c.name, Area.name).join(
            town, Area.parent_id == town.c.id).where(Area.level == "village")).all()
        db.session.remove()
        db.engine.dispose()
    return [tuple(r) for r in rows]


def _floor(path: Path, data: bytes) -> tuple[float, float, float]:
    """Seconds for the bare read and the bare insert (committed) of the file's rows, and the
    CPU seconds of both."""
    app = bench_app(path)
    with app.app_context(), writing():
        town = Area.__table__.alias("t")
        #: (township name, village name) → (village, township, county ids): the rows' own places
        places = {(tn, vn): (vid, tid, cid) for tn, vn, vid, tid, cid in db.session.execute(
            select(town.c.name, Area.name, Area.id, town.c.id, town.c.parent_id).join(
                town, Area.parent_id == town.c.id).where(Area.level == "village"))}
        user_id = db.session.scalar(select(User.id).where(User.username == "county"))
        # the same rows as stored: with their keyed hashes, computed beforehand (untimed)
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        hashes = {r[1]: keyed_hash("id", r[1]) for r in sheet.to_python()[1:]}
        hashes.update({r[12]: keyed_hash("bank", r[12]) for r in sheet.to_python()[1:]})
        cpu = time.process_time()
        started = time.perf_counter()
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
        read = time.perf_counter() - started
        started = time.perf_counter()
        now = now_utc()
        db.session.execute(insert(Household.__table__), [{
            "programme_year": 2026, "state": "draft", "version": 1,
            **dict(zip(("village_id", "township_id", "county_id"), places[(r[3], r[4])])),
            "head_name": r[0], "id_number": r[1], "id_hash": hashes[r[1]], "phone": r[2],
            "group_name": "", "house_no": r[5], "residents": int(r[6]),
            "heated_area": Decimal(r[7]), "previous_heating": "coal_stove",
            "coal_stoves": int(r[9]), "low_income": r[14] == "是",
            "conversion_type": "gas" if r[10] == "煤改气" else "electric",
            "device_kind": "gas_boiler" if r[10] == "煤改气" else "heat_pump",
            "bank_name": r[11], "bank_account": r[12], "bank_hash": hashes[r[12]],
            "account_holder": r[13], "luhn_confirmed": False, "created_by_id": user_id,
            "created_at": now, "updated_at": now} for r in rows[1:]])
        db.session.commit()
        insert_seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        db.session.remove()
        db.engine.dispose()
    return read, insert_seconds, cpu


def _csrf(html: str) -> str:
    """The CSRF token of the page's first form, whichever order its attributes come in
    (WTForms' field and the page macros write them differently)."""
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def _import(path: Path, data: bytes, storage: Path) -> dict[str, float]:
    """Seconds for the upload (preview), the preview page and the confirmation."""
    app = bench_app(path)
    app.config["STORAGE_DIR"] = str(storage)
    client = app.test_client()
    with app.app_context():
        log_in(client, db.session.scalar(select(User).where(User.username == "county")))
    form = client.get("/imports/").get_data(as_text=True)
    token = _csrf(form)
    times = {}
    cpu = time.process_time()
    started = time.perf_counter()
    r = client.post("/imports/", data={"csrf_token": token, "programme_year": "2026",
                                       "file": (io.BytesIO(data), "households.xlsx")},
                    content_type="multipart/form-data")
    times["preview"] = time.perf_counter() - started
    times["cpu"] = time.process_time() - cpu
    if r.status_code != 302:
        raise SystemExit(f"upload answered {r.status_code}")
    started = time.perf_counter()
    page = client.get(r.location)
    times["page"] = time.perf_counter() - started
    token = _csrf(page.get_data(as_text=True))
    cpu = time.process_time()
    started = time.perf_counter()
    r = client.post(r.location + "/confirm", data={"csrf_token": token})
    times["confirm"] = time.perf_counter() - started
    times["cpu"] += time.process_time() - cpu
    with app.app_context():
        rec = db.session.scalar(select(ImportRecord).order_by(ImportRecord.id.desc()))
        times["imported"] = rec.imported_count
        db.session.remove()
        db.engine.dispose()
    return times


def run(args: Any) -> dict[str, Any]:
    source = database(args.import_households, args.seed, rebuild=args.rebuild)
    file = DATA_DIR / f"import-{args.import_rows}-seed{args.seed}.xlsx"
    if not file.exists():
        make_file(file, args.import_rows, _villages(source), args.seed)
    data = file.read_bytes()
    reps = []
    with tempfile.TemporaryDirectory(dir=DATA_DIR) as tmp:
        work = Path(tmp)
        for rep in range(args.import_reps):
            copy = work / f"floor-{rep}.sqlite3"
            shutil.copyfile(source, copy)
            read, inserted, floor_cpu = _floor(copy, data)
            copy = work / f"import-{rep}.sqlite3"
            shutil.copyfile(source, copy)
            times = _import(copy, data, work / "storage")
            if times["imported"] != args.import_rows:
                raise SystemExit(f"imported {times['imported']} of {args.import_rows} rows")
            total = times["preview"] + times["confirm"]
            reps.append({"floor_read_s": read, "floor_insert_s": inserted,
                         "floor_s": read + inserted, "floor_cpu_s": floor_cpu,
                         **{f"{k}_s": v for k, v in times.items() if k != "imported"},
                         "total_s": total, "ratio": total / (read + inserted),
                         "cpu_ratio": times["cpu"] / floor_cpu})
    median = {k: round(statistics.median(r[k] for r in reps), 3) for k in reps[0]}
    return {"benchmark": "imports", "rows": args.import_rows,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "existing_households": args.import_households, "file_bytes": len(data),
            "database": source.name, "reps": [{k: round(v, 3) for k, v in r.items()}
                                              for r in reps],
            "median": median, "goal": {"seconds": GOAL_SECONDS, "ratio": GOAL_RATIO},
            "meets_seconds": median["total_s"] <= GOAL_SECONDS,
            "meets_ratio": median["ratio"] <= GOAL_RATIO}


def report(result: dict[str, Any]) -> list[str]:
    m = result["median"]
    lines = [f"household import, {result['rows']:,} rows ({result['file_bytes'] / 1e6:.1f} MB "
             f".xlsx) into {result['existing_households']:,} cases, county user, median of "
             f"{len(result['reps'])} (s)",
             f"{'preview':<10}{'page':>8}{'confirm':>9}{'total':>8}{'floor':>8}"
             f"{'(read':>7}{'insert)':>9}{'ratio':>7}",
             f"{m['preview_s']:<10.2f}{m['page_s']:>8.2f}{m['confirm_s']:>9.2f}"
             f"{m['total_s']:>8.2f}{m['floor_s']:>8.2f}{m['floor_read_s']:>7.2f}"
             f"{m['floor_insert_s']:>9.2f}{m['ratio']:>7.2f}",
             f"CPU time: import {m['cpu_s']:.2f} s, floor {m['floor_cpu_s']:.2f} s, ratio "
             f"{m['cpu_ratio']:.2f}" + ("  (wall well above CPU: the machine was busy)"
                                        if m["total_s"] > 1.3 * m["cpu_s"] else ""),
             f"goal: total ≤ {GOAL_SECONDS:g} s {'ok' if result['meets_seconds'] else 'MISSED'}"
             f"; ratio ≤ {GOAL_RATIO:g} {'ok' if result['meets_ratio'] else 'MISSED'}"]
    return lines
