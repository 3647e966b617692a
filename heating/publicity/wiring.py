"""How the publicity domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.certificates.services import certificate_revoked
from heating.households.services import case_moved
from heating.households.templating import register_case_panel
from heating.publicity import services, views
from heating.publicity.blueprint import bp
from heating.subsidies import services as subsidies


def init_app(app: Flask) -> None:
    """Public notices and objections; the notice panel; a case withdrawn or cancelled while on a
    notice, or whose certificate is revoked, leaves it (``case_moved``, ``certificate_revoked``:
    blinker holds one connection however many apps are made)."""
    app.register_blueprint(bp)
    register_case_panel(app, "publicity/_case_panel.html", views.case_panel)
    case_moved.connect(services.drop_withdrawn_or_cancelled)
    certificate_revoked.connect(services.take_off_revoked)
    subsidies.register_frozen_amount(app, services.frozen_subsidy)
    subsidies.register_policy_use(app, services.policies_on_notices)
