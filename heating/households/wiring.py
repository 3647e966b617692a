"""How the households domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.households import export_views, views  # noqa: F401  (views modules add their routes to the blueprint)
from heating.households.blueprint import bp, exports_bp, imports_bp
from heating.households.imports import views as import_views  # noqa: F401


def init_app(app: Flask) -> None:
    """The case pages, the Excel imports and the exports (three blueprints, one domain)."""
    app.register_blueprint(bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(exports_bp)
