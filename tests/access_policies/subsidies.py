"""Subsidy policies: a policy belongs to a county. Every case role working in the county reads
it (a clerk or reviewer "out of scope" here still works in the same county, so still reads
it); a county-wide role of another county gets 404; only the county office changes it."""
from __future__ import annotations

from typing import Any

from heating.extensions import db
from tests.fixtures import make_user
from tests.subsidies.support import make_policy, policy_data

ANON = "anonymous"
COUNTY_WIDE = {"finance", "county", "auditor"}


def with_policy(ctx: Any) -> int:
    owner = make_user("county", ctx.world.county, username="policy_owner")
    policy = make_policy(ctx.world.county.id, owner)
    db.session.commit()
    return policy.id


def _in_county(roles: set[str], ok: int = 200) -> Any:
    """ok for ``roles`` in the policy's county, 403 for the other case roles there, 404 for a
    county-wide role of another county and for roles with no county at all (admin)."""
    def expect(role: str, scope: str) -> int:
        if role == ANON:
            return 302
        if role == "admin" or (scope == "out" and role in COUNTY_WIDE):
            return 404
        return ok if role in roles else 403
    return expect


def _create_post(role: str, scope: str) -> int:
    """The county office of another county may post the form, but not for this county: the
    county choice is refused on the form (200 with the message), nothing is saved."""
    if role == ANON:
        return 302
    if role != "county":
        return 403
    return 302 if scope == "in" else 200


def form(ctx: Any) -> dict[str, str]:
    data = policy_data(ctx.world.county.id, name="矩阵测试", effective_from=None)
    out = {k: str(v) for k, v in data.items()
           if v is not None and k not in ("season_rates", "effective_to")}
    out.update({"effective_from": "2030-01-01", "equipment_rate_pct": "85"})
    for i in range(10):
        out[f"season_rates-{i}"] = str(data["season_rates"].get(i + 1, ""))
    return out


def cells(h: Any) -> dict[str, list[Any]]:
    url = lambda c: f"/subsidies/policies/{with_policy(c)}"  # noqa: E731
    return {
        "subsidies.index": [h.Cell("GET", lambda c: "/subsidies/policies/",
                                   h.allowed(h.CASE_ROLES, scoped=False))],
        "subsidies.detail": [h.Cell("GET", url, _in_county(h.CASE_ROLES))],
        "subsidies.create": [
            h.Cell("GET", lambda c: "/subsidies/policies/new",
                   h.allowed({"county"}, scoped=False), name="form"),
            h.Cell("POST", lambda c: "/subsidies/policies/new", _create_post, data=form,
                   name="save"),
        ],
        "subsidies.edit": [
            h.Cell("GET", lambda c: url(c) + "/edit", _in_county({"county"}), name="form"),
            h.Cell("POST", lambda c: url(c) + "/edit", _in_county({"county"}, 302), data=form,
                   name="save"),
        ],
        "subsidies.new_version": [
            h.Cell("GET", lambda c: url(c) + "/new-version", _in_county({"county"}),
                   name="form"),
            h.Cell("POST", lambda c: url(c) + "/new-version", _in_county({"county"}, 302),
                   data=form, name="save"),
        ],
    }
