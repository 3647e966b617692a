"""Refusals: a rule said no, nothing of the request's work is kept.

Every service refusal that the user sees shares one shape: ``message`` (for the user),
``field`` (the form field it belongs to, or None), ``problems`` (per-record reasons) and the
HTTP ``status`` it maps to when it is shown as a page (403: the role may not; 409: someone
else changed the record; 400: the request cannot be met as asked).  The request's unit of
work (heating.core.web) rolls the request back and shows the refusal.

Some work must survive a refusal: what the refusal itself records (the failed-login counter
behind the lockout, the audit row of a refused upload).  A service declares it once with
:func:`record_independently`: the record is written and committed at once, in a transaction
of its own, before the refusal is raised and the rest of the request rolled back.  It holds
the row locks it took until that commit, so parallel refused attempts are counted in turn
(a rollback and a rewrite afterwards would let another request read the count in between).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from heating.extensions import db


class Refusal(Exception):
    """A rule refused the request; nothing was changed."""

    #: the HTTP status when the refusal is shown as a page (403 and 409 always are)
    status: int = 400

    def __init__(self, message: Any = "", field: str | None = None,
                 problems: Iterable[Any] = ()) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.problems = list(problems)

    @property
    def as_page(self) -> bool:
        """Shown as an error page of its own (the role may not), never as a flash."""
        return self.status == 403


class Forbidden(Refusal):
    """The role may not do this (403 page)."""

    status = 403


class Conflict(Refusal):
    """Someone else changed the record since it was read (409)."""

    status = 409


def record_independently(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``work(*args, **kwargs)`` and commit it at once: a record that stays whatever the
    request then refuses or rolls back.  It is the request's first write (a service calls
    it before changing anything else), so nothing of the refused work goes in with it."""
    result = work(*args, **kwargs)
    db.session.commit()
    return result
