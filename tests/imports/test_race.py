"""Two confirmations of the same file at the same moment (two previews of it, two people or
two tabs): exactly one imports it, the other imports nothing and says why.  Both databases."""
from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from heating.extensions import db
from heating.households.imports.models import ImportRecord
from heating.households.models import Household
from tests.conftest import csrf_token
from tests.fixtures import log_in, make_user
from tests.imports.helpers import grid, row, xlsx


def test_simultaneous_confirmations_import_the_file_once(app, world):
    clerk = make_user("clerk", world.village_a1)
    data = xlsx(grid([row(n) for n in range(1, 301)]))
    clients, ids = [], []
    for _ in range(2):
        client = app.test_client()
        log_in(client, clerk)
        token = csrf_token(app, client)
        client.post("/imports/", data={"csrf_token": token, "programme_year": "2026",
                                       "file": (io.BytesIO(data), "f.xlsx")},
                    content_type="multipart/form-data")
        ids.append(db.session.scalar(select(func.max(ImportRecord.id))))
        clients.append((client, token))
    assert ids[0] != ids[1]
    db.session.commit()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def confirm(client, token, import_id):
        barrier.wait()
        statuses.append(client.post(f"/imports/{import_id}/confirm",
                                    data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=confirm, args=(c, t, i))
               for (c, t), i in zip(clients, ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.expire_all()
    assert statuses == [302, 302]
    assert db.session.scalar(select(func.count()).select_from(Household)) == 300
    states = sorted(db.session.scalars(select(ImportRecord.status)))
    assert states == ["imported", "previewed"]
