"""The heating app: rural clean-heating subsidy case management.

``create_app`` runs named steps: load config → init extensions → blueprints → errors → CLI.
Nothing connects to a database at import time.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from config import Config, load_config, normalise_database_url
from heating.audit_viewer import wiring as audit_wiring
from heating.auth import wiring as auth_wiring
from heating.auth.session import install_session_rules
from heating.certificates import wiring as certificates_wiring
from heating.cli import register
from heating.core.db import configure_engine
from heating.core.i18n import select_locale, select_timezone
from heating.core.redact import install_log_redaction
from heating.core.web import (
    install_bounded_ids,
    install_error_pages,
    install_proxy_fix,
    install_template_helpers,
    install_unit_of_work,
    install_write_intent,
)
from heating.extensions import babel, csrf, db, login_manager, migrate
from heating.households import wiring as households_wiring
from heating.households.templating import install_domain_globals
from heating.inspections import wiring as inspections_wiring
from heating.main import bp as main_bp
from heating.payouts import wiring as payouts_wiring
from heating.publicity import wiring as publicity_wiring
from heating.reports import wiring as reports_wiring
from heating.subsidies import wiring as subsidies_wiring

#: The domains in the order they plug in: blueprints first to last, and the case page's panels
#: in this order (follow-up visits, equipment subsidy, public notice, payments).
#: (``*_wiring`` names, never the domain's own: ``heating.households`` must stay the package.)
DOMAINS = (auth_wiring, households_wiring, audit_wiring, inspections_wiring, certificates_wiring,
           subsidies_wiring, publicity_wiring, payouts_wiring, reports_wiring)


def create_app(config: Config | dict[str, Any] | str | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_relative_config=False)
    load_configuration(app, config)
    init_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errors(app)
    register_cli(app)
    warn_about_defaults(app)
    return app


def warn_about_defaults(app: Flask) -> None:
    """Say at start-up what a developer would otherwise find out from a dead QR code."""
    if app.config["ENV_NAME"] == "development" and app.config["PUBLIC_BASE_URL_DEFAULTED"]:
        app.logger.warning(
            "PUBLIC_BASE_URL is not set: certificates and their QR codes point to %s, which "
            "only this computer can open. Set PUBLIC_BASE_URL to the address phones and the "
            "public reach (production refuses to start without it).",
            app.config["PUBLIC_BASE_URL"])


def load_configuration(app: Flask, config: Config | dict[str, Any] | str | None) -> None:
    if isinstance(config, dict):
        base = load_config(config.get("HEATING_ENV"))
        app.config.from_object(base)
        app.config.update(config)
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            app.config["SQLALCHEMY_DATABASE_URI"])
    else:
        app.config.from_object(config if isinstance(config, Config) else load_config(config))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories="translations")
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    install_log_redaction()
    app.jinja_env.add_extension("jinja2.ext.do")


def register_blueprints(app: Flask) -> None:
    install_bounded_ids(app)
    app.register_blueprint(main_bp)
    for domain in DOMAINS:
        domain.init_app(app)


def register_request_hooks(app: Flask) -> None:
    install_proxy_fix(app)
    install_write_intent(app)
    install_unit_of_work(app)
    install_domain_globals(app)
    install_session_rules(app)
    install_template_helpers(app)


def register_errors(app: Flask) -> None:
    install_error_pages(app)


def register_cli(app: Flask) -> None:
    register(app)
