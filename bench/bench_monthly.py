"""The monthly ranking report (月度通报) at county scale.

Figures: ``reports.monthly.build`` for the newest programme year's last complete month and
for the previous year's November, on the household list's database (``--households``,
default 200,000, ``--seed``): the month, the month before and the county's monthly line
from the case events, the overdue counts as of the month's end, paid money by import time.
Floor: the same cases' states counted by one GROUP BY over the households table (what the
report would cost if "as of" were not needed), through the stdlib ``sqlite3`` driver.

Documents: the PDF and XLSX of a county of 20 townships (the 10 of the demo county twice,
renamed), against bare ReportLab — a SimpleDocTemplate with one Table of the same ranking
cells and the font registered, no charts — in the same process.  Goals: figures ≤ 2 s,
PDF + XLSX ≤ 3 s.
"""
from __future__ import annotations

import copy
import io
import sqlite3
import statistics
import time
from datetime import date, timedelta
from typing import Any

from reportlab.platypus import SimpleDocTemplate, Table
from sqlalchemy import func, select

from bench.data import bench_app, database
from heating.areas.models import Area
from heating.core.i18n import local_today
from heating.core.pdf import REGULAR, fonts
from heating.extensions import db
from heating.households.models import Household
from heating.reports import monthly, monthly_render

FIGURES_GOAL_S = 2.0
DOCUMENTS_GOAL_S = 3.0


def _bare_pdf(figures: monthly.MonthlyFigures) -> bytes:
    fonts()
    rows = [list(monthly_render.RANK_COLUMNS)] + [
        [str(t.rank), t.name, str(t.target), str(t.done), f"{t.percent or 0:.1f}%",
         str(t.change), f"{t.paid_percent or 0:.1f}%", str(t.paid_fen), str(t.overdue_total)]
        for t in figures.townships]
    out = io.BytesIO()
    table = Table(rows)
    table.setStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR)])
    SimpleDocTemplate(out, invariant=1).build([table])
    return out.getvalue()


def _twenty(figures: monthly.MonthlyFigures) -> monthly.MonthlyFigures:
    doubled = copy.deepcopy(figures)
    extra = copy.deepcopy(figures.townships)
    for t in extra:
        t.name, t.code = t.name[:-1] + "新" + t.name[-1], t.code + "b"
    doubled.townships = monthly.rank(doubled.townships + extra)
    return doubled


def run(args: Any) -> dict[str, Any]:
    path = database(args.households, args.seed, args.rebuild)
    app = bench_app(path)
    out: dict[str, Any] = {"households": args.households, "figures": [], "documents": {}}
    with app.app_context():
        county = db.session.scalar(select(Area).where(Area.level == "county"))
        newest = db.session.scalar(select(func.max(Household.programme_year)))
        today = local_today()
        last = monthly.month_start(monthly.month_start(today) - timedelta(days=1))
        events = db.session.scalar(select(func.count()).select_from(
            db.metadata.tables["case_events"]))
        out["case_events"] = events
        conn = sqlite3.connect(path)
        built = None
        for year, month in ((newest, last), (newest - 1, date(newest - 1, 11, 1))):
            times, cpu, floor = [], [], []
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                built = monthly.build(county, year, month, today)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                t = time.perf_counter()
                conn.execute("SELECT township_id, state, count(*) FROM households WHERE "
                             "programme_year = ? GROUP BY 1, 2", (year,)).fetchall()
                floor.append(time.perf_counter() - t)
            out["figures"].append({
                "programme_year": year, "month": f"{month:%Y-%m}",
                "seconds": round(statistics.median(times), 3),
                "cpu_seconds": round(statistics.median(cpu), 3),
                "floor_seconds": round(statistics.median(floor), 3),
                "done": built.total.done, "met": statistics.median(times) <= FIGURES_GOAL_S})
        conn.close()
        assert built is not None
        twenty = _twenty(built)
        issue = monthly_render.Issue("示范县清洁取暖工作领导小组办公室", today)
        doc, bare = [], []
        for _ in range(5):
            t = time.perf_counter()
            pdf = monthly_render.render_pdf(twenty, issue)
            xlsx = monthly_render.render_xlsx(twenty, issue)
            doc.append(time.perf_counter() - t)
            t = time.perf_counter()
            _bare_pdf(twenty)
            bare.append(time.perf_counter() - t)
        seconds = statistics.median(doc)
        out["documents"] = {"townships": len(twenty.townships), "seconds": round(seconds, 3),
                            "pdf_bytes": len(pdf), "xlsx_bytes": len(xlsx),
                            "bare_reportlab_seconds": round(statistics.median(bare), 3),
                            "ratio": round(seconds / statistics.median(bare), 2),
                            "met": seconds <= DOCUMENTS_GOAL_S}
    return out


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"monthly report at {result['households']:,} households "
             f"({result['case_events']:,} case events)"]
    for f in result["figures"]:
        lines.append(f"  figures {f['programme_year']} {f['month']}: {f['seconds']:.2f} s "
                     f"(CPU {f['cpu_seconds']:.2f}; done {f['done']:,}); one GROUP BY of the "
                     f"current states {f['floor_seconds']:.2f} s  goal ≤ {FIGURES_GOAL_S:.0f} s "
                     f"{'met' if f['met'] else 'NOT met'}")
    d = result["documents"]
    lines.append(f"  PDF + XLSX, {d['townships']} townships: {d['seconds']:.2f} s "
                 f"({d['pdf_bytes']:,} + {d['xlsx_bytes']:,} bytes); bare ReportLab table "
                 f"{d['bare_reportlab_seconds']:.2f} s, ratio {d['ratio']:.1f}  goal ≤ "
                 f"{DOCUMENTS_GOAL_S:.0f} s {'met' if d['met'] else 'NOT met'}")
    return lines
