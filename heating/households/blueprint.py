"""The households domain's blueprints: the object alone; the views modules import it and add their routes,
``heating.households.wiring.init_app`` registers it on the app."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("households", __name__, url_prefix="/households")
imports_bp = Blueprint("imports", __name__, url_prefix="/imports")
exports_bp = Blueprint("exports", __name__, url_prefix="/exports")
