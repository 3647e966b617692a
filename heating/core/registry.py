"""Per-app registries: a domain higher up hands a lower one a provider (a case-page panel, a
guard fact, a policy-use check …) at ``init_app``, so the lower one never imports it.  Kept in
``app.extensions`` under a name, in registration order (the order of ``heating.DOMAINS``)."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app


def register(app: Flask, name: str, provider: Any) -> None:
    """Add ``provider`` to the registry ``name`` of ``app``."""
    app.extensions.setdefault(name, []).append(provider)


def registered(name: str) -> list[Any]:
    """The providers of the registry ``name`` of the current app, in registration order."""
    return current_app.extensions.get(name, [])
