"""Loading the case an inspections page is about, and the way back to it (both views modules)."""
from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from flask_login import current_user

from heating.auth import permissions
from heating.households.models import Household


def load_case(case_id: int) -> Household:
    """The case in the current user's scope, or 404."""
    return permissions.get_in_scope(Household, case_id, current_user)


def to_case(hh: Household) -> Any:
    return redirect(url_for("households.detail", case_id=hh.id))
