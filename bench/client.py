"""What the benchmarks share about driving the app through the Flask test client: a session
logged in as a demo user, and the SQL statements a request sends (replayed later through the
stdlib ``sqlite3`` driver as the floor)."""
from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

from flask import Flask
from sqlalchemy import event

from heating.auth.models import User
from heating.extensions import db

Statement = tuple[str, Any]  # (SQL as sent to the driver, its parameters)


def log_in(client: Any, user: User | str, **extra: Any) -> None:
    """As tests/fixtures.py: the session Flask-Login would hold after a login (``user`` or
    its ``get_id()``), plus ``extra`` session keys (a CSRF secret, say)."""
    user_id = user if isinstance(user, str) else user.get_id()
    with client.session_transaction() as sess:
        sess.update({"_user_id": user_id, "_fresh": True, "last_active": time.time(), **extra})


@contextlib.contextmanager
def statements(app: Flask) -> Iterator[list[Statement]]:
    """The statements (with parameters) the app's engine runs inside the block, in order."""
    seen: list[Statement] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                 executemany: bool) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)
