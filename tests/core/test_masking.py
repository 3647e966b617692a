"""Tests for heating.core.masking: the formats in DOMAIN.md, and that no mask leaks the value."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heating.core.masking import mask_bank, mask_id, mask_name, mask_phone


def oracle_check_char(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


def make_id(area: int, birth: date, seq: int) -> str:
    first17 = f"{area:06d}{birth:%Y%m%d}{seq:03d}"
    return first17 + oracle_check_char(first17)


valid_ids = st.builds(
    make_id,
    st.integers(110000, 659999),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 1, 1)),
    st.integers(0, 999),
)


def test_mask_id_example():
    assert mask_id("410881199001011231") == "410881********1231"
    assert mask_id("11010519491231002X") == "110105********002X"


@given(valid_ids)
def test_mask_id_hides_birth_date(id_number):
    masked = mask_id(id_number)
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8
    assert masked[:6] == id_number[:6] and masked[14:] == id_number[14:]
    assert id_number not in masked


@pytest.mark.parametrize("raw", ["1", "12345", "4108811990", "41088119900101123", "4108811990010112311"])
def test_mask_id_bad_input_never_reveals_value(raw):
    masked = mask_id(raw)
    assert masked.startswith("****")
    assert raw not in masked
    assert len(masked) <= 6


@given(st.text(max_size=30))
def test_masks_never_raise(raw):
    for mask in (mask_id, mask_bank, mask_phone, mask_name):
        assert isinstance(mask(raw), str)


@given(st.text(alphabet="0123456789Xx -", min_size=1, max_size=30))
def test_masks_never_reveal_whole_digit_string(raw):
    # Whatever the length, the digits entered must never all come back.
    digits = "".join(c for c in raw if c.isalnum())
    for mask in (mask_id, mask_bank, mask_phone):
        masked = mask(raw)
        if len(digits) >= 3:
            assert digits not in masked


def test_mask_bank():
    assert mask_bank("6222020200125678") == "****5678"
    assert mask_bank("6222 0202 0011 2233 445") == "****3445"
    assert mask_bank("1234") == "****"


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("123") == "****"


@pytest.mark.parametrize("name, masked", [
    ("张三明", "张*明"),
    ("欧阳丽娜", "欧**娜"),
    ("张三", "张*"),
    ("张", "张"),
    ("", ""),
    (" 张三明 ", "张*明"),
])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("mask", [mask_id, mask_bank, mask_phone, mask_name])
@pytest.mark.parametrize("blank", [None, "", "  ", "\u3000"])
def test_blank_gives_empty(mask, blank):
    assert mask(blank) == ""
