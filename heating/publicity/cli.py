"""``flask confirm-notices``: the daily end-of-notice confirmation (run from cron)."""
from __future__ import annotations

from datetime import date, datetime

import click
from flask import Flask

from heating.core.db import writing
from heating.extensions import db
from heating.publicity import services


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD, e.g. 2026-11-08") from None


def register_publicity_cli(app: Flask) -> None:
    @app.cli.command("confirm-notices")
    @click.option("--date", "on", default=None, help="today's date (Beijing) as YYYY-MM-DD; "
                  "default: today")
    def confirm_notices_cmd(on: str | None) -> None:
        """Confirm the cases of every 公示 notice whose period is over and that have no open
        objection; close notices with nothing left waiting.  Safe to run again."""
        today = _date(on)
        with writing():
            result = services.confirm_due(today=today)
            db.session.commit()
        click.echo(f"confirmed {result.confirmed} case(s) on {result.notices} notice(s); "
                   f"notices closed {result.closed}; entries taken off {result.removed}")
