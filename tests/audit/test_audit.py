"""The audit log: append-only in the database, masks only, and the viewer."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from heating.audit.models import AuditEvent
from heating.audit.services import record
from heating.core.redact import RedactingFilter, redact
from heating.extensions import db
from tests.factories import luhn_account, make_id_number
from tests.fixtures import log_in, make_case, make_user
from tests.households.test_flow import form_data


def test_update_and_delete_are_refused_by_the_database(app, world):
    record("test.event", "thing", 1, actor=None, summary="x")
    db.session.commit()
    for statement in ("UPDATE audit_events SET summary = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(Exception) as err:
            db.session.execute(text(statement))
            db.session.flush()
        assert "append-only" in str(err.value)
        db.session.rollback()
    assert db.session.scalar(select(AuditEvent.summary)) == "x"


def test_audit_rows_never_hold_full_numbers(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    log_in(client, clerk)
    full_id, account = make_id_number(5), luhn_account(7)
    post("/households/new", form_data(world, id_number=full_id, bank_account=account))
    hh_id = db.session.scalar(select(AuditEvent.object_id).where(
        AuditEvent.action == "household.created"))
    post(f"/households/{hh_id}/edit", form_data(world, id_number=full_id,
                                               bank_account=luhn_account(8), version="1"))
    dump = " ".join(f"{e.summary} {e.before} {e.after}" for e in db.session.scalars(
        select(AuditEvent)))
    assert "household.edited" in {e.action for e in db.session.scalars(select(AuditEvent))}
    for secret in (full_id, account, luhn_account(8)):
        assert secret not in dump
    assert full_id[:6] + "********" + full_id[-4:] in dump
    assert "****" + account[-4:] in dump


def test_record_redacts_numbers_in_free_text(app):
    event = record("x", "y", None, actor=None, summary=f"id {make_id_number(1)} ok",
                   after={"note": f"card {luhn_account(1)}"})
    assert make_id_number(1) not in event.summary and luhn_account(1) not in event.after


def test_log_filter_masks_numbers(caplog):
    full_id = make_id_number(3)
    assert full_id not in redact(f"GET /households/?q={full_id} 200")
    assert "6222 0212" not in redact("card 6222 0212 3456 7890 128")
    record_ = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                                "%s - GET /households/?q=%s", ("127.0.0.1", full_id), None)
    RedactingFilter().filter(record_)
    assert full_id not in record_.getMessage() and full_id[:6] in record_.getMessage()


def test_access_log_of_a_search_holds_no_full_id(app, client, world, caplog):
    log_in(client, make_user("clerk", world.village_a1))
    full_id = make_id_number(11)
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('"GET /households/?q=%s HTTP/1.1" 200 -', full_id)
    assert full_id not in caplog.text


def test_viewer_filters_and_is_limited_to_auditor_and_county(client, world):
    clerk = make_user("clerk", world.village_a1, username="clerkx")
    hh = make_case(world.village_a1, clerk)
    record("household.created", "household", hh.id, actor=clerk, summary="one")
    record("login", "user", clerk.id, actor=clerk, summary="two")
    db.session.commit()
    log_in(client, make_user("auditor", world.county))
    body = client.get("/audit/").get_data(as_text=True)
    assert "one" in body and "two" in body
    body = client.get("/audit/?action=group:cases").get_data(as_text=True)  # all case actions
    assert "one" in body and ">two<" not in body
    body = client.get(f"/audit/?object_type=household&object_id={hh.id}").get_data(True)
    assert "one" in body
    body = client.get("/audit/?user=nobody").get_data(as_text=True)
    assert "No entries match" in body
    assert client.get("/audit/?date_from=2020-13-45&after=x").status_code == 200
    body = client.get("/audit/?date_from=2999-01-01").get_data(as_text=True)
    assert "No entries match" in body
    for role, area in (("clerk", world.village_a1), ("reviewer", world.town_a),
                       ("finance", world.county), ("admin", world.county)):
        log_in(client, make_user(role, area))
        assert client.get("/audit/").status_code == 403
    log_in(client, make_user("county", world.county))
    assert client.get("/audit/").status_code == 200


def test_every_transition_writes_event_and_audit(client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk)
    log_in(client, clerk)
    post(f"/households/{hh.id}/do/withdraw", {"reason": "户主不愿改造"})
    db.session.refresh(hh)
    assert hh.state == "withdrawn"
    event = hh.events[-1]
    assert (event.action, event.from_state, event.to_state, event.actor_id, event.reason) == (
        "withdraw", "draft", "withdrawn", clerk.id, "户主不愿改造")
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                       "household.withdraw"))
    assert audit.actor_id == clerk.id and '"withdrawn"' in audit.after
