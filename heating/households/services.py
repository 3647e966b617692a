"""Household rules: registration, edits and corrections, the one transition(), reveals, the
account-holder exception and the print spelling.  Services flush, never commit: the request owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update

from heating.areas.models import Area
from heating.audit.services import record, record_many
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.lookup import keyed_hash
from heating.core.pdf import missing_glyphs, show_chars
from heating.core.refusals import Conflict, Refusal
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import CaseEvent, Household

#: registration fields a form may set (the numbers go through their accessors)
FIELDS = (
    "programme_year", "head_name", "id_number", "phone", "group_name", "house_no",
    "residents", "heated_area", "previous_heating", "coal_stoves", "low_income",
    "conversion_type", "device_kind", "bank_name", "bank_account", "account_holder",
    "luhn_confirmed",
)


#: sent by transition() after every move, in the mover's transaction:
#: ``case_moved.send(case, action=…, source=…, target=…, actor=…, reason=…)``.  Domains built on
#: households (a notice must drop a withdrawn case) listen here, so households never imports
#: them.  transition_many() does not send it: its bulk moves (payout rostering) concern no
#: listener.
case_moved = Namespace().signal("case-moved")


class CaseError(Refusal):
    """A rule refused the change; ``field`` names the form field to attach the message to."""


class VersionConflict(Conflict):
    """Someone else saved the case since the form was loaded."""


@dataclass
class Duplicate:
    household: Household
    visible: bool


def find_active_duplicate(id_number: str, user: Any, exclude_id: int | None = None
                          ) -> Duplicate | None:
    """An active case (any year, any village) with the same ID number, if there is one."""
    query = select(Household).where(
        Household.id_hash == keyed_hash("id", id_number),
        Household.state.not_in(lifecycle.INACTIVE_STATES))
    if exclude_id is not None:
        query = query.where(Household.id != exclude_id)
    other = db.session.scalar(query)
    if other is None:
        return None
    return Duplicate(other, permissions.in_scope(user, other))


def duplicate_message(dup: Duplicate) -> Any:
    if dup.visible:
        return _l("This ID number already has an active case (%(year)s, %(village)s, "
                  "case %(id)s). One household can be subsidised only once.",
                  year=dup.household.programme_year, village=dup.household.village.name,
                  id=dup.household.id)
    return _l("This ID number already has an active case in another village outside your "
              "area. One household can be subsidised only once; contact the township.")


def shared_account_count(household: Household) -> int:
    """Other active households paid into the same bank account (a fraud warning)."""
    if not household.bank_hash:
        return 0
    return db.session.scalar(select(func.count()).select_from(Household).where(
        Household.bank_hash == household.bank_hash, Household.id != household.id,
        Household.state.not_in(lifecycle.INACTIVE_STATES))) or 0


def warnings(household: Household) -> list[Any]:
    found = []
    shared = shared_account_count(household)
    if shared:
        found.append(_l("The bank account is also used by %(n)d other household(s).", n=shared))
    if household.holder_differs:
        if household.holder_exception_reason:
            found.append(_l("Account holder differs from the head of household: county "
                            "exception recorded (%(reason)s).",
                            reason=household.holder_exception_reason))
        else:
            found.append(_l("The account holder is not the head of household. Submission is "
                            "blocked until a county user records an exception."))
    if household.bank_account and not household.bank_luhn_ok:
        found.append(_l("The account number fails the card check digit; the clerk confirmed "
                        "it is correct."))
    return found


def _event(hh: Household, action: str, source: str | None, target: str, actor: Any,
           reason: str | None = None) -> CaseEvent:
    event = CaseEvent(household=hh, action=action, from_state=source, to_state=target,
                      actor_id=getattr(actor, "id", None), at=now_utc(),
                      reason=(reason or "").strip() or None)
    db.session.add(event)
    return event


def _apply(hh: Household, data: dict[str, Any]) -> None:
    for name in FIELDS:
        if name in data:
            setattr(hh, name, data[name])
    if not hh.holder_differs:
        # the exception only ever covers the holder it was granted for
        hh.holder_exception_reason = None
        hh.holder_exception_by_id = None
        hh.holder_exception_at = None


def _place(hh: Household, village: Area) -> None:
    if village.level != "village" or village.retired:
        raise CaseError(_l("Choose an active village."), "village_id")
    township = village.parent
    hh.village_id, hh.township_id, hh.county_id = village.id, township.id, township.parent_id


def create_household(data: dict[str, Any], village: Area, actor: Any) -> Household:
    if not permissions.can(actor, "household.create", _AreaRef.of(village)):
        raise CaseError(_l("You cannot register households in this village."), "village_id")
    dup = find_active_duplicate(data["id_number"], actor)
    if dup:
        raise CaseError(duplicate_message(dup), "id_number")
    hh = Household(state="draft", created_by_id=actor.id)
    _place(hh, village)
    _apply(hh, data)
    db.session.add(hh)
    db.session.flush()
    _event(hh, "create", None, "draft", actor)
    record("household.created", "household", hh.id, actor=actor,
           summary=f"{hh.head_name} @ {village.code}", after=hh.audit_snapshot())
    return hh


def edit_mode(hh: Household, user: Any) -> str | None:
    """'edit' (clerk, before the township has it), 'correct' (reviewer, after approval) or None."""
    if lifecycle.allowed("edit_registration", hh) and permissions.can(user, "household.edit", hh):
        return "edit"
    if lifecycle.allowed("correct_registration", hh) and permissions.can(
            user, "household.correct", hh):
        return "correct"
    return None


def update_household(hh: Household, data: dict[str, Any], village: Area, actor: Any,
                     expected_version: int, reason: str | None = None) -> Household:
    mode = edit_mode(hh, actor)
    if mode is None:
        raise CaseError(_l("This case cannot be edited in its current state."))
    if hh.version != expected_version:
        raise VersionConflict()
    if mode == "correct" and not (reason or "").strip():
        raise CaseError(_l("A correction after approval needs a reason."), "reason")
    if not permissions.in_scope(actor, _AreaRef.of(village)):
        raise CaseError(_l("Choose a village in your area."), "village_id")
    dup = find_active_duplicate(data["id_number"], actor, exclude_id=hh.id)
    if dup:
        raise CaseError(duplicate_message(dup), "id_number")
    before = hh.audit_snapshot()
    _place(hh, village)
    _apply(hh, data)
    db.session.flush()
    db.session.refresh(hh, ["village"])
    action = "household.corrected" if mode == "correct" else "household.edited"
    record(action, "household", hh.id, actor=actor, summary=(reason or "").strip(),
           before=before, after=hh.audit_snapshot())
    return hh


def transition(hh: Household, action: str, actor: Any, reason: str | None = None,
               context: lifecycle.Context | None = None) -> CaseEvent:
    """The only way a case changes state: checked against the lifecycle table, evented, audited.

    ``context`` carries what the move's guards need beyond the case (the installation, the
    inspection being recorded, who did the earlier steps); the domain that drives the move
    builds it.  Without one the guards still know who is acting."""
    held = permissions.roles_over(actor, hh) if actor is not None else {lifecycle.SYSTEM}
    if context is None:
        context = lifecycle.Context(actor_id=getattr(actor, "id", None))
    t = lifecycle.check(hh, action, held, reason, context)
    source = hh.state
    hh.state = t.target
    hh.state_since = now_utc()
    if action == "confirm":
        hh.confirmed_at = hh.state_since
    if action in ("submit", "resubmit"):
        hh.submitted_at = now_utc()
    if action == "approve":
        hh.approved_at = now_utc()
        hh.approved_by_id = actor.id
    db.session.flush()
    event = _event(hh, action, source, t.target, actor, reason)
    record(f"household.{action}", "household", hh.id, actor=actor,
           summary=(reason or "").strip(), before={"state": source}, after={"state": t.target})
    case_moved.send(hh, action=action, source=source, target=t.target, actor=actor,
                    reason=reason)
    return event


def transition_many(cases: Sequence[Any], action: str, actor: Any, reason: str | None = None,
                    reasons: Mapping[int, str] | None = None) -> int:
    """``transition()`` for many cases at once (a payout batch moves thousands): every case is
    checked against the lifecycle table exactly as ``transition()`` checks one, then the states
    change in a few UPDATEs guarded by the expected source state (a case moved meanwhile makes
    the whole call fail with VersionConflict), and the case events and audit rows go in as
    multi-row INSERTs.  ``cases`` are Households or rows with ``id``, ``state`` and the area
    ids; ``reasons`` (case id → reason) overrides ``reason`` per case.  Only moves without
    guards can be made this way (guards need the whole case and its paperwork)."""
    t = lifecycle.find(action)
    if t.guards:
        raise ValueError(f"{action} has guards: use transition() case by case")
    held_system = {lifecycle.SYSTEM}
    context = lifecycle.Context(actor_id=getattr(actor, "id", None))
    by_source: dict[str, list[int]] = {}
    why: dict[int, str | None] = {}
    for case in cases:
        held = permissions.roles_over(actor, case) if actor is not None else held_system
        why[case.id] = ((reasons or {}).get(case.id) or reason or "").strip() or None
        lifecycle.check(case, action, held, why[case.id], context)
        by_source.setdefault(case.state, []).append(case.id)
    now = now_utc()
    for source, ids in by_source.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            moved = db.session.execute(
                update(Household).where(Household.id.in_(chunk), Household.state == source)
                .values(state=t.target, version=Household.version + 1, updated_at=now,
                        state_since=now,
                        **({"confirmed_at": now} if action == "confirm" else {}))
                .execution_options(synchronize_session=False))
            if moved.rowcount != len(chunk):
                raise VersionConflict()
    moved_ids = set(why)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Household) and obj.id in moved_ids:
            db.session.expire(obj)  # stale state and version: reload on next access
    sources = {i: s for s, ids in by_source.items() for i in ids}
    if why:
        db.session.execute(insert(CaseEvent), [
            {"household_id": i, "action": action, "from_state": sources[i],
             "to_state": t.target, "actor_id": getattr(actor, "id", None), "at": now,
             "reason": r} for i, r in why.items()])
    record_many(f"household.{action}", "household",
                ((i, r or "", {"state": sources[i]}, {"state": t.target})
                 for i, r in why.items()), actor=actor)
    return len(why)


def available_actions(hh: Household, user: Any) -> list[lifecycle.Transition]:
    """Buttons for this user on this case: from the table, only moves driven from the UI."""
    return lifecycle.allowed_for(hh.state, permissions.roles_over(user, hh), ui_only=True)


def reveal(hh: Household, field: str, reason: str, actor: Any) -> str:
    """The audited 'show full number', with a reason, for the roles marked 'on request'."""
    if field not in permissions.REVEALABLE or not permissions.may_reveal(actor, field, hh):
        raise CaseError(_l("Your role cannot see this number."))
    if not (reason or "").strip():
        raise CaseError(_l("Please give a reason."), "reason")
    record(f"household.reveal_{field}", "household", hh.id, actor=actor,
           summary=reason.strip())
    return {"id_number": hh.id_number, "bank_account": hh.bank_account or "",
            "phone": hh.phone}[field]


def record_holder_exception(hh: Household, reason: str, actor: Any) -> None:
    if not permissions.can(actor, "household.holder_exception", hh):
        raise CaseError(_l("Only a county user can record this exception."))
    if not lifecycle.allowed("record_holder_exception", hh):
        raise CaseError(_l("This case is closed: no exception can be recorded on it."))
    if not hh.holder_differs:
        raise CaseError(_l("The account holder is the head of household: no exception needed."))
    if not (reason or "").strip():
        raise CaseError(_l("Please give a reason."), "reason")
    before = {"holder_exception_reason": hh.holder_exception_reason}
    hh.holder_exception_reason = reason.strip()
    hh.holder_exception_by_id = actor.id
    hh.holder_exception_at = now_utc()
    db.session.flush()
    record("household.holder_exception", "household", hh.id, actor=actor,
           summary=reason.strip(), before=before,
           after={"holder_exception_reason": hh.holder_exception_reason})


PRINT_NAME_LENGTH = 50


def record_print_name(hh: Household, print_name: str | None, reason: str | None,
                      actor: Any) -> None:
    """Record (or, given an empty name, remove) the print spelling (印刷用名) documents print
    for the head's name: for a registered name with a character no bundled font has.  Both a
    name and a reason are required; the name must itself print.  Audited before → after."""
    if not permissions.can(actor, "household.print_name", hh):
        raise CaseError(_l("Only a township reviewer or county user records a print spelling."))
    if not lifecycle.allowed("record_print_name", hh):  # every state today: the table says so
        raise CaseError(_l("This case cannot be edited in its current state."))
    name = (print_name or "").strip()
    reason = (reason or "").strip()
    if not name and not hh.print_name:
        raise CaseError(_l("Enter the print spelling."), "print_name")
    if not reason:
        raise CaseError(_l("Please give a reason."), "reason")
    if len(name) > PRINT_NAME_LENGTH:
        raise CaseError(_l("The print spelling is at most %(n)d characters.",
                           n=PRINT_NAME_LENGTH), "print_name")
    missing = missing_glyphs(name)
    if missing:
        raise CaseError(_l("No font of the system has %(chars)s either: the print spelling must "
                           "print. Use the common form of the character, or pinyin.",
                           chars=show_chars(missing)),
                        "print_name")
    if name == hh.head_name.strip():
        raise CaseError(_l("That is the registered name itself: there is nothing to record."),
                        "print_name")
    if name == (hh.print_name or ""):
        raise CaseError(_l("This print spelling is already recorded."), "print_name")
    before = {"print_name": hh.print_name, "print_name_reason": hh.print_name_reason}
    hh.print_name = name or None
    hh.print_name_reason = reason if name else None
    db.session.flush()
    record("household.print_name", "household", hh.id, actor=actor, summary=reason,
           before=before,
           after={"print_name": hh.print_name, "print_name_reason": hh.print_name_reason})


def unprintable_in_name(hh: Household) -> list[str]:
    """The characters of the registered name no bundled font has (what a print spelling is
    for); ``[]`` when the name prints."""
    return missing_glyphs(hh.head_name)


@dataclass(frozen=True)
class _AreaRef:
    """A village seen through the scope helpers, which ask for village/township/county ids."""

    village_id: int
    township_id: int
    county_id: int

    @classmethod
    def of(cls, village: Area) -> "_AreaRef":
        township = village.parent
        return cls(village.id, township.id if township else -1,
                   township.parent_id if township and township.parent_id else -1)
