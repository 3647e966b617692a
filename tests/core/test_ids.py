"""Tests for heating.core.ids.

The Hypothesis properties use oracles written out here from the published
algorithms (GB 11643, Luhn), not the code under test.
"""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heating.core.ids import (
    InvalidValue,
    area_level,
    birth_date_from_id,
    canonical_area_code,
    canonical_bank_account,
    canonical_id_number,
    canonical_mobile,
    id_check_char,
    is_valid_id_number,
    luhn_ok,
    normalize,
    parent_code,
)

TODAY = date(2025, 6, 15)  # fixed, so tests do not depend on the calendar


# ---------- independent oracles ----------

def oracle_check_char(first17: str) -> str:
    """GB 11643-1999, written out from the standard."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    remainder_to_char = {0: "1", 1: "0", 2: "X", 3: "9", 4: "8", 5: "7",
                         6: "6", 7: "5", 8: "4", 9: "3", 10: "2"}
    total = 0
    for i in range(17):
        total += int(first17[i]) * weights[i]
    return remainder_to_char[total % 11]


def oracle_luhn_check_digit(payload: str) -> str:
    """Digit to append so the whole number passes Luhn."""
    total = 0
    # After appending, the payload's rightmost digit is second from the right: doubled.
    for pos, ch in enumerate(reversed(payload)):
        d = int(ch)
        if pos % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_id(area: int, birth: date, seq: int) -> str:
    first17 = f"{area:06d}{birth:%Y%m%d}{seq:03d}"
    return first17 + oracle_check_char(first17)


def to_fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(InvalidValue) as info:
        fn(*args, **kwargs)
    return info.value.code


valid_ids = st.builds(
    make_id,
    st.integers(110000, 659999),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


# ---------- ID numbers: properties ----------

@given(valid_ids)
def test_valid_ids_are_accepted_unchanged(id_number):
    assert canonical_id_number(id_number, today=TODAY) == id_number


@given(valid_ids, st.data())
def test_variants_normalise_to_the_same_value(id_number, data):
    variant = id_number.replace("X", data.draw(st.sampled_from(["X", "x"])))
    if data.draw(st.booleans()):
        variant = to_fullwidth(variant)
    # Insert whitespace (ASCII space, ideographic space, tab) at random positions.
    chars = list(variant)
    for _ in range(data.draw(st.integers(0, 4))):
        pos = data.draw(st.integers(0, len(chars)))
        chars.insert(pos, data.draw(st.sampled_from([" ", "\u3000", "\t"])))
    assert canonical_id_number("".join(chars), today=TODAY) == id_number


@given(valid_ids, st.integers(0, 17), st.sampled_from(list("0123456789X")))
def test_any_single_substitution_is_rejected(id_number, pos, replacement):
    if id_number[pos] == replacement:
        replacement = "0" if replacement != "0" else "1"
    broken = id_number[:pos] + replacement + id_number[pos + 1:]
    with pytest.raises(InvalidValue):
        canonical_id_number(broken, today=TODAY)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_matches_oracle(first17):
    assert id_check_char(first17) == oracle_check_char(first17)


@given(valid_ids)
def test_birth_date_round_trip(id_number):
    assert birth_date_from_id(id_number).strftime("%Y%m%d") == id_number[6:14]


# ---------- ID numbers: known examples ----------

def test_published_example_is_valid():
    assert canonical_id_number("11010519491231002X", today=TODAY) == "11010519491231002X"
    assert canonical_id_number("11010519491231002x", today=TODAY) == "11010519491231002X"
    assert canonical_id_number(to_fullwidth("110105 19491231 002x"), today=TODAY) == "11010519491231002X"
    assert is_valid_id_number("11010519491231002X")
    assert birth_date_from_id("11010519491231002X") == date(1949, 12, 31)


def test_wrong_check_char():
    assert code_of(canonical_id_number, "110105194912310021", today=TODAY) == "check"
    assert not is_valid_id_number("110105194912310021")


def test_future_birth_date():
    tomorrow = TODAY + timedelta(days=1)
    assert code_of(canonical_id_number, make_id(110105, tomorrow, 1), today=TODAY) == "future"
    # Born today is fine.
    assert canonical_id_number(make_id(110105, TODAY, 1), today=TODAY)


def test_today_defaults_to_the_real_date():
    next_year = date.today().replace(day=1) + timedelta(days=400)
    assert code_of(canonical_id_number, make_id(110105, next_year, 1)) == "future"


def test_birth_before_1900():
    first17 = "11010518991231002"
    assert code_of(canonical_id_number, first17 + oracle_check_char(first17), today=TODAY) == "too_old"


@pytest.mark.parametrize("birth", ["19490230", "19491301", "19490000", "19010229"])
def test_impossible_birth_date(birth):
    first17 = "110105" + birth + "002"
    assert code_of(canonical_id_number, first17 + oracle_check_char(first17), today=TODAY) == "date"


def test_feb_29_in_leap_year_is_real():
    assert canonical_id_number(make_id(110105, date(2000, 2, 29), 2), today=TODAY)


@pytest.mark.parametrize("raw", ["11010519491231002", "11010519491231002X1", "1"])
def test_wrong_length_says_how_many(raw):
    with pytest.raises(InvalidValue) as info:
        canonical_id_number(raw, today=TODAY)
    assert info.value.code == "length"
    assert str(len(raw)) in str(info.value)


def test_old_15_digit_id_asks_for_18_digits():
    with pytest.raises(InvalidValue) as info:
        canonical_id_number("110105491231002", today=TODAY)
    assert info.value.code == "old_id"
    assert "18" in str(info.value)


def test_fifteen_non_digits_is_a_length_error():
    assert code_of(canonical_id_number, "11010549123100A", today=TODAY) == "length"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", None])
def test_empty(raw):
    assert code_of(canonical_id_number, raw, today=TODAY) == "empty"


@pytest.mark.parametrize("raw", ["1101051949123100XX", "11010519491231-02X", "110105194912310٠2X"])
def test_non_digit_characters(raw):
    assert code_of(canonical_id_number, raw, today=TODAY) == "chars"


def test_area_prefix_cannot_start_with_zero():
    first17 = "01010519491231002"
    assert code_of(canonical_id_number, first17 + oracle_check_char(first17), today=TODAY) == "area"


def test_each_reason_has_its_own_message():
    cases = {
        "empty": "",
        "old_id": "110105491231002",
        "length": "1101051949123100",
        "chars": "1101051949123100AX",
        "area": "01010519491231002X",
        "date": "110105194902300021",
        "too_old": "110105189912310021",
        "future": make_id(110105, TODAY + timedelta(days=1), 1),
        "check": "110105194912310021",
    }
    messages = {}
    for code, raw in cases.items():
        with pytest.raises(InvalidValue) as info:
            canonical_id_number(raw, today=TODAY)
        assert info.value.code == code, raw
        assert str(info.value) == str(info.value.message)
        messages[code] = str(info.value)
    assert len(set(messages.values())) == len(messages)


def test_invalid_value_is_a_value_error():
    with pytest.raises(ValueError):
        canonical_id_number("x")


def test_normalize():
    assert normalize("\uff11\uff12\u3000３ ４\t") == "1234"
    assert normalize("12-34") == "12-34"
    assert normalize("12-34 ５６", drop="-") == "123456"
    assert normalize(None) == ""


# ---------- mobile numbers ----------

@pytest.mark.parametrize("raw", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
    "+8613812345678", "8613812345678", to_fullwidth("13812345678"), to_fullwidth("+86 13812345678"),
    "\u3000138１２３４５６７８ ",
])
def test_mobile_valid(raw):
    assert canonical_mobile(raw) == "13812345678"


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_mobile_any_valid_prefix(second, rest):
    assert canonical_mobile("1" + second + rest) == "1" + second + rest


@pytest.mark.parametrize("raw, code", [
    ("", "empty"),
    ("12812345678", "prefix"),
    ("10812345678", "prefix"),
    ("23812345678", "prefix"),
    ("1381234567", "length"),
    ("138123456789", "length"),
    ("+861381234567", "chars"),   # +86 with 10 digits: the + stays, so not digits
    ("861381234567", "length"),   # 86 only stripped when 11 digits follow
    ("1381234567a", "chars"),
])
def test_mobile_invalid(raw, code):
    assert code_of(canonical_mobile, raw) == code


# ---------- bank accounts ----------

@pytest.mark.parametrize("n", [16, 17, 18, 19])
def test_bank_length_ok(n):
    raw = "6" + "2" * (n - 1)
    assert canonical_bank_account(raw) == raw


@pytest.mark.parametrize("n", [15, 20])
def test_bank_length_wrong(n):
    with pytest.raises(InvalidValue) as info:
        canonical_bank_account("6" * n)
    assert info.value.code == "length"
    assert str(n) in str(info.value)


def test_bank_separators_and_fullwidth_removed():
    assert canonical_bank_account("6222 0202 0011 2233 445") == "6222020200112233445"
    assert canonical_bank_account("6222-0202-0011-2233") == "6222020200112233"
    assert canonical_bank_account(to_fullwidth("6222 0202 0011 2233")) == "6222020200112233"


@pytest.mark.parametrize("raw, code", [("", "empty"), ("6222 0202 0011 223A", "chars")])
def test_bank_invalid(raw, code):
    assert code_of(canonical_bank_account, raw) == code


def test_bank_does_not_enforce_luhn():
    # Exactly one of the ten possible last digits passes Luhn; all ten are accepted.
    assert sum(luhn_ok("622202020011223344" + d) for d in "0123456789") == 1
    for last in "0123456789":
        assert canonical_bank_account("622202020011223344" + last)


def test_luhn_known_numbers():
    assert luhn_ok("79927398713")        # textbook example
    assert luhn_ok("4111111111111111")   # well-known test card
    assert not luhn_ok("79927398710")
    assert not luhn_ok("")
    assert not luhn_ok("7992739871a")


@given(st.text(alphabet="0123456789", min_size=15, max_size=18))
def test_luhn_accepts_oracle_check_digit(payload):
    assert luhn_ok(payload + oracle_luhn_check_digit(payload))


@given(st.text(alphabet="0123456789", min_size=15, max_size=18), st.data())
def test_luhn_rejects_any_single_digit_change(payload, data):
    number = payload + oracle_luhn_check_digit(payload)
    pos = data.draw(st.integers(0, len(number) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != number[pos]]))
    assert not luhn_ok(number[:pos] + new + number[pos + 1:])


# ---------- area codes ----------

def test_area_levels_and_parents():
    county, township, village = "110105000000", "110105001000", "110105001002"
    assert [area_level(c) for c in (county, township, village)] == ["county", "township", "village"]
    assert parent_code(village) == township
    assert parent_code(township) == county
    assert parent_code(county) is None


def test_area_code_normalised():
    assert canonical_area_code(" １１０１０５ 001002 ") == "110105001002"


@pytest.mark.parametrize("raw", ["", "11010500100", "1101050010020", "11010500100A", "010105001002",
                                 "110105000002"])
def test_area_code_invalid(raw):
    with pytest.raises(InvalidValue):
        canonical_area_code(raw)


@given(st.integers(110000, 659999), st.integers(1, 999), st.integers(1, 999))
def test_area_parent_chain_ends_at_county(county, township, village):
    code = f"{county:06d}{township:03d}{village:03d}"
    chain = [code]
    while (p := parent_code(chain[-1])) is not None:
        chain.append(p)
    assert [area_level(c) for c in chain] == ["village", "township", "county"]
    assert all(c[:6] == code[:6] for c in chain)
