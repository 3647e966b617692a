"""How the certificates domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.certificates import views  # noqa: F401  (views modules add their routes to the blueprint)
from heating.certificates.blueprint import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
