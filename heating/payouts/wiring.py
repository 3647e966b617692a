"""How the payouts domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.households.templating import register_case_panel
from heating.payouts import correction_views, panel, usage, views  # noqa: F401  (views modules add their routes to the blueprint)
from heating.payouts.blueprint import bp
from heating.payouts.usage import views as usage_views  # noqa: F401
from heating.subsidies import services as subsidies


def init_app(app: Flask) -> None:
    """Batches, bank files and results (``views``), account corrections and usage files (their own
    modules, same blueprint); the payments panel."""
    app.register_blueprint(bp)
    register_case_panel(app, "payouts/_case_panel.html", panel.case_panel)
    subsidies.register_policy_use(app, usage.policies_with_usage)
