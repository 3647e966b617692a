"""Domain names available in every template (state labels, permission predicate)."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user

from heating.auth import permissions
from heating.households.lifecycle import STATES
from heating.households.models import (
    CONVERSION_TYPES,
    DEVICE_KINDS,
    DEVICE_KINDS_BY_TYPE,
    PREVIOUS_HEATING,
)


def install_domain_globals(app: Flask) -> None:
    def can(perm: str, obj: Any = None) -> bool:
        return permissions.can(current_user, perm, obj)

    app.jinja_env.globals.update(
        can=can, STATES=STATES, CONVERSION_TYPES=CONVERSION_TYPES, DEVICE_KINDS=DEVICE_KINDS,
        DEVICE_KINDS_BY_TYPE=DEVICE_KINDS_BY_TYPE,
        PREVIOUS_HEATING=PREVIOUS_HEATING)
