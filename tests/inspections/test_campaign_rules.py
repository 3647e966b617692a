"""The pure rules of 回头看 campaigns and installer companies, without a database: the draw
(reproducible, stratified, at least one per township, first N per company, keyed hash), the
campaign state table, and the unified social credit code check (GB 32100-2015)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from heating.core.ids import (
    InvalidValue,
    canonical_credit_code,
    company_name_key,
    credit_check_char,
)
from heating.inspections import campaign_states
from heating.inspections.campaign_draw import (
    Chosen,
    Member,
    draw,
    order_key,
    population_digest,
    quota,
)

SEED = bytes(range(32))


def _population(sizes: dict[int, int]) -> list[Member]:
    members, case_id = [], 1
    for stratum, size in sizes.items():
        for _ in range(size):
            members.append(Member(case_id, stratum))
            case_id += 1
    return members


# --- the draw ------------------------------------------------------------------------------------

def test_the_same_seed_and_population_give_the_same_sample_in_any_order():
    members = _population({10: 60, 20: 40})
    first = draw(SEED, members, 5)
    assert draw(SEED, list(reversed(members)), 5) == first
    assert draw(bytes(SEED), members[30:] + members[:30], 5) == first
    # another seed orders the strata otherwise: over a few seeds, not always the same cases
    others = {tuple(draw(bytes([n]) * 32, members, 5)) for n in range(6)}
    assert len(others) > 1


def test_within_a_stratum_the_sample_is_the_first_cases_by_hmac_sha256_of_seed_and_id():
    members = _population({10: 40})
    expected = sorted(m.case_id for m in members)
    expected.sort(key=lambda i: hmac.new(SEED, str(i).encode(), hashlib.sha256).digest())
    assert set(draw(SEED, members, 5)) == set(expected[:2])
    assert order_key(SEED, 7) == hmac.new(SEED, b"7", hashlib.sha256).digest()


@pytest.mark.parametrize("size,rate,expected", [
    (0, 5, 0), (1, 5, 1), (3, 5, 1), (20, 5, 1), (21, 5, 2), (100, 5, 5), (101, 5, 6),
    (7, 100, 7), (10, 50, 5), (3, 99, 3)])
def test_the_quota_is_the_rate_rounded_up_and_at_least_one(size, rate, expected):
    assert quota(size, rate) == expected


def test_every_township_gets_its_quota_and_a_small_one_at_least_one_case():
    members = _population({10: 100, 20: 21, 30: 1, 40: 3})
    chosen = draw(SEED, members, 5)
    stratum_of = {m.case_id: m.stratum for m in members}
    per_stratum = {s: sum(1 for i in chosen if stratum_of[i] == s) for s in (10, 20, 30, 40)}
    assert per_stratum == {10: 5, 20: 2, 30: 1, 40: 1}
    assert all(why == Chosen(True, False) for why in chosen.values())


def test_the_first_n_installations_of_every_company_are_added_by_date_then_id():
    members = [Member(1, 10, 7, date(2026, 9, 3)), Member(2, 10, 7, date(2026, 9, 1)),
               Member(3, 20, 7, date(2026, 9, 1)), Member(4, 20, 8, date(2026, 10, 1)),
               Member(5, 20, None, date(2026, 8, 1)), Member(6, 10, 8, None)]
    chosen = draw(SEED, members, 1, first_n=2)
    by_installer = {i for i, why in chosen.items() if why.by_installer}
    # company 7: cases 2 and 3 (1 Sept, ids 2 < 3), not 1 (3 Sept); company 8: both it has;
    # case 5 has no company on record
    assert by_installer == {2, 3, 4, 6}
    assert {i for i, why in chosen.items() if why.by_rate} <= {m.case_id for m in members}
    assert draw(SEED, members, 1, first_n=0).keys() <= {1, 2, 3, 4, 5, 6}
    assert not any(why.by_installer for why in draw(SEED, members, 1, first_n=0).values())


def test_the_population_digest_depends_on_the_ids_not_their_order():
    assert population_digest([3, 1, 2]) == population_digest([1, 2, 3])
    assert population_digest([1, 2, 3]) != population_digest([1, 2, 4])
    assert population_digest([1, 2]) == hashlib.sha256(b"1\n2").hexdigest()


# --- the state table ------------------------------------------------------------------------------

@pytest.mark.parametrize("state,action,to", [
    ("pending_approval", "approve", "ready"), ("pending_approval", "close", "closed"),
    ("ready", "draw", "drawn"), ("ready", "close", "closed"), ("drawn", "close", "closed")])
def test_the_moves_of_the_table(state, action, to):
    assert campaign_states.next_state(state, action) == to


@pytest.mark.parametrize("state,action", [
    ("drawn", "draw"), ("closed", "draw"), ("pending_approval", "draw"), ("ready", "approve"),
    ("closed", "close"), ("drawn", "approve"), ("closed", "approve")])
def test_no_redraw_and_no_other_move_outside_the_table(state, action):
    with pytest.raises(campaign_states.IllegalMove):
        campaign_states.next_state(state, action)


def test_the_buttons_come_from_the_table():
    assert campaign_states.actions_from("pending_approval") == ["approve", "close"]
    assert campaign_states.actions_from("ready") == ["draw", "close"]
    assert campaign_states.actions_from("drawn") == ["close"]
    assert campaign_states.actions_from("closed") == []
    assert set(campaign_states.OPEN_STATES) == set(campaign_states.STATES) - {"closed"}


# --- the unified social credit code ----------------------------------------------------------------

@pytest.mark.parametrize("code", ["91110108551385082Q", "91330100799655058B",
                                  "91440300708461136T", "914403001922038216",
                                  "91350100M000100Y43"])
def test_published_credit_codes_pass(code):
    assert canonical_credit_code(code) == code


def test_typing_is_forgiven_spaces_full_width_and_lower_case():
    assert canonical_credit_code(" 9111 0108 5513 8508 2q ") == "91110108551385082Q"
    assert canonical_credit_code("９１１１０１０８５５１３８５０８２Ｑ") == "91110108551385082Q"


@pytest.mark.parametrize("raw,code", [
    ("", "empty"), ("9111010855138508", "length"), ("91110108551385082QQ", "length"),
    ("91110108551385082R", "checksum"), ("91110108551385082O", "chars"),
    ("9111010855138508IQ", "chars"), ("91110108551385082", "length")])
def test_bad_credit_codes_are_refused_with_a_reason(raw, code):
    with pytest.raises(InvalidValue) as refused:
        canonical_credit_code(raw)
    assert refused.value.code == code


def test_every_wrong_check_character_is_caught():
    first17 = "91110108551385082"
    right = credit_check_char(first17)
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if wrong != right:
            with pytest.raises(InvalidValue):
                canonical_credit_code(first17 + wrong)


def test_company_names_compare_without_spaces_and_width():
    assert company_name_key(" 县燃气　工程（有限）公司 ") == company_name_key("县燃气工程(有限)公司")
    assert company_name_key("abc公司") == "ABC公司"
    assert company_name_key(None) == ""
