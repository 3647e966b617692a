"""Exact money: integer fen (分) in storage, `Decimal` yuan in code, never float.

Subsidy amounts are paid to the cent and audited against bank files, so every conversion here
is exact or refuses: a value that would need rounding to fit in fen raises instead of being
silently changed. The only rounding is `round_fen`, which callers use on purpose (a rate times
an amount) and which rounds half up, the convention of Chinese finance offices (四舍五入).

Pure functions: no Flask app, no database, no translations (errors are developer text; the
user-facing layer validates input with its own translated messages before it gets here).
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext

__all__ = [
    "CENT",
    "MAX_CAPITALS",
    "amount_in_capitals",
    "fen_in_capitals",
    "format_fen",
    "format_number",
    "format_yuan",
    "from_fen",
    "round_fen",
    "to_fen",
]

#: One fen in yuan: the quantum of every stored amount.
CENT = Decimal("0.01")
#: The largest amount `amount_in_capitals` writes (the 万亿 range is the last one it names).
MAX_CAPITALS = Decimal("9999999999999.99")

# Comfortably more digits than 10^13 yuan in fen, so no arithmetic here rounds by accident.
_PRECISION = 40

# Plain digits, or digits grouped by thousands with commas; an optional fraction.
_AMOUNT_TEXT = re.compile(r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("仟", "佰", "拾", "")  # positions inside a four-digit group, high to low


def _reject_float(value: object) -> None:
    # bool is an int subclass: True yuan is a bug, not an amount.
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")


def _parse_text(raw: str) -> Decimal:
    """Read an amount as people type it or spreadsheets export it.

    NFKC folds full-width digits, commas, points and ￥ (what Chinese IMEs produce) to ASCII;
    a ¥ prefix and a 元 suffix are what clerks copy from invoices. Spaces are allowed only around
    the number, and thousands separators must be grouped correctly: "12 34" or "1,2,00" is more
    likely a typo than 1234 or 1200, so it is refused.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = text.removesuffix("元").rstrip()
    negative = text.startswith("-")
    text = text.removeprefix("-").removeprefix("¥").lstrip()
    if not negative and text.startswith("-"):  # ¥-5 as well as -¥5
        negative, text = True, text[1:]
    match = _AMOUNT_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"not an amount: {raw!r}")
    number = Decimal(match["int"].replace(",", "") + "." + (match["frac"] or "0"))
    return -number if negative else number


def to_fen(value: Decimal | int | str) -> int:
    """Yuan → integer fen, exactly.

    An int is whole yuan. More than two decimal places raises ValueError unless the extra
    places are zeros ("1.500" is exactly 1.50), because dropping a fraction of a fen would make
    totals disagree with the bank. Floats raise TypeError: 0.1 + 0.2 is not 0.30.
    """
    _reject_float(value)
    if isinstance(value, str):
        number = _parse_text(value)
    else:
        number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.traps[Inexact] = True  # absurdly long input must not be rounded into a whole fen
        try:
            fen = number * 100
        except Inexact:
            raise ValueError(f"too many digits for an amount: {value!r}") from None
        if fen != fen.to_integral_value():
            raise ValueError(f"more than two decimal places: {value!r}")
        return int(fen)


def from_fen(fen: int) -> Decimal:
    """Integer fen → Decimal yuan with exactly two places (1200 → Decimal("12.00"))."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, not {type(fen).__name__}")
    return Decimal(fen).scaleb(-2)


def round_fen(value: Decimal | int) -> Decimal:
    """Round to the fen, half up (2.345 → 2.35; -2.345 → -2.35, away from zero).

    This is the one place amounts are rounded; use it right after multiplying by a rate.
    """
    _reject_float(value)
    if isinstance(value, str):
        raise TypeError("round_fen takes a Decimal, not text: parse it with to_fen first")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        try:
            return number.quantize(CENT, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # more digits than the precision: not an amount
            raise ValueError(f"too many digits for an amount: {value!r}") from None


def format_number(value: Decimal | int, min_places: int = 2) -> str:
    """Group thousands with commas and show at least `min_places` decimals, never fewer than the
    value has: explanations must show the exact inputs, so nothing is rounded away here."""
    _reject_float(value)
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    places = max(min_places, -number.as_tuple().exponent)
    return f"{number:,.{places}f}"


def format_yuan(amount: Decimal) -> str:
    """Yuan with thousands separators and two places: Decimal("6800") → "6,800.00".

    Raises ValueError for an amount with a fraction of a fen, so a display never hides one.
    """
    _reject_float(amount)
    if not isinstance(amount, Decimal):
        raise TypeError("format_yuan takes Decimal yuan; for integer fen use format_fen")
    return format_fen(to_fen(amount))


def format_fen(fen: int) -> str:
    """Stored fen as yuan text: 680000 → "6,800.00"."""
    return f"{from_fen(fen):,.2f}"


def _group_words(n: int) -> str:
    """1..9999 in capitals; inner zero runs become one 零, trailing zeros vanish and leading
    zeros are left to the caller (who knows whether a higher group came before)."""
    out: list[str] = []
    zero_pending = False
    for unit, digit in zip(_SMALL_UNITS, f"{n:04d}"):
        d = int(digit)
        if d == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[d] + unit)
    return "".join(out)


def _below_yi(n: int) -> str:
    """1..99,999,999: an optional 万 group, then the units group.

    A 零 joins them only when the units group lacks its 仟 digit (壹万零壹佰): zeros at the end
    of the 万 group are absorbed by the unit 万 (壹拾万壹仟, not 壹拾万零壹仟), as the
    支付结算办法 allows, so the written 零 always stands for a gap just before a digit.
    """
    high, low = divmod(n, 10_000)
    if not high:
        return _group_words(low)
    words = _group_words(high) + "万"
    if low:
        words += ("零" if low < 1000 else "") + _group_words(low)
    return words


def _integer_words(n: int) -> str:
    """1..9,999,999,999,999 in capitals; above 亿 the count of 亿 is itself written out, so one
    trillion is 壹万亿."""
    high, low = divmod(n, 100_000_000)
    if not high:
        return _below_yi(n)
    words = _integer_words(high) + "亿"
    if low:
        words += ("零" if low < 10_000_000 else "") + _below_yi(low)
    return words


def amount_in_capitals(amount: Decimal) -> str:
    """Decimal yuan in Chinese capitals (大写金额) as written on payout rosters and vouchers.

    Finance convention (支付结算办法): 壹拾 not 拾; one 零 for any run of zeros; 整 only when
    there is neither 角 nor 分; 元 is followed by 零 when 角 is zero but 分 is not. Takes only
    Decimal, so an integer number of fen can never be read as yuan (use `fen_in_capitals`).
    Raises ValueError for negative amounts, fractions of a fen and amounts over MAX_CAPITALS.
    """
    if not isinstance(amount, Decimal):
        raise TypeError("amount_in_capitals takes Decimal yuan; for integer fen use fen_in_capitals")
    return fen_in_capitals(to_fen(amount))


def fen_in_capitals(fen: int) -> str:
    """Stored fen in Chinese capitals: 140950 → "人民币壹仟肆佰零玖元伍角"."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be int, not {type(fen).__name__}")
    if fen < 0:
        raise ValueError("negative amounts have no capitals form")
    if fen > int(MAX_CAPITALS * 100):
        raise ValueError(f"amount too large for capitals: {fen} fen")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if fen == 0:
        return "人民币零元整"
    words = _integer_words(yuan) + "元" if yuan else ""
    if cents == 0:
        return "人民币" + words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen_digit:
        words += _DIGITS[fen_digit] + "分"
    return "人民币" + words
