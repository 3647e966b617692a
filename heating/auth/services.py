"""Account rules: password policy, login with lockout, password changes, session rotation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from heating.audit.services import record
from heating.auth.models import RoleGrant, User, new_session_token
from heating.core.db import now_utc
from heating.extensions import db

#: a hash to check against when the username does not exist, so both paths cost the same
_DUMMY_HASH: dict[str, str] = {}


class AccountError(Exception):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get(
        "PASSWORD_HASH_METHOD", "scrypt"))


def password_problems(password: str, username: str = "") -> list[Any]:
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(_l("The password must have at least %(n)d characters.", n=minimum))
    if username and username.lower() in password.lower():
        problems.append(_l("The password must not contain the user name."))
    if len(set(password)) < 4:
        problems.append(_l("The password is too simple."))
    return problems


@dataclass
class LoginResult:
    user: User | None
    error: Any = None


def _dummy_check(password: str) -> None:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash("not-a-password", method=method)
    check_password_hash(_DUMMY_HASH[method], password)


def authenticate(username: str, password: str) -> LoginResult:
    """Check a login; count failures in the database and lock after too many."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    wrong = _l("Wrong user name or password.")
    if user is None:
        _dummy_check(password)
        return LoginResult(None, wrong)
    now = now_utc()
    if user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        return LoginResult(None, _l("This account is locked after too many failed logins. "
                                    "Try again in %(m)d minutes or ask the administrator to "
                                    "unlock it.", m=minutes))
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            record("user.locked", "user", user.id, actor=None,
                   summary=f"{user.username} locked after repeated failed logins")
        else:
            record("login.failed", "user", user.id, actor=None, summary=user.username)
        return LoginResult(None, wrong)
    if not user.active:
        return LoginResult(None, _l("This account is disabled. Ask the administrator."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record("login", "user", user.id, actor=user, summary=user.username)
    return LoginResult(user)


def rotate_session(user: User) -> None:
    """Invalidate every cookie issued to this user so far (logout, password change)."""
    user.session_token = new_session_token()


def change_own_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AccountError(_l("The current password is wrong."))
    if check_password_hash(user.password_hash, new):
        raise AccountError(_l("The new password must differ from the current one."))
    problems = password_problems(new, user.username)
    if problems:
        raise AccountError(problems[0])
    user.password_hash = hash_password(new)
    user.must_change_password = False
    rotate_session(user)
    record("user.password_changed", "user", user.id, actor=user, summary=user.username)


def create_user(username: str, display_name: str, password: str, actor: Any,
                grants: list[tuple[str, int]] = (), must_change: bool = True) -> User:
    username = username.strip()
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError(_l("The user name %(u)s is taken.", u=username))
    problems = password_problems(password, username)
    if problems:
        raise AccountError(problems[0])
    user = User(username=username, display_name=display_name.strip() or username,
                password_hash=hash_password(password), must_change_password=must_change,
                failed_logins=0, active=True)
    db.session.add(user)
    db.session.flush()
    record("user.created", "user", user.id, actor=actor, summary=username,
           after={"username": username, "display_name": user.display_name})
    for role, area_id in grants:
        grant_role(user, role, area_id, actor)
    return user


def grant_role(user: User, role: str, area_id: int, actor: Any) -> RoleGrant | None:
    existing = db.session.scalar(select(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.area_id == area_id))
    if existing:
        return None
    grant = RoleGrant(user_id=user.id, role=role, area_id=area_id)
    db.session.add(grant)
    db.session.flush()
    db.session.refresh(user)
    record("user.role_granted", "user", user.id, actor=actor,
           summary=f"{user.username}: {role} @ area {area_id}",
           after={"role": role, "area_id": area_id})
    return grant


def revoke_grant(grant: RoleGrant, actor: Any) -> None:
    user = grant.user
    record("user.role_revoked", "user", user.id, actor=actor,
           summary=f"{user.username}: {grant.role} @ area {grant.area_id}",
           before={"role": grant.role, "area_id": grant.area_id})
    user.grants.remove(grant)
    db.session.flush()


def admin_reset_password(user: User, password: str, actor: Any) -> None:
    problems = password_problems(password, user.username)
    if problems:
        raise AccountError(problems[0])
    user.password_hash = hash_password(password)
    user.must_change_password = True
    rotate_session(user)
    record("user.password_reset", "user", user.id, actor=actor, summary=user.username)


def set_active(user: User, active: bool, actor: Any) -> None:
    if user.active == active:
        return
    user.active = active
    if not active:
        rotate_session(user)
    record("user.enabled" if active else "user.disabled", "user", user.id, actor=actor,
           summary=user.username, before={"active": not active}, after={"active": active})


def unlock(user: User, actor: Any) -> None:
    user.locked_until = None
    user.failed_logins = 0
    record("user.unlocked", "user", user.id, actor=actor, summary=user.username)


def is_locked(user: User, now: datetime | None = None) -> bool:
    return bool(user.locked_until and user.locked_until > (now or now_utc()))


def logout(user: User) -> None:
    rotate_session(user)
    record("logout", "user", user.id, actor=user, summary=user.username)
