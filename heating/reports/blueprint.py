"""The reports domain's dashboard blueprint: the object alone; ``dashboard_views`` adds its
routes, ``heating.reports.wiring.init_app`` registers it."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
