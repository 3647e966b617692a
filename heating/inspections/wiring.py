"""How the inspections domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.households.providers import (
    register_guard_facts,
    register_page_context,
    register_warnings,
)
from heating.households.templating import register_case_panel
from heating.inspections import (  # noqa: F401  (views modules add their routes to the blueprint)
    campaign_views,
    case_page,
    followup_views,
    installer_views,
    views,
)
from heating.inspections import services as inspections
from heating.inspections.blueprint import bp


def init_app(app: Flask) -> None:
    """Inspections and follow-up visits (two views modules, one blueprint); the follow-up panel, the
    case page's installation, inspections and documents, and the facts lifecycle guards ask."""
    app.register_blueprint(bp)
    register_guard_facts(app, case_page.guard_facts)
    register_warnings(app, inspections.warnings)
    register_page_context(app, case_page.paperwork)
    register_case_panel(app, "inspections/_followup_panel.html", followup_views.case_panel)
