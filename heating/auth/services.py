"""Account rules: password policy, login with lockout, password changes, session rotation."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from heating.areas.models import Area
from heating.audit.models import AuditEvent
from heating.audit.services import record
from heating.auth.models import RoleGrant, User, new_session_token
from heating.core.db import now_utc
from heating.core.refusals import Refusal, record_independently
from heating.extensions import db

#: a hash to check against when the username does not exist, so both paths cost the same
_DUMMY_HASH: dict[str, str] = {}


class AccountError(Refusal):
    """A refused account change; ``field`` names the form field the message belongs to."""


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
    # FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers): parallel
    # guesses against one account queue up here, so none of them is left out of the count
    user = db.session.scalar(select(User).where(User.username == username.strip())
                             .with_for_update())
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
        record_independently(_count_failure, user.id)
        return LoginResult(None, wrong)
    if not user.active:
        return LoginResult(None, _l("This account is disabled. Ask the administrator."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record("login", "user", user.id, actor=user, summary=user.username)
    return LoginResult(user)


def log_in(username: str, password: str) -> User:
    """The user of a good login; a refused one raises ``AccountError`` with the reason."""
    result = authenticate(username, password)
    if result.user is None:
        raise AccountError(result.error)
    return result.user


def _count_failure(user_id: int) -> None:
    """One more failed login, and the lock after too many: the record a refused login
    leaves (kept on its own when the request is rolled back)."""
    user = db.session.scalar(select(User).where(User.id == user_id).with_for_update()
                             .execution_options(populate_existing=True))
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now_utc() + timedelta(
            minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        record("user.locked", "user", user.id, actor=None,
               summary=f"{user.username} locked after repeated failed logins")
    else:
        record("login.failed", "user", user.id, actor=None, summary=user.username)


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
        raise AccountError(_l("The user name %(u)s is taken.", u=username), "username")
    problems = password_problems(password, username)
    if problems:
        raise AccountError(problems[0], "password")
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
    if (grant.role == "admin" and _same_user(user, actor)
            and sum(g.role == "admin" for g in user.grants) == 1):
        raise AccountError(_l("You cannot remove your own last administrator role: nobody "
                              "could manage users any more. Ask another administrator."))
    record("user.role_revoked", "user", user.id, actor=actor,
           summary=f"{user.username}: {grant.role} @ area {grant.area_id}",
           before={"role": grant.role, "area_id": grant.area_id})
    user.grants.remove(grant)
    db.session.flush()


def admin_reset_password(user: User, password: str, actor: Any) -> None:
    if _same_user(user, actor):
        raise AccountError(_l("To change your own password, use \"Change password\" under "
                              "your name at the top of the page."))
    problems = password_problems(password, user.username)
    if problems:
        raise AccountError(problems[0], "password")
    user.password_hash = hash_password(password)
    user.must_change_password = True
    rotate_session(user)
    record("user.password_reset", "user", user.id, actor=actor, summary=user.username)


def set_active(user: User, active: bool, actor: Any) -> None:
    if user.active == active:
        return
    if not active and _same_user(user, actor):
        raise AccountError(_l("You cannot disable your own account."))
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


# --- administration screens ---------------------------------------------------------------

#: the area levels each role may be held over (DOMAIN.md: clerks work for villages, reviewers
#: and inspectors for townships, the county-wide roles for the county)
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "clerk": frozenset({"village", "township"}),
    "reviewer": frozenset({"township", "county"}),
    "inspector": frozenset({"township", "county"}),
    "finance": frozenset({"county"}),
    "county": frozenset({"county"}),
    "auditor": frozenset({"county"}),
    "admin": frozenset({"county"}),
}

_LEVEL_PROBLEMS = {
    frozenset({"county"}): _l("This role covers the whole county: choose the county as its "
                             "area."),
    frozenset({"township", "county"}): _l("Reviewers and inspectors work over a township (or "
                                          "the whole county): choose a township, not a "
                                          "village."),
    frozenset({"village", "township"}): _l("Clerks work over villages (or a whole township): "
                                           "choose a village or a township, not the county."),
}

#: no 0/O, 1/l/I: the administrator reads it out or writes it down for the user
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def _same_user(user: User, actor: Any) -> bool:
    return actor is not None and getattr(actor, "id", None) == user.id


def generate_password(username: str = "") -> str:
    """A random temporary password that passes the policy: 4 groups of 4 characters from 56
    unambiguous symbols (about 92 bits)."""
    while True:
        raw = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(16))
        password = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
        if not password_problems(password, username):
            return password


def grant_problem(role: str, area: Area | None) -> Any:
    """Why ``role`` cannot be held over ``area`` (None when it can)."""
    if role not in ROLE_LEVELS:
        return _l("Choose one of the listed roles.")
    if area is None or area.retired:
        return _l("Choose an area from the list (retired area codes cannot be granted).")
    if area.level not in ROLE_LEVELS[role]:
        return _LEVEL_PROBLEMS[ROLE_LEVELS[role]]
    return None


def grantable_areas() -> list[Area]:
    """Areas in use, county first, then townships and villages, by code."""
    order = {"county": 0, "township": 1, "village": 2}
    areas = db.session.scalars(select(Area).where(Area.retired_at.is_(None))
                               .options(selectinload(Area.parent))).all()
    return sorted(areas, key=lambda a: (order[a.level], a.code))


def username_taken(username: str) -> bool:
    found = db.session.scalar(select(User.id).where(User.username == username.strip()))
    return found is not None


def create_account(username: str, display_name: str, password: str, role: str,
                   area: Area | None, actor: Any) -> User:
    """An administrator creates a user with one role over one area; the user must change
    the password at first login."""
    if username_taken(username):
        raise AccountError(_l("The user name %(u)s is taken.", u=username.strip()), "username")
    problems = password_problems(password, username.strip())
    if problems:
        raise AccountError(problems[0], "password")
    problem = grant_problem(role, area)
    if problem:
        raise AccountError(problem, "area_id")
    return create_user(username, display_name, password, actor, [(role, area.id)],
                       must_change=True)


def add_grant(user: User, role: str, area: Area | None, actor: Any) -> RoleGrant:
    problem = grant_problem(role, area)
    if problem:
        raise AccountError(problem, "area_id")
    grant = grant_role(user, role, area.id, actor)
    if grant is None:
        raise AccountError(_l("%(u)s already holds this role over this area.", u=user.username),
                           "area_id")
    return grant


def set_display_name(user: User, display_name: str, actor: Any) -> None:
    name = display_name.strip()
    if not name:
        raise AccountError(_l("Enter the name to show for this user."), "display_name")
    if name == user.display_name:
        return
    before = user.display_name
    user.display_name = name
    record("user.renamed", "user", user.id, actor=actor, summary=user.username,
           before={"display_name": before}, after={"display_name": name})


@dataclass
class UserPage:
    items: list[User]
    next_after: str | None


def list_users(q: str = "", after: str = "", size: int = 50) -> UserPage:
    """Users by user name (keyset on the unique name), optionally those whose user name or
    display name contains ``q``; grants and their areas come in two more queries."""
    query = select(User).options(selectinload(User.grants).selectinload(RoleGrant.area))
    q = q.strip()
    if q:
        query = query.where(or_(User.username.icontains(q, autoescape=True),
                                User.display_name.icontains(q, autoescape=True)))
    if after:
        query = query.where(User.username > after)
    rows = list(db.session.scalars(query.order_by(User.username).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return UserPage(rows, rows[-1].username if more and rows else None)


def account_events(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest audit rows about this account (logins, locks, changes by administrators)."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "user",
                                 AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id.desc()).limit(limit)))
