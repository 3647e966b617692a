"""Domain names available in every template (state labels, permission predicate), and the
case-page panels other domains contribute (subsidy amount, public notice, payments …)."""
from __future__ import annotations

from typing import Any, Callable

from flask import Flask
from flask_login import current_user

from heating.auth import permissions
from heating.core import registry
from heating.households import lifecycle
from heating.households.lifecycle import STATES
from heating.households.models import (
    CONVERSION_TYPES,
    DEVICE_KINDS,
    DEVICE_KINDS_BY_TYPE,
    PREVIOUS_HEATING,
)

#: a panel loader gets (case, user) and returns the panel template's context, or None to show
#: nothing (e.g. out of the user's roles or not relevant in the case's state)
PanelLoader = Callable[[Any, Any], "dict[str, Any] | None"]
_PANELS = "heating.case_panels"


def register_case_panel(app: Flask, template: str, loader: PanelLoader) -> None:
    """Show ``template`` on the case page (above the timeline) with ``loader``'s context.
    Domains register from their blueprint (``bp.record_once``), so households never import
    the domains built on top of it."""
    registry.register(app, _PANELS, (template, loader))


def case_panels(case: Any) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for template, loader in registry.registered(_PANELS):
        context = loader(case, current_user)
        if context is not None:
            found.append((template, context))
    return found


def install_domain_globals(app: Flask) -> None:
    def can(perm: str, obj: Any = None) -> bool:
        return permissions.can(current_user, perm, obj)

    app.jinja_env.globals.update(
        can=can, allowed=lifecycle.allowed, case_panels=case_panels, STATES=STATES, CONVERSION_TYPES=CONVERSION_TYPES, DEVICE_KINDS=DEVICE_KINDS,
        DEVICE_KINDS_BY_TYPE=DEVICE_KINDS_BY_TYPE,
        PREVIOUS_HEATING=PREVIOUS_HEATING)
