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
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, text

from config import normalise_database_url
from heating import create_app
from heating.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"


def pytest_report_header(config: Any) -> str:
    return f"heating test database: {BACKEND}"


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates shared by the apps of the whole session (every test makes its own
    app, which would otherwise compile each template it renders again).  Keys include a
    checksum of the template source, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


def make_app(url: str, **overrides: Any) -> Flask:
    settings = {"HEATING_ENV": "test", "SQLALCHEMY_DATABASE_URI": url,
                "SERVER_NAME": "localhost"}
    settings.update(overrides)
    app = create_app(settings)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    return app


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


_CLEANERS: dict[str, Any] = {}


def _empty_postgres(url: str) -> None:
    """Empty the tables the previous test wrote to and restart the sequences it used.
    TRUNCATE costs a few milliseconds per table whether it holds rows or not, so only the
    tables with rows are truncated (one query finds them): ~25 ms instead of ~100 ms a test."""
    engine = _CLEANERS.get(url)
    if engine is None:
        engine = _CLEANERS[url] = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
        used = conn.execute(text(" UNION ALL ".join(
            f"SELECT '{t}' FROM (SELECT 1 FROM {t} LIMIT 1) AS r{i}"
            for i, t in enumerate(tables)))).scalars().all()
        sequences = conn.execute(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname='public' "
            "AND last_value IS NOT NULL")).scalars().all()
        # triggers off for this transaction only: the audit table refuses TRUNCATE otherwise
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        if used:
            conn.execute(text(f"TRUNCATE {', '.join(used)} RESTART IDENTITY CASCADE"))
        for sequence in sequences:  # rolled-back inserts advance sequences of empty tables
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


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
