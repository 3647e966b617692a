"""User administration: the screens render for administrators and for nobody else, every
action is audited, bad input gets a message (never a 500), and the account rules hold."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from config import normalise_database_url
from heating import create_app
from heating.audit.models import AuditEvent
from heating.auth.models import RoleGrant, User
from heating.core.db import now_utc
from heating.extensions import db
from tests.conftest import csrf_token
from tests.factories import AreaFactory
from tests.fixtures import PASSWORD, log_in, make_user, says

NON_ADMIN_ROLES = ("clerk", "reviewer", "inspector", "finance", "county", "auditor")
TEMP = "temporary pass 2026"




def error_on(response, field):
    """The form shows an error on this field (the field macro marks it has-error)."""
    return re.search(rf'has-error">\s*<label for="{field}"', response.get_data(as_text=True))


def path_of(response):
    return urlsplit(response.headers["Location"]).path


def audit(action, **where):
    query = select(AuditEvent).where(AuditEvent.action == action)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return db.session.scalars(query).all()


def user_count():
    return db.session.scalar(select(func.count(User.id)))


def grants_of(user):
    return sorted((g.role, g.area_id) for g in db.session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == user.id)))


def submit_login(app, client, username, password):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(app, client)})


@pytest.fixture
def admin(login_as):
    return login_as("admin", username="root_admin")


@pytest.fixture
def target(world):
    """An ordinary user for the administrator to work on (with a session of their own)."""
    return make_user("clerk", world.village_a1, username="lisi", display_name="李四")


def new_user_data(world, **over):
    data = {"username": "wangwu", "display_name": "王五", "password": TEMP, "role": "clerk",
            "area_id": str(world.village_a1.id)}
    data.update(over)
    return data


# --- who may come in ------------------------------------------------------------------------

def admin_routes(app, user, grant):
    """Every route of the admin blueprint, with its methods, filled with real ids."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = rule.rule.replace("<int:user_id>", str(user.id)).replace(
            "<int:grant_id>", str(grant.id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    return routes


def test_admin_routes_are_all_covered(app, world, target):
    routes = admin_routes(app, target, target.grants[0])
    assert len(routes) >= 12
    assert ("POST", f"/admin/users/{target.id}/disable") in routes


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_other_roles_get_403_everywhere(app, client, post, login_as, world, target, role):
    login_as(role)
    before = (target.active, target.display_name, target.password_hash, grants_of(target))
    for method, url in admin_routes(app, target, target.grants[0]):
        data = {"display_name": "改名", "password": TEMP, "role": "admin",
                "area_id": str(world.county.id), **new_user_data(world)}
        r = client.get(url) if method == "GET" else post(url, data)
        assert r.status_code == 403, (method, url)
    db.session.refresh(target)
    assert (target.active, target.display_name, target.password_hash,
            grants_of(target)) == before
    assert db.session.scalar(select(User).where(User.username == "wangwu")) is None


def test_anonymous_is_sent_to_login(app, client, post, world, target):
    for method, url in admin_routes(app, target, target.grants[0]):
        r = client.get(url) if method == "GET" else post(url, {})
        assert r.status_code == 302 and path_of(r) == "/login", (method, url)


def test_admin_sees_no_household_data(client, admin, world):
    assert client.get("/households/").status_code == 403
    r = client.get("/")
    assert r.status_code == 302 and path_of(r) == "/admin/users"


# --- the screens render ---------------------------------------------------------------------

def test_every_screen_renders_for_an_admin(client, admin, world, target):
    target.locked_until = datetime(2099, 1, 1, 0, 0, tzinfo=timezone.utc)
    target.must_change_password = True
    target.last_login_at = datetime(2026, 3, 1, 1, 30, tzinfo=timezone.utc)
    make_user("reviewer", world.town_a, username="gone", active=False)
    db.session.commit()

    r = client.get("/admin/users")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    for text in ("lisi", "李四", "root_admin", "gone", "东河村", "示范县",
                 "2099-01-01 08:00",  # locked until, in Beijing time
                 "2026-03-01 09:30"):  # last login, in Beijing time
        assert text in body, text
    assert says(r, "Village clerk") and says(r, "Disabled") and says(r, "System administrator")
    assert "/households" not in body

    r = client.get("/admin/users/new")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    for area in (world.county, world.town_a, world.village_a1, world.village_b1):
        assert f"{area.code} " in body  # every area is offered by code and name
    assert "/households" not in body

    r = client.get(f"/admin/users/{target.id}")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "李四" in body and "139901001001" in body and "2099-01-01 08:00" in body
    assert f"/admin/users/{target.id}/unlock" in body
    assert f"/admin/users/{target.id}/grants/{target.grants[0].id}/remove" in body
    assert "data-confirm" in body
    assert "/households" not in body

    assert client.get(f"/admin/users/{admin.id}").status_code == 200
    r = client.get("/admin/")
    assert r.status_code == 302 and path_of(r) == "/admin/users"


def test_user_list_search(app, client, admin, world):
    make_user("clerk", world.village_a1, username="zhangsan", display_name="张三")
    make_user("clerk", world.village_a2, username="zhaoliu", display_name="赵六")
    body = client.get("/admin/users?q=zhang").get_data(as_text=True)
    assert "zhangsan" in body and "zhaoliu" not in body
    body = client.get("/admin/users?q=ZHANG").get_data(as_text=True)
    assert "zhangsan" in body  # case does not matter
    body = client.get("/admin/users?q=赵").get_data(as_text=True)
    assert "zhaoliu" in body and "zhangsan" not in body
    r = client.get("/admin/users?q=%25")  # a LIKE wildcard is searched for literally
    assert r.status_code == 200 and "zhangsan" not in r.get_data(as_text=True)
    assert says(r, "No user matches this search.")


def test_user_list_pages(app, client, admin, world):
    for n in range(5):
        make_user("clerk", world.village_a1, username=f"page{n}")
    app.config["PAGE_SIZE"] = 3
    first = client.get("/admin/users?q=page").get_data(as_text=True)
    assert "page0" in first and "page2" in first and "page3" not in first
    link = html.unescape(re.search(r'href="(/admin/users\?[^"]*after=[^"]*)"', first).group(1))
    second = client.get(link).get_data(as_text=True)
    assert "page3" in second and "page4" in second and "page2" not in second


# --- creating users -------------------------------------------------------------------------

def test_create_user(app, client, post, admin, world):
    r = post("/admin/users/new", new_user_data(world))
    user = db.session.scalar(select(User).where(User.username == "wangwu"))
    assert r.status_code == 302 and path_of(r) == f"/admin/users/{user.id}"
    assert user.must_change_password and user.active and user.display_name == "王五"
    assert grants_of(user) == [("clerk", world.village_a1.id)]
    assert check_password_hash(user.password_hash, TEMP) and user.password_hash != TEMP
    assert audit("user.created", actor_id=admin.id, object_id=str(user.id))
    assert audit("user.role_granted", actor_id=admin.id, object_id=str(user.id))
    assert TEMP not in "".join(e.summary + (e.after or "") for e in audit("user.created"))

    newcomer = app.test_client()  # the first login goes to the password change
    r = submit_login(app, newcomer, "wangwu", TEMP)
    assert r.status_code == 302 and path_of(r) == "/password"
    assert path_of(newcomer.get("/households/")) == "/password"


def test_create_with_a_generated_password_shows_it_once(app, client, post, admin, world):
    r = post("/admin/users/new", new_user_data(world, password="", generate="y"))
    assert r.status_code == 200
    assert "no-store" in r.headers["Cache-Control"]
    body = r.get_data(as_text=True)
    password = re.search(r'id="temporary-password">([^<]+)<', body).group(1)
    assert len(password) >= 12
    user = db.session.scalar(select(User).where(User.username == "wangwu"))
    assert user.must_change_password and check_password_hash(user.password_hash, password)
    with client.session_transaction() as sess:
        assert password not in repr(dict(sess))  # not kept in the session cookie
    assert password not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert not any(password in (e.summary + (e.after or "")) for e in audit("user.created"))

    r = submit_login(app, app.test_client(), "wangwu", password)
    assert r.status_code == 302 and path_of(r) == "/password"


@pytest.mark.parametrize("over, field, message", [
    ({"password": "too short"}, "password",
     ("The password must have at least %(n)d characters.", {"n": 12})),
    ({"password": "elevenchars"}, "password",
     ("The password must have at least %(n)d characters.", {"n": 12})),
    ({"password": ""}, "password", ("Enter a temporary password, or tick \"generate\".", {})),
    ({"password": "my name is wangwu ok"}, "password",
     ("The password must not contain the user name.", {})),
    ({"username": ""}, "username", ("Enter a user name.", {})),
    ({"username": "有空格 的名字"}, "username",
     ("Use 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or "
      "digit.", {})),
    ({"display_name": ""}, "display_name", ("Enter the name to show for this user.", {})),
    ({"role": "superuser"}, "role", None),  # WTForms' own "not a valid choice"
    ({"area_id": "999999"}, "area_id", None),
    ({"area_id": "abc"}, "area_id", None),
    ({"role": "clerk", "area_id": "COUNTY"}, "area_id",
     ("Clerks work over villages (or a whole township): choose a village or a township, "
      "not the county.", {})),
    ({"role": "finance", "area_id": "TOWN"}, "area_id",
     ("This role covers the whole county: choose the county as its area.", {})),
])
def test_create_refuses_bad_input_and_creates_nothing(client, post, admin, world, over, field,
                                                     message):
    areas = {"COUNTY": str(world.county.id), "TOWN": str(world.town_a.id)}
    over = {k: areas.get(v, v) for k, v in over.items()}
    count = user_count()
    r = post("/admin/users/new", new_user_data(world, **over))
    assert r.status_code == 200
    assert error_on(r, field), field
    if message:
        assert says(r, message[0], **message[1]), message[0]
    assert says(r, "Please correct the marked fields; nothing has been saved yet.")
    assert user_count() == count
    assert audit("user.created") == []


def test_duplicate_username_is_a_form_error(client, post, admin, world, target):
    count = user_count()
    r = post("/admin/users/new", new_user_data(world, username="lisi"))
    assert r.status_code == 200 and says(r, "The user name %(u)s is taken.", u="lisi")
    assert error_on(r, "username")
    assert user_count() == count
    db.session.refresh(target)
    assert target.display_name == "李四"


def test_create_without_csrf_token_is_refused(client, admin, world):
    r = client.post("/admin/users/new", data=new_user_data(world))
    assert r.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "wangwu")) is None


# --- roles over areas -----------------------------------------------------------------------

@pytest.mark.parametrize("role, area", [
    ("clerk", "village_a1"), ("clerk", "town_b"), ("reviewer", "town_a"), ("reviewer", "county"),
    ("inspector", "town_b"), ("finance", "county"), ("county", "county"), ("auditor", "county"),
    ("admin", "county")])
def test_add_grant_sensible_combinations(client, post, admin, world, role, area):
    target = make_user([], username="bare")
    area = getattr(world, area)
    r = post(f"/admin/users/{target.id}/grants", {"role": role, "area_id": str(area.id)})
    assert r.status_code == 302 and path_of(r) == f"/admin/users/{target.id}"
    assert (role, area.id) in grants_of(target)
    row = audit("user.role_granted", object_id=str(target.id), actor_id=admin.id)
    assert len(row) == 1 and f'"role": "{role}"' in row[0].after


@pytest.mark.parametrize("role, area", [
    ("clerk", "county"), ("reviewer", "village_a1"), ("inspector", "village_b1"),
    ("finance", "town_a"), ("county", "village_a1"), ("auditor", "town_b"),
    ("admin", "town_a"), ("admin", "village_a1")])
def test_add_grant_refuses_senseless_combinations(client, post, admin, world, target, role,
                                                  area):
    before = grants_of(target)
    r = post(f"/admin/users/{target.id}/grants",
             {"role": role, "area_id": str(getattr(world, area).id)})
    assert r.status_code == 200 and error_on(r, "area_id")
    assert grants_of(target) == before
    assert audit("user.role_granted") == []


def test_add_grant_refuses_retired_unknown_and_duplicate(client, post, admin, world, target):
    retired = AreaFactory(code="139901001009", name="旧村", level="village",
                          parent=world.town_a, retired_at=now_utc())
    db.session.commit()
    before = grants_of(target)
    for area_id in (retired.id, 999999):
        r = post(f"/admin/users/{target.id}/grants", {"role": "clerk", "area_id": str(area_id)})
        assert r.status_code == 200 and error_on(r, "area_id")
    r = post(f"/admin/users/{target.id}/grants",
             {"role": "clerk", "area_id": str(world.village_a1.id)})
    assert r.status_code == 200
    assert says(r, "%(u)s already holds this role over this area.", u="lisi")
    assert grants_of(target) == before
    assert "旧村" not in client.get(f"/admin/users/{target.id}").get_data(as_text=True)


def _selected(page, name):
    """The values of the selected options of the <select name=...> (none: the browser shows
    the first option)."""
    select_ = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return [re.search(r'value="([^"]*)"', attrs).group(1)
            for attrs in re.findall(r"<option([^>]*)>", select_) if " selected" in attrs]


def test_add_role_form_starts_empty_and_must_be_picked(client, post, admin, world, target):
    """It used to open on the first role over the first area: a clerk over the whole county,
    a pair the service refuses."""
    log_in(client, admin, lang="zh_Hans_CN")
    for url in (f"/admin/users/{target.id}", "/admin/users/new"):
        page = client.get(url).get_data(as_text=True)
        assert _selected(page, "role") == [""] and _selected(page, "area_id") == [""], url
        assert "— 请选择角色 —" in page and "— 请选择区域 —" in page
    before = grants_of(target)
    r = post(f"/admin/users/{target.id}/grants", {"role": "", "area_id": ""})
    assert r.status_code == 200 and error_on(r, "role") and error_on(r, "area_id")
    assert says(r, "Choose a role.") and says(r, "Choose an area.")
    r = post(f"/admin/users/{target.id}/grants", {"role": "reviewer", "area_id": ""})
    assert error_on(r, "area_id") and not error_on(r, "role")
    assert _selected(r.get_data(as_text=True), "role") == ["reviewer"]  # kept for the retry
    assert grants_of(target) == before and audit("user.role_granted") == []
    r = post("/admin/users/new", new_user_data(world, role="", area_id=""))
    assert r.status_code == 200 and error_on(r, "role") and error_on(r, "area_id")


def test_account_history_reads_as_words_not_codes_and_json(client, post, admin, world, target):
    log_in(client, admin, lang="zh_Hans_CN")
    post(f"/admin/users/{target.id}/grants", {"role": "reviewer", "area_id": str(world.town_a.id)})
    post(f"/admin/users/{target.id}/name", {"display_name": "李四四"})
    post(f"/admin/users/{target.id}/disable")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    history = html.unescape(re.sub(r"<[^>]+>", "", page[page.index("账号操作记录"):]))
    for raw in ("user.role_granted", "user.renamed", "user.disabled", "{", '"role"'):
        assert raw not in history, raw
    for line in ("授予角色", "角色：乡镇审核员", "区域：东河镇", "修改显示名称",
                 "显示名称：李四 → 李四四", "停用账户", "可以登录：是 → 否"):
        assert line in history, line


def test_remove_grant(client, post, admin, world, target):
    grant = target.grants[0]
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert re.search(r'data-confirm="[^"]+"[^>]*>\s*<input type="hidden" name="csrf_token"[^>]*>'
                     r'\s*<button type="submit" class="danger">', page)
    r = post(f"/admin/users/{target.id}/grants/{grant.id}/remove")
    assert r.status_code == 302
    assert grants_of(target) == []
    row = audit("user.role_revoked", object_id=str(target.id), actor_id=admin.id)
    assert len(row) == 1 and '"role": "clerk"' in row[0].before


def test_remove_grant_of_another_user_is_404(client, post, admin, world, target):
    other = make_user("reviewer", world.town_a, username="other")
    r = post(f"/admin/users/{target.id}/grants/{other.grants[0].id}/remove")
    assert r.status_code == 404
    assert grants_of(other) == [("reviewer", world.town_a.id)]
    assert post(f"/admin/users/{target.id}/grants/999999/remove").status_code == 404


def test_removing_a_role_takes_effect_on_the_next_request(app, client, post, admin, world,
                                                          target):
    theirs = app.test_client()
    log_in(theirs, target)
    assert theirs.get("/households/").status_code == 200
    post(f"/admin/users/{target.id}/grants/{target.grants[0].id}/remove")
    assert theirs.get("/households/").status_code == 403


# --- disable, enable, reset, unlock, rename --------------------------------------------------

def test_disable_ends_the_users_session_and_enable_restores_login(app, client, post, admin,
                                                                  target):
    theirs = app.test_client()
    log_in(theirs, target)
    assert theirs.get("/").status_code == 200

    r = post(f"/admin/users/{target.id}/disable")
    assert r.status_code == 302
    db.session.refresh(target)
    assert not target.active
    assert audit("user.disabled", object_id=str(target.id), actor_id=admin.id)
    r = theirs.get("/")
    assert r.status_code == 302 and path_of(r) == "/login"
    r = submit_login(app, app.test_client(), "lisi", PASSWORD)
    assert r.status_code == 200 and says(r, "This account is disabled. Ask the administrator.")
    page = client.get("/admin/users").get_data(as_text=True)
    assert says(client.get("/admin/users"), "Disabled") and "lisi" in page

    assert post(f"/admin/users/{target.id}/enable").status_code == 302
    db.session.refresh(target)
    assert target.active
    assert audit("user.enabled", object_id=str(target.id), actor_id=admin.id)
    assert submit_login(app, app.test_client(), "lisi", PASSWORD).status_code == 302


def test_reset_password(app, client, post, admin, target):
    theirs = app.test_client()
    log_in(theirs, target)
    assert theirs.get("/").status_code == 200

    r = post(f"/admin/users/{target.id}/password", {"password": TEMP})
    assert r.status_code == 302
    db.session.refresh(target)
    assert target.must_change_password
    assert audit("user.password_reset", object_id=str(target.id), actor_id=admin.id)
    assert path_of(theirs.get("/")) == "/login"  # logged out everywhere

    fresh = app.test_client()
    assert says(submit_login(app, fresh, "lisi", PASSWORD), "Wrong user name or password.")
    r = submit_login(app, fresh, "lisi", TEMP)
    assert r.status_code == 302 and path_of(r) == "/password"
    assert path_of(fresh.get("/")) == "/password"


def test_reset_password_generated(app, client, post, admin, target):
    r = post(f"/admin/users/{target.id}/password", {"generate": "y"})
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    password = re.search(r'id="temporary-password">([^<]+)<',
                         r.get_data(as_text=True)).group(1)
    db.session.refresh(target)
    assert target.must_change_password
    assert check_password_hash(target.password_hash, password)


@pytest.mark.parametrize("data, msgid, kw", [
    ({"password": "short"}, "The password must have at least %(n)d characters.", {"n": 12}),
    ({"password": ""}, "Enter a temporary password, or tick \"generate\".", {}),
    ({"password": "aaaaaaaaaaaaaaaa"}, "The password is too simple.", {}),
])
def test_reset_password_refuses_bad_passwords(client, post, admin, target, data, msgid, kw):
    before = target.password_hash
    r = post(f"/admin/users/{target.id}/password", data)
    assert r.status_code == 200 and says(r, msgid, **kw)
    db.session.refresh(target)
    assert target.password_hash == before and not target.must_change_password
    assert audit("user.password_reset") == []


def test_unlock(app, client, post, admin, target):
    target.locked_until = now_utc() + timedelta(minutes=12)
    target.failed_logins = 0
    db.session.commit()
    r = post(f"/admin/users/{target.id}/unlock")
    assert r.status_code == 302
    db.session.refresh(target)
    assert target.locked_until is None and target.failed_logins == 0
    assert audit("user.unlocked", object_id=str(target.id), actor_id=admin.id)
    assert submit_login(app, app.test_client(), "lisi", PASSWORD).status_code == 302


def test_rename(client, post, admin, target):
    r = post(f"/admin/users/{target.id}/name", {"display_name": "李四（东河）"})
    assert r.status_code == 302
    db.session.refresh(target)
    assert target.display_name == "李四（东河）"
    row = audit("user.renamed", object_id=str(target.id), actor_id=admin.id)
    assert len(row) == 1 and "李四" in row[0].before and "东河" in row[0].after

    r = post(f"/admin/users/{target.id}/name", {"display_name": "   "})
    assert r.status_code == 200 and says(r, "Enter the name to show for this user.")
    db.session.refresh(target)
    assert target.display_name == "李四（东河）"


# --- an administrator cannot lock themselves out -------------------------------------------

def test_admin_cannot_disable_themselves(client, post, admin):
    r = post(f"/admin/users/{admin.id}/disable")
    assert r.status_code == 302
    page = client.get(path_of(r))
    assert page.status_code == 200 and says(page, "You cannot disable your own account.")
    db.session.refresh(admin)
    assert admin.active
    assert audit("user.disabled") == []


def test_admin_cannot_remove_their_own_last_admin_grant(client, post, admin, world):
    grant = admin.grants[0]
    r = post(f"/admin/users/{admin.id}/grants/{grant.id}/remove")
    assert r.status_code == 302
    assert says(client.get(path_of(r)),
                "You cannot remove your own last administrator role: nobody could manage "
                "users any more. Ask another administrator.")
    assert grants_of(admin) == [("admin", world.county.id)]
    assert audit("user.role_revoked") == []


def test_admin_may_remove_a_second_admin_grant_or_another_admins(client, post, admin, world):
    other_county = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    post(f"/admin/users/{admin.id}/grants", {"role": "admin", "area_id": str(other_county.id)})
    extra = next(g for g in admin.grants if g.area_id == other_county.id)
    assert post(f"/admin/users/{admin.id}/grants/{extra.id}/remove").status_code == 302
    assert grants_of(admin) == [("admin", world.county.id)]

    colleague = make_user("admin", world.county, username="colleague")
    post(f"/admin/users/{colleague.id}/grants/{colleague.grants[0].id}/remove")
    assert grants_of(colleague) == []


def test_admin_resets_own_password_through_change_password(client, post, admin):
    before = admin.password_hash
    r = post(f"/admin/users/{admin.id}/password", {"password": TEMP})
    assert r.status_code == 200
    assert says(r, "To change your own password, use \"Change password\" under your name at "
                   "the top of the page.")
    db.session.refresh(admin)
    assert admin.password_hash == before and not admin.must_change_password
    assert client.get("/admin/users").status_code == 200  # still logged in


# --- unknown ids ----------------------------------------------------------------------------

def test_unknown_user_is_404_everywhere(app, client, post, admin, world, target):
    for method, url in admin_routes(app, target, target.grants[0]):
        if f"/{target.id}" not in url:
            continue
        url = url.replace(f"/users/{target.id}", "/users/999999")
        r = client.get(url) if method == "GET" else post(url, {"password": TEMP,
                                                              "display_name": "x"})
        assert r.status_code == 404, (method, url)
        assert says(r, "There is no such page or record, or it is outside your area.")


# --- command line and a new production database --------------------------------------------

def test_cli_create_user_and_grant(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "cli_clerk", "--role", "clerk", "--area",
                                 world.village_a1.code, "--name", "命令行", "--password-stdin"],
                           input="a long cli password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "cli_clerk"))
    assert user.display_name == "命令行" and user.must_change_password
    assert check_password_hash(user.password_hash, "a long cli password")
    assert grants_of(user) == [("clerk", world.village_a1.id)]
    assert audit("user.created", object_id=str(user.id))

    result = runner.invoke(args=["grant", "cli_clerk", "--role", "clerk", "--area",
                                 world.village_a2.code])
    assert result.exit_code == 0, result.output
    assert grants_of(user) == sorted([("clerk", world.village_a1.id),
                                      ("clerk", world.village_a2.id)])
    assert len(audit("user.role_granted", object_id=str(user.id))) == 2


def test_cli_refuses_bad_input(app, world):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-user", "cli_short", "--role", "clerk", "--area",
                                world.village_a1.code, "--password-stdin"], input="short\n")
    unknown = runner.invoke(args=["create-user", "cli_area", "--role", "clerk", "--area",
                                  "139999999999", "--password-stdin"], input="a long password\n")
    grant = runner.invoke(args=["grant", "nobody", "--role", "clerk", "--area",
                                world.village_a1.code])
    assert short.exit_code != 0 and unknown.exit_code != 0 and grant.exit_code != 0
    assert "139999999999" in unknown.output
    assert db.session.scalar(select(User).where(User.username.in_(["cli_short", "cli_area"]))
                             ) is None


def test_a_new_production_database_has_no_users(db_url, monkeypatch):
    """No default administrator: a freshly migrated database is empty, a production app
    seeds nothing, and demo data is refused there."""
    monkeypatch.setenv("SECRET_KEY", "prod-secret-for-test")
    monkeypatch.setenv("LOOKUP_KEY", "prod-lookup-for-test")
    monkeypatch.setenv("CERTIFICATE_KEY", "prod-certificate-for-test")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://heating.example.gov.cn")
    monkeypatch.setenv("DATABASE_URL", db_url)
    prod = create_app("production")
    assert prod.config["SQLALCHEMY_DATABASE_URI"] == normalise_database_url(db_url)
    with prod.app_context():
        try:
            assert db.session.scalar(select(func.count(User.id))) == 0
            result = prod.test_cli_runner().invoke(args=["demo-data", "--households", "1"])
            assert result.exit_code != 0 and "production" in result.output
            assert db.session.scalar(select(func.count(User.id))) == 0
        finally:
            db.session.remove()
            db.engine.dispose()
