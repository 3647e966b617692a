"""The home page: "my work" for each role."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.households import queries

bp = Blueprint("main", __name__)


@bp.route("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page links (PDFs, old browsers): the same
    house-and-flame as static/favicon.svg, drawn at 16, 32 and 48 px."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 86400)


@bp.route("/")
@login_required
def home() -> Any:
    if permissions.roles(current_user) == {"admin"}:
        return redirect(url_for("admin.users"))
    work = queries.my_work(current_user)
    counts = (queries.counts_by_state(current_user, queries.Filters())
              if permissions.can(current_user, "household.view") else {})
    return render_template("home.html", work=work, counts=counts)
