"""Permissions in one place: roles → named permissions, a predicate (``can``) and an enforcer
(``require``) per permission, and the query-scoping helper every list, search, detail and
export goes through.

Rules (DOMAIN.md): a record outside all of the user's scopes answers 404 (we do not reveal that
it exists); an action the user's roles do not allow on a record in scope answers 403.  A role
held over a county or township covers every village below it.

Rules that need the object as well as the roles (four eyes, a batch's state for its bank file,
full numbers or the audited reveal) are the predicates at the end of this file; they read plain
attributes, so this module imports no domain.  In which case states an activity is possible is
``heating.households.lifecycle.ACTIVITIES`` (beside the transition table), which names the
permission of this table each activity needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, TypeVar

from flask import abort
from sqlalchemy import ColumnElement, false, or_

from heating.auth.models import User
from heating.extensions import db

M = TypeVar("M")

ALL_CASE_ROLES = frozenset({"clerk", "reviewer", "inspector", "finance", "county", "auditor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    # households
    "household.view": ALL_CASE_ROLES,
    "household.create": frozenset({"clerk"}),
    # the states: lifecycle.ACTIVITIES "edit_registration" / "correct_registration" (a reason)
    "household.edit": frozenset({"clerk"}),
    "household.correct": frozenset({"reviewer"}),
    # spreadsheet import of households (the uploader's import scope: these roles' areas)
    "household.import": frozenset({"clerk", "reviewer", "county"}),
    # an import record is read by its uploader, and by these roles over its county
    "household.import_records": frozenset({"county"}),
    "household.holder_exception": frozenset({"county"}),
    # the print spelling (印刷用名) documents print for a name no bundled font can print
    "household.print_name": frozenset({"reviewer", "county"}),
    # full numbers shown without asking (DOMAIN.md's table)
    "household.full_id": frozenset({"clerk"}),
    "household.full_bank": frozenset({"clerk"}),
    "household.full_phone": frozenset({"clerk", "reviewer", "inspector"}),
    # the audited "show" with a reason, for the roles marked "on request"
    "household.reveal_id": frozenset({"reviewer", "finance", "county", "auditor"}),
    "household.reveal_bank": frozenset({"reviewer", "finance", "county", "auditor"}),
    "household.reveal_phone": frozenset({"county", "auditor"}),
    # installation, inspection, certificates
    "installation.record": frozenset({"clerk"}),  # until the inspection passes
    "inspection.assign": frozenset({"reviewer", "county"}),
    "inspection.perform": frozenset({"inspector"}),
    "certificate.download": ALL_CASE_ROLES,
    "certificate.revoke": frozenset({"reviewer", "county"}),
    "document.upload": frozenset({"clerk"}),
    # who may open a scanned ID or bank card: the roles that see or may ask for full numbers
    "document.view": frozenset({"clerk", "reviewer", "finance", "county", "auditor"}),
    # 回头看: follow-up visits to paid cases (a rebound or removed device stops the running subsidy)
    "followup.record": frozenset({"inspector", "county"}),
    # 回头看 campaigns: named and drawn by county staff (the system draws, nobody chooses;
    # an overlapping campaign is approved by a second county user: not_maker), read by
    # the auditor; the visits are assigned to the township's inspectors
    "campaign.view": frozenset({"county", "auditor"}),
    "campaign.manage": frozenset({"county"}),
    "followup.assign": frozenset({"reviewer", "county"}),
    # installer companies the county keeps on record (chosen in the installation form)
    "installer.manage": frozenset({"county"}),
    # printable paperwork: the application form for the household to sign
    "household.print_application": frozenset({"clerk", "reviewer", "county"}),
    # subsidy policies (county rules) and the amounts they give
    "policy.view": ALL_CASE_ROLES,
    "policy.manage": frozenset({"county"}),
    # 公示 public notices and objections
    "notice.view": ALL_CASE_ROLES,
    "notice.manage": frozenset({"reviewer"}),
    # payouts: batches (maker–checker), bank files, bank results, usage files
    "payout.view": frozenset({"finance", "county", "auditor"}),
    "payout.create": frozenset({"finance"}),
    "payout.approve": frozenset({"finance"}),  # never the batch's creator: may_approve_batch
    "payout.export": frozenset({"finance"}),
    "payout.results": frozenset({"finance"}),
    "usage.import": frozenset({"finance"}),
    # usage files are read by whoever reads payouts
    "usage.view": frozenset({"finance", "county", "auditor"}),
    # a corrected bank account after a failed payment: requested, then approved by another
    "account.correction.request": frozenset({"clerk", "finance"}),
    "account.correction.approve": frozenset({"finance", "county"}),
    # running the programme: the dashboard (each over their own area), the county's settings
    # (programme year dates, overdue thresholds) and the monthly ranking report (月度通报)
    "report.view": frozenset({"clerk", "reviewer", "finance", "county", "auditor"}),
    "report.settings": frozenset({"county"}),
    "report.monthly": frozenset({"county"}),
    "report.monthly.view": frozenset({"county", "auditor"}),
    # 追回: recoveries of a paid equipment subsidy after a follow-up finding (payouts.recoveries)
    "recovery.view": frozenset({"finance", "county", "auditor"}),
    "recovery.record": frozenset({"finance"}),  # receipts, and asking for a waiver
    "recovery.waive": frozenset({"finance", "county"}),  # never the requester: may_decide_waiver
    # the rest of the system
    "audit.view": frozenset({"auditor", "county"}),
    "user.manage": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Scope:
    """Area ids a set of roles covers, split by level of the granted area."""

    counties: frozenset[int]
    townships: frozenset[int]
    villages: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.counties or self.townships or self.villages)

    def covers(self, village_id: int, township_id: int, county_id: int) -> bool:
        return (village_id in self.villages or township_id in self.townships
                or county_id in self.counties)


def _grants(user: Any) -> list[tuple[str, int, str]]:
    """(role, area id, area level) for each grant (the relationship is loaded once per
    request with the user, so this costs no query after the first call)."""
    return [(gr.role, gr.area_id, gr.area.level) for gr in getattr(user, "grants", [])]


def roles(user: Any) -> set[str]:
    return {role for role, _, _ in _grants(user)}


def scope_for(user: Any, role_set: Iterable[str]) -> Scope:
    wanted = set(role_set)
    by_level: dict[str, set[int]] = {"county": set(), "township": set(), "village": set()}
    for role, area_id, level in _grants(user):
        if role in wanted:
            by_level[level].add(area_id)
    return Scope(frozenset(by_level["county"]), frozenset(by_level["township"]),
                 frozenset(by_level["village"]))


def roles_over(user: Any, obj: Any) -> set[str]:
    """Roles the user holds over the area of ``obj`` (anything with village/township/county ids)."""
    held = set()
    for role, area_id, level in _grants(user):
        target = {"village": obj.village_id, "township": obj.township_id,
                  "county": obj.county_id}[level]
        if target == area_id:
            held.add(role)
    return held


def can(user: Any, perm: str, obj: Any = None) -> bool:
    """May ``user`` do ``perm`` (on ``obj``, when given)?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    allowed = PERMISSIONS[perm]
    held = roles_over(user, obj) if obj is not None else roles(user)
    return bool(held & allowed)


def in_scope(user: Any, obj: Any) -> bool:
    return bool(roles_over(user, obj) & PERMISSIONS["household.view"])


def get_in_scope(model: type[M], record_id: int, user: Any, *, via: str | None = None) -> M:
    """The record ``model`` #``record_id``, or 404 when there is none or it lies outside
    every scope of the user (its existence is not revealed).  Every view that loads a
    record by id goes through this.  A record is placed by its village / township / county
    ids (its own, or its case's: ``InCaseScope``), or by the record it belongs to (``via``:
    an objection by its notice entry)."""
    obj = db.session.get(model, record_id)
    if obj is None or not in_scope(user, getattr(obj, via) if via else obj):
        abort(404)
    return obj


def require(user: Any, perm: str, obj: Any = None) -> None:
    """404 when ``obj`` is outside every scope of the user; 403 when in scope but not allowed."""
    if obj is not None and not in_scope(user, obj):
        abort(404)
    if not can(user, perm, obj):
        abort(403)


def scope_clause(model: Any, user: Any, perm: str = "household.view", *,
                 indexed: bool = True) -> ColumnElement[bool]:
    """WHERE clause restricting ``model`` (with village/township/county ids) to the user's scope.

    ``indexed=False`` writes the area columns as ``col + 0`` so the planner cannot pick a
    scope index over a more selective search predicate (SQLite without statistics would scan
    the whole county for an ID-number search otherwise).
    """
    scope = scope_for(user, PERMISSIONS[perm])

    def col(column: Any) -> Any:
        return column if indexed else column + 0

    parts = []
    if scope.counties:
        parts.append(col(model.county_id).in_(sorted(scope.counties)))
    if scope.townships:
        parts.append(col(model.township_id).in_(sorted(scope.townships)))
    if scope.villages:
        parts.append(col(model.village_id).in_(sorted(scope.villages)))
    return or_(*parts) if parts else false()


def scoped(query: Any, model: Any, user: Any, perm: str = "household.view") -> Any:
    return query.where(scope_clause(model, user, perm))


def user_from(obj: Any) -> User | None:
    return obj if isinstance(obj, User) else None


# --- rules on one object ---------------------------------------------------------------------------
# Predicates that need the object besides the user's roles.  They take plain attributes (any
# object with the named fields), so this module imports no domain; the view (button), the
# service (refusal) and the template all call them.  The database holds the second line where
# it can (CHECK constraints: a batch's approver is not its creator, a correction's decider is
# not its requester).

#: full number shown without asking, or the audited "show" with a reason, per number
REVEALABLE: dict[str, tuple[str, str]] = {
    "id_number": ("household.full_id", "household.reveal_id"),
    "bank_account": ("household.full_bank", "household.reveal_bank"),
    "phone": ("household.full_phone", "household.reveal_phone"),
}

#: batch states in which its bank file may be downloaded (from approval on)
BANK_FILE_STATES = ("approved", "exported", "reconciled", "closed")


def not_maker(user: Any, maker_id: int | None) -> bool:
    """Four eyes: ``user`` is not the one who made the record (created the batch, requested the
    correction)."""
    return maker_id != getattr(user, "id", None)


def shows_full(user: Any, field: str, case: Any) -> bool:
    """The full number ``field`` (a key of REVEALABLE) is shown to the user without asking."""
    return can(user, REVEALABLE[field][0], case)


def may_reveal(user: Any, field: str, case: Any) -> bool:
    """The user may ask (with a reason, audited) for a number not shown in full."""
    return not shows_full(user, field, case) and can(user, REVEALABLE[field][1], case)


def may_import(user: Any) -> bool:
    """Household imports: any grant of an import role (the rows are checked against its areas)."""
    return can(user, "household.import")


def may_view_upload(user: Any, case: Any, *, document: bool) -> bool:
    """A scanned document (ID or bank card) shows full numbers: only ``document.view``; photos
    follow the case."""
    return can(user, "document.view" if document else "household.view", case)


def may_approve_batch(user: Any, batch: Any) -> bool:
    """``batch``: state, payment_count, created_by_id and area ids.  A draft with payments,
    approved by finance staff other than its creator."""
    return (batch.state == "draft" and batch.payment_count > 0
            and not_maker(user, batch.created_by_id) and can(user, "payout.approve", batch))


def may_download_bank_file(user: Any, batch: Any) -> bool:
    return batch.state in BANK_FILE_STATES and can(user, "payout.export", batch)


def may_decide_correction(user: Any, correction: Any, case: Any) -> bool:
    """``correction``: state and requested_by_id; ``case``: its household.  A pending request,
    decided by finance or county staff other than its requester."""
    return (correction.state == "pending" and not_maker(user, correction.requested_by_id)
            and can(user, "account.correction.approve", case))


def may_approve_campaign(user: Any, campaign: Any) -> bool:
    """``campaign``: state, requested_by_id and county_id.  An overlapping campaign waiting
    for approval, approved by county staff other than its requester."""
    return (campaign.state == "pending_approval" and not_maker(user, campaign.requested_by_id)
            and can(user, "campaign.manage", campaign))


def may_manage_notice(user: Any, notice: Any) -> bool:
    """Reviewers of the notice's township (not a village clerk who can read it).  ``notice``:
    anything with village/township/county ids (a township notice has no village id)."""
    return can(user, "notice.manage", notice)


def may_revoke_certificate(user: Any, revoked: bool, case: Any,
                           moves: Iterable[str]) -> bool:
    """``moves``: the case moves the user's roles allow from its state (lifecycle.allowed_for);
    a certificate is revoked by the ``revoke`` move, or by ``uphold`` on an objected case."""
    return (not revoked and can(user, "certificate.revoke", case)
            and bool(set(moves) & {"revoke", "uphold"}))


def may_decide_waiver(user: Any, recovery: Any) -> bool:
    """``recovery``: state, waiver_requested_by_id and area ids.  A waiver awaiting approval,
    decided by finance or county staff other than the finance user who asked for it."""
    return (recovery.state == "waive_requested"
            and not_maker(user, recovery.waiver_requested_by_id)
            and can(user, "recovery.waive", recovery))
