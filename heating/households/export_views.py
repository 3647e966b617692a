"""Ledger (台账) exports (being written)."""
from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
