"""The monthly ranking report (月度通报) as PDF (A4, embedded CJK font, page numbers) and
XLSX with the same figures.  Pure: figures in, bytes out; the same figures and issue details
give the same bytes (ReportLab's invariant mode, the XLSX writer's fixed timestamps).
Labels are literal Chinese: an official document of the county office.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from heating.core import spreadsheet_write as sw
from heating.core.money import fen_in_capitals, format_fen
from heating.core.pdf import REGULAR, NumberedCanvas, cn_date, para, styles
from heating.households.lifecycle import OVERDUE
from heating.reports import charts
from heating.reports.monthly import RANKING_METHOD, MonthlyFigures, TownshipFigures

MARGIN = 15 * mm
WIDTH = 595.28 - 2 * MARGIN
OVERDUE_NAMES = {"submitted": "已提交未审核", "inspection": "已安装未验收",
                 "notice": "验收合格未公示", "unpaid": "已确认未发放（拖欠）",
                 "objection": "异议未处理", "repay": "发放失败未补发"}
RANK_COLUMNS = ("名次", "乡镇", "任务数", "已完成", "完成率", "较上月末", "发放率",
                "已发放金额（元）", "超期事项")


@dataclass(frozen=True)
class Issue:
    """Who issues the report, when, and what it corrects."""

    office: str
    issued_on: date
    version: int = 1
    #: a correction: the report it supersedes ("第 1 版，2026年12月3日发布") and why
    supersedes: str = ""
    reason: str = ""


def title_of(f: MonthlyFigures) -> str:
    return f"{f.county}{f.programme_year}年度清洁取暖改造工作{f.month.year}年{f.month.month}月通报"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _change(t: TownshipFigures) -> str:
    pp = t.percent_change
    return _signed(t.change) + (" 户" if pp is None else f" 户（{pp:+.1f} 个百分点）")


def _summary(f: MonthlyFigures) -> str:
    t = f.total
    target = f"任务 {t.target} 户，" if t.target else "尚未下达任务，"
    return (f"截至 {cn_date(f.as_of)}24时（北京时间），全县{target}已完成 {t.done} 户"
            f"（完成率 {_pct(t.percent)}），较上月末 {_change(t)}；已发放设备补贴 "
            f"{t.paid_households} 户，金额 {format_fen(t.paid_fen)} 元"
            f"（大写：{fen_in_capitals(t.paid_fen)}）；超期事项 {t.overdue_total} 件。")


def _bottom(f: MonthlyFigures) -> str:
    if not f.bottom:
        return "本月不点名排名后三位（有任务的乡镇不足四个）。"
    names = "；".join(f"{t.name}（第 {t.rank} 名，完成 {t.done}/{t.target} 户，完成率 "
                     f"{_pct(t.percent)}，较上月末 {_signed(t.change)} 户，超期 {t.overdue_total} 件）"
                     for t in f.bottom)
    return f"排名后三位：{names}。请上述乡镇分析原因，加快推进。"


def _grid(body: list[list[object]], widths: list[float], total_row: bool = True) -> Table:
    table = Table(body, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if total_row:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.Color(0.97, 0.97, 0.97)))
    table.setStyle(TableStyle(style))
    return table


def _ranking(f: MonthlyFigures) -> Table:
    s = styles()
    body: list[list[object]] = [[para(c, s["small_center"]) for c in RANK_COLUMNS]]
    for t in f.townships + [f.total]:
        body.append([str(t.rank) if t is not f.total else "", para(
            "全县合计" if t is f.total else t.name, s["small"]), str(t.target or "—"),
            str(t.done), _pct(t.percent), _change(t), _pct(t.paid_percent),
            format_fen(t.paid_fen), str(t.overdue_total)])
    w = [0.06, 0.12, 0.08, 0.08, 0.09, 0.21, 0.09, 0.17, 0.10]
    return _grid(body, [WIDTH * x for x in w])


def _overdue(f: MonthlyFigures) -> Table:
    s = styles()
    head = ["乡镇"] + [f"{OVERDUE_NAMES[k]}（>{f.thresholds[k]}天）" for k in OVERDUE]
    body: list[list[object]] = [[para(c, s["small_center"]) for c in head]]
    for t in f.townships + [f.total]:
        body.append([para("全县合计" if t is f.total else t.name, s["small"])]
                    + [str(t.overdue[k]) for k in OVERDUE])
    return _grid(body, [WIDTH * 0.16] + [WIDTH * 0.14] * len(OVERDUE))


def bar_chart(f: MonthlyFigures) -> Drawing:
    bars = [charts.Bar(t.name, round(t.percent or 0, 1), t in f.bottom)
            for t in f.townships if t.target]
    return charts.done_bars(bars, width=WIDTH, title="各乡镇目标完成率（%）")


def line_chart(f: MonthlyFigures) -> Drawing:
    return charts.progress_line([charts.Point(d, n) for d, n in f.line], f.starts_on,
                                f.deadline, f.total.target or 0, width=WIDTH,
                                title="全县月度完成进度与目标进度线（户）",
                                actual_label="实际完成", target_label="目标进度线（至截止日期）")


def render_pdf(f: MonthlyFigures, issue: Issue) -> bytes:
    s = styles()
    title = title_of(f)
    story: list[object] = [para(title, s["title"]), para(
        f"（第 {issue.version} 版）" if issue.version > 1 else "", s["subtitle"])]
    if issue.supersedes:
        story.append(para(f"本通报更正并取代{issue.supersedes}的通报。更正原因：{issue.reason}",
                          s["body"]))
    story += [Spacer(1, 4), para("一、总体进度", s["heading"]), para(_summary(f), s["body"])]
    if f.line:
        story += [Spacer(1, 4), line_chart(f)]
    story += [para("二、乡镇排名", s["heading"]), _ranking(f), Spacer(1, 4),
              para(RANKING_METHOD, s["small"]), Spacer(1, 4)]
    if any(t.target for t in f.townships):
        story.append(bar_chart(f))
    story += [para("三、排名后三位", s["heading"]), para(_bottom(f), s["body"]),
              para("四、超期事项", s["heading"]), _overdue(f), Spacer(1, 4),
              para("超期天数为县级设定的阈值（截至月末整天计算）；“已确认未发放”自公示期满确认之时起算。"
                   "已发放金额按银行回单导入系统的时间计入，不按银行记账日期。", s["small"]),
              Spacer(1, 18), para(issue.office, s["body"]),
              para(cn_date(issue.issued_on), s["body"])]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=(595.28, 841.89), leftMargin=MARGIN,
                            rightMargin=MARGIN, topMargin=14 * mm, bottomMargin=16 * mm,
                            title=title, creator="heating", producer="heating", invariant=1)
    doc.build(story, canvasmaker=NumberedCanvas)
    return out.getvalue()


def render_xlsx(f: MonthlyFigures, issue: Issue) -> bytes:
    columns = [sw.Column("名次", sw.INTEGER, 6), sw.Column("乡镇", sw.STRING, 12),
               sw.Column("任务数", sw.INTEGER, 9), sw.Column("已完成", sw.INTEGER, 9),
               sw.Column("完成率(%)", sw.DECIMAL2, 10),
               sw.Column("上月末已完成", sw.INTEGER, 12), sw.Column("较上月末(户)", sw.INTEGER, 12),
               sw.Column("已发放户数", sw.INTEGER, 10), sw.Column("发放率(%)", sw.DECIMAL2, 10),
               sw.Column("已发放金额(元)", sw.DECIMAL2, 16)]
    columns += [sw.Column(f"{OVERDUE_NAMES[k]}(>{f.thresholds[k]}天)", sw.INTEGER, 16)
                for k in OVERDUE]
    columns.append(sw.Column("超期合计", sw.INTEGER, 9))

    def pct(value: float | None) -> str | None:
        return None if value is None else f"{value:.2f}"

    rows = []
    for t in f.townships + [f.total]:
        rows.append([t.rank if t is not f.total else None,
                     "全县合计" if t is f.total else t.name, t.target, t.done, pct(t.percent),
                     t.done_before, t.change, t.paid_households, pct(t.paid_percent),
                     "%d.%02d" % divmod(t.paid_fen, 100)]
                    + [t.overdue[k] for k in OVERDUE] + [t.overdue_total])
    notes = [[title_of(f)], [f"截至 {cn_date(f.as_of)}24时（北京时间）；第 {issue.version} 版；"
                              f"{issue.office}，{cn_date(issue.issued_on)}"],
             [f"已发放金额合计（大写）：{fen_in_capitals(f.total.paid_fen)}"], [RANKING_METHOD]]
    return b"".join(sw.xlsx_stream(columns, rows, sheet_name="月度通报", preamble=notes))
