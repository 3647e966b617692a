"""Every route × every role × in scope / out of scope, each cell with its expected status.

A route in ``app.url_map`` without a policy here fails ``test_every_route_has_a_policy``:
there is no skip list.  POSTs carry a valid CSRF token.  Each cell runs on a fresh database.

Scopes: "in" means the user's grant covers the case's village (clerk: the village; reviewer,
inspector: the township; county-wide roles: the county); "out" means the same role granted over
another area (clerk: a village of another township; reviewer, inspector: another township;
county-wide roles: another county).
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from heating.extensions import db
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_case, make_user

ROLES = ("clerk", "reviewer", "inspector", "finance", "county", "auditor", "admin")
CASE_ROLES = {"clerk", "reviewer", "inspector", "finance", "county", "auditor"}
ANON = "anonymous"


@dataclass
class Ctx:
    """What the URL and form builders may refer to."""

    world: Any
    case: Any
    user: Any
    other_user: Any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cell:
    method: str
    url: Callable[[Ctx], str]
    expect: Callable[[str, str], int]  # (role, scope) -> status
    data: Callable[[Ctx], dict[str, Any]] = lambda ctx: {}
    case_state: str = "draft"
    name: str = ""


def allowed(roles: set[str], ok: int = 200, *, scoped: bool = True, anon: int = 302,
            other: dict[str, int] | None = None) -> Callable[[str, str], int]:
    """ok for ``roles``; 403 for other signed-in roles; 404 out of scope for object routes
    (and for roles with no case scope at all); the login redirect for anonymous users."""
    def expect(role: str, scope: str) -> int:
        if role == ANON:
            return anon
        if scoped and (scope == "out" or role not in CASE_ROLES):
            return 404
        return ok if role in roles else (other or {}).get(role, 403)
    return expect


def everyone(status: int, anon: int = 302) -> Callable[[str, str], int]:
    return lambda role, scope: anon if role == ANON else status


CASE = lambda ctx: ctx.case.id  # noqa: E731

POLICY: dict[str, list[Cell]] = {
    "static": [Cell("GET", lambda c: "/static/app.css", everyone(200, anon=200))],
    "main.favicon": [Cell("GET", lambda c: "/favicon.ico", everyone(200, anon=200))],
    "main.home": [Cell("GET", lambda c: "/", lambda r, s: 302 if r in (ANON, "admin") else 200)],
    "main.help": [Cell("GET", lambda c: "/help", everyone(200))],
    "auth.login": [Cell("GET", lambda c: "/login", everyone(302, anon=200))],
    "auth.logout": [Cell("POST", lambda c: "/logout", everyone(302))],
    "auth.password": [Cell("GET", lambda c: "/password", everyone(200))],
    "auth.set_language": [Cell("GET", lambda c: "/lang/en", everyone(302, anon=302))],
    "households.index": [Cell("GET", lambda c: "/households/",
                              allowed(CASE_ROLES, scoped=False))],
    "households.create": [Cell("GET", lambda c: "/households/new",
                               allowed({"clerk"}, scoped=False))],
    "households.detail": [Cell("GET", lambda c: f"/households/{CASE(c)}", allowed(CASE_ROLES))],
    "households.edit": [
        # a role that may edit in another state is sent back to the case with a message
        Cell("GET", lambda c: f"/households/{CASE(c)}/edit",
             allowed({"clerk"}, other={"reviewer": 302}), name="draft"),
        Cell("GET", lambda c: f"/households/{CASE(c)}/edit",
             allowed({"reviewer"}, other={"clerk": 302}), case_state="approved",
             name="approved"),
    ],
    "households.act": [
        Cell("POST", lambda c: f"/households/{CASE(c)}/do/submit", allowed({"clerk"}, 302),
             name="submit"),
        Cell("POST", lambda c: f"/households/{CASE(c)}/do/approve", allowed({"reviewer"}, 302),
             case_state="submitted", name="approve"),
        Cell("POST", lambda c: f"/households/{CASE(c)}/do/return", allowed({"reviewer"}, 302),
             data=lambda c: {"reason": "资料不全"}, case_state="submitted", name="return"),
        Cell("POST", lambda c: f"/households/{CASE(c)}/do/withdraw",
             allowed({"clerk", "reviewer"}, 302), data=lambda c: {"reason": "户主申请"},
             name="withdraw"),
        Cell("POST", lambda c: f"/households/{CASE(c)}/do/cancel",
             allowed({"reviewer", "county"}, 302), data=lambda c: {"reason": "房屋拆迁"},
             case_state="approved", name="cancel"),
    ],
    "households.reveal": [
        Cell("POST", lambda c: f"/households/{CASE(c)}/reveal",
             allowed({"reviewer", "finance", "county", "auditor"}),
             data=lambda c: {"field": "id_number", "reason": "核对"}, name="id"),
        Cell("POST", lambda c: f"/households/{CASE(c)}/reveal",
             allowed({"county", "auditor"}),
             data=lambda c: {"field": "phone", "reason": "核对"}, name="phone"),
    ],
    "households.holder_exception": [
        Cell("POST", lambda c: f"/households/{CASE(c)}/holder-exception",
             allowed({"county"}, 302), data=lambda c: {"reason": "户主已故"})],
    "audit.index": [Cell("GET", lambda c: "/audit/", allowed({"auditor", "county"},
                                                              scoped=False))],
}


def _admin_only(ok: int = 200) -> Callable[[str, str], int]:
    """Admin screens are system-wide: an admin anywhere may use them, nobody else; every
    other role gets 403 before any lookup; anonymous users go to the login page."""
    return lambda role, scope: 302 if role == ANON else (ok if role == "admin" else 403)


USER = lambda c: f"/admin/users/{c.other_user.id}"  # noqa: E731  the target: one finance grant

POLICY.update({
    "admin.index": [Cell("GET", lambda c: "/admin/", _admin_only(302))],
    "admin.users": [Cell("GET", lambda c: "/admin/users", _admin_only())],
    "admin.create": [
        Cell("GET", lambda c: "/admin/users/new", _admin_only(), name="form"),
        Cell("POST", lambda c: "/admin/users/new", _admin_only(302), name="create",
             data=lambda c: {"username": "matrix_new", "display_name": "新用户",
                             "password": "temporary pass 2026", "role": "clerk",
                             "area_id": str(c.world.village_a1.id)}),
    ],
    "admin.detail": [Cell("GET", USER, _admin_only())],
    "admin.rename": [Cell("POST", lambda c: USER(c) + "/name", _admin_only(302),
                          data=lambda c: {"display_name": "改名"})],
    "admin.add_grant": [Cell("POST", lambda c: USER(c) + "/grants", _admin_only(302),
                             data=lambda c: {"role": "auditor",
                                             "area_id": str(c.world.county.id)})],
    "admin.remove_grant": [Cell(
        "POST", lambda c: f"{USER(c)}/grants/{c.other_user.grants[0].id}/remove",
        _admin_only(302))],
    "admin.disable": [Cell("POST", lambda c: USER(c) + "/disable", _admin_only(302))],
    "admin.enable": [Cell("POST", lambda c: USER(c) + "/enable", _admin_only(302))],
    "admin.unlock": [Cell("POST", lambda c: USER(c) + "/unlock", _admin_only(302))],
    "admin.reset_password": [Cell("POST", lambda c: USER(c) + "/password", _admin_only(302),
                                  data=lambda c: {"password": "temporary pass 2026"})],
})

def _load_domain_policies() -> None:
    """Each later capability keeps its cells in ``tests/access_policies/<domain>.py`` with a
    ``cells(h)`` function (``h`` is this module) returning {endpoint: [Cell, ...]}."""
    folder = Path(__file__).resolve().parent / "access_policies"
    for path in sorted(folder.glob("[a-z]*.py")):
        module = importlib.import_module(f"tests.access_policies.{path.stem}")
        for endpoint, cells in module.cells(sys.modules[__name__]).items():
            assert endpoint not in POLICY, f"two policies for {endpoint}"
            POLICY[endpoint] = cells


_load_domain_policies()

CELLS = [(endpoint, i, role, scope)
         for endpoint, cells in POLICY.items() for i, _ in enumerate(cells)
         for role in ROLES + (ANON,) for scope in (("in", "out") if role != ANON else ("in",))]


def test_every_route_has_a_policy(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(POLICY) == set(), "routes without a policy"
    assert set(POLICY) - endpoints == set(), "policies for routes that do not exist"


def _areas_for(world: Any, role: str, scope: str) -> Any:
    if scope == "in":
        return {"clerk": world.village_a1, "reviewer": world.town_a,
                "inspector": world.town_a}.get(role, world.county)
    if role == "clerk":
        return world.village_b1
    if role in ("reviewer", "inspector"):
        return world.town_b
    other = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    return other


@pytest.mark.parametrize("endpoint,index,role,scope", CELLS,
                         ids=[f"{e}[{POLICY[e][i].name or i}]-{r}-{s}" for e, i, r, s in CELLS])
def test_cell(app, client, post, world, endpoint, index, role, scope):
    cell = POLICY[endpoint][index]
    clerk = make_user("clerk", world.village_a1, username="case_owner")
    case = make_case(world.village_a1, clerk, state=cell.case_state, account_holder="另一人")
    other = make_user("finance", world.county, username="someone_else")
    user = None
    if role != ANON:
        user = make_user(role, _areas_for(world, role, scope))
        log_in(client, user)
    ctx = Ctx(world, case, user, other)
    url = cell.url(ctx)
    if cell.method == "GET":
        response = client.get(url)
    else:
        response = post(url, cell.data(ctx))
    expected = cell.expect(role, scope)
    assert response.status_code == expected, (
        f"{cell.method} {url} as {role} ({scope} scope): got {response.status_code}, "
        f"expected {expected}")
