"""Login, lockout, logout, idle timeout, forced password change and ``next`` (the account
rules of the issue), proved through the real login form."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from heating.audit.models import AuditEvent
from heating.auth import services
from heating.auth.models import User
from heating.core import web
from heating.core.db import now_utc
from heating.extensions import db
from tests.conftest import csrf_token, make_app
from tests.fixtures import PASSWORD, log_in, make_user, says

NEW_PASSWORD = "a brand new passphrase"




WRONG = "Wrong user name or password."
LOCKED = ("This account is locked after too many failed logins. Try again in %(m)d minutes "
          "or ask the administrator to unlock it.")


def path_of(response):
    return urlsplit(response.headers["Location"]).path


def location(response):
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def submit_login(app, client, username, password, **extra):
    url = extra.pop("url", "/login")
    data = {"username": username, "password": password,
            "csrf_token": csrf_token(app, client), **extra}
    return client.post(url, data=data)


@pytest.fixture
def clerk(world):
    return make_user("clerk", world.village_a1, username="clerk1")


def logged_in(client):
    """Whether the client's session is that of a logged-in user (home page, not the login)."""
    r = client.get("/")
    return r.status_code == 200


# --- logging in -----------------------------------------------------------------------------

def test_login_success_redirects_home_and_records_it(app, client, clerk):
    r = submit_login(app, client, "clerk1", PASSWORD)
    assert r.status_code == 302 and location(r) == "/"
    assert logged_in(client)
    db.session.refresh(clerk)
    assert clerk.last_login_at is not None and clerk.failed_logins == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login",
                                                      AuditEvent.actor_id == clerk.id))


def test_login_page_renders(client):
    r = client.get("/login?next=/households/")
    assert r.status_code == 200
    assert 'name="next" type="hidden" value="/households/"' in r.get_data(as_text=True)


@pytest.mark.parametrize("username", ["clerk1", "nobody"])
def test_wrong_password_or_unknown_user_same_message(app, client, clerk, username):
    r = submit_login(app, client, username, "not the password at all")
    assert r.status_code == 200 and says(r, WRONG)
    assert not logged_in(client)


def test_five_failures_lock_the_account_for_15_minutes(app, client, clerk):
    for attempt in range(5):
        r = submit_login(app, client, "clerk1", f"wrong password {attempt}")
        assert r.status_code == 200 and says(r, WRONG)
    db.session.refresh(clerk)
    assert clerk.locked_until is not None
    ahead = clerk.locked_until - now_utc()
    assert timedelta(minutes=14) < ahead <= timedelta(minutes=15)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.locked"))

    r = submit_login(app, client, "clerk1", PASSWORD)  # the 6th: the RIGHT password
    assert r.status_code == 200 and says(r, LOCKED, m=15)
    assert not logged_in(client)


def test_a_refused_login_is_rolled_back_but_its_failure_is_counted_once(
        app, client, clerk, monkeypatch):
    """The login refusal goes through the unit of work (rollback, then the failure count
    written on its own): one failure, one audit row, whatever the rollback threw away."""
    rollbacks = []
    real = web._refused
    monkeypatch.setattr(web, "_refused", lambda *a: (rollbacks.append(a[1]), real(*a)))
    r = submit_login(app, client, "clerk1", "wrong password")
    assert r.status_code == 200 and says(r, WRONG)
    assert [type(err) for err in rollbacks] == [services.AccountError]
    db.session.refresh(clerk)
    assert clerk.failed_logins == 1 and clerk.locked_until is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "login.failed")) == 1


def test_four_failures_do_not_lock_and_a_success_resets_the_count(app, client, clerk):
    for attempt in range(4):
        submit_login(app, client, "clerk1", f"wrong password {attempt}")
    db.session.refresh(clerk)
    assert clerk.failed_logins == 4 and clerk.locked_until is None
    assert submit_login(app, client, "clerk1", PASSWORD).status_code == 302
    db.session.refresh(clerk)
    assert clerk.failed_logins == 0


def test_the_lock_holds_in_another_worker(app, client, clerk, db_url):
    """Kept in the database: a second app instance (another worker process) refuses too."""
    clerk.locked_until = now_utc() + timedelta(minutes=10)
    db.session.commit()
    other = make_app(db_url)
    try:
        other_client = other.test_client()
        r = submit_login(other, other_client, "clerk1", PASSWORD)
        assert r.status_code == 200 and says(r, LOCKED, m=10)
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_parallel_guesses_are_all_counted(app, clerk, monkeypatch):
    """Six wrong passwords sent at once (slow hash checks, so they overlap) still lock the
    account: the failure count is read and written under a row lock, not lost in a race."""
    real_check = services.check_password_hash

    def slow_check(pwhash, password):
        time.sleep(0.3)
        return real_check(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", slow_check)
    clients = [app.test_client() for _ in range(6)]
    tokens = [csrf_token(app, c) for c in clients]
    db.session.commit()
    statuses = []

    def attempt(c, token):
        r = c.post("/login", data={"username": "clerk1", "password": "guess-guess-guess",
                                   "csrf_token": token})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 6
    db.session.expire_all()
    clerk = db.session.get(User, clerk.id)
    assert clerk.locked_until is not None and clerk.locked_until > now_utc()
    failed = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action.in_(["login.failed", "user.locked"])))
    assert failed == 5  # four counted failures, the fifth locks; the sixth met the lock


def test_lock_expires(app, client, clerk):
    clerk.locked_until = now_utc() - timedelta(minutes=1)
    db.session.commit()
    r = submit_login(app, client, "clerk1", PASSWORD)
    assert r.status_code == 302 and location(r) == "/"
    db.session.refresh(clerk)
    assert clerk.locked_until is None


def test_admin_unlock_lets_the_user_in_again(app, client, post, world, clerk):
    clerk.locked_until = now_utc() + timedelta(minutes=15)
    db.session.commit()
    user_client = app.test_client()
    assert says(submit_login(app, user_client, "clerk1", PASSWORD), LOCKED, m=15)

    admin = make_user("admin", world.county, username="admin1")
    log_in(client, admin)
    assert post(f"/admin/users/{clerk.id}/unlock").status_code == 302
    db.session.refresh(clerk)
    assert clerk.locked_until is None and clerk.failed_logins == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.unlocked",
                                                      AuditEvent.actor_id == admin.id))
    assert submit_login(app, user_client, "clerk1", PASSWORD).status_code == 302


def test_disabled_account_cannot_log_in(app, client, world):
    make_user("clerk", world.village_a1, username="gone", active=False)
    r = submit_login(app, client, "gone", PASSWORD)
    assert r.status_code == 200 and says(r, "This account is disabled. Ask the administrator.")
    assert not logged_in(client)


def test_login_without_csrf_token_is_a_400_page(client, clerk):
    r = client.post("/login", data={"username": "clerk1", "password": PASSWORD})
    assert r.status_code == 400
    assert says(r, "The form expired or was sent twice. Go back, reload the page and submit "
                   "again.")
    assert not logged_in(client)


def test_password_is_stored_hashed(app, world):
    user = services.create_user("hashme", "哈希", "a long plain password", None)
    assert user.password_hash != "a long plain password"
    assert "a long plain password" not in user.password_hash
    assert user.password_hash.startswith("pbkdf2:sha256:1000$")  # the fast test method
    assert check_password_hash(user.password_hash, "a long plain password")


def test_production_hashing_is_scrypt(app, monkeypatch):
    monkeypatch.delitem(app.config, "PASSWORD_HASH_METHOD")
    hashed = services.hash_password("a long plain password")
    assert hashed.startswith("scrypt:")
    assert check_password_hash(hashed, "a long plain password")


# --- next ---------------------------------------------------------------------------------

def test_next_local_path_is_followed(app, client, clerk):
    page = client.get("/login?next=/households/").get_data(as_text=True)
    assert 'value="/households/"' in page
    r = submit_login(app, client, "clerk1", PASSWORD, next="/households/",
                     url="/login?next=/households/")
    assert r.status_code == 302 and location(r) == "/households/"


@pytest.mark.parametrize("target", ["http://evil.example/", "//evil.example", "/\\evil.example",
                                    "javascript:alert(1)", "https:evil.example",
                                    " //evil.example", "/\t/evil.example", "\\\\evil.example"])
def test_next_elsewhere_goes_home(app, client, clerk, target):
    r = submit_login(app, client, "clerk1", PASSWORD, next=target)
    assert r.status_code == 302
    assert r.headers["Location"] == "/"


def test_login_page_sends_a_logged_in_user_home(app, client, clerk):
    log_in(client, clerk)
    r = client.get("/login?next=//evil.example")
    assert r.status_code == 302 and r.headers["Location"] == "/"


# --- forced and own password change ---------------------------------------------------------

def test_must_change_user_is_sent_to_password_from_every_page(app, client, post, world):
    user = make_user("clerk", world.village_a1, username="newbie", must_change_password=True)
    r = submit_login(app, client, "newbie", PASSWORD)
    assert r.status_code == 302 and path_of(r) == "/password"
    for url in ("/", "/households/", "/households/new", "/admin/users", "/audit/",
                "/no-such-page", "/login"):
        r = client.get(url)
        assert r.status_code == 302 and path_of(r) == "/password", url
    r = post("/households/new", {"head_name": "x"})
    assert r.status_code == 302 and path_of(r) == "/password"
    assert client.get("/password").status_code == 200

    r = post("/password", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and path_of(r) == "/"
    db.session.refresh(user)
    assert not user.must_change_password
    assert client.get("/").status_code == 200  # the new cookie works, no more detour
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "user.password_changed", AuditEvent.actor_id == user.id))


@pytest.mark.parametrize("data, message", [
    ({"current": PASSWORD, "new": "short-pw-1", "confirm": "short-pw-1"},
     ("The password must have at least %(n)d characters.", {"n": 12})),
    ({"current": PASSWORD, "new": "elevenchars", "confirm": "elevenchars"},
     ("The password must have at least %(n)d characters.", {"n": 12})),
    ({"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
     ("The two new passwords differ.", {})),
    ({"current": "not my password", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
     ("The current password is wrong.", {})),
    ({"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD},
     ("The new password must differ from the current one.", {})),
])
def test_password_change_is_checked(app, client, post, clerk, data, message):
    log_in(client, clerk)
    before = clerk.password_hash
    r = post("/password", data)
    assert r.status_code == 200
    assert says(r, message[0], **message[1])
    db.session.refresh(clerk)
    assert clerk.password_hash == before


def test_twelve_characters_are_enough(app, client, post, clerk):
    log_in(client, clerk)
    r = post("/password", {"current": PASSWORD, "new": "abcdefgh1234", "confirm": "abcdefgh1234"})
    assert r.status_code == 302
    db.session.refresh(clerk)
    assert check_password_hash(clerk.password_hash, "abcdefgh1234")
    client.post("/logout", data={"csrf_token": csrf_token(app, client)})
    assert says(submit_login(app, client, "clerk1", PASSWORD), WRONG)
    assert submit_login(app, client, "clerk1", "abcdefgh1234").status_code == 302


# --- logout, replayed cookies, idle timeout -------------------------------------------------

def test_replayed_session_cookie_fails_after_logout(app, client, post, clerk):
    assert submit_login(app, client, "clerk1", PASSWORD).status_code == 302
    captured = client.get_cookie("session").value

    before = app.test_client()  # control: the captured cookie does work before logout
    before.set_cookie("session", captured)
    assert before.get("/").status_code == 200

    r = post("/logout")
    assert r.status_code == 302 and path_of(r) == "/login"
    assert client.get("/").status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", captured)
    r = replay.get("/")
    assert r.status_code == 302 and path_of(r) == "/login"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "logout"))


def test_replayed_remember_cookie_fails_after_logout(app, client, post, clerk):
    assert submit_login(app, client, "clerk1", PASSWORD).status_code == 302
    db.session.refresh(clerk)
    old_cookie = encode_cookie(clerk.get_id())

    before = app.test_client()  # control: the remember cookie logs in before logout
    before.set_cookie("remember_token", old_cookie)
    assert before.get("/").status_code == 200

    post("/logout")
    replay = app.test_client()
    replay.set_cookie("remember_token", old_cookie)
    r = replay.get("/")
    assert r.status_code == 302 and path_of(r) == "/login"


def test_idle_timeout_logs_out(app, client, clerk):
    log_in(client, clerk)
    with client.session_transaction() as sess:
        sess["last_active"] = time.time() - 29 * 60
    assert client.get("/").status_code == 200  # control: 29 minutes is not idle yet

    with client.session_transaction() as sess:
        sess["last_active"] = time.time() - 31 * 60
    r = client.get("/households/")
    assert r.status_code == 302 and path_of(r) == "/login"
    page = client.get(location(r))
    assert page.status_code == 200
    assert says(page, "You were logged out after %(m)d minutes without activity.", m=30)
    r = client.get("/")
    assert r.status_code == 302 and path_of(r) == "/login"  # the session is gone for good


def test_logout_needs_post(client, clerk):
    log_in(client, clerk)
    assert client.get("/logout").status_code == 405
    assert logged_in(client)


def test_favicon_is_served_to_everyone_and_linked_from_every_page(app, client, world):
    r = client.get("/favicon.ico")  # anonymous: no login detour
    assert r.status_code == 200 and r.mimetype == "image/vnd.microsoft.icon"
    assert r.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/favicon.ico"' in page
    assert client.get("/static/favicon.svg").status_code == 200
    # a user who must change the password, or has been idle, still gets the icon, and the
    # request neither sends them to the password page nor keeps the session alive
    user = make_user("clerk", world.village_a1, username="iconic", must_change_password=True)
    log_in(client, user)
    with client.session_transaction() as sess:
        sess["last_active"] = stale = time.time() - 10 * 60
    assert client.get("/favicon.ico").status_code == 200
    with client.session_transaction() as sess:
        assert sess["last_active"] == stale
