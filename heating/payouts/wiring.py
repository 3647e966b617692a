"""How the payouts domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.households.exports import register_ledger_columns
from heating.households.templating import register_case_panel
from heating.inspections.followups import follow_up_recorded
from heating.payouts import (  # noqa: F401  (views modules add their routes to the blueprint)
    correction_views,
    ledger,
    panel,
    recoveries,
    recovery_views,
    usage,
    views,
)
from heating.payouts.blueprint import bp
from heating.payouts.usage import views as usage_views  # noqa: F401
from heating.subsidies import services as subsidies


def init_app(app: Flask) -> None:
    """Batches, bank files and results (``views``), account corrections, usage files and
    recoveries (their own modules, same blueprint); the payments and recoveries panels; a
    follow-up finding opens a recovery (``follow_up_recorded``: blinker holds one connection
    however many apps are made); the ledger's paid and recovery columns."""
    app.register_blueprint(bp)
    register_case_panel(app, "payouts/_case_panel.html", panel.case_panel)
    register_case_panel(app, "payouts/_recovery_panel.html", panel.recovery_panel)
    follow_up_recorded.connect(recoveries.open_on_finding)
    register_ledger_columns(app, ledger.ledger_columns)
    register_ledger_columns(app, recoveries.ledger_columns)
    subsidies.register_policy_use(app, usage.policies_with_usage)
