"""Objections raised during a 公示 period and the reviewer's decision (DOMAIN.md):

- recorded while the period runs → the case goes publicized → objected;
- dismissed → back to publicized, on the same notice; the notice's end date stands, so a case
  whose period is already over is confirmed at once (when nothing else is open against it);
- upheld → the certificate is revoked, the case leaves the notice and goes back to installed
  for a new inspection (later it may be published on a new notice).

Several objections may be open against one case; the case returns to publicized only when the
last is dismissed, and upholding one closes the others with it.  Services flush, never commit.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from heating.audit.services import record
from heating.auth import permissions
from heating.certificates import services as certificates
from heating.core.db import now_utc
from heating.core.i18n import local_today
from heating.core.pdf import cn_date
from heating.extensions import db
from heating.households import lifecycle
from heating.households.services import transition
from heating.publicity.models import NoticeEntry, Objection
from heating.publicity.services import PublicityError, close_if_done, confirm_entry


def _require_manage(actor: Any, entry: NoticeEntry) -> None:
    if not permissions.can(actor, "notice.manage", entry.household):
        raise PublicityError(_l("Only the township reviewer records and decides objections."))


def _reason(value: str | None, field: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise PublicityError(_l("Please give a reason."), field=field)
    return text


def may_object(entry: NoticeEntry) -> bool:
    """The period is running (or has not started: the list is already posted) and the case is
    on the notice."""
    return (entry.state in ("listed", "objected")
            and lifecycle.allowed("record_objection", entry.household)
            and local_today() <= entry.notice.ends_on)


def record_objection(entry: NoticeEntry, actor: Any, raised_by: str, reason: str) -> Objection:
    _require_manage(actor, entry)
    if entry.state not in ("listed", "objected") or \
            not lifecycle.allowed("record_objection", entry.household):
        raise PublicityError(_l("Objections can be recorded only against a case on notice."))
    if local_today() > entry.notice.ends_on:
        raise PublicityError(_l("The notice period ended on %(date)s: objections can no longer "
                                "be recorded.", date=cn_date(entry.notice.ends_on)))
    who = (raised_by or "").strip()
    if not who or len(who) > 100:
        raise PublicityError(_l("Say who raised the objection (a name, or e.g. \"anonymous "
                                "call\"; at most 100 characters)."), field="raised_by")
    why = _reason(reason)
    objection = Objection(entry_id=entry.id, household_id=entry.household_id, raised_by=who,
                          reason=why, recorded_by_id=actor.id, recorded_at=now_utc(),
                          outcome="open")
    db.session.add(objection)
    if entry.state == "listed":
        transition(entry.household, "object", actor, why)
        entry.state = "objected"
    db.session.flush()
    record("objection.recorded", "objection", objection.id, actor=actor,
           summary=f"{entry.notice.number} #{entry.seq}: {why}",
           after={"entry": entry.id, "case": entry.household_id})
    return objection


def _decide(objection: Objection, actor: Any, outcome: str, reason: str) -> str:
    entry = objection.entry
    _require_manage(actor, entry)
    if objection.outcome != "open":
        raise PublicityError(_l("This objection has already been decided."))
    why = _reason(reason)
    objection.outcome = outcome
    objection.decided_by_id = actor.id
    objection.decided_at = now_utc()
    objection.decision_reason = why
    db.session.flush()
    return why


def dismiss(objection: Objection, actor: Any, reason: str) -> Objection:
    """The objection does not hold: when nothing else is open the case is back on its notice
    (and confirmed at once if the period is already over)."""
    why = _decide(objection, actor, "dismissed", reason)
    entry = objection.entry
    if not entry.open_objections and entry.household.state == "objected":
        transition(entry.household, "dismiss", actor, why)
        entry.state = "listed"
        db.session.flush()
        today = local_today()
        if entry.notice.ends_on < today:
            confirm_entry(entry, actor)
            close_if_done(entry.notice, today)
    record("objection.dismissed", "objection", objection.id, actor=actor,
           summary=f"{entry.notice.number} #{entry.seq}: {why}",
           after={"case_state": entry.household.state})
    return objection


def uphold(objection: Objection, actor: Any, reason: str) -> Objection:
    """The objection holds: certificate revoked, the case off the notice and back to installed
    for re-inspection (any other open objection against it is closed with this one)."""
    entry = objection.entry
    hh = entry.household
    if hh.state != "objected":
        raise PublicityError(_l("This case is not under objection review."))
    why = _decide(objection, actor, "upheld", reason)
    transition(hh, "uphold", actor, why)
    cert = certificates.current_certificate(hh)
    if cert is not None:
        certificates.mark_revoked(cert, actor, why)
    was = entry.state
    entry.take_off(why, actor.id)
    db.session.flush()
    record("objection.upheld", "objection", objection.id, actor=actor,
           summary=f"{entry.notice.number} #{entry.seq}: {why}",
           before={"entry_state": was},
           after={"entry_state": "removed", "case_state": hh.state,
                  "certificate": cert.serial if cert else None})
    close_if_done(entry.notice, local_today())
    return objection
