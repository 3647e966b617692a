"""Two clerks registering the same ID number at the same moment: exactly one case, and the
other clerk gets a form message (never a 500).  Runs on both databases; on SQLite the writers
queue on BEGIN IMMEDIATE, on PostgreSQL the partial unique index decides."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from heating.extensions import db
from heating.households.models import Household
from tests.conftest import csrf_token
from tests.fixtures import log_in, make_user
from tests.households.test_flow import form_data


def test_simultaneous_registrations_of_one_id(app, world):
    clerks = [make_user("clerk", world.village_a1) for _ in range(4)]
    clients = []
    for clerk in clerks:
        client = app.test_client()
        log_in(client, clerk)
        clients.append(client)
    tokens = [csrf_token(app, c) for c in clients]
    data = form_data(world)  # built here: the threads have no app context
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def register(client, token):
        barrier.wait()
        response = client.post("/households/new", data=dict(data, csrf_token=token))
        statuses.append(response.status_code)

    threads = [threading.Thread(target=register, args=(c, t)) for c, t in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 200, 200, 302]
    assert db.session.scalar(select(func.count()).select_from(Household)) == 1


def test_post_requests_open_sqlite_transactions_immediately(app, client, post, world):
    if db.engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event
    seen: list[str] = []

    def spy(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        log_in(client, make_user("clerk", world.village_a1))
        seen.clear()
        client.get("/households/")
        assert seen and set(seen) == {"BEGIN"}
        seen.clear()
        post("/households/new", form_data(world))
        assert "BEGIN IMMEDIATE" in seen
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
