"""Login, logout, own password, language switch."""
from __future__ import annotations

from typing import Any

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from heating.auth import services
from heating.auth.blueprint import bp
from heating.auth.forms import ChangePasswordForm, EmptyForm, LoginForm
from heating.core.web import attempt, safe_next


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        # a refused login is rolled back; its failure count and lock are kept on their own
        with attempt() as done:
            user = services.log_in(form.username.data, form.password.data)
        if not done:
            return render_template("auth/login.html", form=form), 200
        lang = session.get("lang")
        session.clear()  # a fresh session at login: no fixation
        if lang:
            session["lang"] = lang
        login_user(user)
        if user.must_change_password:
            return redirect(url_for("auth.password"))
        return redirect(safe_next(form.next.data, url_for("main.home")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        services.logout(current_user)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with attempt(quiet=True) as done:
            services.change_own_password(current_user, form.current.data, form.new.data)
        if not done:
            form.new.errors = [done.refusal.message]
        else:
            login_user(current_user)  # re-issue the cookie with the new session token
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("main.home")))
