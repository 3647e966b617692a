"""Configuration from the environment: production refuses unsafe settings."""
from __future__ import annotations

import pytest

from config import ConfigError, load_config, normalise_database_url


def test_production_needs_secrets_and_database(monkeypatch):
    for name in ("SECRET_KEY", "LOOKUP_KEY", "CERTIFICATE_KEY", "PUBLIC_BASE_URL",
                 "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as err:
        load_config("production")
    assert "SECRET_KEY" in str(err.value) and "DATABASE_URL" in str(err.value)
    assert "CERTIFICATE_KEY" in str(err.value) and "PUBLIC_BASE_URL" in str(err.value)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("LOOKUP_KEY", "k" * 40)
    monkeypatch.setenv("CERTIFICATE_KEY", "c" * 40)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://heating.example.gov.cn/")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/heating")
    config = load_config("production")
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/heating"
    assert config.DEMO_DATA_ALLOWED is False and config.SESSION_COOKIE_SECURE is True
    assert config.PUBLIC_BASE_URL == "https://heating.example.gov.cn"


def test_unknown_environment_refused():
    with pytest.raises(ConfigError):
        load_config("staging")


def test_development_keeps_generated_secret(monkeypatch, tmp_path):
    import config as config_module
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = load_config("development")
    second = load_config("development")
    assert first.SECRET_KEY == second.SECRET_KEY and len(first.SECRET_KEY) >= 32
    assert first.LOOKUP_KEY != first.SECRET_KEY
    assert first.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_spellings():
    assert normalise_database_url("postgres://x/y") == "postgresql+psycopg://x/y"
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_demo_data_refused_in_production(app, monkeypatch):
    app.config["DEMO_DATA_ALLOWED"] = False
    result = app.test_cli_runner().invoke(args=["demo-data", "--households", "5"])
    assert result.exit_code != 0 and "production" in result.output


def test_sqlite_pragmas_and_immediate_writers(app):
    from sqlalchemy import text

    from heating.extensions import db
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    statements = []
    from sqlalchemy import event

    from heating.core.db import writing

    @event.listens_for(db.engine, "before_cursor_execute")
    def _log(conn, cursor, statement, *args):
        statements.append(statement)
    from sqlalchemy import event as ev
    with writing():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            conn.commit()
    ev.remove(db.engine, "before_cursor_execute", _log)
    assert "BEGIN IMMEDIATE" in statements


def test_proxy_headers_trusted_only_when_configured(db_url):
    from tests.conftest import make_app
    plain = make_app(db_url)
    proxied = make_app(db_url, TRUSTED_PROXIES=1)
    seen = {}
    for name, application in (("plain", plain), ("proxied", proxied)):
        @application.get("/_ip_probe")
        def probe():
            from flask import request
            return request.remote_addr or ""
        seen[name] = application.test_client().get(
            "/_ip_probe", headers={"X-Forwarded-For": "203.0.113.7"}).get_data(as_text=True)
    assert seen == {"plain": "127.0.0.1", "proxied": "203.0.113.7"}


def test_public_base_url_follows_the_served_port(monkeypatch):
    """Development: no PUBLIC_BASE_URL → the address flask run serves (FLASK_RUN_HOST / PORT,
    which `make run` passes), flagged as derived; a given one wins and is not flagged."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("FLASK_RUN_HOST", "0.0.0.0")
    monkeypatch.setenv("FLASK_RUN_PORT", "5101")
    config = load_config("development")
    assert config.PUBLIC_BASE_URL == "http://127.0.0.1:5101"
    assert config.PUBLIC_BASE_URL_DEFAULTED is True
    monkeypatch.setenv("FLASK_RUN_HOST", "192.0.2.7")
    assert load_config("development").PUBLIC_BASE_URL == "http://192.0.2.7:5101"
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://heating.county.local:8080/")
    config = load_config("development")
    assert config.PUBLIC_BASE_URL == "http://heating.county.local:8080"
    assert config.PUBLIC_BASE_URL_DEFAULTED is False


def test_make_run_passes_the_port_it_serves():
    """The Makefile's run target exports its HOST and PORT to flask run and the app alike."""
    from pathlib import Path
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "run: export FLASK_RUN_PORT = $(PORT)" in makefile
    assert "run: export FLASK_RUN_HOST = $(HOST)" in makefile


def test_start_up_warns_when_the_public_address_is_derived(monkeypatch, tmp_path, caplog):
    import logging

    import config as config_module
    from heating import create_app
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("FLASK_RUN_PORT", "5101")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with caplog.at_level(logging.WARNING):
        create_app("development")
    assert any("PUBLIC_BASE_URL is not set" in r.getMessage() and "5101" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://heating.county.local")
    with caplog.at_level(logging.WARNING):
        create_app("development")
    assert not any("PUBLIC_BASE_URL" in r.getMessage() for r in caplog.records)
