"""Screens of the subsidies domain."""
from __future__ import annotations

from flask import Blueprint

from heating.subsidies import models  # noqa: F401  (registers the tables)

bp = Blueprint("subsidies", __name__, url_prefix="/subsidies")
