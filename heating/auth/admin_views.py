"""User administration (``user.manage``: administrators only).

Every route of this blueprint passes the guard below first (403 for everyone else, before any
lookup, so other users cannot even probe which user ids exist).  Each action: load the user
(404 when unknown), validate the form, call one service, commit once, flash, redirect.  The
administrator sees accounts, roles and areas only: no household data and no links into it.
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from heating.areas.models import Area
from heating.auth import permissions, services
from heating.auth.admin_forms import (
    LEVEL_LABELS,
    ROLE_LABELS,
    CreateUserForm,
    DisplayNameForm,
    GrantForm,
    ResetPasswordForm,
    UserSearchForm,
    area_choices,
)
from heating.auth.blueprint import admin_bp as bp
from heating.auth.forms import EmptyForm
from heating.auth.history import account_history
from heating.auth.models import RoleGrant, User
from heating.core.db import now_utc
from heating.core.web import attempt
from heating.extensions import db, login_manager


@bp.before_request
def _administrators_only() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    permissions.require(current_user, "user.manage")
    return None


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"ROLE_LABELS": ROLE_LABELS, "LEVEL_LABELS": LEVEL_LABELS, "now": now_utc(),
            "is_locked": services.is_locked}


def load_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _with_areas(form: Any) -> Any:
    form.area_id.choices = area_choices(services.grantable_areas())
    return form


def _password_shown_once(user: User, password: str) -> Any:
    """The generated password, in this response only: not in a flash message (the session
    cookie), not in a log, never again.  Not cached by the browser or a proxy."""
    response = current_app.make_response(render_template(
        "admin/password_shown.html", user=user, password=password))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
def index() -> Any:
    return redirect(url_for("admin.users"))


@bp.route("/users")
def users() -> Any:
    """All users (search by user name or display name), their roles, state and last login."""
    form = UserSearchForm(request.args)
    q = (form.q.data or "").strip()[:64]
    page = services.list_users(q, request.args.get("after", "")[:64],
                               current_app.config["PAGE_SIZE"])
    return render_template("admin/users.html", form=form, page=page, q=q)


@bp.route("/users/new", methods=["GET", "POST"])
def create() -> Any:
    form = _with_areas(CreateUserForm())
    if form.validate_on_submit():
        password = (services.generate_password(form.username.data) if form.generate.data
                    else form.password.data)
        # someone may create the same user name at the same moment
        taken = services.AccountError(_("The user name %(u)s is taken.", u=form.username.data),
                                      "username")
        with attempt(form, taken=taken) as done:
            user = services.create_account(
                form.username.data, form.display_name.data, password, form.role.data,
                db.session.get(Area, form.area_id.data), current_user)
        if done:
            if form.generate.data:
                return _password_shown_once(user, password)
            flash(_("User %(u)s created. Give them the temporary password; they must change "
                    "it at the first login.", u=user.username), "success")
            return redirect(url_for("admin.detail", user_id=user.id))
    return render_template("admin/create.html", form=form)


@bp.route("/users/<int:user_id>")
def detail(user_id: int) -> Any:
    return _render_detail(load_user(user_id))


def _render_detail(user: User, **forms: Any) -> Any:
    forms.setdefault("name_form", DisplayNameForm(formdata=None, display_name=user.display_name))
    forms.setdefault("grant_form", _with_areas(GrantForm(formdata=None)))
    forms.setdefault("reset_form", ResetPasswordForm(formdata=None))
    events = account_history(services.account_events(user), current_user)
    return render_template("admin/detail.html", user=user, events=events,
                           is_self=user.id == current_user.id, **forms)


@bp.route("/users/<int:user_id>/name", methods=["POST"])
def rename(user_id: int) -> Any:
    user = load_user(user_id)
    form = DisplayNameForm()
    if form.validate_on_submit():
        with attempt(form) as done:
            services.set_display_name(user, form.display_name.data, current_user)
        if done:
            flash(_("Display name saved."), "success")
            return redirect(url_for("admin.detail", user_id=user.id))
    return _render_detail(user, name_form=form)


@bp.route("/users/<int:user_id>/grants", methods=["POST"])
def add_grant(user_id: int) -> Any:
    user = load_user(user_id)
    form = _with_areas(GrantForm())
    if form.validate_on_submit():
        # the same grant may be added concurrently
        taken = services.AccountError(_("%(u)s already holds this role over this area.",
                                        u=user.username), "area_id")
        with attempt(form, taken=taken) as done:
            services.add_grant(user, form.role.data, db.session.get(Area, form.area_id.data),
                               current_user)
        if done:
            flash(_("Role added. It applies from the user's next page view."), "success")
            return redirect(url_for("admin.detail", user_id=user.id))
    return _render_detail(user, grant_form=form)


@bp.route("/users/<int:user_id>/grants/<int:grant_id>/remove", methods=["POST"])
def remove_grant(user_id: int, grant_id: int) -> Any:
    user = load_user(user_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        abort(404)
    return _act(user, lambda: services.revoke_grant(grant, current_user), _("Role removed."))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def disable(user_id: int) -> Any:
    user = load_user(user_id)
    return _act(user, lambda: services.set_active(user, False, current_user),
                _("Account disabled: the user is logged out and cannot log in."))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def enable(user_id: int) -> Any:
    user = load_user(user_id)
    return _act(user, lambda: services.set_active(user, True, current_user),
                _("Account enabled: the user can log in again."))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def unlock(user_id: int) -> Any:
    user = load_user(user_id)
    return _act(user, lambda: services.unlock(user, current_user),
                _("Account unlocked: the user can try to log in again."))


def _act(user: User, change: Any, done: str) -> Any:
    """A button without fields (CSRF only): do it, say so, back to the user."""
    if EmptyForm().validate_on_submit():
        with attempt() as ok:
            change()
        if ok:
            flash(done, "success")
    return redirect(url_for("admin.detail", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def reset_password(user_id: int) -> Any:
    user = load_user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        password = (services.generate_password(user.username) if form.generate.data
                    else form.password.data)
        with attempt(form) as done:
            services.admin_reset_password(user, password, current_user)
        if done:
            if form.generate.data:
                return _password_shown_once(user, password)
            flash(_("Password reset. Give the user the temporary password; they must change "
                    "it at the next login. They have been logged out everywhere."), "success")
            return redirect(url_for("admin.detail", user_id=user.id))
    return _render_detail(user, reset_form=form)
