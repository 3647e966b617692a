"""Refusals: a rule said no, nothing of the request's work is kept.

Every service refusal that the user sees shares one shape: ``message`` (for the user),
``field`` (the form field it belongs to, or None), ``problems`` (per-record reasons) and the
HTTP ``status`` it maps to when it is shown as a page (403: the role may not; 409: someone
else changed the record; 400: the request cannot be met as asked).  The request's unit of
work (heating.core.web) rolls the request back and shows the refusal.

Some work must survive a refusal: what the refusal itself records (the failed-login counter
behind the lockout, the audit row of a refused attempt).  A service declares it once with
:func:`record_independently`: the record is written in the request's transaction at once,
and if that transaction is rolled back it is written again on its own and committed.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import g, has_request_context

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


_KEPT = "_heating_kept_records"


def record_independently(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``work(*args, **kwargs)`` now, in the request's transaction; when the request is rolled
    back (a refusal, an error page) it runs once more afterwards in a transaction of its
    own, which is committed.  ``work`` reloads what it needs (it may run twice, never with
    both writes kept).  Outside a request (CLI, unit tests) it just runs."""
    result = work(*args, **kwargs)
    if has_request_context():
        g.setdefault(_KEPT, []).append((work, args, kwargs))
    return result


def replay_kept_records() -> None:
    """After a rollback: write the records that survive it, and commit them."""
    kept = g.pop(_KEPT, [])
    if not kept:
        return
    for work, args, kwargs in kept:
        work(*args, **kwargs)
    db.session.commit()


def forget_kept_records() -> None:
    """After a commit: the records went in with the request's work."""
    g.pop(_KEPT, None)
