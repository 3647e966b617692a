"""What the domains built on households add to a case, registered at start-up (``init_app``), so
households imports none of them: the facts a lifecycle guard may ask about (installation,
inspection, documents, who did what), the warnings on the case page, and the case page's
paperwork (installation, inspections, certificates …).  The money panels are registered the same
way in ``templating.register_case_panel``."""
from __future__ import annotations

from typing import Any, Callable

from flask import Flask

from heating.core import registry
from heating.households.lifecycle import Context

#: ``provider(case, actor) -> dict`` of :class:`lifecycle.Context` fields
GuardFacts = Callable[[Any, Any], "dict[str, Any]"]
#: ``provider(case) -> list`` of warnings shown on the case page
Warnings = Callable[[Any], list]
#: ``provider(case, user, guard context) -> dict`` of case-page template variables
PageContext = Callable[[Any, Any, Context], "dict[str, Any]"]

_GUARD_FACTS = "heating.guard_facts"
_WARNINGS = "heating.case_warnings"
_PAGE = "heating.case_page_context"


def register_guard_facts(app: Flask, provider: GuardFacts) -> None:
    registry.register(app, _GUARD_FACTS, provider)


def register_warnings(app: Flask, provider: Warnings) -> None:
    registry.register(app, _WARNINGS, provider)


def register_page_context(app: Flask, provider: PageContext) -> None:
    registry.register(app, _PAGE, provider)


def guard_context(case: Any, actor: Any) -> Context:
    """Everything the lifecycle's guards may ask about this case, from every registered
    provider (a fact no provider gives stays unset, and the guard that needs it refuses)."""
    facts: dict[str, Any] = {"actor_id": getattr(actor, "id", None)}
    for provider in registry.registered(_GUARD_FACTS):
        facts.update(provider(case, actor))
    return Context(**facts)


def warnings(case: Any) -> list[Any]:
    return [w for provider in registry.registered(_WARNINGS) for w in provider(case)]


def page_context(case: Any, user: Any, context: Context) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for provider in registry.registered(_PAGE):
        found.update(provider(case, user, context))
    return found
