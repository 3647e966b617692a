"""Test fixtures: a migrated database per test (SQLite: a copy of a migrated template file;
PostgreSQL: the migrated schema, emptied between tests), the app (one per session, its state
put back before each test), and logins per role.  Under pytest-xdist (``make test``) each
worker has its own template, app and database.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import contextvars
import copy
import importlib.util
import os
import shutil
import threading
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
from sqlalchemy.engine import make_url

from config import normalise_database_url
from heating import create_app
from heating.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"
#: pytest-xdist's worker ("gw0", "gw1", …), empty when the suite runs in one process
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def pg_database_url() -> str:
    """This process's PostgreSQL database: TEST_DATABASE_URL's own, or under pytest-xdist one
    beside it per worker (``<name>_gw0``…), which the ``template_db`` fixture creates."""
    url = make_url(normalise_database_url(PG_URL or ""))
    if WORKER:
        url = url.set(database=f"{url.database}_{WORKER}")
    return url.render_as_string(hide_password=False)


def create_scratch_database(url: str) -> None:
    """Make the PostgreSQL database of ``url`` empty: created on first use, later emptied by
    recreating its schema.  It is left in place at the end (``.ci/run`` drops CI's): DROP
    DATABASE forces a checkpoint of the whole server, seconds to minutes on a busy one."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # a connection a killed run left open would block the schema's drop below
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :name AND pid <> pg_backend_pid()"),
                     {"name": target.database})
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                              {"name": target.database}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
            # throw-away, like the CI's test database: no WAL flush at each commit
            conn.execute(text(
                f'ALTER DATABASE "{target.database}" SET synchronous_commit = off'))
    admin.dispose()
    if exists:
        _recreate_schema(url)


def _recreate_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def pytest_report_header(config: Any) -> str:
    return f"heating test database: {BACKEND}"


#: modules whose tests share a module-scoped database that is costly to build: under
#: pytest-xdist all of a module's tests go to one worker, which builds it once
ONE_WORKER_MODULES = ("tests/test_smoke_routes.py::",)

if importlib.util.find_spec("xdist"):
    from xdist.scheduler import LoadGroupScheduling

    class _OneWorkerModules(LoadGroupScheduling):
        """``--dist loadgroup``, grouping ONE_WORKER_MODULES by module (xdist 3.8's own
        ``xdist_group`` mark has no effect under pytest 9.2: it renames ``item._nodeid``,
        which pytest no longer reads)."""

        def _split_scope(self, nodeid: str) -> str:
            for module in ONE_WORKER_MODULES:
                if nodeid.startswith(module):
                    return module
            return super()._split_scope(nodeid)

    def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
        if config.getvalue("dist") == "loadgroup":
            return _OneWorkerModules(config, log)
        return None


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
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per session (per xdist worker: each has its own): a template SQLite file,
    or the PostgreSQL test schema (under xdist in a database of the worker's own)."""
    if PG_URL:
        url = pg_database_url()
        if WORKER:
            create_scratch_database(url)
        else:
            _recreate_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        if not PG_URL:
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    yield url
    engine = _CLEANERS.pop(url, None)
    if engine is not None:
        engine.dispose()


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


@pytest.fixture(scope="session")
def shared_app(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per session (per xdist worker): building one costs ~20 ms of CPU (werkzeug
    compiles each URL rule), a sizeable part of a short test.  Its database is a fixed file
    (SQLite, copied anew from the template before each test) or the PostgreSQL test database
    (emptied before each test); ``app`` puts back what a test may have changed."""
    if PG_URL:
        url = template_db
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = make_app(url)
    app.test_client_class = IsolatedClient
    app.extensions[_PRISTINE] = _AppState(app)
    yield app
    with app.app_context():
        db.engine.dispose()


_PRISTINE = "tests.pristine_app_state"


_LOCK = type(threading.Lock())


def _fresh(value: Any) -> Any:
    """A deep copy; an object holding a lock (the in-memory rate limiter) gets a new lock."""
    try:
        return copy.deepcopy(value)
    except TypeError:
        clone = copy.copy(value)
        for name, attr in vars(value).items():
            setattr(clone, name, threading.Lock() if isinstance(attr, _LOCK) else _fresh(attr))
        return clone


class _AppState:
    """What a test may change on the shared app, as it was when the app was made: the config,
    the app's own extension state (the verification rate limiter's counters, the case-page
    panels) and the attributes tests or fixtures replace."""

    ATTRIBUTES = ("test_client_class", "request_class", "response_class", "wsgi_app",
                  "session_interface", "json")

    def __init__(self, app: Flask) -> None:
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = {k: _fresh(v) for k, v in app.extensions.items()
                           if k.startswith("heating.")}
        self.attributes = {name: getattr(app, name) for name in self.ATTRIBUTES}
        self.jinja_globals = dict(app.jinja_env.globals)
        self.jinja_filters = dict(app.jinja_env.filters)

    def restore(self, app: Flask, **config: Any) -> None:
        app.config.clear()
        app.config.update(copy.deepcopy(self.config), **config)
        for key, value in self.extensions.items():
            app.extensions[key] = _fresh(value)
        for name, value in self.attributes.items():
            setattr(app, name, value)
        for mapping, pristine in ((app.jinja_env.globals, self.jinja_globals),
                                  (app.jinja_env.filters, self.jinja_filters)):
            if mapping != pristine:
                mapping.clear()
                mapping.update(pristine)


@pytest.fixture
def db_url(template_db: str, shared_app: Flask) -> str:
    """The shared app's database, as freshly migrated: connections closed, then the SQLite
    file replaced by a copy of the template, or the PostgreSQL tables emptied."""
    url = shared_app.config["SQLALCHEMY_DATABASE_URI"]
    with shared_app.app_context():
        db.engine.dispose()
    if PG_URL:
        _empty_postgres(template_db)
        return url
    target = Path(url.removeprefix("sqlite:///"))
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(Path(template_db.removeprefix("sqlite:///")), target)
    return url


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
def app(db_url: str, shared_app: Flask, tmp_path: Path) -> Iterator[Flask]:
    shared_app.extensions[_PRISTINE].restore(shared_app, STORAGE_DIR=str(tmp_path / "storage"))
    with shared_app.app_context():
        yield shared_app
        db.session.remove()


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
