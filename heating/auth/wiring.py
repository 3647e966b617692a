"""How the auth domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.auth import admin_views, views  # noqa: F401  (views modules add their routes to the blueprint)
from heating.auth.blueprint import admin_bp, bp


def init_app(app: Flask) -> None:
    """Login, password and the admin's user pages (``views`` and ``admin_views`` add the routes)."""
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
