"""Making and publishing the monthly ranking report: a draft is rendered on request from the
figures as of the month's end; publishing freezes the PDF and XLSX (stored files, SHA-256,
who and when; audited).  A published month is never replaced: a correction is the next
version, which says which version it supersedes and why.  Only complete months (their last
Beijing day is over) can be reported."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.numbers import MAX_YEAR, MIN_YEAR
from heating.core.pdf import cn_date
from heating.core.refusals import Forbidden, Refusal
from heating.core.storage import read_checked, store_new
from heating.extensions import db
from heating.reports import monthly, monthly_render
from heating.reports.models import MonthlyReport

MAX_REASON = 500


def office_of(county: Area) -> str:
    return f"{county.name}清洁取暖工作领导小组办公室"


def complete_months(today: date | None = None, back: int = 24) -> list[date]:
    """The first days of the last ``back`` complete months, newest first."""
    today = today or local_today()
    month = monthly.month_start(today)
    out = []
    for _ in range(back):
        month = monthly.month_start(month - timedelta(days=1))
        out.append(month)
    return out


def parse_month(text: str | None) -> date | None:
    """"2026-11" → 2026-11-01; None for anything else."""
    text = (text or "").strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
        return None
    year, month = int(text[:4]), int(text[5:])
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _check(actor: Any, county: Area, year: int, month: date, today: date) -> None:
    counties = permissions.scope_for(actor, permissions.PERMISSIONS["report.monthly"]).counties
    if getattr(county, "level", None) != "county" or county.id not in counties:
        raise Forbidden(_l("Only a county user makes the monthly report."))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refusal(_l("Enter a year between 2016 and 2100."), "programme_year")
    if monthly.month_end_day(month) >= today:
        raise Refusal(_l("Only a month that is over can be reported."), "month")


def versions(county_id: int, year: int, month: date) -> list[MonthlyReport]:
    return list(db.session.scalars(
        select(MonthlyReport).where(MonthlyReport.county_id == county_id,
                                    MonthlyReport.programme_year == year,
                                    MonthlyReport.month == month)
        .order_by(MonthlyReport.version)))


def published(county_ids: set[int]) -> list[MonthlyReport]:
    return list(db.session.scalars(
        select(MonthlyReport).where(MonthlyReport.county_id.in_(county_ids))
        .order_by(MonthlyReport.month.desc(), MonthlyReport.programme_year.desc(),
                  MonthlyReport.version.desc())))


def _issue(county: Area, latest: MonthlyReport | None, reason: str, today: date
           ) -> monthly_render.Issue:
    if latest is None:
        return monthly_render.Issue(office_of(county), today)
    when = cn_date(latest.published_at.astimezone(LOCAL_TZ).date())
    return monthly_render.Issue(office_of(county), today, latest.version + 1,
                                f"{when}发布的第 {latest.version} 版", reason)


def draft(county: Area, year: int, month: date, actor: Any, fmt: str,
          today: date | None = None) -> bytes:
    """The report as it would be published now (not stored, not audited: nothing changes)."""
    today = today or local_today()
    _check(actor, county, year, month, today)
    found = versions(county.id, year, month)
    figures = monthly.build(county, year, month, today)
    issue = _issue(county, found[-1] if found else None, "（草稿）", today)
    render = monthly_render.render_pdf if fmt == "pdf" else monthly_render.render_xlsx
    return render(figures, issue)


def publish(county: Area, year: int, month: date, actor: Any, reason: str = "",
            today: date | None = None) -> MonthlyReport:
    """Freeze the month's report; a month already published needs a correction reason and
    gets the next version, superseding the latest."""
    today = today or local_today()
    _check(actor, county, year, month, today)
    reason = " ".join((reason or "").split())
    found = versions(county.id, year, month)
    latest = found[-1] if found else None
    if latest is not None and not reason:
        raise Refusal(_l("This month's report is published. To correct it, publish a "
                         "corrected version and give the reason."), "reason")
    if len(reason) > MAX_REASON:
        raise Refusal(_l("The reason is too long (at most %(n)d characters).", n=MAX_REASON),
                      "reason")
    figures = monthly.build(county, year, month, today)
    issue = _issue(county, latest, reason, today)
    pdf = monthly_render.render_pdf(figures, issue)
    xlsx = monthly_render.render_xlsx(figures, issue)
    stem = f"{county.code}-{year}-{month:%Y%m}-v{issue.version}"
    report = MonthlyReport(
        county_id=county.id, programme_year=year, month=month, version=issue.version,
        supersedes_id=latest.id if latest else None, correction_reason=reason or None,
        pdf_path=store_new(pdf, "monthly", stem, "pdf"),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        xlsx_path=store_new(xlsx, "monthly", stem, "xlsx"),
        xlsx_sha256=hashlib.sha256(xlsx).hexdigest(), published_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    record("reports.monthly_published", "monthly_report", report.id, actor=actor,
           summary=f"{year} {month:%Y-%m} v{report.version}" + (f": {reason}" if reason else ""),
           after={"county": county.id, "programme_year": year, "month": f"{month:%Y-%m}",
                  "version": report.version, "supersedes": report.supersedes_id,
                  "pdf_sha256": report.pdf_sha256, "xlsx_sha256": report.xlsx_sha256,
                  "done": figures.total.done, "paid_fen": figures.total.paid_fen})
    return report


def stored(report: MonthlyReport, fmt: str) -> bytes:
    """The published file's bytes, checked against the SHA-256 kept at publishing."""
    if fmt == "pdf":
        return read_checked(report.pdf_path, report.pdf_sha256, f"monthly report {report.id}")
    return read_checked(report.xlsx_path, report.xlsx_sha256, f"monthly report {report.id}")
