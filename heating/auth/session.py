"""Login session rules: loading the user from the cookie (with the server-side token),
the 30-minute idle timeout, and the forced password change."""
from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from heating.auth.models import User
from heating.extensions import db, login_manager

#: endpoints a user who must change their password may still reach
_PASSWORD_CHANGE_EXEMPT = {"auth.password", "auth.logout", "auth.set_language", "static"}


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.session_token, token):
        return None  # logged out (or password changed) since this cookie was issued
    return user


def install_session_rules(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def _session_rules() -> Any:
        # files, not pages: they neither keep a session alive nor wait for a new password
        if request.endpoint in ("static", "main.favicon") or not current_user.is_authenticated:
            return None
        now = time.time()
        last = session.get("last_active")
        idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
        if last is not None and now - float(last) > idle:
            lang = session.get("lang")
            logout_user()
            session.clear()
            if lang:
                session["lang"] = lang
            flash(_l("You were logged out after %(m)d minutes without activity.",
                     m=int(idle // 60)), "info")
            return redirect(url_for("auth.login", next=request.full_path
                                    if request.method == "GET" else None))
        session["last_active"] = now
        session.permanent = True
        if current_user.must_change_password and request.endpoint not in _PASSWORD_CHANGE_EXEMPT:
            flash(_l("Please choose your own password before you continue."), "info")
            return redirect(url_for("auth.password"))
        return None
