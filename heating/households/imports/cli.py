"""``flask import-households FILE --as USERNAME [--dry-run] [--year YEAR]``: the screen's
upload and confirmation in one command, with the same per-row report.  Exits non-zero when
nothing was (or, with --dry-run, would be) imported."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heating.auth import permissions
from heating.auth.models import User
from heating.core.db import writing
from heating.core.spreadsheet_read import SpreadsheetError
from heating.extensions import db
from heating.households.forms import default_programme_year
from heating.households.imports import Parsed, parse, services
from heating.households.imports.rules import RULES, render, render_problem


class _Bars:
    """A progress bar per stage on standard error (the report goes to standard output)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.stage = ""
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if stage != self.stage:
            self.close()
            label = {"check": _("Checking rows"), "insert": _("Importing")}.get(stage, stage)
            self.bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            self.bar.__enter__()
            self.stage, self.done = stage, 0
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        self.stage = ""


def report_lines(parsed: Parsed, only_problems: bool = False) -> list[str]:
    lines = []
    for row in parsed.rows:
        if only_problems and row.status == "new":
            continue
        number, status, name, id_masked, village, problems = row.as_json()
        text = "; ".join(render_problem(p) for p in problems)
        lines.append("\t".join((_("row %(n)s", n=number), status, name, id_masked, village,
                                text)).rstrip())
    counts = parsed.counts()
    lines.append(_("%(rows)d rows: %(new)d new, %(duplicates)d duplicates, %(errors)d errors",
                   **counts))
    skipped = parsed.count("skipped")
    if skipped:
        lines.append(_("%(n)d withdrawn or cancelled cases skipped (not imported).",
                       n=skipped))
    return lines


def register_import_cli(app: Flask) -> None:
    """Adds the import command to the app's CLI."""

    @app.cli.command("import-households")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--as", "username", required=True,
                  help="import as this user (their areas decide which villages are allowed)")
    @click.option("--year", type=int, default=None,
                  help="programme year of the new cases (default: the current year)")
    @click.option("--dry-run", is_flag=True, help="check and report only; write nothing")
    @click.option("--only-problems", is_flag=True, help="report only rows that are not new")
    def import_households_cmd(file: Path, username: str, year: int | None, dry_run: bool,
                              only_problems: bool) -> None:
        """Import households from an .xlsx or CSV file, all valid rows in one transaction."""
        year = year or default_programme_year()
        low, high, message = RULES.programme_year
        if not low <= year <= high:
            raise click.BadParameter(str(message), param_hint="--year")
        with writing():
            user = db.session.scalar(select(User).where(User.username == username,
                                                        User.active.is_(True)))
            if user is None:
                raise click.ClickException(f"no active user {username}")
            if not permissions.may_import(user):
                raise click.ClickException(
                    f"{username} may not import: it needs a clerk, reviewer or county role")
            data = file.read_bytes()
            bars = _Bars()
            try:
                if dry_run:
                    imported = _dry_run(data, file.name, user, bars, only_problems)
                else:
                    imported = _import(data, file.name, year, user, bars, only_problems)
            finally:
                bars.close()
        if imported == 0:
            sys.exit(1)


def _dry_run(data: bytes, name: str, user: Any, bars: _Bars, only_problems: bool) -> int:
    try:
        services.check_upload(data)
        parsed = parse(data, user, progress=bars)
    except SpreadsheetError as err:
        bars.close()
        click.echo(str(err.message), err=True)
        return 0
    finally:
        db.session.rollback()
    bars.close()
    for line in report_lines(parsed, only_problems):
        click.echo(line)
    click.echo(_("Dry run: nothing was written."))
    return len(parsed.importable)


def _import(data: bytes, name: str, year: int, user: Any, bars: _Bars,
            only_problems: bool) -> int:
    rec, parsed = services.upload(data, name, year, user, progress=bars)
    bars.close()
    if parsed is None:
        db.session.commit()  # the refused attempt stays on record
        click.echo(render(rec.preview_data.get("file_error", {})), err=True)
        return 0
    for line in report_lines(parsed, only_problems):
        click.echo(line)
    if not parsed.importable:
        db.session.commit()
        click.echo(_("Nothing was imported: no row can be imported."), err=True)
        return 0
    try:
        outcome = services.confirm(rec, user, progress=bars)
        bars.close()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        click.echo(_("Nothing was imported: some of these ID numbers were registered at the "
                     "same moment. Run the command again."), err=True)
        return 0
    if outcome.refused is not None or outcome.changed:
        click.echo(str(outcome.refused or _("Nothing was imported: cases were registered "
                                            "meanwhile. Run the command again.")), err=True)
        return 0
    click.echo(_("%(n)d households were imported as drafts (import %(id)s).",
                 n=outcome.imported, id=rec.id))
    return outcome.imported
