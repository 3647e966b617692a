"""A user's account history on the admin page, in words.  The audit viewer presents events (it
reads every domain, auth included), so it registers its presenter here at start-up
(``audit_viewer.wiring``) and auth does not import it."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask, current_app

Presenter = Callable[[Iterable[Any], Any], list]
_PRESENTER = "heating.account_history"


def register_presenter(app: Flask, presenter: Presenter) -> None:
    app.extensions[_PRESENTER] = presenter


def account_history(events: Iterable[Any], reader: Any) -> list:
    """The events as rows the admin page shows (who, what, when, before → after)."""
    return current_app.extensions[_PRESENTER](events, reader)
