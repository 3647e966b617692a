"""Tests for heating.core.money.

The capitals property test checks the writer against a reader written out here from the
convention (it parses the words back to a number), not against the code under test.
"""
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heating.core.money import (
    MAX_CAPITALS,
    amount_in_capitals,
    fen_in_capitals,
    format_fen,
    format_number,
    format_yuan,
    from_fen,
    round_fen,
    to_fen,
)

# ---------- independent oracle: capitals → Decimal ----------

_DIGIT_VALUES = {ch: i for i, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def parse_integer_capitals(words: str) -> int:
    """Read 壹万零壹拾亿… back into an int; strict: every unit needs a digit before it (finance
    style writes 壹拾), two digits in a row are an error, and 零 stands for skipped positions."""
    total = section = 0  # total: whole 亿 part; section: value since the last 亿
    number = None  # the digit waiting for its unit
    for ch in words:
        if ch == "零":
            assert number is None, f"零 right after a digit in {words}"
        elif ch in _DIGIT_VALUES:
            assert number is None, f"two digits in a row in {words}"
            number = _DIGIT_VALUES[ch]
        elif ch in _SMALL:
            assert number is not None, f"{ch} without a digit in {words}"
            section += number * _SMALL[ch]
            number = None
        elif ch == "万":
            section = (section + (number or 0)) * 10_000
            number = None
        elif ch == "亿":
            total = (total + section + (number or 0)) * 100_000_000
            section, number = 0, None
        else:
            raise AssertionError(f"unexpected {ch!r} in {words}")
    return total + section + (number or 0)


def parse_capitals(text: str) -> Decimal:
    """人民币…元…角…分/整 → Decimal yuan."""
    assert text.startswith("人民币"), text
    body = text.removeprefix("人民币")
    if "元" in body:
        integer_words, rest = body.split("元")
        yuan = 0 if integer_words == "零" else parse_integer_capitals(integer_words)
    else:
        yuan, rest = 0, body
    if rest == "整":
        return Decimal(yuan).scaleb(0).quantize(Decimal("0.01"))
    match = re.fullmatch(r"(?:(?P<jiao>[壹贰叁肆伍陆柒捌玖])角|零)?(?:(?P<fen>[壹贰叁肆伍陆柒捌玖])分)?", rest)
    assert match and (match["jiao"] or match["fen"]), f"bad fraction {rest!r} in {text}"
    jiao = _DIGIT_VALUES[match["jiao"]] if match["jiao"] else 0
    fen = _DIGIT_VALUES[match["fen"]] if match["fen"] else 0
    return Decimal(yuan * 100 + jiao * 10 + fen).scaleb(-2)


def expected_zero_count(fen: int) -> int:
    """How many 零 the convention writes: one per inner run of zero digits in the yuan, unless
    the run ends at a 亿 position, or at a 万 position whose 万 is still written (the unit
    stands for the zeros and the next digit is a 仟: 壹拾万壹仟, 壹佰亿壹仟万; 支付结算办法
    makes that 零 optional and we leave it out; but 壹亿零壹仟, where no 万 is written), plus
    one between 元 and 分 when 角 is zero."""
    yuan, cents = divmod(fen, 100)
    digits = str(yuan)
    count = 0
    for run in re.finditer("0+", digits):
        lowest = len(digits) - run.end()  # power of ten of the run's last zero
        if lowest == 0:
            continue  # trailing zeros are never written
        absorbed_by_yi = lowest % 8 == 0
        absorbed_by_wan = lowest % 8 == 4 and len(run[0]) < 4  # the 万 group is not all zeros
        count += not (absorbed_by_yi or absorbed_by_wan)
    return count + (1 if yuan and cents and cents < 10 else 0)


def test_oracle_reads_known_forms():
    assert parse_capitals("人民币壹万陆仟肆佰零玖元零贰分") == Decimal("16409.02")
    assert parse_capitals("人民币壹万亿零壹万元整") == Decimal("1000000010000.00")
    assert expected_zero_count(16409_02) == 2
    assert expected_zero_count(1010_1000_00) == 1  # 壹仟零壹拾万壹仟元整
    assert expected_zero_count(1_0000_0001_00) == 1  # 壹亿零壹元整
    assert expected_zero_count(100_1000_0000_00) == 0  # 壹佰亿壹仟万元整
    assert expected_zero_count(1100_1000_00) == 0  # 壹仟壹佰万壹仟元整
    assert expected_zero_count(1_0100_00) == 1  # 壹万零壹佰元整
    assert expected_zero_count(1_0000_1000_00) == 1  # 壹亿零壹仟元整
    with pytest.raises(AssertionError):
        parse_capitals("人民币拾元整")  # not finance style


# ---------- amount_in_capitals ----------

@pytest.mark.parametrize("amount, words", [
    # the three official examples from DOMAIN.md
    ("1200", "人民币壹仟贰佰元整"),
    ("1409.50", "人民币壹仟肆佰零玖元伍角"),
    ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
    # zero and fractions only
    ("0", "人民币零元整"),
    ("0.00", "人民币零元整"),
    ("0.50", "人民币伍角"),
    ("0.05", "人民币伍分"),
    ("0.52", "人民币伍角贰分"),
    # 壹拾 in finance style, and units absorbing trailing zeros
    ("10.00", "人民币壹拾元整"),
    ("10.50", "人民币壹拾元伍角"),
    ("10.02", "人民币壹拾元零贰分"),
    ("100000", "人民币壹拾万元整"),
    ("100000000", "人民币壹亿元整"),
    ("1000000000000", "人民币壹万亿元整"),
    # one 零 for a run of zeros, also across the 万 and 亿 boundaries
    ("100001", "人民币壹拾万零壹元整"),
    ("10100", "人民币壹万零壹佰元整"),
    ("1001", "人民币壹仟零壹元整"),
    ("1010", "人民币壹仟零壹拾元整"),
    ("101000", "人民币壹拾万壹仟元整"),
    ("100010000", "人民币壹亿零壹万元整"),
    ("1000001000", "人民币壹拾亿零壹仟元整"),
    ("100001000", "人民币壹亿零壹仟元整"),
    ("110001000", "人民币壹亿壹仟万壹仟元整"),
    ("1000010000000", "人民币壹万亿壹仟万元整"),
    ("100000001.01", "人民币壹亿零壹元零壹分"),
    ("7400", "人民币柒仟肆佰元整"),
    ("6800.00", "人民币陆仟捌佰元整"),
    ("9999999999999.99",
     "人民币玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
])
def test_capitals_examples(amount, words):
    assert amount_in_capitals(Decimal(amount)) == words
    assert fen_in_capitals(to_fen(Decimal(amount))) == words


@pytest.mark.parametrize("bad", ["-0.01", "-1200", "10000000000000", "1.005", "NaN", "Infinity"])
def test_capitals_refuses_values_it_cannot_write(bad):
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal(bad))


def test_capitals_takes_decimal_yuan_only():
    # An int could be yuan or fen: the caller must say which.
    with pytest.raises(TypeError):
        amount_in_capitals(1200)
    with pytest.raises(TypeError):
        amount_in_capitals(1200.0)
    with pytest.raises(TypeError):
        fen_in_capitals(Decimal("1200"))
    with pytest.raises(TypeError):
        fen_in_capitals(True)
    assert fen_in_capitals(120000) == "人民币壹仟贰佰元整"
    assert fen_in_capitals(int(MAX_CAPITALS * 100)).endswith("玖角玖分")
    with pytest.raises(ValueError):
        fen_in_capitals(int(MAX_CAPITALS * 100) + 1)


fen_amounts = st.one_of(
    st.integers(min_value=0, max_value=10**14),  # 0 … 10^12 yuan, with fen
    # mostly zeros, to exercise runs of 零 across 万/亿
    st.lists(st.sampled_from("0000019"), min_size=1, max_size=15).map(lambda ds: int("".join(ds))),
)


@given(fen_amounts)
def test_capitals_round_trip_and_structure(fen):
    amount = Decimal(fen).scaleb(-2)
    words = amount_in_capitals(amount)
    assert parse_capitals(words) == amount
    body = words.removeprefix("人民币")
    assert "零零" not in body
    if fen:
        assert body.count("零") == expected_zero_count(fen)
    assert words.endswith("整") == (fen % 100 == 0)
    assert body.count("整") <= 1
    assert not body.startswith("零") or body == "零元整"
    assert body == "零元整" or re.search("零[元万亿角分整]", body) is None
    assert not re.search("(^|[零元万亿])[拾佰仟]", body), "every unit has its digit (壹拾)"
    assert fen_in_capitals(fen) == words


# ---------- to_fen / from_fen / round_fen ----------

@pytest.mark.parametrize("value, fen", [
    (Decimal("1200"), 120000),
    (Decimal("1409.5"), 140950),
    (Decimal("0.01"), 1),
    (Decimal("1.500"), 150),  # trailing zeros are exact
    (Decimal("-3.20"), -320),
    (Decimal("1E+3"), 100000),
    (12, 1200),
    (0, 0),
    ("1,200.50", 120050),
    ("１２００", 120000),  # full-width digits from a Chinese IME
    ("１，２００．５０", 120050),
    ("  8000 ", 800000),
    ("\u3000¥8000.00", 800000),
    ("￥8000", 800000),
    ("8000元", 800000),
    ("¥ 8,000.00 元", 800000),
    ("-¥5", -500),
    ("¥-5", -500),
    ("0.5", 50),
    ("1234567", 123456700),
])
def test_to_fen(value, fen):
    assert to_fen(value) == fen
    assert isinstance(to_fen(value), int)


@pytest.mark.parametrize("bad", [
    "1.005", "0.001", Decimal("1.005"), Decimal("NaN"), Decimal("-Infinity"),
    "", "  ", "¥", "元", "abc", "1,2,00", "12,00", "1,0000", "1.", ".5", "1e3", "--5",
    "1.2.3", "5¥", "元5", "1 2", "+5", "12 34",
    "1." + "0" * 45 + "1",  # would round to exactly 1.00 at 40 digits
    Decimal("1." + "0" * 45 + "1"),
])
def test_to_fen_refuses(bad):
    with pytest.raises(ValueError):
        to_fen(bad)


@pytest.mark.parametrize("bad", [1.5, 0.0, True, None, b"12", [12]])
def test_to_fen_refuses_floats_and_other_types(bad):
    with pytest.raises(TypeError):
        to_fen(bad)


def test_from_fen():
    assert from_fen(120050) == Decimal("1200.50")
    assert str(from_fen(120000)) == "1200.00"  # always two places
    assert str(from_fen(0)) == "0.00"
    assert str(from_fen(-5)) == "-0.05"
    assert str(from_fen(10**15 + 1)) == "10000000000000.01"
    for bad in (1.0, True, "100", Decimal("100")):
        with pytest.raises(TypeError):
            from_fen(bad)


@given(st.integers(min_value=-(10**16), max_value=10**16))
def test_fen_round_trip(fen):
    assert to_fen(from_fen(fen)) == fen
    assert to_fen(str(from_fen(fen))) == fen


@pytest.mark.parametrize("value, rounded", [
    ("2.345", "2.35"),  # half up, not banker's (which gives 2.34)
    ("2.335", "2.34"),
    ("2.3449", "2.34"),
    ("-2.345", "-2.35"),
    ("0.005", "0.01"),
    ("0.0049", "0.00"),
    ("6800", "6800.00"),
    ("123456789012.125", "123456789012.13"),
])
def test_round_fen(value, rounded):
    result = round_fen(Decimal(value))
    assert str(result) == rounded


def test_round_fen_types():
    assert str(round_fen(7)) == "7.00"
    for bad in (1.005, "1.005", True):
        with pytest.raises(TypeError):
            round_fen(bad)
    with pytest.raises(ValueError):
        round_fen(Decimal("NaN"))
    with pytest.raises(ValueError):
        round_fen(Decimal("1" * 45))


# ---------- formatting ----------

def test_format_yuan_and_fen():
    assert format_yuan(Decimal("6800")) == "6,800.00"
    assert format_yuan(Decimal("1234567.5")) == "1,234,567.50"
    assert format_yuan(Decimal("0")) == "0.00"
    assert format_yuan(Decimal("-7400.00")) == "-7,400.00"
    assert format_fen(680000) == "6,800.00"
    assert format_fen(5) == "0.05"
    assert format_fen(-123456) == "-1,234.56"
    with pytest.raises(ValueError):
        format_yuan(Decimal("1.005"))  # a display must not hide a fraction of a fen
    with pytest.raises(TypeError):
        format_yuan(6800)  # yuan or fen? use format_fen
    with pytest.raises(TypeError):
        format_fen(Decimal("6800"))


def test_format_number_keeps_every_place():
    assert format_number(Decimal("120.5")) == "120.50"
    assert format_number(Decimal("0.725")) == "0.725"
    assert format_number(Decimal("10000"), min_places=0) == "10,000"
    assert format_number(Decimal("1200.5"), min_places=0) == "1,200.5"
    assert format_number(12000) == "12,000.00"
    with pytest.raises(TypeError):
        format_number(0.1)
