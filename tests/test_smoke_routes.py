"""Smoke: every GET route in ``app.url_map`` rendered in Chinese and in English, for every role
(and anonymously), over a database holding a record of every kind; no answer may be a 5xx.

The route list is the app's own: a GET route without a URL builder in ``ROUTES`` fails
``test_every_get_route_has_a_url_builder`` (there is no skip list: static files and the public
certificate check are visited like any other route, the check with its rate limit raised).
Each visit names the roles that may open it: they must get 200 in both languages, every other
role a redirect, 403 or 404 (in one of the two languages: a refusal does not depend on it).
Then every query parameter a view read during those visits (recorded as it is read, so a new
parameter is covered without being listed) is sent hostile values, which must answer as if
the parameter were not given; every path parameter of a string kind gets garbage (never a
5xx), and every ``<int:…>`` parameter of every route a number beyond 64 bits (404).

The database is built once per backend for the whole module (``tests/smoke_seed.py``): a
SQLite file, or on PostgreSQL a database of its own beside the per-test one
(``<TEST_DATABASE_URL's database>_smoke``, under pytest-xdist ``<…>_gw0_smoke``), emptied
here; the module's tests share one xdist worker (conftest's ONE_WORKER_MODULES).  About 25 s on either
backend (seed ~5 s, ~1,550 page requests, ~300 hostile ones).
"""
from __future__ import annotations

import contextlib
import re
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlencode

import pytest
from flask import Flask, has_request_context, request, url_for
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from heating.extensions import db
from tests.conftest import (
    PG_URL,
    IsolatedClient,
    create_scratch_database,
    csrf_token,
    make_app,
    pg_database_url,
)
from tests.fixtures import log_in
from tests.smoke_seed import ROLES, Seeded, seed

ANON = "anonymous"
LANGS = ("zh_Hans_CN", "en")
CASE = {"clerk", "reviewer", "inspector", "reviewer+inspector", "finance", "county", "auditor"}
STAFF = CASE | {"admin"}
PAYOUT = {"finance", "county", "auditor"}
#: what a role that may not open a page gets: the login page or the case, 403, 404
NOT_SHOWN = {302, 403, 404}
HOSTILE = ("99999999999999999999", str(2 ** 63), "-1", "-99999999999999999999", "abc", "1e309",
           "NaN", "1.5", "7x", "", "9999-12-31", "0001-01-01", "9" * 5000)
HOSTILE_PATH = ("x" * 300, "..%2F..%2Fetc", "１２３", "-1")
#: beyond PostgreSQL's INTEGER (the id columns), beyond 64 bits, and far beyond
BEYOND_64_BITS = (2 ** 31, 2 ** 63, 10 ** 20)


@dataclass
class Visit:
    """One URL of an endpoint: ``args(ids)`` → url_for keywords (path and query)."""

    args: Callable[[dict[str, Any]], dict[str, Any]]
    ok: frozenset[str]


def V(args: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
      ok: set[str] | frozenset[str] = frozenset()) -> Visit:
    roles = set(ok)
    if roles & {"reviewer", "inspector"}:
        roles.add("reviewer+inspector")
    return Visit(args or (lambda i: {}), frozenset(roles))


def _each(key: str, param: str, ok: set[str], **extra: Any) -> Callable[[dict], list[Visit]]:
    """One visit per seeded id in ``ids[key]`` (a dict or list)."""
    def visits(ids: dict[str, Any]) -> list[Visit]:
        found = ids[key].values() if isinstance(ids[key], dict) else ids[key]
        return [V(lambda i, v=v: {param: v, **extra}, ok) for v in found]
    return visits


C = lambda state: (lambda i: {"case_id": i["case"][state]})  # noqa: E731
B = lambda state, **q: (lambda i: {"batch_id": i["batch"][state], **q})  # noqa: E731
DOC_VIEWERS = {"clerk", "reviewer", "finance", "county", "auditor"}

ROUTES: dict[str, list[Visit] | Callable[[dict], list[Visit]]] = {
    "static": [V(lambda i: {"filename": "app.css"}, STAFF | {ANON}),
               V(lambda i: {"filename": "app.js"}, STAFF | {ANON})],
    "main.home": [V(None, CASE)],  # the admin is sent to the user list
    "main.help": [V(None, STAFF)],
    "main.favicon": [V(None, STAFF | {ANON})],
    "auth.login": [V(None, {ANON}), V(lambda i: {"next": "/households/"}, {ANON})],
    "auth.password": [V(None, STAFF)],
    "auth.set_language": [V(lambda i: {"code": i["lang"]})],  # a redirect for everyone
    "households.index": [
        V(None, CASE), V(lambda i: {"state": "approved"}, CASE),
        V(lambda i: {"township": i["township"], "village": i["village"]}, CASE),
        V(lambda i: {"year": i["year"], "conversion_type": "electric", "q": "王"}, CASE),
        V(lambda i: {"after": i["case"]["paid"]}, CASE)],
    "households.create": [V(None, {"clerk"})],
    "households.detail": lambda ids: [V(C(s), CASE) for s in ids["case"]],
    "households.edit": [V(C("draft"), {"clerk"}), V(C("returned"), {"clerk"}),
                        V(C("approved"), {"reviewer"})],
    "households.application_pdf": [V(C("submitted"), {"clerk", "reviewer", "county"}),
                                   V(C("paid"), {"clerk", "reviewer", "county"})],
    "imports.index": [V(None, {"clerk", "reviewer", "county"})],
    "imports.template": [V(None, {"clerk", "reviewer", "county"})],
    "imports.detail": [V(lambda i: {"import_id": i["import"]}, {"clerk", "county"}),
                       V(lambda i: {"import_id": i["import"], "show": "all", "page": 1},
                         {"clerk", "county"})],
    "exports.households": [V(lambda i: {"fmt": "csv"}, CASE),
                           V(lambda i: {"fmt": "xlsx", "state": "paid"}, CASE)],
    "exports.households_full": [V(None, {"reviewer", "finance", "county", "auditor"})],
    "audit.index": [
        V(None, {"auditor", "county"}),
        V(lambda i: {"object_type": "household", "object_id": i["case"]["paid"]},
          {"auditor", "county"}),
        V(lambda i: {"action": "household", "user": "smoke_clerk", "date_from": "2020-01-01",
                     "date_to": "2099-12-31"}, {"auditor", "county"})],
    "admin.index": [V()],  # a redirect to the user list
    "admin.users": [V(None, {"admin"}), V(lambda i: {"q": "smoke"}, {"admin"})],
    "admin.detail": [V(lambda i: {"user_id": i["user"]}, {"admin"})],
    "admin.create": [V(None, {"admin"})],
    "certificates.index": [V(None, CASE),
                           V(lambda i: {"village": i["certificate_village"]}, CASE)],
    "certificates.download": [V(lambda i: {"cert_id": i["certificate"]}, CASE)],
    "certificates.batch": [
        V(lambda i: {"village": i["certificate_village"]}, CASE),
        V(lambda i: {"village": i["certificate_village"], "ids": i["certificate"]}, CASE)],
    "certificates.verify": lambda ids: [V(lambda i, s=s, t=t: {"serial": s, "t": t},
                                          STAFF | {ANON}) for s, t in ids["verify"]],
    "inspections.worklist": [V(None, {"inspector", "reviewer", "county"}),
                             V(lambda i: {"village": i["village"]},
                               {"inspector", "reviewer", "county"})],
    "inspections.record_pdf": _each("inspection", "inspection_id", CASE),
    "inspections.inspect": [V(C("installed"), {"inspector"})],
    "inspections.installation": [V(C(s), {"clerk"}) for s in ("approved", "installed",
                                                              "failed")],
    "inspections.campaigns_index": [V(None, {"county", "auditor"})],
    "inspections.campaign_new": [V(None, {"county"})],
    "inspections.campaign": _each("campaign", "campaign_id", {"county", "auditor"}),
    "inspections.follow_up_visits": [V(None, {"inspector", "reviewer", "county"})],
    "inspections.installers_index": [V(None, {"county"})],
    "inspections.installer_new": [V(None, {"county"})],
    "inspections.installer_edit": [V(lambda i: {"company_id": i["installer"]}, {"county"})],
    "inspections.installer_resolve": [V(None, {"county"})],
    "inspections.picture": [V(lambda i: {"upload_id": i["photo"]}, CASE),
                            V(lambda i: {"upload_id": i["document"]}, DOC_VIEWERS)],
    "inspections.thumbnail": [V(lambda i: {"upload_id": i["photo"]}, CASE),
                              V(lambda i: {"upload_id": i["document"]}, DOC_VIEWERS)],
    "payouts.index": [V(None, PAYOUT), V(lambda i: {"state": "closed"}, PAYOUT)],
    "payouts.detail": lambda ids: [V(B(s), PAYOUT) for s in ids["batch"]] + [
        V(B("reconciled", status="failed"), PAYOUT), V(B("closed", page=2), PAYOUT)],
    "payouts.bankfile": [V(B("exported", fmt=f), {"finance"}) for f in ("csv", "xlsx")],
    "payouts.roster": [V(lambda i: {"batch_id": i["roster"][0], "township_id": i["roster"][1]},
                         PAYOUT)],
    "payouts.request_correction": [V(C("payment_failed"), {"clerk", "finance"})],
    "payouts.corrections_queue": [V(None, PAYOUT)],
    "payouts.recoveries_index": [V(None, PAYOUT), V(lambda i: {"state": "open"}, PAYOUT)],
    "payouts.recovery": lambda ids: [V(lambda i, r=r: {"recovery_id": r}, PAYOUT)
                                     for r in ids["recovery"]],
    "payouts.new": [V(None, {"finance"}),
                    V(lambda i: {"kind": "running", "season": "2025-2026"}, {"finance"}),
                    V(lambda i: {"township_id": i["township"], "repay": "y"}, {"finance"})],
    "payouts.usage_index": [V(None, PAYOUT)],
    "reports.index": [V(None, DOC_VIEWERS), V(lambda i: {"year": 2025}, DOC_VIEWERS),
                      V(lambda i: {"township": i["township"]}, DOC_VIEWERS)],
    "reports.settings_page": [V(None, {"county"})],
    "reports.monthly_index": [V(None, {"county", "auditor"}),
                              V(lambda i: {"programme_year": 2025, "month": "2025-11"},
                                {"county", "auditor"})],
    "reports.monthly_draft": [V(lambda i, f=f: {"fmt": f, "programme_year": 2025,
                                                "month": "2025-11"}, {"county"})
                              for f in ("pdf", "xlsx")],
    "reports.monthly_file": lambda ids: [V(lambda i, r=r, f=f: {"report_id": r, "fmt": f},
                                           {"county", "auditor"})
                                         for r in ids["monthly"] for f in ("pdf", "xlsx")],
    "payouts.usage_detail": [V(lambda i, q=q: {"import_id": i["usage_import"], **q}, PAYOUT)
                             for q in ({}, {"show": "low"}, {"show": "excluded", "page": 1})],
    "payouts.usage_low_csv": [V(lambda i: {"import_id": i["usage_import"]}, PAYOUT)],
    "payouts.usage_preview": [V(lambda i: {"token": i["usage_preview"]}, {"finance"}),
                              V(lambda i: {"token": i["usage_preview"], "show": "matched"},
                                {"finance"})],
    "payouts.usage_upload": [V(None, {"finance"})],
    "publicity.index": [V(None, CASE), V(lambda i: {"state": "closed"}, CASE)],
    "publicity.detail": _each("notice", "notice_id", CASE),
    "publicity.pdf": _each("notice", "notice_id", CASE),
    "publicity.xlsx": _each("notice", "notice_id", CASE),
    "publicity.new": [V(None, {"reviewer"}), V(lambda i: {"township": i["township"]}, {"reviewer"}),
                      V(lambda i: {"township": i["township"], "village": i["village"],
                                   "year": i["year"]}, {"reviewer"})],
    "subsidies.index": [V(None, CASE),
                        V(lambda i: {"year": i["year"], "type": "electric"}, CASE)],
    "subsidies.detail": _each("policy", "policy_id", CASE),
    "subsidies.edit": [V(lambda i: {"policy_id": i["unused_policy"]}, {"county"})],
    "subsidies.new_version": [V(lambda i: {"policy_id": i["policy"][0]}, {"county"})],
    "subsidies.create": [V(None, {"county"})],
}


# --- the database and the app, once per module ------------------------------------------------
class _RecordingArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query parameters that note which names the view asked for (directly, or through a
    form reading the query string)."""

    def __contains__(self, key: object) -> bool:
        _note(key)
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        _note(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        _note(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:  # noqa: A002
        _note(key)
        return super().getlist(key, type)


READ: dict[str, set[str]] = defaultdict(set)


def _note(key: object) -> None:
    if has_request_context() and request.endpoint and isinstance(key, str):
        READ[request.endpoint].add(key)


@contextlib.contextmanager
def _smoke_database(tmp: Path) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL database beside the per-test one (which the other tests
    empty between tests: this one must stay as seeded for the whole module)."""
    if not PG_URL:
        yield f"sqlite:///{tmp / 'smoke.sqlite3'}"
        return
    main = make_url(pg_database_url())  # under pytest-xdist the worker's own database
    url = main.set(database=f"{main.database}_smoke").render_as_string(hide_password=False)
    create_scratch_database(url)  # left in place: see there
    yield url


@dataclass
class Smoke:
    app: Flask
    seeded: Seeded
    seconds: float


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Smoke]:
    started = time.perf_counter()
    tmp = tmp_path_factory.mktemp("smoke")
    with _smoke_database(tmp) as url:
        app = make_app(url, STORAGE_DIR=str(tmp / "storage"), VERIFY_RATE_LIMIT="100000/minute")
        app.test_client_class = IsolatedClient

        class Request(app.request_class):  # type: ignore[name-defined,misc]
            parameter_storage_class = _RecordingArgs

        app.request_class = Request
        with app.app_context():
            upgrade()
            db.session.remove()
        try:
            seeded = seed(app)
            yield Smoke(app, seeded, time.perf_counter() - started)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _client(smoke: Smoke, role: str, lang: str) -> Any:
    client = smoke.app.test_client()
    if role == ANON:
        with client.session_transaction() as sess:
            sess["lang"] = lang
    else:
        log_in(client, SimpleNamespace(get_id=lambda: smoke.seeded.cookies[role]), lang)
    return client


def _visits(endpoint: str, ids: dict[str, Any]) -> list[Visit]:
    found = ROUTES[endpoint]
    return found(ids) if callable(found) else found


def _url(app: Flask, endpoint: str, args: dict[str, Any]) -> str:
    with app.test_request_context():
        return url_for(endpoint, **args)


def _get(client: Any, url: str) -> tuple[int | None, str]:
    """(status, problem): an exception the app let through is a problem like a 5xx."""
    try:
        response = client.get(url, buffered=True)
    except Exception as err:  # noqa: BLE001  the test reports every failure at once
        last = traceback.extract_tb(err.__traceback__)[-1]
        return None, f"{type(err).__name__}: {err} ({last.filename}:{last.lineno})"
    return response.status_code, ""


def _get_routes(app: Flask) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods),
                  key=lambda r: r.endpoint)


# --- the tests ---------------------------------------------------------------------------------
def test_every_get_route_has_a_url_builder() -> None:
    endpoints = {rule.endpoint for rule in _get_routes(make_app("sqlite://"))}
    assert sorted(endpoints - set(ROUTES)) == [], "GET routes without a URL builder in ROUTES"
    assert sorted(set(ROUTES) - endpoints) == [], "URL builders for routes that do not exist"


@pytest.fixture(scope="module")
def rendered(smoke: Smoke) -> dict[str, Any]:
    """Every visit × role × language (a role refused a page is refused in one of the two
    languages only): the problems found, the requests made, the time."""
    started, problems, count = time.perf_counter(), [], 0
    endpoints = sorted({rule.endpoint for rule in _get_routes(smoke.app)} & set(ROUTES))
    for lang in LANGS:
        ids = dict(smoke.seeded.ids, lang=lang)
        urls = [(_url(smoke.app, e, v.args(ids)), v.ok) for e in endpoints
                for v in _visits(e, ids)]
        for n, role in enumerate(ROLES + (ANON,)):
            client = _client(smoke, role, lang)
            for url, ok in urls:
                if role not in ok and LANGS[n % 2] != lang:
                    continue  # a refusal is the same in both languages: each role's in one
                status, problem = _get(client, url)
                count += 1
                wanted = {200} if role in ok else NOT_SHOWN
                if status not in wanted:
                    problems.append(f"{lang} {role:<18} {url}: {status or problem} "
                                    f"(expected {' or '.join(map(str, sorted(wanted)))})")
    return {"problems": problems, "requests": count, "seconds": time.perf_counter() - started}


def test_every_get_route_renders_in_both_languages_for_every_role(smoke: Smoke,
                                                                   rendered: dict) -> None:
    print(f"\nsmoke: database {smoke.seconds:.1f} s; {rendered['requests']} requests "
          f"(route × role × language) in {rendered['seconds']:.1f} s")
    assert not rendered["problems"], "\n".join(rendered["problems"])


def _opener(visit: Visit) -> str:
    """A role that may open the page (hostile values must be read by the view itself, not
    stopped at a permission check), else the county office."""
    for role in ROLES + (ANON,):
        if role in visit.ok:
            return role
    return "county"


def test_hostile_query_values_never_give_a_5xx(smoke: Smoke, rendered: dict) -> None:
    app, ids = smoke.app, dict(smoke.seeded.ids, lang="zh_Hans_CN")
    assert {"year", "township", "village", "after"} <= READ["households.index"], (
        "the query parameters are no longer recorded as the views read them")
    clients: dict[str, Any] = {}
    problems, count = [], 0
    for endpoint in sorted(READ):
        names = READ[endpoint] - {"lang"}
        if not names or endpoint not in ROUTES:
            continue
        visit = _visits(endpoint, ids)[0]
        role = _opener(visit)
        client = clients.get(role) or clients.setdefault(role, _client(smoke, role, ids["lang"]))
        path_args = {k: v for k, v in visit.args(ids).items()
                     if k in _rule(app, endpoint).arguments}
        base = _url(app, endpoint, path_args)
        plain, _ = _get(client, base)
        for value in HOSTILE:
            url = f"{base}?{urlencode({n: value for n in sorted(names)})}"
            status, problem = _get(client, url)
            count += 1
            if status != plain:  # a value the view cannot use is as if it were not given
                problems.append(f"{role} {url}: {status or problem} (without: {plain})")
    print(f"\nsmoke: {count} requests with hostile query values to "
          + ", ".join(f"{e} ({' '.join(sorted(READ[e]))})" for e in sorted(READ)))
    assert not problems, "\n".join(problems)


def _rule(app: Flask, endpoint: str) -> Any:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def test_hostile_path_values_never_give_a_5xx(smoke: Smoke) -> None:
    """Garbage in every path parameter of a string kind (tokens, serials, language codes)."""
    app, ids = smoke.app, dict(smoke.seeded.ids, lang="zh_Hans_CN")
    problems = []
    for rule in _get_routes(app):
        names = [n for n, conv in rule._converters.items() if type(conv) in (
            UnicodeConverter, PathConverter) and rule.endpoint != "static"]
        if not names or rule.endpoint not in ROUTES:
            continue
        visit = _visits(rule.endpoint, ids)[0]
        client = _client(smoke, _opener(visit), ids["lang"])
        args = visit.args(ids)
        for name in names:
            for value in HOSTILE_PATH:
                url = _path(rule, {**args, name: value})
                status, problem = _get(client, url)
                if status is None or status >= 500:
                    problems.append(f"{url}: {status or problem}")
    assert not problems, "\n".join(problems)


def _path(rule: Any, args: dict[str, Any]) -> str:
    """The rule's path with ``args`` put in as they are (url_for would refuse or re-encode
    values the converters do not accept)."""
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{_spec(rule, name)}>", quote(str(args[name]), safe="%"))
    return path


def test_ids_beyond_64_bits_are_not_found(smoke: Smoke) -> None:
    """Every ``<int:…>`` route, GET or POST (with a valid CSRF token), as the county office."""
    app = smoke.app
    client = _client(smoke, "county", "zh_Hans_CN")
    token = csrf_token(app, client)
    problems = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        ints = [n for n, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if not ints:
            continue
        for big in BEYOND_64_BITS:
            path = _path(rule, {name: big if name in ints else _some(rule, name)
                                for name in rule.arguments})
            try:
                response = (client.get(path) if "GET" in rule.methods
                            else client.post(path, data={"csrf_token": token}))
                status = response.status_code
            except Exception as err:  # noqa: BLE001
                status = f"{type(err).__name__}: {err}"  # type: ignore[assignment]
            if status != 404:
                problems.append(f"{' '.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} "
                                f"{path}: {status}")
    assert not problems, "\n".join(problems)


def _spec(rule: Any, name: str) -> str:
    """The placeholder as written in the rule, e.g. ``int:case_id`` or ``any(csv, xlsx):fmt``."""
    match = re.search(r"<([^<>]*:)?" + re.escape(name) + r">", rule.rule)
    assert match, (rule.rule, name)
    return match.group(0)[1:-1]


def _some(rule: Any, name: str) -> str:
    """A value the other converters accept (the first choice of an ``any``)."""
    items = getattr(rule._converters[name], "items", None)
    return sorted(items)[0] if items else "x"

