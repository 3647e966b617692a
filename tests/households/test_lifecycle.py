"""The state table itself: pure unit tests, no database."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from heating.households import lifecycle as lc

# DOMAIN.md's life of a case, written out independently of the table under test
EXPECTED = {
    ("draft", "submit"): ("submitted", {"clerk"}),
    ("submitted", "approve"): ("approved", {"reviewer"}),
    ("submitted", "return"): ("returned", {"reviewer"}),
    ("returned", "resubmit"): ("submitted", {"clerk"}),
    ("approved", "install"): ("installed", {"clerk"}),
    ("installed", "pass"): ("passed", {"inspector"}),
    ("installed", "fail"): ("failed", {"inspector"}),
    ("failed", "rework"): ("installed", {"clerk"}),
    ("passed", "publicize"): ("publicized", {"reviewer"}),
    ("publicized", "object"): ("objected", {"reviewer"}),
    ("objected", "dismiss"): ("publicized", {"reviewer"}),
    ("objected", "uphold"): ("installed", {"reviewer"}),
    ("publicized", "confirm"): ("confirmed", {"reviewer", "system"}),
    ("confirmed", "roster"): ("rostered", {"finance"}),
    ("rostered", "unroster"): ("confirmed", {"finance"}),
    ("rostered", "pay"): ("paid", {"finance"}),
    ("rostered", "payment_fail"): ("payment_failed", {"finance"}),
    ("payment_failed", "repay"): ("rostered", {"finance"}),
}
OPEN = ["draft", "submitted", "returned", "approved", "installed", "failed", "passed",
        "publicized", "objected", "confirmed"]
for s in OPEN:
    EXPECTED[(s, "withdraw")] = ("withdrawn", {"clerk", "reviewer"})
    EXPECTED[(s, "cancel")] = ("cancelled", {"reviewer", "county"})


@dataclass
class FakeCase:
    state: str
    missing: list = field(default_factory=list)
    holder: list = field(default_factory=list)

    def missing_for_submission(self):
        return self.missing

    def holder_problems(self):
        return self.holder


def test_table_matches_domain_exactly():
    actual = {(s, t.action): (t.target, set(t.roles)) for t in lc.TRANSITIONS for s in t.sources}
    assert actual == EXPECTED


def test_every_state_has_a_label_and_is_reachable():
    targets = {t.target for t in lc.TRANSITIONS}
    assert set(lc.STATES) == targets | {"draft"}


def test_terminal_states_have_no_moves():
    for state in ("withdrawn", "cancelled", "paid"):
        assert lc.moves_from(state) == []


def test_rostered_case_cannot_be_withdrawn_or_cancelled():
    # money may be at the bank: only the payout flow moves it
    assert {t.action for t in lc.moves_from("rostered")} == {"unroster", "pay", "payment_fail"}


@pytest.mark.parametrize("state,action,roles", [(s, a, r) for (s, a), (_, r) in EXPECTED.items()])
def test_allowed_roles_pass_and_others_are_refused(state, action, roles):
    reason = "because"
    lc.check(FakeCase(state), action, roles, reason)  # no exception
    others = {"clerk", "reviewer", "inspector", "finance", "county", "auditor", "admin",
              "system"} - roles
    with pytest.raises(lc.TransitionError):
        lc.check(FakeCase(state), action, others, reason)


@pytest.mark.parametrize("action", sorted({a for _, a in EXPECTED}))
def test_wrong_state_is_refused(action):
    wrong = [s for s in lc.STATES if (s, action) not in EXPECTED]
    roles = {"clerk", "reviewer", "inspector", "finance", "county", "system"}
    for state in wrong:
        with pytest.raises(lc.TransitionError):
            lc.check(FakeCase(state), action, roles, "x")


@pytest.mark.parametrize("action", ["return", "withdraw", "cancel", "fail", "object", "dismiss",
                                    "uphold", "payment_fail"])
def test_reason_required(action):
    t = lc.BY_ACTION[action]
    for reason in (None, "", "   "):
        with pytest.raises(lc.TransitionError):
            lc.check(FakeCase(t.sources[0]), action, t.roles, reason)


@pytest.mark.parametrize("action,state", [("submit", "draft"), ("resubmit", "returned")])
def test_submission_guards(action, state):
    with pytest.raises(lc.TransitionError) as err:
        lc.check(FakeCase(state, missing=["Missing: Bank"]), action, {"clerk"})
    assert err.value.problems == ["Missing: Bank"]
    with pytest.raises(lc.TransitionError):
        lc.check(FakeCase(state, holder=["holder differs"]), action, {"clerk"})
    lc.check(FakeCase(state), action, {"clerk"})


def test_unknown_action():
    with pytest.raises(lc.TransitionError):
        lc.check(FakeCase("draft"), "teleport", {"clerk"})


def test_only_foundation_moves_have_buttons():
    assert {t.action for t in lc.TRANSITIONS if t.in_ui} == {
        "submit", "return", "resubmit", "approve", "withdraw", "cancel"}
    assert [t.action for t in lc.allowed_for("submitted", {"reviewer"}, ui_only=True)] == [
        "approve", "return", "withdraw", "cancel"]


def test_diagram_lists_every_move():
    text = lc.diagram()
    assert text.count("-->") == len(EXPECTED)
