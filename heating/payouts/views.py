"""Screens of the payouts domain."""
from __future__ import annotations

from flask import Blueprint

from heating.payouts import models  # noqa: F401  (registers the tables)

bp = Blueprint("payouts", __name__, url_prefix="/payouts")
