"""The auth domain's blueprints: the object alone; the views modules import it and add their routes,
``heating.auth.wiring.init_app`` registers it on the app."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")
