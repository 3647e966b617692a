"""How the subsidies domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.households.templating import register_case_panel
from heating.subsidies import views
from heating.subsidies.blueprint import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_case_panel(app, "subsidies/_case_panel.html", views.case_panel)
