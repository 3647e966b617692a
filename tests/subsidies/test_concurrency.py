"""County clerks saving policies at the same moment: one new version per version, and no two
overlapping policies (SQLite queues writers on BEGIN IMMEDIATE; PostgreSQL on the county row
lock). The losers get a message on the form, never a 500."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from heating.extensions import db
from heating.subsidies.models import SubsidyPolicy
from tests.conftest import csrf_token
from tests.fixtures import log_in, make_user
from tests.subsidies.support import make_policy
from tests.subsidies.test_views import form


def race(app, world, url, data, n=4):
    clients = []
    for _ in range(n):
        client = app.test_client()
        log_in(client, make_user("county", world.county))
        clients.append(client)
    tokens = [csrf_token(app, c) for c in clients]
    db.session.commit()
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def submit(client, token):
        barrier.wait()
        statuses.append(client.post(url, data=dict(data, csrf_token=token)).status_code)

    threads = [threading.Thread(target=submit, args=(c, t)) for c, t in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(statuses)


def test_simultaneous_new_versions_of_one_version(app, world):
    policy = make_policy(world.county.id, make_user("county", world.county))
    statuses = race(app, world, f"/subsidies/policies/{policy.id}/new-version",
                    form(world.county.id, equipment_cap="8000"))
    # the losers are sent back to the replaced version (302) or shown the form with the
    # message (200), depending on whether they queued before or after loading it
    assert set(statuses) <= {200, 302} and len(statuses) == 4
    versions = db.session.scalars(select(SubsidyPolicy.version)).all()
    assert sorted(versions) == [1, 2]
    current = db.session.scalars(select(SubsidyPolicy).where(
        SubsidyPolicy.superseded_at.is_(None))).all()
    assert [p.version for p in current] == [2]


def test_simultaneous_overlapping_creations(app, world):
    statuses = race(app, world, "/subsidies/policies/new", form(world.county.id))
    assert statuses == [200, 200, 200, 302]
    assert db.session.scalar(select(func.count()).select_from(SubsidyPolicy)) == 1
