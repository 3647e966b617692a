"""``flask monthly-report --month 2026-11 [--year 2026] [--county CODE] OUT.pdf|OUT.xlsx``:
the monthly ranking report as of the month's end, written to a file (read-only: publishing,
which freezes and records the report, is done on the screen by a county user)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from heating.areas.models import Area
from heating.core.i18n import local_today
from heating.extensions import db
from heating.reports import monthly, monthly_render, publishing


def register_report_cli(app: Flask) -> None:
    @app.cli.command("monthly-report")
    @click.option("--month", "month_text", required=True, metavar="YYYY-MM",
                  help="the month reported (a month that is over)")
    @click.option("--year", type=click.IntRange(2016, 2100), default=None,
                  help="the programme year (default: the month's year)")
    @click.option("--county", "county_code", default=None, metavar="CODE",
                  help="the county's area code (default: the only county)")
    @click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
    def monthly_report_cmd(month_text: str, year: int | None, county_code: str | None,
                           out: Path) -> None:
        """Write the monthly ranking report (月度通报) as PDF or XLSX (by OUT's extension)."""
        month = publishing.parse_month(month_text)
        if month is None:
            raise click.BadParameter("expected YYYY-MM, e.g. 2026-11", param_hint="--month")
        if out.suffix.lower() not in (".pdf", ".xlsx"):
            raise click.BadParameter("OUT must end in .pdf or .xlsx", param_hint="OUT")
        today = local_today()
        if monthly.month_end_day(month) >= today:
            raise click.ClickException(f"{month_text} is not over yet")
        query = select(Area).where(Area.level == "county")
        if county_code:
            query = query.where(Area.code == county_code)
        counties = list(db.session.scalars(query))
        if len(counties) != 1:
            raise click.ClickException(
                f"no county with code {county_code}" if county_code
                else f"{len(counties)} counties: choose one with --county CODE")
        county = counties[0]
        figures = monthly.build(county, year or month.year, month, today)
        issue = monthly_render.Issue(publishing.office_of(county), today)
        render = (monthly_render.render_pdf if out.suffix.lower() == ".pdf"
                  else monthly_render.render_xlsx)
        data = render(figures, issue)
        db.session.rollback()
        out.write_bytes(data)
        click.echo(f"{out}: {county.name} {figures.programme_year} {month_text}, "
                   f"{len(figures.townships)} townships, done {figures.total.done}, "
                   f"{len(data):,} bytes")
