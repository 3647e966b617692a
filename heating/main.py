"""The home page: "my work" for each role."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.households import queries

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home() -> Any:
    if permissions.roles(current_user) == {"admin"}:
        return redirect(url_for("admin.users"))
    work = queries.my_work(current_user)
    counts = (queries.counts_by_state(current_user, queries.Filters())
              if permissions.can(current_user, "household.view") else {})
    return render_template("home.html", work=work, counts=counts)
