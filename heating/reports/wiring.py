"""How the reports domain plugs into the app: ``create_app`` calls ``init_app`` (see
docs/architecture.md, "Wiring")."""
from __future__ import annotations

from flask import Flask

from heating.reports import models  # noqa: F401  (the settings tables belong to the metadata)


def init_app(app: Flask) -> None:
    """Nothing to plug in yet beyond the models: the dashboard's blueprint comes here."""
