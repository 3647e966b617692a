"""How the audit domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.audit_viewer import views  # noqa: F401  (views modules add their routes to the blueprint)
from heating.audit_viewer.blueprint import bp
from heating.audit_viewer.present import present
from heating.auth.history import register_presenter


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_presenter(app, present)
