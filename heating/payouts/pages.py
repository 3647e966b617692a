"""Page pieces the payouts views share (batches, corrections, usage)."""
from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _


def forbidden(message: Any) -> Any:
    """A 403 page that says why (maker–checker, four eyes)."""
    return render_template("errors/error.html", code=403, title=_("Not allowed"),
                           text=message), 403
