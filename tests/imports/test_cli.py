"""``flask import-households``: the same report as the preview, the same rules, and an exit
status a script can rely on."""
from __future__ import annotations

from sqlalchemy import func, select

from heating.extensions import db
from heating.households.import_models import ImportRecord
from heating.households.models import Household
from tests.fixtures import make_user
from tests.imports.helpers import grid, row, xlsx


def count(model=Household):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import-households", *args])


def test_dry_run_reports_and_writes_nothing(app, world, tmp_path):
    make_user("clerk", world.village_a1, username="li")
    path = tmp_path / "f.xlsx"
    path.write_bytes(xlsx(grid([row(1), row(2, 常住人口="0")])))
    result = run(app, str(path), "--as", "li", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[1:3] == ["new", row(1)["户主姓名"]]
    assert "\terror\t" in lines[1] and "常住人口" in lines[1]
    assert count() == 0 and count(ImportRecord) == 0


def test_import_then_again(app, world, tmp_path):
    make_user("clerk", world.village_a1, username="li")
    path = tmp_path / "f.xlsx"
    path.write_bytes(xlsx(grid([row(n) for n in range(1, 6)] + [row(9, 身份证号="x")])))
    result = run(app, str(path), "--as", "li", "--year", "2027")
    assert result.exit_code == 0, result.output + result.stderr
    assert count() == 5
    assert db.session.scalar(select(func.min(Household.programme_year))) == 2027
    assert "身份证号" in result.output  # the error row is reported
    again = run(app, str(path), "--as", "li")
    assert again.exit_code == 1 and count() == 5


def test_exit_status_when_nothing_imported_because_of_errors(app, world, tmp_path):
    make_user("clerk", world.village_a1, username="li")
    path = tmp_path / "f.xlsx"
    path.write_bytes(xlsx(grid([row(1, 村="西山村"), row(2, 改造类型="?")])))
    assert run(app, str(path), "--as", "li").exit_code == 1
    assert run(app, str(path), "--as", "li", "--dry-run").exit_code == 1
    assert count() == 0


def test_refused_file_and_unknown_or_unfit_user(app, world, tmp_path):
    make_user("clerk", world.village_a1, username="li")
    make_user("inspector", world.town_a, username="insp")
    path = tmp_path / "f.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    result = run(app, str(path), "--as", "li")
    assert result.exit_code == 1 and ".xlsx" in result.stderr
    assert run(app, str(path), "--as", "nobody").exit_code == 1
    assert "may not import" in run(app, str(path), "--as", "insp").output
