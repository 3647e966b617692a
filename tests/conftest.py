"""Test fixtures: a migrated database per test (SQLite: a copy of a migrated template file;
PostgreSQL: the migrated schema, emptied between tests), the app, and logins per role.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import contextvars
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text

from config import normalise_database_url
from heating import create_app
from heating.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"


def pytest_report_header(config: Any) -> str:
    return f"heating test database: {BACKEND}"


def make_app(url: str, **overrides: Any) -> Flask:
    settings = {"HEATING_ENV": "test", "SQLALCHEMY_DATABASE_URI": url,
                "SERVER_NAME": "localhost"}
    settings.update(overrides)
    return create_app(settings)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session: a template SQLite file, or the PostgreSQL test schema."""
    if PG_URL:
        url = normalise_database_url(PG_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        if not PG_URL:
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        # triggers off for this session only: the audit table refuses TRUNCATE otherwise
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(template_db: str, tmp_path: Path) -> str:
    if PG_URL:
        _empty_postgres(template_db)
        return template_db
    source = Path(template_db.removeprefix("sqlite:///"))
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


class IsolatedClient(FlaskClient):
    """Each request runs as in production: its own app context, ``g`` and database session.

    The test's own session (in the fixture's app context) is committed before the request,
    so what the test set up is visible, and expired after it, so the test reads fresh rows.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, STORAGE_DIR=str(tmp_path / "storage"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


def csrf_token(app: Flask, client: Any) -> str:
    """A valid CSRF token for this client's session (as Flask-WTF would render it)."""
    with client.session_transaction() as sess:
        raw = sess.setdefault("csrf_token", "test-raw-csrf-token")
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def post(app: Flask, client: Any) -> Callable[..., Any]:
    """client.post with a valid CSRF token added to the form data."""
    def _post(url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(app, client))
        return client.post(url, data=data, **kw)
    return _post


pytest_plugins = ["tests.fixtures"]
