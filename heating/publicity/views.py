"""Screens of the publicity domain."""
from __future__ import annotations

from flask import Blueprint

from heating.publicity import models  # noqa: F401  (registers the tables)

bp = Blueprint("publicity", __name__, url_prefix="/publicity")
