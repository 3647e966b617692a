"""The case state machine: one transition table, the single source of truth.

Buttons in templates, permission checks, guards and the docs' state diagram all come from
``TRANSITIONS``.  ``heating.households.services.transition`` is the only code that changes a
case's state, and it asks this module first.  This module is pure (no database), so the whole
table is unit-tested without an app.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from flask_babel import lazy_gettext as _l

from heating.auth import permissions
from heating.core.refusals import Refusal

STATES: dict[str, Any] = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "approved": _l("Approved by township"),
    "installed": _l("Installed"),
    "passed": _l("Inspection passed"),
    "failed": _l("Inspection failed"),
    "publicized": _l("On public notice"),
    "objected": _l("Objection under review"),
    "confirmed": _l("Notice period over"),
    "rostered": _l("On payout roster"),
    "paid": _l("Paid"),
    "payment_failed": _l("Payment failed"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Cancelled"),
}

#: states in which a case no longer counts against its ID number
INACTIVE_STATES = ("withdrawn", "cancelled")
#: "draft … confirmed" in DOMAIN.md: a case may still be withdrawn or cancelled from these
OPEN_STATES = (
    "draft", "submitted", "returned", "approved", "installed", "failed",
    "passed", "publicized", "objected", "confirmed",
)

#: A case **counts as done** toward its village's target when its conversion passed
#: acceptance and its certificate is valid: ``passed`` or any later state, not withdrawn or
#: cancelled (a revoked certificate sends its case back to ``installed``, so these states
#: always hold a valid certificate).
DONE_STATES = ("passed", "publicized", "objected", "confirmed", "rostered", "paid",
               "payment_failed")

#: The programme's stages, each the states a case is in while at that stage (every active
#: state in exactly one stage): the dashboard's "counts per stage" and the household list's
#: ``stage`` filter.  A case whose inspection failed waits at "installed" for its rework.
STAGES: dict[str, tuple[tuple[str, ...], Any]] = {
    "registered": (("draft", "submitted", "returned"), _l("Registered")),
    "approved": (("approved",), _l("Approved")),
    "installed": (("installed", "failed"), _l("Installed")),
    "inspected": (("passed",), _l("Inspected")),
    "on_notice": (("publicized", "objected"), _l("On notice")),
    "confirmed": (("confirmed",), _l("Confirmed")),
    "rostered": (("rostered",), _l("Rostered")),
    "paid": (("paid",), _l("Paid")),
    "failed": (("payment_failed",), _l("Payment failed")),
}

#: Overdue work: kind → (the states the case waits in, the household column whose time
#: starts the clock, the default threshold in days).  The county sets the thresholds.
OVERDUE: dict[str, tuple[tuple[str, ...], str, int]] = {
    "submitted": (("submitted",), "state_since", 7),
    "inspection": (("installed",), "state_since", 14),
    "notice": (("passed",), "state_since", 14),
    "unpaid": (("confirmed", "rostered"), "confirmed_at", 30),
    "objection": (("objected",), "state_since", 15),
    "repay": (("payment_failed",), "state_since", 30),
}
#: how the dashboard and the household list name each kind of overdue work
OVERDUE_LABELS: dict[str, Any] = {
    "submitted": _l("Submitted but not reviewed"),
    "inspection": _l("Installed but not inspected"),
    "notice": _l("Passed but not on a notice"),
    "unpaid": _l("Confirmed but unpaid (拖欠)"),
    "objection": _l("Objections open"),
    "repay": _l("Failed payments not re-paid"),
}


#: What may be done to a case in which states, beside the moves of ``TRANSITIONS``: services
#: refuse an activity outside its states (``allows``), templates show its button from the same
#: table (the ``allowed(activity, case)`` template global).  Who may do it is the named
#: permission in ``heating/auth/permissions.py`` (given as the second element).
ACTIVITIES: dict[str, tuple[tuple[str, ...], str]] = {
    # the clerk edits freely before the township has the case
    "edit_registration": (("draft", "returned"), "household.edit"),
    # after approval only a reviewer corrects registration data, with a reason
    "correct_registration": (("approved", "installed", "failed", "passed"),
                             "household.correct"),
    "upload_document": (OPEN_STATES, "document.upload"),
    # the installation is the clerk's until the inspection passes; on an approved case
    # recording it is the ``install`` move
    "record_installation": (("approved", "installed", "failed"), "installation.record"),
    "assign_inspector": (("installed",), "inspection.assign"),
    # photos and the inspection itself: installed cases waiting for inspection
    "inspect": (("installed",), "inspection.perform"),
    # the county's exception for an account holder other than the head (代持)
    "record_holder_exception": (OPEN_STATES, "household.holder_exception"),
    # 回头看: visits to cases whose equipment subsidy was paid
    "record_follow_up": (("paid",), "followup.record"),
    # a corrected bank account after a failed payment: requested, then decided by another
    "request_account_correction": (("payment_failed",), "account.correction.request"),
    "decide_account_correction": (("payment_failed",), "account.correction.approve"),
    # the print spelling (印刷用名) may be needed by any document of any case, even a
    # reprint for a closed one: every state
    "record_print_name": (tuple(STATES), "household.print_name"),
    # objections are recorded against a case on notice (or already under review)
    "record_objection": (("publicized", "objected"), "notice.manage"),
    # an equipment subsidy is computed (and shown) for cases that still count
    "compute_subsidy": (tuple(s for s in STATES if s not in INACTIVE_STATES), "policy.view"),
}


def states_for(activity: str) -> tuple[str, ...]:
    """The states in which ``activity`` is possible (KeyError: no such activity)."""
    return ACTIVITIES[activity][0]


def permission_for(activity: str) -> str:
    """The named permission (``heating/auth/permissions.py``) an activity needs."""
    return ACTIVITIES[activity][1]


def allows(activity: str, state: str) -> bool:
    """May ``activity`` be done to a case in ``state``?"""
    return state in ACTIVITIES[activity][0]


def allowed(activity: str, case: Any) -> bool:
    """``allows`` for a case (the template global: ``{% if allowed('inspect', case) %}``)."""
    return allows(activity, case.state)


def may(user: Any, activity: str, case: Any) -> bool:
    """The case's state allows ``activity`` and the user's roles over the case hold its
    permission: the button, and the service's first two refusals."""
    return allowed(activity, case) and permissions.can(user, permission_for(activity), case)

#: the pseudo-role of scheduled jobs (e.g. the daily end-of-notice confirmation)
SYSTEM = "system"



@dataclass(frozen=True)
class Context:
    """What a guard may know besides the case: who is acting, and the paperwork the services
    loaded for this move.  Anything not loaded stays None, and a guard that needs it refuses:
    a move is never allowed because a fact was missing."""

    actor_id: int | None = None
    #: the case's installation record (anything with ``missing() -> list``)
    installation: Any = None
    #: the inspection being recorded with this move (anything with ``pass_problems() -> list``)
    inspection: Any = None
    #: user ids who registered the case, approved it, recorded its installation
    registered_by: frozenset[int] = frozenset()
    approved_by: frozenset[int] = frozenset()
    installed_by: frozenset[int] = frozenset()
    #: scanned documents the county requires before submission, as (kind, label) pairs, and
    #: the kinds uploaded on the case
    required_documents: tuple[tuple[str, Any], ...] = ()
    documents: frozenset[str] = frozenset()


Guard = Callable[[Any, Context], list[str]]


class TransitionError(Refusal):
    """An illegal move: wrong state, role not allowed, guard refused, or a missing reason."""

    def __init__(self, message: Any, problems: Iterable[Any] = ()) -> None:
        super().__init__(message, problems=problems)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    label: Any
    reason_required: bool = False
    #: guards return a list of problems (empty = allowed); they receive the case and a Context
    guards: tuple[Guard, ...] = ()
    #: False until the issue that drives this move from the screens lands: no button is shown
    in_ui: bool = False
    #: the endpoint of the screen that makes this move, when it needs more than a reason
    #: (an installation record, an inspection with photos, a certificate to revoke); such
    #: moves are never made by the generic action button
    screen: str | None = None
    #: how the button looks: "primary", "danger" or "" (plain)
    style: str = ""
    confirm: Any = None
    #: the label of this move's own reason box ("退回原因（必填）"); None: a generic one
    reason_label: Any = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def _complete_for_submission(case: Any, ctx: Context) -> list[str]:
    return list(case.missing_for_submission())


def _holder_is_head_or_excepted(case: Any, ctx: Context) -> list[str]:
    return list(case.holder_problems())


def _required_documents(case: Any, ctx: Context) -> list[str]:
    return [_l("Document missing: %(kind)s", kind=label)
            for kind, label in ctx.required_documents if kind not in ctx.documents]


def _installation_complete(case: Any, ctx: Context) -> list[str]:
    if ctx.installation is None:
        return [_l("No installation has been recorded for this case.")]
    return list(ctx.installation.missing())


def _inspection_recorded(case: Any, ctx: Context) -> list[str]:
    if ctx.inspection is None:
        return [_l("No inspection has been recorded.")]
    return []


def _inspection_passes(case: Any, ctx: Context) -> list[str]:
    """Every required checklist item confirmed and the required photos present."""
    if ctx.inspection is None:
        return [_l("No inspection has been recorded.")]
    return list(ctx.inspection.pass_problems())


def separation_of_duties(case: Any, ctx: Context) -> list[str]:
    """Whoever passes a case did not register it, approve it or record its installation
    (one person may hold several roles, so the role check alone cannot ensure this)."""
    if ctx.actor_id is None:
        return [_l("Only a named inspector can pass an inspection.")]
    problems = []
    if ctx.actor_id in ctx.registered_by:
        problems.append(_l("You registered this case, so you cannot pass its inspection."))
    if ctx.actor_id in ctx.approved_by:
        problems.append(_l("You approved this case, so you cannot pass its inspection."))
    if ctx.actor_id in ctx.installed_by:
        problems.append(_l("You recorded this case's installation, so you cannot pass its "
                           "inspection."))
    return problems


def _t(action: str, sources: str | tuple[str, ...], target: str, roles: Iterable[str],
       label: Any, **kw: Any) -> Transition:
    src = (sources,) if isinstance(sources, str) else tuple(sources)
    return Transition(action, src, target, frozenset(roles), label, **kw)


SUBMIT_GUARDS: tuple[Guard, ...] = (_complete_for_submission, _holder_is_head_or_excepted,
                                    _required_documents)

TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", "draft", "submitted", {"clerk"}, _l("Submit to township"),
       guards=SUBMIT_GUARDS, in_ui=True, style="primary",
       confirm=_l("Submit this case to the township for review? You cannot edit it afterwards "
                  "unless the township returns it.")),
    _t("approve", "submitted", "approved", {"reviewer"}, _l("Approve"), in_ui=True,
       style="primary",
       confirm=_l("Approve this case? After approval only a reviewer can correct its data.")),
    _t("return", "submitted", "returned", {"reviewer"}, _l("Return to village"),
       reason_required=True, in_ui=True,
       reason_label=_l("Reason for returning (required)")),
    _t("resubmit", "returned", "submitted", {"clerk"}, _l("Resubmit"), guards=SUBMIT_GUARDS,
       in_ui=True, style="primary",
       confirm=_l("Resubmit this case to the township for review?")),
    _t("install", "approved", "installed", {"clerk"}, _l("Record installation"),
       guards=(_installation_complete,), in_ui=True, style="primary",
       screen="inspections.installation"),
    _t("pass", "installed", "passed", {"inspector"}, _l("Pass inspection"),
       guards=(_installation_complete, _inspection_passes, separation_of_duties),
       in_ui=True, style="primary", screen="inspections.inspect"),
    _t("fail", "installed", "failed", {"inspector"}, _l("Fail inspection"), reason_required=True,
       guards=(_inspection_recorded,), in_ui=True, screen="inspections.inspect"),
    _t("rework", "failed", "installed", {"clerk"}, _l("Record rework"), reason_required=True,
       guards=(_installation_complete,), in_ui=True, style="primary",
       reason_label=_l("What was fixed (required)"),
       confirm=_l("Record that the faults found at the inspection are fixed? The case goes "
                  "back to the inspectors for a new inspection.")),
    _t("publicize", "passed", "publicized", {"reviewer"}, _l("Put on public notice")),
    # Not in DOMAIN.md's list: the issue's "a later change to a case takes it off the notice
    # and needs a new one".  The case leaves its notice (the entry is marked removed) and waits,
    # passed, for a new notice; its frozen amount goes with the old entry.
    _t("unpublicize", "publicized", "passed", {"reviewer"}, _l("Take off public notice"),
       reason_required=True),
    _t("object", "publicized", "objected", {"reviewer"}, _l("Record objection"),
       reason_required=True),
    _t("dismiss", "objected", "publicized", {"reviewer"}, _l("Dismiss objection"),
       reason_required=True),
    _t("uphold", "objected", "installed", {"reviewer"}, _l("Uphold objection"),
       reason_required=True),
    # DOMAIN.md: a revoked certificate always sends its case back to installed (from objected
    # that is the uphold move above; fraud found later is this one)
    _t("revoke", ("passed", "publicized", "confirmed"), "installed", {"reviewer", "county"},
       _l("Revoke certificate"), reason_required=True, in_ui=True, style="danger",
       screen="certificates.revoke"),
    _t("confirm", "publicized", "confirmed", {"reviewer", SYSTEM}, _l("Confirm after notice")),
    _t("roster", "confirmed", "rostered", {"finance"}, _l("Put on payout roster")),
    _t("unroster", "rostered", "confirmed", {"finance"}, _l("Void payment")),
    _t("pay", "rostered", "paid", {"finance"}, _l("Record payment")),
    _t("payment_fail", "rostered", "payment_failed", {"finance"}, _l("Record failed payment"),
       reason_required=True),
    _t("repay", "payment_failed", "rostered", {"finance"}, _l("Put on re-pay roster")),
    _t("withdraw", OPEN_STATES, "withdrawn", {"clerk", "reviewer"}, _l("Withdraw case"),
       reason_required=True, in_ui=True, style="danger",
       reason_label=_l("Reason for withdrawal (required)"),
       confirm=_l("Withdraw this case at the household's request? This cannot be undone.")),
    _t("cancel", OPEN_STATES, "cancelled", {"reviewer", "county"}, _l("Cancel case"),
       reason_required=True, in_ui=True, style="danger",
       reason_label=_l("Reason for cancellation (required)"),
       confirm=_l("Cancel this case (death, demolition, fraud)? This cannot be undone.")),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


def find(action: str) -> Transition:
    try:
        return BY_ACTION[action]
    except KeyError:
        raise TransitionError(_l("Unknown action.")) from None


def moves_from(state: str) -> list[Transition]:
    return [t for t in TRANSITIONS if state in t.sources]


def allowed_for(state: str, roles: Iterable[str], *, ui_only: bool = False) -> list[Transition]:
    """Moves from ``state`` that any of ``roles`` may make (guards not yet evaluated)."""
    held = set(roles)
    return [t for t in moves_from(state) if t.roles & held and (t.in_ui or not ui_only)]


def check(case: Any, action: str, roles: Iterable[str], reason: str | None = None,
          context: Context | None = None) -> Transition:
    """Raise TransitionError unless ``roles`` may make ``action`` on ``case`` now."""
    t = find(action)
    if case.state not in t.sources:
        raise TransitionError(_l("This action is not possible in the case's current state."))
    if not t.roles & set(roles):
        raise TransitionError(_l("Your role does not allow this action."))
    if t.reason_required and not (reason or "").strip():
        raise TransitionError(_l("Please give a reason."))
    problems = guard_problems(t, case, context)
    if problems:
        raise TransitionError(_l("The case is not ready for this step."), problems)
    return t


def guard_problems(t: Transition, case: Any, context: Context | None = None) -> list[str]:
    """What still stands in the way of move ``t`` (empty: nothing)."""
    ctx = context or Context()
    return [problem for guard in t.guards for problem in guard(case, ctx)]


def diagram() -> str:
    """The state diagram in Mermaid syntax, generated for docs/ from the table."""
    lines = ["stateDiagram-v2"]
    for t in TRANSITIONS:
        for s in t.sources:
            lines.append(f"    {s} --> {t.target}: {t.action} ({', '.join(sorted(t.roles))})")
    return "\n".join(lines)


def activities_table() -> str:
    """The activities by state as a Markdown table, generated for docs/ from ``ACTIVITIES``."""
    lines = ["| activity | permission | states |", "|---|---|---|"]
    for name, (states, perm) in ACTIVITIES.items():
        shown = "every state" if set(states) == set(STATES) else ", ".join(states)
        lines.append(f"| {name} | {perm} | {shown} |")
    return "\n".join(lines)
