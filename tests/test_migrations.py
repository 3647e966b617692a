"""Migrations: one head, up from empty and down to base on this backend, and the models agree
with what the migrations build."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from heating.extensions import db
from tests.conftest import PG_URL, make_app

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_single_head():
    from alembic.config import Config
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_downgrade_and_models_agree(template_db, tmp_path):
    url = template_db if PG_URL else f"sqlite:///{tmp_path / 'm.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True}), db.metadata)
        assert diffs == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "households" in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
