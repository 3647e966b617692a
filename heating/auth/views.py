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
from heating.core.web import safe_next
from heating.extensions import db


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data)
        db.session.commit()  # failure counts and locks must persist too
        if result.user is None:
            flash(result.error, "error")
            return render_template("auth/login.html", form=form), 200
        lang = session.get("lang")
        session.clear()  # a fresh session at login: no fixation
        if lang:
            session["lang"] = lang
        login_user(result.user)
        if result.user.must_change_password:
            return redirect(url_for("auth.password"))
        return redirect(safe_next(form.next.data, url_for("main.home")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        services.logout(current_user)
        db.session.commit()
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
        try:
            services.change_own_password(current_user, form.current.data, form.new.data)
        except services.AccountError as err:
            form.new.errors = [err.message]
        else:
            db.session.commit()
            login_user(current_user)  # re-issue the cookie with the new session token
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("main.home")))
