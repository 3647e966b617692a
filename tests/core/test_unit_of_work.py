"""The request's unit of work (heating.core.web): one commit at the end of a writing request,
a rollback on every refusal, work that survives a refusal declared once, and GET views that
write declared with ``@writes``.  Test-only routes on the test's app make each case exact."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import redirect
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.audit.services import record
from heating.core.db import write_intent
from heating.core.refusals import Conflict, Forbidden, Refusal, record_independently
from heating.core.web import attempt, writes
from heating.extensions import db
from tests.conftest import IsolatedClient, make_app


def _rows(summary: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.summary == summary))


def _write(summary: str) -> None:
    record("login.failed", "user", 1, actor=None, summary=summary)


@pytest.fixture
def app(db_url, tmp_path):
    """An app of its own (not the worker's shared one, which has served requests already and
    takes no new routes), on the same freshly emptied test database."""
    own = make_app(db_url, STORAGE_DIR=str(tmp_path / "storage"))
    own.test_client_class = IsolatedClient
    with own.app_context():
        yield own
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def routes(app):
    """Routes added before the app's first request; their names say what they do."""
    seen: dict[str, bool] = {}

    @app.route("/_uow/refused", methods=["POST"])
    def refused():
        with attempt() as done:
            _write("partial")  # written, flushed …
            raise Refusal("No, and nothing was kept.")  # … and refused afterwards
        return redirect("/") if done else ("refused", 200)

    @app.route("/_uow/kept", methods=["POST"])
    def kept():
        with attempt():
            record_independently(_write, "kept")  # what the refusal records, first
            _write("partial")
            raise Refusal("No, but the attempt is on record.")
        return "refused", 200

    @app.route("/_uow/done", methods=["POST"])
    def done():
        with attempt() as ok:
            _write("done")
        return ("ok", 200) if ok else ("refused", 200)

    @app.route("/_uow/forbidden", methods=["POST"])
    def forbidden():
        with attempt():
            _write("partial")
            raise Forbidden("Not for your role.")
        return "unreachable", 200

    @app.route("/_uow/conflict", methods=["POST"])
    def conflict():
        _write("partial")
        raise Conflict("Someone else saved first.")

    @app.route("/_uow/plain-get")
    def plain_get():
        seen["plain"] = write_intent.get()
        _write("get")  # a GET that writes without saying so writes nothing
        return "ok", 200

    @app.route("/_uow/writing-get")
    @writes
    def writing_get():
        seen["writing"] = write_intent.get()
        _write("writing-get")
        return "ok", 200

    return seen


def test_a_refused_post_leaves_no_partial_writes(routes, client, post):
    r = post("/_uow/refused")
    assert r.status_code == 200 and r.get_data(as_text=True) == "refused"
    assert _rows("partial") == 0
    with client.session_transaction() as sess:  # the refusal is shown as a message
        assert ("error", "No, and nothing was kept.") in sess["_flashes"]


def test_a_post_that_ends_well_is_committed_by_the_request(routes, post):
    assert post("/_uow/done").status_code == 200
    assert _rows("done") == 1


def test_what_a_refusal_records_survives_its_rollback(routes, post):
    assert post("/_uow/kept").status_code == 200
    assert _rows("partial") == 0  # the request's own work is gone
    assert _rows("kept") == 1  # the refusal's record is kept, and only once


def test_a_forbidden_refusal_is_a_403_page_and_keeps_nothing(routes, post):
    r = post("/_uow/forbidden")
    assert r.status_code == 403
    assert _rows("partial") == 0


def test_a_refusal_no_view_handles_is_its_own_page(routes, post):
    r = post("/_uow/conflict")
    assert r.status_code == 409 and "Someone else saved first." in r.get_data(as_text=True)
    assert _rows("partial") == 0


def test_only_a_get_that_declares_it_writes(routes, client):
    assert client.get("/_uow/plain-get").status_code == 200
    assert client.get("/_uow/writing-get").status_code == 200
    assert routes == {"plain": False, "writing": True}  # BEGIN IMMEDIATE only when declared
    assert _rows("get") == 0
    assert _rows("writing-get") == 1


def test_no_view_module_commits_or_rolls_back_itself():
    """The unit of work is the request's: views never end a transaction by hand."""
    root = Path(__file__).resolve().parents[2] / "heating"
    views = [p for p in sorted(root.rglob("*.py"))
             if "views" in p.name or p.name == "blueprint.py"]
    assert len(views) > 10
    found = [f"{p.relative_to(root)}:{n}" for p in views
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if "commit()" in line or "rollback()" in line]
    assert found == []
