"""``flask`` commands: thin, they call services and own the transaction."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from heating.areas.models import Area
from heating.areas.services import AreaFileError, by_code, load_areas
from heating.auth import services as accounts
from heating.auth.models import ROLES, User
from heating.core.db import writing
from heating.demo import build_demo, demo_logins
from heating.extensions import db
from heating.households.imports.cli import register_import_cli
from heating.inspections.cli import register_campaign_cli
from heating.payouts.demo import extend_demo
from heating.publicity.cli import register_publicity_cli
from heating.reports.cli import register_report_cli


def _password(from_stdin: bool, username: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


# --- areas ---

@click.command("load-areas")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_areas_cmd(file: Path) -> None:
    """Load or update areas from CSV: code,name,level,parent_code,code_year,programme_year,target."""
    with writing():
        try:
            report = load_areas(file.read_text(encoding="utf-8-sig"))
        except (AreaFileError, UnicodeDecodeError) as err:
            db.session.rollback()
            raise click.ClickException(f"nothing loaded:\n{err}") from None
        db.session.commit()
    click.echo(f"areas created {report.created}, updated {report.updated}, retired "
               f"{report.retired}; targets set {report.targets}")


# --- accounts ---

def _grantable_area(role: str, code: str) -> Area:
    """The area with this code, if ROLE may be granted over it; else the command stops with why."""
    area = by_code(code)
    if area is None:
        raise click.ClickException(f"unknown area code {code}")
    problem = accounts.grant_problem(role, area)
    if problem:
        raise click.ClickException(str(problem))
    return area


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--area", "areas", multiple=True, required=True, help="area code (repeatable)")
@click.option("--name", "display_name", default="", help="display name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def create_user_cmd(username: str, role: str, areas: tuple[str, ...], display_name: str,
                    password_stdin: bool) -> None:
    """Create a user holding ROLE over one or more areas (must change password at login)."""
    with writing():
        area_ids = [_grantable_area(role, code).id for code in areas]
        password = _password(password_stdin, username)
        try:
            accounts.create_user(username, display_name or username, password, None,
                                 [(role, a) for a in area_ids])
        except accounts.AccountError as err:
            db.session.rollback()
            raise click.ClickException(str(err.message)) from None
        db.session.commit()
    click.echo(f"user {username} created as {role} over {', '.join(areas)}")


@click.command("grant")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--area", "code", required=True)
def grant_cmd(username: str, role: str, code: str) -> None:
    """Give USERNAME another role over an area."""
    with writing():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or by_code(code) is None:
            raise click.ClickException("unknown user or area code")
        area = _grantable_area(role, code)
        accounts.grant_role(user, role, area.id, None)
        db.session.commit()
    click.echo(f"{username} now holds {role} over {code}")


# --- demo database (development only) ---

@click.command("demo-data")
@with_appcontext
@click.option("--households", default=20000, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing when the database has users")
def demo_data_cmd(households: int, seed: int, if_empty: bool) -> None:
    """Build a fictional county with users for every role and households in every state."""
    if not current_app.config.get("DEMO_DATA_ALLOWED"):
        raise click.ClickException("demo-data is refused in production")
    if db.session.scalar(select(User.id).limit(1)) is not None:
        if if_empty:
            click.echo("demo data already loaded (the database has users): skipped")
            return
        raise click.ClickException("the database already has users: demo-data needs an "
                                   "empty database")
    with writing():
        build_demo(households=households, seed=seed, echo=click.echo)
        extend_demo(seed=seed, echo=click.echo)


@click.command("demo-logins")
@with_appcontext
def demo_logins_cmd() -> None:
    """Print the demo users and their password (development databases only)."""
    if not current_app.config.get("DEMO_DATA_ALLOWED"):
        raise click.ClickException("no demo logins in production")
    for line in demo_logins():
        click.echo(line)


def register(app: Flask) -> None:
    """Every ``flask`` command of the app: the domains' own groups, then the commands above."""
    register_import_cli(app)
    register_publicity_cli(app)
    register_campaign_cli(app)
    register_report_cli(app)
    for command in (load_areas_cmd, create_user_cmd, grant_cmd, demo_data_cmd, demo_logins_cmd):
        app.cli.add_command(command)
