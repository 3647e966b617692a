"""公示 rules: which cases may go on a notice, publishing (amounts frozen, cases publicized),
taking a case off its notice, and confirmation when the period is over.  Objections live in
``objections``.  Services flush, never commit: the request (or the CLI command) owns the
transaction, so a refusal anywhere leaves nothing half-done.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.masking import mask_id, mask_name
from heating.core.money import format_fen
from heating.core.paperwork import (
    CN_CONVERSION,
    CN_DEVICE,
    house_number_key,
    printed_name,
    store_pdf,
)
from heating.core.refusals import Refusal
from heating.core.storage import read_checked
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import Household
from heating.households.services import transition
from heating.publicity import render
from heating.publicity.models import Notice, NoticeEntry, live_entry
from heating.publicity.scope import AreaRef
from heating.subsidies import services as subsidies

#: a notice may be dated ahead (printed today, posted next week), not further than this
MAX_DAYS_AHEAD = 30
#: entry states that still wait for the end of the period
PENDING = ("listed", "objected")


class PublicityError(Refusal):
    """A rule refused the change; ``problems`` lists per-case reasons, ``field`` names the form
    field the message belongs to."""

    def __init__(self, message: Any, problems: Iterable[Any] = (), field: str | None = None
                 ) -> None:
        super().__init__(message, field, problems)


# --- eligibility and amounts --------------------------------------------------------------------

def _order_key(hh: Household) -> tuple[Any, ...]:
    """Village, then group and house number (the order of the printed list)."""
    return (hh.village.code, house_number_key(hh.group_name), house_number_key(hh.house_no),
            hh.id)


def _no_live_entry() -> Any:
    return ~exists().where(NoticeEntry.household_id == Household.id,
                           NoticeEntry.state != "removed")


def eligible_cases(actor: Any, township: Area, village: Area | None = None,
                   year: int | None = None) -> list[Household]:
    """Passed cases of the township (or one of its villages) within the actor's scope that are
    on no notice yet, in printing order."""
    query = select(Household).where(
        Household.state == "passed", Household.township_id == township.id, _no_live_entry(),
        permissions.scope_clause(Household, actor, "notice.manage"))
    if village is not None:
        query = query.where(Household.village_id == village.id)
    if year is not None:
        query = query.where(Household.programme_year == year)
    return sorted(db.session.scalars(query), key=_order_key)


@dataclass(frozen=True)
class Preview:
    """One case's amount as it would be frozen, or why it cannot be computed."""
    case: Household
    policy: Any = None
    amount: Any = None  #: heating.subsidies.calculator.Amount
    error: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None


def preview(case: Household, *, freeze: bool = False) -> Preview:
    """``freeze``: publishing (the policy row is share-locked until the entry is written)."""
    try:
        policy, amount = subsidies.equipment_amount(case, freeze=freeze)
    except subsidies.SubsidyError as err:
        return Preview(case, error=getattr(err, "message", None) or str(err))
    return Preview(case, policy, amount)


# --- publishing ---------------------------------------------------------------------------------

def _next_number(township: Area, year: int) -> str:
    """GS-<township code, 9 digits>-<year>-<sequence in the township and year, 3 digits>.  The
    township row is locked first (FOR UPDATE on PostgreSQL; SQLite's writer already holds the
    database), so two reviewers of one township publishing at once queue here."""
    db.session.scalar(select(Area.id).where(Area.id == township.id).with_for_update())
    prefix = f"GS-{township.code[:9]}-{year}-"
    taken = db.session.scalar(select(func.count()).select_from(Notice)
                              .where(Notice.number.like(prefix + "%"))) or 0
    return f"{prefix}{taken + 1:03d}"


def _check_period(period_days: int, starts_on: date, today: date) -> None:
    if not 1 <= period_days <= 60:
        raise PublicityError(_l("The notice period must be between 1 and 60 days."),
                             field="period_days")
    if starts_on < today:
        raise PublicityError(_l("A notice cannot start in the past: the public must see it "
                                "for the whole period."), field="starts_on")
    if starts_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise PublicityError(_l("A notice can start at most %(n)d days ahead.",
                                n=MAX_DAYS_AHEAD), field="starts_on")


def _text(value: str | None, limit: int, message: Any, field: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit:
        raise PublicityError(message, field=field)
    return text


def _cases_for(actor: Any, township: Area, village: Area | None,
               case_ids: Iterable[int]) -> list[Household]:
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        raise PublicityError(_l("Choose at least one case for the notice."))
    found = {hh.id: hh for hh in db.session.scalars(
        select(Household).where(Household.id.in_(ids)).with_for_update()
        .execution_options(populate_existing=True))}
    problems = []
    for case_id in ids:
        hh = found.get(case_id)
        if hh is None or not permissions.can(actor, "notice.manage", hh):
            problems.append(_l("Case %(id)s: not found in your area.", id=case_id))
        elif hh.township_id != township.id or (village and hh.village_id != village.id):
            problems.append(_l("Case %(id)s (%(name)s) is not in this village or township.",
                               id=case_id, name=mask_name(hh.head_name)))
        elif hh.state != "passed":
            problems.append(_l("Case %(id)s (%(name)s) has not passed inspection or is "
                               "already further on.", id=case_id, name=mask_name(hh.head_name)))
        elif live_entry(hh.id) is not None:
            problems.append(_l("Case %(id)s (%(name)s) is already on a notice.", id=case_id,
                               name=mask_name(hh.head_name)))
    if problems:
        raise PublicityError(_l("Nothing was published: some cases cannot go on a notice."),
                             problems)
    cases = sorted(found.values(), key=_order_key)
    if len({hh.programme_year for hh in cases}) > 1:
        raise PublicityError(_l("Cases of different programme years go on separate notices."))
    return cases


def _amounts(cases: list[Household]) -> list[Preview]:
    previews = [preview(hh, freeze=True) for hh in cases]
    problems = [_l("Case %(id)s (%(name)s): %(error)s", id=p.case.id,
                   name=mask_name(p.case.head_name), error=p.error)
                for p in previews if not p.ok]
    if problems:
        raise PublicityError(_l("Nothing was published: the subsidy amount of some cases "
                                "cannot be computed."), problems)
    return previews


def publish(actor: Any, *, township: Area, village: Area | None = None,
            case_ids: Iterable[int], title: str, period_days: int | None = None,
            starts_on: date | None = None, objection_phone: str,
            issuing_office: str) -> Notice:
    """Publish a notice: every chosen case's equipment subsidy is computed and frozen on its
    entry (amount, explanation, inputs, policy version, with the public masks), every case
    moves passed → publicized, and the PDF to post is rendered and stored.  All or nothing."""
    _check_publisher(actor, township, village)
    today = local_today()
    period_days = int(current_app.config["PUBLICITY_DAYS"] if period_days is None
                      else period_days)
    starts_on = starts_on or today
    _check_period(period_days, starts_on, today)
    title = _text(title, 200, _l("Give the notice a title (at most 200 characters)."), "title")
    phone = _text(objection_phone, 30, _l("Give the phone number where objections are "
                                          "received."), "objection_phone")
    office = _text(issuing_office, 100, _l("Give the issuing office."), "issuing_office")
    cases = _cases_for(actor, township, village, case_ids)
    previews = _amounts(cases)

    notice = Notice(
        number=_next_number(township, starts_on.year), title=title,
        village_id=village.id if village else None, township_id=township.id,
        county_id=township.parent_id, programme_year=cases[0].programme_year,
        state="published", period_days=period_days, starts_on=starts_on,
        ends_on=starts_on + timedelta(days=period_days - 1), objection_phone=phone,
        issuing_office=office, published_at=now_utc(), published_by_id=actor.id)
    db.session.add(notice)
    db.session.flush()
    _list_cases(notice, previews, actor)
    db.session.refresh(notice, ["entries"])
    _store_pdf(notice)
    total = sum(e.amount_fen for e in notice.entries)
    record("notice.published", "notice", notice.id, actor=actor,
           summary=f"{notice.number}: {len(previews)} / {format_fen(total)}",
           after={"number": notice.number, "count": len(previews), "total_fen": total,
                  "starts_on": starts_on.isoformat(), "ends_on": notice.ends_on.isoformat(),
                  "cases": [p.case.id for p in previews][:200]})
    return notice


def _check_publisher(actor: Any, township: Area, village: Area | None) -> None:
    """Only a notice manager of this township publishes, for the township or one of its villages."""
    if township.level != "township" or not permissions.can(actor, "notice.manage",
                                                           AreaRef.of(township)):
        raise PublicityError(_l("You cannot publish notices for this township."))
    if village is not None and village.parent_id != township.id:
        raise PublicityError(_l("Choose a village of this township."), field="village_id")


def _list_cases(notice: Notice, previews: list[Preview], actor: Any) -> None:
    """Each case goes on the notice (passed → publicized) in order, its amount frozen on its
    entry with the public masks of name and ID number."""
    for seq, p in enumerate(previews, start=1):
        hh = p.case
        hh.frozen_fen = p.amount.fen  # the dashboard's money counters sum it (households)
        transition(hh, "publicize", actor, notice.number)
        db.session.add(NoticeEntry(
            notice_id=notice.id, household_id=hh.id, seq=seq, state="listed",
            masked_name=mask_name(printed_name(hh)), masked_id=mask_id(hh.id_number),
            village_name=hh.village.name, conversion_type=hh.conversion_type,
            device_kind=hh.device_kind, amount_fen=p.amount.fen, explanation=p.amount.explanation,
            inputs=dict(p.amount.inputs), policy_id=p.policy.id, case_version=hh.version))
    db.session.flush()


# --- the documents ------------------------------------------------------------------------------

def notice_data(notice: Notice) -> render.NoticeData:
    """What the documents print: every entry the notice was published with, in seq order."""
    rows = [render.NoticeRow(e.seq, e.village_name, e.masked_name, e.masked_id,
                             CN_CONVERSION.get(e.conversion_type, e.conversion_type),
                             CN_DEVICE.get(e.device_kind, e.device_kind), format_fen(e.amount_fen),
                             print_name_used=bool(e.household.print_name)
                             and e.masked_name == mask_name(e.household.print_name),
                             case_no=str(e.household_id), case_name=e.household.head_name)
            for e in notice.entries]
    township = notice.township
    county = db.session.get(Area, notice.county_id)
    area = f"{county.name if county else ''}{township.name}"
    if notice.village is not None:
        area += notice.village.name
    policies = sorted({(e.policy.name, e.policy.reference) for e in notice.entries})
    note = "；".join(f"{name}（{ref}）" if ref else name for name, ref in policies)
    return render.NoticeData(
        title=notice.title, number=notice.number, starts_on=notice.starts_on,
        ends_on=notice.ends_on, issuing_office=notice.issuing_office,
        objection_phone=notice.objection_phone,
        issued_on=notice.published_at.astimezone(LOCAL_TZ).date(), rows=rows,
        total_amount=format_fen(sum(e.amount_fen for e in notice.entries)), area=area,
        policy_note=note)


def _store_pdf(notice: Notice) -> None:
    rendered = render.render_notice(notice_data(notice))
    notice.pdf_path = store_pdf(rendered.pdf, f"notices/{notice.township.code[:9]}",
                                notice.number)
    notice.pdf_sha256 = hashlib.sha256(rendered.pdf).hexdigest()
    db.session.flush()


def pdf_bytes(notice: Notice) -> bytes:
    """The PDF as published, byte for byte (checked against its SHA-256)."""
    return read_checked(notice.pdf_path, notice.pdf_sha256, f"notice {notice.number}")


def xlsx_bytes(notice: Notice) -> bytes:
    return render.notice_xlsx(notice_data(notice))


def record_download(notice: Notice, actor: Any, kind: str) -> None:
    """A notice lists masked names and IDs: every download is in the audit log."""
    record("notice.downloaded", "notice", notice.id, actor=actor,
           summary=f"{notice.number} ({kind})")


# --- leaving a notice, confirmation -------------------------------------------------------------

def take_off_notice(case: Household, actor: Any, reason: str) -> NoticeEntry | None:
    """Take a case off its notice because it changed (the contract for other domains; also a
    reviewer's button).  A case still on notice goes back to passed and needs a new notice; a
    case another move already took elsewhere (revoked, withdrawn, cancelled) only loses its
    entry.  Returns the entry taken off, or None when the case was on no notice."""
    entry = live_entry(case.id)
    if entry is None:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise PublicityError(_l("Please give a reason."), field="reason")
    if case.state == "objected":
        raise PublicityError(_l("An objection against this case is open: dismiss or uphold "
                                "it first."))
    if case.state == "confirmed":
        raise PublicityError(_l("A confirmed case leaves its notice only when its certificate "
                                "is revoked."))
    if case.state == "publicized":
        transition(case, "unpublicize", actor, reason)
    _remove(entry, actor, reason)
    close_if_done(entry.notice)
    return entry


def drop_withdrawn_or_cancelled(case: Household, *, target: str, actor: Any,
                                 reason: str | None, **_: Any) -> None:
    """A case withdrawn or cancelled while on a notice leaves it at once (the printed list
    stays as posted; the entry is marked removed, its objections closed)."""
    if target not in lifecycle.INACTIVE_STATES:
        return
    entry = live_entry(case.id)
    if entry is not None:
        _remove(entry, actor, reason or str(lifecycle.STATES[target]))
        close_if_done(entry.notice)


def take_off_revoked(cert: Any, *, case: Household, actor: Any, reason: str, **_: Any) -> None:
    """A case whose certificate is revoked leaves its notice (its objections, if any, closed as
    upheld; the printed list stays as posted)."""
    entry = live_entry(case.id)
    if entry is not None:
        _remove(entry, actor, reason)


def _remove(entry: NoticeEntry, actor: Any, reason: str) -> None:
    was = entry.state
    entry.take_off(reason, getattr(actor, "id", None))
    entry.household.frozen_fen = 0  # no live entry: nothing frozen any more
    db.session.flush()
    record("notice.entry_removed", "notice_entry", entry.id, actor=actor,
           summary=f"{entry.notice.number}: {reason}", before={"state": was},
           after={"state": "removed"})


def confirm_entry(entry: NoticeEntry, actor: Any) -> None:
    """The period is over and nothing is open against the case: publicized → confirmed."""
    transition(entry.household, "confirm", actor, entry.notice.number)
    entry.state = "confirmed"
    entry.confirmed_at = now_utc()
    db.session.flush()


def close_if_done(notice: Notice, today: date | None = None) -> bool:
    """Close a notice whose period is over once no entry waits any more."""
    if notice.state != "published" or notice.ends_on >= (today or local_today()):
        return False
    if any(e.state in PENDING for e in notice.entries):
        return False
    notice.state = "closed"
    notice.closed_at = now_utc()
    db.session.flush()
    return True


@dataclass
class ConfirmResult:
    confirmed: int = 0
    closed: int = 0
    removed: int = 0
    notices: int = 0


def confirm_due(today: date | None = None, actor: Any = None,
                notice_ids: Iterable[int] | None = None) -> ConfirmResult:
    """Confirm every case whose notice period is over (ends_on before ``today``, Beijing) and
    that has no open objection; close notices with nothing left waiting.  ``actor`` None is the
    daily job (the lifecycle's system role).  Running it again changes nothing.  Entries whose
    case another move took elsewhere (withdrawn, cancelled) are taken off on the way."""
    today = today or local_today()
    result = ConfirmResult()
    query = (select(Notice).where(Notice.state == "published", Notice.ends_on < today)
             .order_by(Notice.id).with_for_update()
             .execution_options(populate_existing=True))
    if notice_ids is not None:
        query = query.where(Notice.id.in_(list(notice_ids)))
    for notice in db.session.scalars(query).all():
        result.notices += 1
        confirmed_here = 0
        for entry in notice.entries:
            if entry.state not in PENDING:
                continue
            hh = entry.household
            if hh.state not in ("publicized", "objected"):
                _remove(entry, actor, f"case is {hh.state}")
                result.removed += 1
            elif entry.state == "listed" and hh.state == "publicized" and \
                    not entry.open_objections:
                confirm_entry(entry, actor)
                confirmed_here += 1
        result.confirmed += confirmed_here
        if close_if_done(notice, today):
            result.closed += 1
        if confirmed_here:
            record("notice.confirmed", "notice", notice.id, actor=actor,
                   summary=f"{notice.number}: {confirmed_here}",
                   after={"confirmed": confirmed_here, "state": notice.state})
    return result


def confirmed_entry(case: Household) -> NoticeEntry | None:
    """The case's live entry once confirmed: its ``amount_fen`` is THE equipment subsidy the
    roster and the bank file pay.  It stays the same entry while the case is rostered, paid or
    failed; None when the case has no confirmed entry (not confirmed yet, or taken off)."""
    entry = live_entry(case.id)
    return entry if entry is not None and entry.state == "confirmed" else None


def entries_of(case: Household) -> list[NoticeEntry]:
    """Every entry the case ever had, newest first (the case panel's history)."""
    return list(db.session.scalars(select(NoticeEntry).where(
        NoticeEntry.household_id == case.id).order_by(NoticeEntry.id.desc())))


def policies_on_notices(ids: list[int]) -> set[int]:
    """Policies with an amount frozen on a notice, even one since taken off (registered with
    ``subsidies.register_policy_use``)."""
    return set(db.session.scalars(select(NoticeEntry.policy_id).where(
        NoticeEntry.policy_id.in_(ids)).distinct()))


def frozen_subsidy(case: Household) -> subsidies.CaseSubsidy | None:
    """The equipment subsidy frozen on the case's notice entry that still stands (registered
    with ``subsidies.register_frozen_amount``)."""
    entry = db.session.scalars(select(NoticeEntry).where(
        NoticeEntry.household_id == case.id, NoticeEntry.state != "removed")).first()
    if entry is None:
        return None
    return subsidies.CaseSubsidy(entry.amount_fen, entry.explanation, entry.policy, entry.notice)
