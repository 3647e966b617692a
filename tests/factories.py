"""factory_boy factories for test data (bound to the app's scoped session)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from heating.areas.models import Area
from heating.auth.models import RoleGrant, User
from heating.extensions import db
from heating.households.models import Household

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id_number(n: int, area: str = "139901", born: date = date(1970, 1, 1)) -> str:
    """A valid ID number (published GB 11643 algorithm), distinct for each n < 1000 × days."""
    birth = born + timedelta(days=n // 1000)
    first17 = f"{area}{birth:%Y%m%d}{n % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]
    return first17 + check


def luhn_account(n: int, prefix: str = "622202") -> str:
    body = f"{prefix}{n:012d}"
    total = 0
    for i, d in enumerate(reversed(body)):
        v = int(d) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return body + str((10 - total % 10) % 10)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class AreaFactory(Base):
    class Meta:
        model = Area

    code = factory.Sequence(lambda n: f"1399{n + 1:02d}000000")
    name = factory.Sequence(lambda n: f"测试区{n}")
    level = "county"
    code_year = 2025


class UserFactory(Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    # pbkdf2 with few rounds: the test config uses the same method
    password_hash = factory.LazyFunction(
        lambda: generate_password_hash("correct horse battery", method="pbkdf2:sha256:1000"))
    must_change_password = False
    active = True
    failed_logins = 0


class GrantFactory(Base):
    class Meta:
        model = RoleGrant


class HouseholdFactory(Base):
    class Meta:
        model = Household
        exclude = ("village",)

    programme_year = 2026
    state = "draft"
    head_name = factory.Sequence(lambda n: f"王{'建国明华丽'[n % 5]}{'一二三四五六七八九'[n % 9]}")
    id_number = factory.Sequence(lambda n: make_id_number(n))
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    group_name = "1组"
    house_no = factory.Sequence(lambda n: f"{n + 1}号")
    residents = 3
    heated_area = Decimal("80.00")
    previous_heating = "coal_stove"
    coal_stoves = 1
    low_income = False
    conversion_type = "electric"
    device_kind = "heat_pump"
    bank_name = "农村信用社"
    bank_account = factory.Sequence(lambda n: luhn_account(n))
    account_holder = factory.SelfAttribute("head_name")
    village_id = factory.SelfAttribute("village.id")
    township_id = factory.SelfAttribute("village.parent_id")
    county_id = factory.SelfAttribute("village.parent.parent_id")
    created_by_id = None


