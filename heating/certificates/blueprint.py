"""The certificates domain's blueprint: the object alone; the views modules import it and add their routes,
``heating.certificates.wiring.init_app`` registers it on the app."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certificates", __name__)
