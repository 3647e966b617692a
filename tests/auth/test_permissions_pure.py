"""heating/auth/permissions.py and the activities table of lifecycle.py as pure rules: plain
users and objects (SimpleNamespace), no app, no database."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from heating.auth import permissions as p
from heating.households import lifecycle as lc

# area ids: one county (1) › township (10) › villages (100, 101); another county (2) › 20 › 200
HERE = NS(village_id=100, township_id=10, county_id=1)
ELSEWHERE = NS(village_id=200, township_id=20, county_id=2)
LEVEL = {1: "county", 2: "county", 10: "township", 20: "township", 100: "village",
         101: "village", 200: "village"}
CASE_ROLES = {"clerk", "reviewer", "inspector", "finance", "county", "auditor"}
ALL_ROLES = CASE_ROLES | {"admin"}


def user(*grants: tuple[str, int], uid: int = 1, authenticated: bool = True) -> NS:
    return NS(id=uid, is_authenticated=authenticated,
              grants=[NS(role=r, area_id=a, area=NS(level=LEVEL[a])) for r, a in grants])


def case(state: str = "draft", where: NS = HERE) -> NS:
    return NS(state=state, village_id=where.village_id, township_id=where.township_id,
              county_id=where.county_id)


#: DOMAIN.md's who-does-what, written out independently of the table under test
EXPECTED = {
    "household.view": CASE_ROLES,
    "household.create": {"clerk"},
    "household.edit": {"clerk"},
    "household.correct": {"reviewer"},
    "household.import": {"clerk", "reviewer", "county"},
    "household.import_records": {"county"},
    "household.holder_exception": {"county"},
    "household.print_name": {"reviewer", "county"},
    "household.full_id": {"clerk"},
    "household.full_bank": {"clerk"},
    "household.full_phone": {"clerk", "reviewer", "inspector"},
    "household.reveal_id": {"reviewer", "finance", "county", "auditor"},
    "household.reveal_bank": {"reviewer", "finance", "county", "auditor"},
    "household.reveal_phone": {"county", "auditor"},
    "installation.record": {"clerk"},
    "inspection.assign": {"reviewer", "county"},
    "inspection.perform": {"inspector"},
    "certificate.download": CASE_ROLES,
    "certificate.revoke": {"reviewer", "county"},
    "document.upload": {"clerk"},
    "document.view": {"clerk", "reviewer", "finance", "county", "auditor"},
    "followup.record": {"inspector", "county"},
    "campaign.view": {"county", "auditor"},
    "campaign.manage": {"county"},
    "followup.assign": {"reviewer", "county"},
    "installer.manage": {"county"},
    "household.print_application": {"clerk", "reviewer", "county"},
    "policy.view": CASE_ROLES,
    "policy.manage": {"county"},
    "notice.view": CASE_ROLES,
    "notice.manage": {"reviewer"},
    "payout.view": {"finance", "county", "auditor"},
    "payout.create": {"finance"},
    "payout.approve": {"finance"},
    "payout.export": {"finance"},
    "payout.results": {"finance"},
    "usage.import": {"finance"},
    "usage.view": {"finance", "county", "auditor"},
    "account.correction.request": {"clerk", "finance"},
    "account.correction.approve": {"finance", "county"},
    "report.view": {"clerk", "reviewer", "finance", "county", "auditor"},
    "report.settings": {"county"},
    "report.monthly": {"county"},
    "report.monthly.view": {"county", "auditor"},
    "recovery.view": {"finance", "county", "auditor"},
    "recovery.record": {"finance"},
    "recovery.waive": {"finance", "county"},
    "audit.view": {"auditor", "county"},
    "user.manage": {"admin"},
}


def test_the_table_names_exactly_the_expected_permissions():
    assert {k: set(v) for k, v in p.PERMISSIONS.items()} == EXPECTED


@pytest.mark.parametrize("perm", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_each_role_over_the_case_village_gets_exactly_its_permissions(perm, role):
    holder = user((role, 100))
    assert p.can(holder, perm, case()) is (role in EXPECTED[perm])
    assert p.can(holder, perm) is (role in EXPECTED[perm])  # no object: any grant
    # a grant elsewhere never reaches this case
    assert p.can(holder, perm, case(where=ELSEWHERE)) is False


@pytest.mark.parametrize("area", [1, 10, 100])
def test_a_grant_over_the_county_or_township_covers_the_village(area):
    assert p.can(user(("reviewer", area)), "household.correct", case())
    assert p.in_scope(user(("reviewer", area)), case())
    assert not p.in_scope(user(("reviewer", area)), case(where=ELSEWHERE))


def test_a_sibling_village_is_out_of_scope():
    assert not p.can(user(("clerk", 101)), "household.edit", case())


def test_nobody_logged_in_may_do_anything():
    assert not p.can(None, "household.view")
    assert not p.can(user(("clerk", 100), authenticated=False), "household.view", case())


def test_document_viewers_are_those_who_see_or_may_ask_for_the_full_id():
    assert (p.PERMISSIONS["document.view"]
            == p.PERMISSIONS["household.full_id"] | p.PERMISSIONS["household.reveal_id"])


# --- object predicates -------------------------------------------------------------------------

def batch(state="draft", payments=3, created_by=1, where=HERE):
    return NS(state=state, payment_count=payments, created_by_id=created_by,
              village_id=where.village_id, township_id=where.township_id,
              county_id=where.county_id)


def test_four_eyes_the_creator_cannot_approve_the_batch():
    maker, checker = user(("finance", 1), uid=1), user(("finance", 1), uid=2)
    assert not p.may_approve_batch(maker, batch(created_by=1))
    assert p.may_approve_batch(checker, batch(created_by=1))
    assert p.not_maker(checker, 1) and not p.not_maker(maker, 1)


@pytest.mark.parametrize("b", [batch(state="approved"), batch(payments=0),
                               batch(where=ELSEWHERE)])
def test_only_a_draft_with_payments_in_scope_is_approved(b):
    assert not p.may_approve_batch(user(("finance", 1), uid=2), b)


def test_a_non_finance_user_cannot_approve():
    assert not p.may_approve_batch(user(("county", 1), uid=2), batch())


@pytest.mark.parametrize("state", ["draft", "approved", "exported", "reconciled", "closed",
                                   "dropped"])
def test_bank_file_downloads_from_approval_on_by_finance(state):
    expected = state in ("approved", "exported", "reconciled", "closed")
    assert p.may_download_bank_file(user(("finance", 1)), batch(state=state)) is expected
    assert not p.may_download_bank_file(user(("county", 1)), batch(state=state))


def test_four_eyes_the_requester_cannot_decide_the_correction():
    corr = NS(state="pending", requested_by_id=1)
    assert not p.may_decide_correction(user(("finance", 1), uid=1), corr, case())
    assert p.may_decide_correction(user(("finance", 1), uid=2), corr, case())
    assert p.may_decide_correction(user(("county", 1), uid=3), corr, case())
    assert not p.may_decide_correction(user(("clerk", 100), uid=4), corr, case())
    assert not p.may_decide_correction(user(("finance", 2), uid=2), corr, case())
    decided = NS(state="approved", requested_by_id=1)
    assert not p.may_decide_correction(user(("finance", 1), uid=2), decided, case())


@pytest.mark.parametrize("field", sorted(p.REVEALABLE))
@pytest.mark.parametrize("role", sorted(CASE_ROLES))
def test_reveal_is_for_those_who_do_not_see_the_full_number_but_may_ask(field, role):
    full, on_request = p.REVEALABLE[field]
    holder = user((role, 100))
    assert p.shows_full(holder, field, case()) is (role in EXPECTED[full])
    assert p.may_reveal(holder, field, case()) is (
        role in EXPECTED[on_request] and role not in EXPECTED[full])


def test_importers_hold_an_import_role_anywhere():
    assert p.may_import(user(("clerk", 100)))
    assert p.may_import(user(("county", 2)))
    assert not p.may_import(user(("finance", 1)))
    assert not p.may_import(user(("clerk", 100), authenticated=False))


@pytest.mark.parametrize("role", sorted(CASE_ROLES))
def test_scanned_documents_are_narrower_than_photos(role):
    holder = user((role, 100))
    assert p.may_view_upload(holder, case(), document=True) is (role in EXPECTED["document.view"])
    assert p.may_view_upload(holder, case(), document=False)  # every case role sees photos
    assert not p.may_view_upload(holder, case(where=ELSEWHERE), document=False)


def test_notices_are_managed_by_reviewers_of_their_township():
    township_notice = NS(village_id=None, township_id=10, county_id=1)
    assert p.may_manage_notice(user(("reviewer", 10)), township_notice)
    assert p.may_manage_notice(user(("reviewer", 1)), township_notice)
    assert not p.may_manage_notice(user(("clerk", 100)), township_notice)  # reads, not manages
    assert not p.may_manage_notice(user(("reviewer", 20)), township_notice)


def test_certificate_revoke_needs_the_permission_a_move_and_an_unrevoked_certificate():
    reviewer, county = user(("reviewer", 10)), user(("county", 1))
    assert p.may_revoke_certificate(reviewer, False, case("passed"), {"revoke", "withdraw"})
    assert p.may_revoke_certificate(reviewer, False, case("objected"), {"uphold"})
    assert not p.may_revoke_certificate(reviewer, True, case("passed"), {"revoke"})
    assert not p.may_revoke_certificate(county, False, case("objected"), {"cancel"})
    assert not p.may_revoke_certificate(user(("clerk", 100)), False, case("passed"), {"revoke"})


def test_revoke_moves_come_from_the_transition_table():
    """The moves the view hands to may_revoke_certificate: county may revoke a passed case but
    not uphold an objection."""
    def moves(state, role):
        return {t.action for t in lc.allowed_for(state, {role})}
    assert "revoke" in moves("passed", "county")
    assert not moves("objected", "county") & {"revoke", "uphold"}
    assert "uphold" in moves("objected", "reviewer")


# --- activities by state (lifecycle.ACTIVITIES) -------------------------------------------------

OPEN = {"draft", "submitted", "returned", "approved", "installed", "failed", "passed",
        "publicized", "objected", "confirmed"}
EXPECTED_ACTIVITIES = {
    "edit_registration": {"draft", "returned"},
    "correct_registration": {"approved", "installed", "failed", "passed"},
    "upload_document": OPEN,
    "record_installation": {"approved", "installed", "failed"},
    "assign_inspector": {"installed"},
    "inspect": {"installed"},
    "record_holder_exception": OPEN,
    "record_follow_up": {"paid"},
    "request_account_correction": {"payment_failed"},
    "decide_account_correction": {"payment_failed"},
    "record_print_name": set(lc.STATES),
    "record_objection": {"publicized", "objected"},
    "compute_subsidy": set(lc.STATES) - {"withdrawn", "cancelled"},
}


def test_activities_by_state_are_as_expected():
    assert {a: set(lc.states_for(a)) for a in lc.ACTIVITIES} == EXPECTED_ACTIVITIES


@pytest.mark.parametrize("activity", sorted(EXPECTED_ACTIVITIES))
def test_every_activity_names_real_states_and_a_real_permission(activity):
    assert set(lc.states_for(activity)) <= set(lc.STATES)
    assert lc.permission_for(activity) in p.PERMISSIONS


@pytest.mark.parametrize("state", sorted(lc.STATES))
def test_a_closed_case_takes_no_holder_exception_nor_documents(state):
    closed = state in ("withdrawn", "cancelled", "rostered", "paid", "payment_failed")
    assert lc.allows("record_holder_exception", state) is not closed
    assert lc.allows("upload_document", state) is not closed


def test_may_is_state_and_permission_together():
    county = user(("county", 1))
    assert lc.may(county, "record_holder_exception", case("draft"))
    assert not lc.may(county, "record_holder_exception", case("withdrawn"))  # state
    assert not lc.may(user(("clerk", 100)), "record_holder_exception", case("draft"))  # role
    assert not lc.may(county, "record_holder_exception", case("draft", ELSEWHERE))  # scope
    assert lc.may(user(("inspector", 10)), "record_follow_up", case("paid"))
    assert not lc.may(user(("inspector", 10)), "record_follow_up", case("passed"))


def test_the_clerk_edits_until_the_township_has_the_case_then_the_reviewer_corrects():
    assert not set(lc.states_for("edit_registration")) & set(lc.states_for(
        "correct_registration"))


def test_an_unknown_activity_is_an_error_not_a_refusal():
    with pytest.raises(KeyError):
        lc.allows("fly", "draft")


def test_four_eyes_the_requester_cannot_decide_the_waiver():
    def rec(state="waive_requested", asked_by=1):
        return NS(state=state, waiver_requested_by_id=asked_by, village_id=HERE.village_id,
                  township_id=HERE.township_id, county_id=HERE.county_id)
    assert not p.may_decide_waiver(user(("finance", 1), uid=1), rec())
    assert p.may_decide_waiver(user(("finance", 1), uid=2), rec())
    assert p.may_decide_waiver(user(("county", 1), uid=3), rec())
    assert not p.may_decide_waiver(user(("auditor", 1), uid=4), rec())
    assert not p.may_decide_waiver(user(("finance", 2), uid=2), rec())  # another county
    assert not p.may_decide_waiver(user(("finance", 1), uid=2), rec(state="open"))
