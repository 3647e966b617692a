"""Acceptance certificates as PDF: one certificate (warm), and a print run of many in one PDF,
each against a bare ReportLab baseline measured in the same run.

The baseline draws the same page (the same strings at the same places, the same frame, table
lines and boxes, the same QR code from the same ``qrcode`` call written as the same path) with
plain canvas calls at hard-coded positions and the same embedded font: no data classes, no
fitting or wrapping of values, no printability check.  The ratio is what the renderer's
layout code costs on top of ReportLab itself.  A second QR figure shows what drawing the
code through ReportLab's path API (one ``rect`` call per run of modules, in points) would cost
instead.

Goals (issue 4): one certificate ≤ 40 ms; 1,000 in one PDF ≤ 25 s and ≤ 1.2 × the baseline.
"""
from __future__ import annotations

import io
import statistics
import time
from datetime import date, timedelta
from typing import Any, Callable

from reportlab.pdfgen.canvas import Canvas

from heating.certificates.render import CertificateData, render_certificate, render_certificates
from heating.core import pdf
from heating.core.masking import mask_id
from heating.core.pdf import BOLD, PAGE_HEIGHT, PAGE_WIDTH, REGULAR

SINGLE_GOAL_MS = 40.0
BATCH_GOAL_S = 25.0
RATIO_GOAL = 1.2

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = ["建国", "秀英", "桂兰", "堃", "喆", "昇平", "赟", "珺瑶", "志强", "丽娜", "海燕", "玉珍",
         "德华", "淑芬", "䶮", "春梅", "国强", "红霞", "永福", "金凤"]
VILLAGES = ["东关村", "西河村", "南堡村", "北辛庄村", "前进村", "后营村", "李家疃村", "石门峪村"]
DEVICES = [("煤改电", "空气源热泵", "格力", "KFR-72LW/NhIbB1W"),
           ("煤改电", "蓄热式电暖器", "美的", "NDX-C20"),
           ("煤改气", "燃气壁挂炉", "威能", "VUW CN 242/5-3"),
           ("煤改电", "直热式电暖器", "艾美特", "HC22132R")]


def certificates(n: int) -> list[CertificateData]:
    """``n`` certificates of one village's print run, varied like real data (deterministic)."""
    out = []
    for i in range(n):
        kind, device, brand, model = DEVICES[i % len(DEVICES)]
        serial = f"139901-2026-{i + 1:06d}"
        token = f"{(i * 2654435761) % 16 ** 16:016x}"
        out.append(CertificateData(
            serial=serial, issue_date=date(2026, 11, 28),
            household_name=SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)],
            id_masked=mask_id(f"139901{19400101 + i % 28:08d}{i % 1000:03d}X"),
            township="城关镇", village=VILLAGES[i % len(VILLAGES)],
            group_name=f"{i % 9 + 1}组", house_no=f"{i + 1}号", conversion_type=kind,
            device_kind=device, brand=brand, model=model, factory_serial=f"SN2026{i:010d}",
            inspection_date=date(2026, 11, 1) + timedelta(days=i % 25),
            inspectors=("李建国", "赵昇"), result="合格",
            verify_url=f"https://heating.example.gov.cn/verify/{serial}?t={token}",
            token=token, county="示范县", issuer="示范县清洁取暖工作领导小组办公室"))
    return out


# -- the baseline: the same page with plain canvas calls ---------------------------------------

LABELS = [("农户信息", [("户主姓名", "身份证号"), ("乡　　镇", "村（社区）"), ("组　　别", "门 牌 号")]),
          ("改造信息", [("改造类型", "设备类型"), ("品　　牌", "型　　号"), ("出厂编号", None)]),
          ("验收信息", [("验收日期", "验收结论"), ("验收人员", None)])]
X = (60.0, 90.0, 168.0, 318.0, 396.0, 535.28)


def _bare_qr(c: Canvas, data: str, x: float, y: float, size: float, literal: bool) -> None:
    """The renderer's QR drawing (``literal``), or the plain way: ReportLab's path API with
    one ``rect`` per run of dark modules, in points."""
    matrix = pdf.qr_matrix(data)  # the same qrcode call (and mask choice) as the renderer
    n = len(matrix)
    module = size / n
    runs, path = [], c.beginPath()
    for r, row in enumerate(matrix):
        start = -1
        for col, dark in enumerate(row + [False]):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                if literal:
                    runs.append(f"{start} {n - 1 - r} {col - start} 1 re")
                else:
                    path.rect(x + start * module, y + (n - 1 - r) * module,
                              (col - start) * module, module)
                start = -1
    c.saveState()
    if literal:
        c.translate(x, y)
        c.scale(module, module)
        c.addLiteral("\n".join(runs) + "\nf")
    else:
        c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _bare_page(c: Canvas, d: CertificateData, literal_qr: bool = True) -> None:
    c.setStrokeColorRGB(0.55, 0.1, 0.1)
    c.setLineWidth(2.4)
    c.rect(24, 24, PAGE_WIDTH - 48, PAGE_HEIGHT - 48)
    c.setLineWidth(0.7)
    c.rect(30, 30, PAGE_WIDTH - 60, PAGE_HEIGHT - 60)
    c.setStrokeGray(0)
    c.setFont(REGULAR, 10)
    c.drawRightString(PAGE_WIDTH - 60, PAGE_HEIGHT - 62, "编号：" + d.serial)
    t = c.beginText(125.14, PAGE_HEIGHT - 122)
    t.setFont(BOLD, 26)
    t.setCharSpace(3)
    t.textOut("清洁取暖改造验收合格证明")
    t.setCharSpace(0)
    c.drawText(t)
    c.setFont(REGULAR, 12)
    c.drawString(84, PAGE_HEIGHT - 166, "经现场验收，下列农户的清洁取暖改造符合验收要求，验收合格，特此证明。")
    values = [[d.household_name, d.id_masked], [d.township, d.village],
              [d.group_name, d.house_no], [d.conversion_type, d.device_kind],
              [d.brand, d.model], [d.factory_serial],
              [pdf.cn_date(d.inspection_date), d.result], ["、".join(d.inspectors)]]
    y, k = PAGE_HEIGHT - 200, 0
    c.setLineWidth(0.6)
    for section, rows in LABELS:
        h = 30 * len(rows)
        c.setFillGray(0.93)
        c.rect(60, y - h, 30, h, stroke=1, fill=1)
        c.setFillGray(0)
        c.setFont(BOLD, 11)
        for i, ch in enumerate(section):
            c.drawCentredString(75, y - h / 2 + 1.5 * min(16, (h - 8) / 4) - 3.85
                                - i * min(16, (h - 8) / 4), ch)
        for left_label, right_label in rows:
            y -= 30
            row = values[k]
            k += 1
            cells = [(X[1], X[2], left_label, True), (X[2], X[3] if right_label else X[5],
                                                      row[0], False)]
            if right_label:
                cells += [(X[3], X[4], right_label, True), (X[4], X[5], row[1], False)]
            for left, right, text, label in cells:
                if label:
                    c.setFillGray(0.96)
                    c.rect(left, y, right - left, 30, stroke=1, fill=1)
                    c.setFillGray(0)
                    c.setFont(BOLD, 10.5)
                    c.drawCentredString((left + right) / 2, y + 11.3, text)
                else:
                    c.rect(left, y, right - left, 30)
                    c.setFont(REGULAR, 11)
                    c.drawString(left + 7, y + 11.15, text)
    c.setLineWidth(1.2)
    c.rect(60, y, 475.28, PAGE_HEIGHT - 200 - y)
    top, w = y - 26, (475.28 - 14) / 2
    c.setLineWidth(0.6)
    for i, (label, foot) in enumerate((("验收人员签字：", "年　　月　　日"),
                                       (f"{d.township}人民政府（盖章）",
                                        "发证日期：" + pdf.cn_date(d.issue_date)))):
        left = 60 + i * (w + 14)
        c.rect(left, top - 118, w, 118)
        c.setFont(BOLD, 10.5)
        c.drawString(left + 10, top - 20, label)
        c.setFont(REGULAR, 10.5)
        c.drawRightString(left + w - 12, top - 118 + 14, foot)
    _bare_qr(c, d.verify_url, 64, 92, 96, literal_qr)
    c.setFont(BOLD, 10.5)
    c.drawString(176, 178, "真伪核验")
    c.setFont(REGULAR, 8.5)
    c.drawString(176, 162, "扫描左侧二维码，或在浏览器中打开下列网址，核对证明内容：")
    c.setFont(REGULAR, 8)
    c.drawString(176, 150, d.verify_url)
    c.setFont(REGULAR, 8.5)
    c.drawString(176, 137, "核验码：" + d.token)
    c.setFont(REGULAR, 8)
    c.setFillGray(0.3)
    c.drawCentredString(PAGE_WIDTH / 2, 48, d.issuer + "制　·　本证明一户一证，涂改无效")
    c.setFillGray(0)


def bare(items: list[CertificateData], literal_qr: bool = True) -> bytes:
    pdf.fonts()  # the same registered faces (and process settings) as the renderer
    out = io.BytesIO()
    c = Canvas(out, invariant=1, pageCompression=1, initialFontName=REGULAR)
    for d in items:
        _bare_page(c, d, literal_qr)
        c.showPage()
    c.save()
    return out.getvalue()


# -- measuring ---------------------------------------------------------------------------------

def _time(call: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def add_arguments(parser: Any) -> None:
    parser.add_argument("--cert-pages", type=int, default=1000,
                        help="certificates in the one-PDF print run (default 1000)")
    parser.add_argument("--cert-reps", type=int, default=40,
                        help="timed single-certificate renders (default 40)")
    parser.add_argument("--cert-batch-reps", type=int, default=2,
                        help="print runs of each kind; the fastest counts (default 2)")


def run(args: Any) -> dict[str, Any]:
    pages = getattr(args, "cert_pages", 1000)
    reps = getattr(args, "cert_reps", 40)
    batch_reps = max(1, getattr(args, "cert_batch_reps", 2))
    started = time.perf_counter()
    pdf.fonts()
    register_ms = (time.perf_counter() - started) * 1000
    items = certificates(max(pages, reps))
    for d in items[:5]:  # warm: imports, first subsets, qrcode tables
        render_certificate(d)
        bare([d])
    single: dict[str, list[float]] = {"ours": [], "ours_cpu": [], "bare": [], "bare_cpu": []}
    for d in items[:reps]:  # interleaved, so a busy neighbour slows both alike
        wall, cpu, _ = _time(lambda d=d: render_certificate(d))
        single["ours"].append(wall * 1000)
        single["ours_cpu"].append(cpu * 1000)
        wall, cpu, _ = _time(lambda d=d: bare([d]))
        single["bare"].append(wall * 1000)
        single["bare_cpu"].append(cpu * 1000)
    qr = [_time(lambda d=d: pdf.qr_matrix(d.verify_url))[1] * 1000 for d in items[:reps]]
    run_items = items[:pages]
    batch: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": []}
    for i in range(batch_reps):  # ABBA order: a neighbour's burst hits both alike
        for name in (("bare", "ours") if i % 2 == 0 else ("ours", "bare")):
            if name == "bare":
                wall, cpu, bare_pdf = _time(lambda: bare(run_items))
            else:
                wall, cpu, rendered = _time(lambda: render_certificates(run_items))
            batch[name].append((wall, cpu))
    ours_wall, ours_cpu = min(batch["ours"])
    bare_wall, bare_cpu = min(batch["bare"])
    path_wall, path_cpu, _ = _time(lambda: bare(run_items[:100], literal_qr=False))
    lit_wall, lit_cpu, _ = _time(lambda: bare(run_items[:100]))
    med = {k: statistics.median(v) for k, v in single.items()}
    return {
        "benchmark": "certificates", "pages": pages, "reps": reps, "batch_reps": batch_reps,
        "goal": {"single_ms": SINGLE_GOAL_MS, "batch_s": BATCH_GOAL_S, "ratio": RATIO_GOAL},
        "font_registration_ms": round(register_ms, 1),
        "single": {"median_ms": round(med["ours"], 2), "cpu_median_ms": round(med["ours_cpu"], 2),
                   "p95_ms": round(_p95(single["ours"]), 2),
                   "baseline_median_ms": round(med["bare"], 2),
                   "baseline_cpu_median_ms": round(med["bare_cpu"], 2),
                   "ratio": round(med["ours"] / med["bare"], 2),
                   "qr_matrix_median_ms": round(statistics.median(qr), 2),
                   "meets_goal": med["ours"] <= SINGLE_GOAL_MS,
                   "cpu_meets_goal": med["ours_cpu"] <= SINGLE_GOAL_MS},
        "batch": {"all_runs": {k: [[round(w, 2), round(c, 2)] for w, c in v]
                               for k, v in batch.items()},
                  "seconds": round(ours_wall, 2), "cpu_seconds": round(ours_cpu, 2),
                  "baseline_seconds": round(bare_wall, 2),
                  "baseline_cpu_seconds": round(bare_cpu, 2),
                  "ratio": round(ours_wall / bare_wall, 3),
                  "cpu_ratio": round(ours_cpu / bare_cpu, 3),
                  "bytes": len(rendered.pdf), "baseline_bytes": len(bare_pdf),
                  "meets_goal": ours_wall <= BATCH_GOAL_S,
                  "cpu_meets_goal": ours_cpu <= BATCH_GOAL_S,
                  "meets_ratio_goal": ours_wall <= RATIO_GOAL * bare_wall,
                  "cpu_meets_ratio_goal": ours_cpu <= RATIO_GOAL * bare_cpu},
        "qr_drawing_100_pages": {"literal_path_s": round(lit_wall, 2),
                                 "literal_path_cpu_s": round(lit_cpu, 2),
                                 "path_api_s": round(path_wall, 2),
                                 "path_api_cpu_s": round(path_cpu, 2)},
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(result: dict[str, Any]) -> list[str]:
    """Goals are judged on wall time and, beside it, on CPU time: on a shared machine a busy
    neighbour inflates the wall time (compare the load average in the JSON)."""
    s, b, q = result["single"], result["batch"], result["qr_drawing_100_pages"]

    def verdict(wall: bool, cpu: bool) -> str:
        return f"wall {'ok' if wall else 'MISSED'}, cpu {'ok' if cpu else 'MISSED'}"

    return [
        f"certificates (font registration {result['font_registration_ms']:.0f} ms, once per "
        "process)",
        f"one certificate, warm, {result['reps']} renders: median {s['median_ms']:.1f} ms "
        f"(cpu {s['cpu_median_ms']:.1f}, p95 {s['p95_ms']:.1f}); baseline "
        f"{s['baseline_median_ms']:.1f} ms (cpu {s['baseline_cpu_median_ms']:.1f}); "
        f"QR matrix alone {s['qr_matrix_median_ms']:.1f} ms",
        f"  goal ≤ {SINGLE_GOAL_MS:g} ms: {verdict(s['meets_goal'], s['cpu_meets_goal'])}",
        f"{result['pages']:,} certificates in one PDF (fastest of {result['batch_reps']}): "
        f"{b['seconds']:.1f} s (cpu {b['cpu_seconds']:.1f}), {b['bytes'] / 1e6:.1f} MB; baseline "
        f"{b['baseline_seconds']:.1f} s (cpu {b['baseline_cpu_seconds']:.1f})",
        f"  goal ≤ {BATCH_GOAL_S:g} s: {verdict(b['meets_goal'], b['cpu_meets_goal'])}",
        f"  ratio to baseline {b['ratio']:.2f} (cpu {b['cpu_ratio']:.2f}), goal ≤ {RATIO_GOAL:g}: "
        f"{verdict(b['meets_ratio_goal'], b['cpu_meets_ratio_goal'])}",
        f"QR drawing, 100 baseline pages: as the renderer {q['literal_path_s']:.2f} s "
        f"(cpu {q['literal_path_cpu_s']:.2f}); ReportLab path API in points "
        f"{q['path_api_s']:.2f} s (cpu {q['path_api_cpu_s']:.2f})",
    ]
