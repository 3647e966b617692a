"""DOMAIN.md: an inspector never sees a bank account, not even masked.  The case page leaves
the bank and account rows out for a reader whose roles over the case neither show the number
nor may reveal it; a second role that may see it keeps its own view."""
from __future__ import annotations

import html
import re

from heating.extensions import db
from tests.factories import GrantFactory
from tests.fixtures import log_in, make_case, make_user

BANK = "邮储银行东河支行"


def page(client, hh):
    response = client.get(f"/households/{hh.id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def shows_account_mask(body: str, hh) -> bool:
    """The account mask ``****1234`` on its own: a masked ID (``410881********1234``) or phone
    (``138****1234``) ending in the same four digits is not the account."""
    return re.search(r"(?<![\d*])" + re.escape(hh.bank_masked), body) is not None


def case(world):
    clerk = make_user("clerk", world.village_a1, username="owner")
    return make_case(world.village_a1, clerk, bank_name=BANK, state="installed")


def test_inspector_sees_neither_bank_nor_account(client, world):
    hh = case(world)
    log_in(client, make_user("inspector", world.town_a))
    body = page(client, hh)
    assert hh.bank_account not in body and not shows_account_mask(body, hh)
    assert BANK not in body and "Account number" not in body
    assert hh.id_masked in body  # the rest of the page is there


def test_inspector_and_reviewer_keeps_the_reviewers_masked_view(client, world):
    hh = case(world)
    user = make_user("inspector", world.town_a)
    GrantFactory(user=user, role="reviewer", area_id=world.town_a.id)
    db.session.commit()
    log_in(client, user)
    body = page(client, hh)
    assert hh.bank_masked in body and BANK in body and hh.bank_account not in body


def test_inspector_here_and_reviewer_elsewhere_still_sees_nothing_here(client, world):
    hh = case(world)
    user = make_user("inspector", world.town_a)
    GrantFactory(user=user, role="reviewer", area_id=world.town_b.id)
    db.session.commit()
    log_in(client, user)
    body = page(client, hh)
    assert not shows_account_mask(body, hh) and BANK not in body


def test_roles_that_may_see_the_account_still_do(client, world):
    hh = case(world)
    log_in(client, make_user("clerk", world.village_a1))
    assert hh.bank_account in page(client, hh)
    for role in ("finance", "county", "auditor"):
        log_in(client, make_user(role, world.county))
        body = page(client, hh)
        assert hh.bank_masked in body and BANK in body, role
    log_in(client, make_user("reviewer", world.town_a))
    assert hh.bank_masked in page(client, hh)
