"""How the reports domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.reports import (  # noqa: F401  (routes; the settings tables)
    dashboard_views,
    models,
    monthly_views,  # noqa: F401  (the monthly report's routes)
)
from heating.reports.blueprint import bp


def init_app(app: Flask) -> None:
    """The dashboard and the county's settings (``dashboard_views``), the monthly ranking
    report (``monthly_views``)."""
    app.register_blueprint(bp)
