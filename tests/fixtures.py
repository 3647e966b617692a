"""Shared fixtures: a small fictional county and logins per role."""
from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from flask import Flask
from flask_babel import force_locale, gettext

from heating.areas.models import Area
from heating.auth.models import User
from heating.extensions import db
from heating.households import services
from heating.households.models import Household
from tests.factories import AreaFactory, GrantFactory, HouseholdFactory, UserFactory

PASSWORD = "correct horse battery"


@dataclass
class World:
    county: Area
    town_a: Area
    town_b: Area
    village_a1: Area
    village_a2: Area
    village_b1: Area


@pytest.fixture
def world(app: Flask) -> World:
    """County 139901 with townships A (villages A1, A2) and B (village B1)."""
    county = AreaFactory(code="139901000000", name="示范县", level="county")
    town_a = AreaFactory(code="139901001000", name="东河镇", level="township", parent=county)
    town_b = AreaFactory(code="139901002000", name="西山乡", level="township", parent=county)
    a1 = AreaFactory(code="139901001001", name="东河村", level="village", parent=town_a)
    a2 = AreaFactory(code="139901001002", name="南岗村", level="village", parent=town_a)
    b1 = AreaFactory(code="139901002001", name="西山村", level="village", parent=town_b)
    db.session.commit()
    return World(county, town_a, town_b, a1, a2, b1)


def make_user(role: str | list[str], *areas: Area, username: str | None = None,
              **kw: Any) -> User:
    roles = [role] if isinstance(role, str) else role
    user = UserFactory(**({"username": username} if username else {}), **kw)
    for r in roles:
        for area in areas:
            GrantFactory(user=user, role=r, area_id=area.id)
    db.session.commit()
    db.session.refresh(user)
    return user


@pytest.fixture
def user_factory(app: Flask) -> Callable[..., User]:
    return make_user


def log_in(client: Any, user: User, lang: str = "en") -> None:
    """Put the user in the client's session the way Flask-Login would after a login.
    Tests read English messages by default (the app's default is Chinese: see test_i18n)."""
    with client.session_transaction() as sess:
        sess["lang"] = lang
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["last_active"] = time.time()


@pytest.fixture
def login_as(app: Flask, client: Any, world: World) -> Callable[..., User]:
    """login_as("clerk", village=world.village_a1) → the logged-in user."""
    def _login(role: str | list[str], area: Area | None = None, **kw: Any) -> User:
        default = {"clerk": world.village_a1, "reviewer": world.town_a,
                   "inspector": world.town_a, "admin": world.county}.get(
            role if isinstance(role, str) else role[0], world.county)
        user = make_user(role, area or default, **kw)
        log_in(client, user)
        return user
    return _login


def make_case(village: Area, creator: User, **kw: Any) -> Household:
    """A household row as a clerk would register it (a ``state`` keyword places it directly
    in a later state, for tests of screens and permissions that do not walk the lifecycle)."""
    hh = HouseholdFactory(village=village, created_by_id=creator.id, **kw)
    db.session.flush()
    services._event(hh, "create", None, "draft", creator)
    db.session.commit()
    return hh


@pytest.fixture
def case_factory(app: Flask) -> Callable[..., Household]:
    return make_case


def says(response, msgid, **kw):
    """True when the page shows the message, in English or in the Chinese catalog (whichever
    the locale in force renders)."""
    body = html.unescape(response.get_data(as_text=True))
    renderings = set()
    for locale in ("en", "zh_Hans_CN"):
        with force_locale(locale):
            renderings.add(gettext(msgid, **kw))
    return any(text in body for text in renderings)


def en(message: Any) -> str:
    """A (lazy) message rendered in English: service-level tests run outside a request, where
    the app's default language (Chinese) would apply."""
    with force_locale("en"):
        return str(message)
