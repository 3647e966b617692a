"""``permissions.get_in_scope``: the one scoped loader of records by id (404 when missing,
404 outside every scope, the record otherwise; records attached to a case are placed by it)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from werkzeug.exceptions import NotFound

from heating.auth import permissions
from heating.households.models import Household
from heating.households.queries import case_in_scope
from tests.fixtures import make_case, make_user


def test_a_case_loads_in_scope_and_is_404_outside_or_missing(app, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk)
    assert permissions.get_in_scope(Household, hh.id, clerk) is hh
    assert case_in_scope(clerk, hh.id) is hh  # the old name, the same rule
    other = make_user("clerk", world.village_b1)
    for user, case_id in ((other, hh.id), (clerk, hh.id + 1000)):
        with pytest.raises(NotFound):
            permissions.get_in_scope(Household, case_id, user)


def test_a_record_is_placed_by_the_one_it_belongs_to(app, world, monkeypatch):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk)
    owned = SimpleNamespace(entry=hh)  # e.g. an objection, placed by its notice entry
    monkeypatch.setattr(permissions.db.session, "get", lambda model, _id: owned)
    assert permissions.get_in_scope(object, 1, clerk, via="entry") is owned
    with pytest.raises(NotFound):
        permissions.get_in_scope(object, 1, make_user("clerk", world.village_b1),
                                 via="entry")
