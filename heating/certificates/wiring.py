"""How the certificates domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.certificates import application_views, case_page, views  # noqa: F401  (views modules add their routes to the blueprint; application_views to the households one)
from heating.certificates.blueprint import bp
from heating.households.providers import register_page_context


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_page_context(app, case_page.paperwork)
