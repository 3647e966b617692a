"""``flask import-households``: the same report as the preview, the same rules, and an exit
status a script can rely on."""
from __future__ import annotations

from sqlalchemy import func, select

from heating.extensions import db
from heating.households.imports.models import ImportRecord
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


def test_every_report_string_is_extracted_for_translation(app, world, tmp_path, monkeypatch):
    """Each text the command passes to gettext is one pybabel extracts from its source (the
    "row" word used to sit inside an f-string, where extraction cannot see it)."""
    from babel.messages.extract import extract_from_file

    from heating.households.imports import cli as import_cli
    extracted = {m[1] for m in extract_from_file("python", import_cli.__file__)}
    used = []
    real = import_cli._

    def recording(msgid, **kw):
        used.append(msgid)
        return real(msgid, **kw)

    monkeypatch.setattr(import_cli, "_", recording)
    make_user("clerk", world.village_a1, username="li")
    path = tmp_path / "f.xlsx"
    path.write_bytes(xlsx(grid([row(1), row(2, 常住人口="0")])))
    result = run(app, str(path), "--as", "li", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "row %(n)s" in used
    assert sorted(set(used) - extracted) == []


def test_row_word_is_translated(app, world, tmp_path):
    from flask_babel import force_locale

    from heating.households.imports import parse
    from heating.households.imports.cli import report_lines
    user = make_user("clerk", world.village_a1, username="li")
    data = xlsx(grid([row(1)]))
    with app.test_request_context():
        parsed = parse(data, user)
        with force_locale("en"):
            assert report_lines(parsed)[0].startswith("row 2\tnew\t")
        with force_locale("zh_Hans_CN"):
            from flask_babel import gettext
            assert report_lines(parsed)[0].startswith(gettext("row %(n)s", n=2) + "\tnew\t")


def test_withdrawn_and_cancelled_rows_are_reported_and_not_imported(app, world, tmp_path):
    from heating.households.imports.rules import TEMPLATE_HEADERS
    make_user("clerk", world.village_a1, username="li")
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx(grid([row(1, 状态="撤销"), row(2, 状态="注销"), row(3, 状态="草稿")],
                               headers=TEMPLATE_HEADERS + ("状态",))))
    result = run(app, str(path), "--as", "li", "--only-problems")
    assert result.exit_code == 0, result.output + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[1] for line in lines[:2]] == ["skipped", "skipped"]
    with app.app_context():  # English or Chinese, whichever the catalog in force renders
        assert any(text in result.stdout for text in _renderings(
            "%(n)d withdrawn or cancelled cases skipped (not imported).", n=2))
    assert count() == 1


def _renderings(msgid, **kw):
    from flask_babel import force_locale, gettext
    found = set()
    for locale in ("en", "zh_Hans_CN"):
        with force_locale(locale):
            found.add(gettext(msgid, **kw))
    return found
