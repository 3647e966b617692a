"""The subsidies domain's blueprint: the object alone; the views modules import it and add their routes,
``heating.subsidies.wiring.init_app`` registers it on the app."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("subsidies", __name__, url_prefix="/subsidies")
