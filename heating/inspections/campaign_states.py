"""The states of a 回头看 campaign and the moves between them: one table, asked by the
services (refusal), the campaign page (buttons) and the docs.

    pending_approval --approve--> ready --draw--> drawn --close--> closed
    pending_approval --close----> closed        ready --close--> closed

A campaign whose population overlaps an open one starts in ``pending_approval`` (a reason and
a second county user's approval); any other starts ``ready``.  ``draw`` exists from ``ready``
only: a drawn campaign is never drawn again.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STATES: dict[str, Any] = {
    "pending_approval": _l("Waiting for approval"),
    "ready": _l("Ready to draw"),
    "drawn": _l("Drawn, visits under way"),
    "closed": _l("Closed"),
}
#: states whose population blocks an overlapping campaign without approval
OPEN_STATES = ("pending_approval", "ready", "drawn")

#: (from state, action) → to state
TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending_approval", "approve"): "ready",
    ("pending_approval", "close"): "closed",
    ("ready", "draw"): "drawn",
    ("ready", "close"): "closed",
    ("drawn", "close"): "closed",
}

ACTIONS: dict[str, Any] = {
    "approve": _l("Approve the campaign"),
    "draw": _l("Draw the sample"),
    "close": _l("Close the campaign"),
}


class IllegalMove(ValueError):
    """A move the table does not have (the service turns it into a refusal)."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"{action} is not possible from {state}")
        self.state, self.action = state, action


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalMove(state, action) from None


def actions_from(state: str) -> list[str]:
    """The moves possible from ``state``, in the table's order."""
    return [action for (source, action) in TRANSITIONS if source == state]
