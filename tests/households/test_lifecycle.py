"""The state table itself: pure unit tests, no database."""
from __future__ import annotations

import dataclasses
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
    # the "a later change takes it off the notice and needs a new one" (not in DOMAIN.md)
    ("publicized", "unpublicize"): ("passed", {"reviewer"}),
    ("publicized", "object"): ("objected", {"reviewer"}),
    ("objected", "dismiss"): ("publicized", {"reviewer"}),
    ("objected", "uphold"): ("installed", {"reviewer"}),
    ("publicized", "confirm"): ("confirmed", {"reviewer", "system"}),
    ("confirmed", "roster"): ("rostered", {"finance"}),
    ("rostered", "unroster"): ("confirmed", {"finance"}),
    ("rostered", "pay"): ("paid", {"finance"}),
    ("rostered", "payment_fail"): ("payment_failed", {"finance"}),
    ("payment_failed", "repay"): ("rostered", {"finance"}),
    # "A revoked certificate always sends its case back to installed" (from objected: uphold)
    ("passed", "revoke"): ("installed", {"reviewer", "county"}),
    ("publicized", "revoke"): ("installed", {"reviewer", "county"}),
    ("confirmed", "revoke"): ("installed", {"reviewer", "county"}),
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


@dataclass
class FakeInstallation:
    missing_fields: list = field(default_factory=list)

    def missing(self):
        return self.missing_fields


@dataclass
class FakeInspection:
    problems: list = field(default_factory=list)

    def pass_problems(self):
        return self.problems


#: everything the guards ask for, present and in order, and an inspector who did nothing else
READY = lc.Context(actor_id=7, installation=FakeInstallation(), inspection=FakeInspection(),
                   registered_by=frozenset({1}), approved_by=frozenset({2}),
                   installed_by=frozenset({3}))


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
    lc.check(FakeCase(state), action, roles, reason, READY)  # no exception
    others = {"clerk", "reviewer", "inspector", "finance", "county", "auditor", "admin",
              "system"} - roles
    with pytest.raises(lc.TransitionError):
        lc.check(FakeCase(state), action, others, reason, READY)


@pytest.mark.parametrize("action", sorted({a for _, a in EXPECTED}))
def test_wrong_state_is_refused(action):
    wrong = [s for s in lc.STATES if (s, action) not in EXPECTED]
    roles = {"clerk", "reviewer", "inspector", "finance", "county", "system"}
    for state in wrong:
        with pytest.raises(lc.TransitionError):
            lc.check(FakeCase(state), action, roles, "x", READY)


@pytest.mark.parametrize("action", ["return", "withdraw", "cancel", "fail", "rework", "object",
                                    "dismiss", "uphold", "revoke", "payment_fail",
                                    "unpublicize"])
def test_reason_required(action):
    t = lc.BY_ACTION[action]
    for reason in (None, "", "   "):
        with pytest.raises(lc.TransitionError):
            lc.check(FakeCase(t.sources[0]), action, t.roles, reason, READY)
    lc.check(FakeCase(t.sources[0]), action, t.roles, "why", READY)


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


def test_moves_driven_from_the_screens_so_far():
    assert {t.action for t in lc.TRANSITIONS if t.in_ui} == {
        "submit", "return", "resubmit", "approve", "withdraw", "cancel",
        "install", "pass", "fail", "rework", "revoke"}
    assert [t.action for t in lc.allowed_for("submitted", {"reviewer"}, ui_only=True)] == [
        "approve", "return", "withdraw", "cancel"]
    # moves that need more than a reason are made on their own screen, never by a button
    assert {t.action: t.screen for t in lc.TRANSITIONS if t.screen} == {
        "install": "inspections.installation", "pass": "inspections.inspect",
        "fail": "inspections.inspect", "revoke": "certificates.revoke"}


@pytest.mark.parametrize("action,state,role", [("install", "approved", "clerk"),
                                               ("rework", "failed", "clerk"),
                                               ("pass", "installed", "inspector")])
def test_installation_must_be_recorded_and_complete(action, state, role):
    with pytest.raises(lc.TransitionError) as err:
        lc.check(FakeCase(state), action, {role}, "fixed",
                 dataclasses.replace(READY, installation=None))
    assert [str(p) for p in err.value.problems][:1] == [
        "No installation has been recorded for this case."]
    incomplete = dataclasses.replace(READY, installation=FakeInstallation(["missing: brand"]))
    with pytest.raises(lc.TransitionError) as err:
        lc.check(FakeCase(state), action, {role}, "fixed", incomplete)
    assert "missing: brand" in err.value.problems


def test_pass_needs_every_item_and_photo_fail_needs_an_inspection():
    lacking = dataclasses.replace(READY, inspection=FakeInspection(["Photo missing: stove"]))
    with pytest.raises(lc.TransitionError) as err:
        lc.check(FakeCase("installed"), "pass", {"inspector"}, None, lacking)
    assert err.value.problems == ["Photo missing: stove"]
    # a fail is recorded whatever the checklist says, but not without an inspection record
    lc.check(FakeCase("installed"), "fail", {"inspector"}, "leak", lacking)
    with pytest.raises(lc.TransitionError):
        lc.check(FakeCase("installed"), "fail", {"inspector"}, "leak",
                 dataclasses.replace(READY, inspection=None))
    with pytest.raises(lc.TransitionError):  # no context at all: every guard refuses
        lc.check(FakeCase("installed"), "pass", {"inspector"})


@pytest.mark.parametrize("duty", ["registered_by", "approved_by", "installed_by"])
def test_who_passes_did_not_register_approve_or_install(duty):
    mine = dataclasses.replace(READY, **{duty: frozenset({READY.actor_id})})
    with pytest.raises(lc.TransitionError) as err:
        lc.check(FakeCase("installed"), "pass", {"inspector", "clerk", "reviewer"}, None, mine)
    assert len(err.value.problems) == 1
    # the same person may still fail the inspection (the rule is about passing)
    lc.check(FakeCase("installed"), "fail", {"inspector"}, "leak", mine)
    with pytest.raises(lc.TransitionError):  # nobody named: no pass
        lc.check(FakeCase("installed"), "pass", {"inspector"}, None,
                 dataclasses.replace(READY, actor_id=None))


def test_diagram_lists_every_move():
    text = lc.diagram()
    assert text.count("-->") == len(EXPECTED)


def test_documents_the_county_requires_before_submission():
    needs = lc.Context(required_documents=(("id_card", "ID card copy"),))
    with pytest.raises(lc.TransitionError) as err:
        lc.check(FakeCase("draft"), "submit", {"clerk"}, None, needs)
    assert [str(p) for p in err.value.problems] == ["Document missing: ID card copy"]
    lc.check(FakeCase("draft"), "submit", {"clerk"}, None,
             dataclasses.replace(needs, documents=frozenset({"id_card"})))
