"""The home page: "my work" for each role."""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import markdown
from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

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


@bp.route("/help")
@login_required
def help() -> Any:
    """The user guide by role (docs/user-guide.md, the same text the repository carries)."""
    path = Path(current_app.root_path).parent / "docs" / "user-guide.md"
    return render_template("help.html", guide=_guide_html(str(path), path.stat().st_mtime))


@functools.lru_cache(maxsize=2)
def _guide_html(path: str, mtime: float) -> Markup:
    """Rendered once per process and file version: the guide is ours, not user input."""
    text = Path(path).read_text(encoding="utf-8")
    html = markdown.markdown(text, extensions=["tables", "sane_lists"])
    # a source line wrapped inside Chinese text is no word break: a browser would show a space
    return Markup(_CJK_WRAP.sub("", html))


_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_CJK_WRAP = re.compile(f"(?<=[{_CJK}])\n\\s*(?=[{_CJK}])")
