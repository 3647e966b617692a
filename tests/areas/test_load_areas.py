"""Loading the area code list, and reloading a newer year."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from heating.areas import services as areas
from heating.areas.models import Area, AreaTarget
from heating.core.i18n import local_today
from heating.extensions import db

HEADER = "code,name,level,parent_code,code_year,programme_year,target\n"
FILE_2024 = HEADER + """139901000000,示范县,county,,2024,2026,100
139901001000,东河镇,township,139901000000,2024,2026,60
139901001001,东河村,village,139901001000,2024,2026,30
139901001002,南岗村,village,139901001000,2024,2026,30
139901002000,西山乡,township,139901000000,2024,2026,40
139901002001,西山村,village,139901002000,2024,2026,40
"""
FILE_2025 = HEADER + """139901000000,示范县,county,,2025,2026,120
139901001000,东河镇,township,139901000000,2025,2026,80
139901001001,东河新村,village,139901001000,2025,2026,80
139901002000,西山乡,township,139901000000,2025,2026,40
139901002001,西山村,village,139901002000,2025,2026,40
"""


def load(app, tmp_path, content):
    path = tmp_path / "areas.csv"
    path.write_text(content, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["load-areas", str(path)])


def test_load_then_reload_newer_year(app, tmp_path):
    result = load(app, tmp_path, FILE_2024)
    assert result.exit_code == 0, result.output
    assert "areas created 6" in result.output
    village = db.session.scalar(select(Area).where(Area.code == "139901001001"))
    assert village.parent.code == "139901001000" and village.level == "village"

    result = load(app, tmp_path, FILE_2025)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    renamed = db.session.scalar(select(Area).where(Area.code == "139901001001"))
    retired = db.session.scalar(select(Area).where(Area.code == "139901001002"))
    assert renamed.name == "东河新村" and renamed.code_year == 2025 and not renamed.retired
    assert retired is not None and retired.retired  # never deleted
    assert areas.current_target(renamed.id, 2026).target == 80
    # the history is kept: the first target stays in force until the day it was changed
    history = list(db.session.scalars(select(AreaTarget).where(
        AreaTarget.area_id == renamed.id, AreaTarget.programme_year == 2026)
        .order_by(AreaTarget.effective_from)))
    assert [t.target for t in history] == [30, 80]
    assert history[0].effective_from == date(2026, 1, 1)
    assert history[1].effective_from == local_today()
    assert areas.targets_on(2026, local_today() - timedelta(days=1))[renamed.id] == 30
    assert areas.targets_on(2026, local_today())[renamed.id] == 80
    # reloading the same file changes nothing and writes no new row
    assert load(app, tmp_path, FILE_2025).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(AreaTarget).where(
        AreaTarget.area_id == renamed.id)) == 2
    assert db.session.scalar(select(Area).where(Area.code == "139901000000")).code_year == 2025


def test_bad_files_change_nothing(app, tmp_path):
    bad = [
        "code,name\n139901000000,x\n",
        HEADER + "13990100000,示范县,county,,2024,2026,100\n",
        HEADER + "139901001000,东河镇,county,,2024,2026,1\n",
        HEADER + "139901001001,东河村,village,139901002000,2024,2026,1\n",
        HEADER + "139901001001,东河村,village,139901001000,2024,2026,1\n",
        HEADER + "139901000000,示范县,county,,year,2026,1\n",
        HEADER + "139901000000,示范县,county,,2024,2026,-5\n",
    ]
    for content in bad:
        result = load(app, tmp_path, content)
        assert result.exit_code != 0 and "nothing loaded" in result.output, content
        assert db.session.scalar(select(Area)) is None
