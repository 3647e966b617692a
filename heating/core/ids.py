"""Canonical forms and validation for Chinese identifiers.

Pure functions: no Flask app, no database. Messages are lazy so they are
translated in whatever locale is active when they are finally shown.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l

# GB 11643-1999 weights for the first 17 characters, and the check character per remainder.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)

# ASCII-only patterns: str.isdigit() would also accept e.g. Arabic-Indic digits.
_DIGITS = re.compile(r"[0-9]+")
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class InvalidValue(ValueError):
    """A user-entered value that cannot be accepted.

    `message` is lazy (shown to the user in their language); `code` is a stable,
    language-independent reason so callers and tests need not compare text.
    """

    def __init__(self, message, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


def code_key(value: str | None) -> str:
    """Serial and meter numbers as compared: half-width, upper case, no spaces or dashes
    (``rq－0099 001`` and ``RQ-0099001`` are one device)."""
    return normalize(value or "", drop="-－‐—").upper()


def normalize(raw: str, drop: str = "") -> str:
    """NFKC-fold and remove whitespace; `drop` lists extra separators to remove.

    NFKC turns full-width digits/letters (and U+3000) into ASCII, which is what
    Chinese IMEs often produce. Hyphens are only dropped when the caller asks,
    because in some fields a hyphen means the input is wrong, not formatted.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(text.split())  # str.split() knows every Unicode space
    for ch in drop:
        text = text.replace(ch, "")
    return text.strip()


def id_check_char(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def canonical_id_number(raw: str, today: date | None = None) -> str:
    """Return the 18-character canonical ID number, or raise InvalidValue.

    Checks run from the cheapest to the most specific so the user is told the
    first thing they can actually fix.
    """
    today = today or date.today()
    s = normalize(raw).replace("x", "X")  # not .upper(): it can change the length
    if not s:
        raise InvalidValue(_l("Please enter the ID number."), "empty")
    if len(s) == 15 and _DIGITS.fullmatch(s):
        # First-generation IDs carry no check character and a 2-digit year.
        raise InvalidValue(
            _l("This is an old 15-digit ID number: please enter the 18-digit number."), "old_id"
        )
    if len(s) != 18:
        raise InvalidValue(
            _l("An ID number has 18 characters, but %(count)d were given: please check it.",
               count=len(s)),
            "length",
        )
    if not _ID_SHAPE.fullmatch(s):
        raise InvalidValue(
            _l("An ID number has only digits, with an X allowed as the last character."), "chars"
        )
    if s[0] == "0":
        # Province codes start at 11; a leading 0 is a typing error.
        raise InvalidValue(
            _l("The first 6 digits (area code) are wrong: please compare with the ID card."), "area"
        )
    birth = _parse_birth(s)
    if birth < _EARLIEST_BIRTH:
        raise InvalidValue(
            _l("The birth date in the ID number is before 1900: please check digits 7 to 14."),
            "too_old",
        )
    if birth > today:
        raise InvalidValue(
            _l("The birth date in the ID number is in the future: please check digits 7 to 14."),
            "future",
        )
    if id_check_char(s[:17]) != s[17]:
        raise InvalidValue(
            _l("The check character is wrong: please compare with the ID card."), "check"
        )
    return s


def _parse_birth(s: str) -> date:
    # Separate from birth_date_from_id so a bad date becomes a user message, not a crash.
    try:
        return birth_date_from_id(s)
    except ValueError:
        raise InvalidValue(
            _l("The birth date in the ID number is not a real date: please check digits 7 to 14."),
            "date",
        ) from None


def is_valid_id_number(raw: str) -> bool:
    try:
        canonical_id_number(raw)
    except InvalidValue:
        return False
    return True


def birth_date_from_id(canonical: str) -> date:
    """Birth date encoded in digits 7-14 (YYYYMMDD) of a canonical ID number."""
    return date(int(canonical[6:10]), int(canonical[10:12]), int(canonical[12:14]))


def canonical_mobile(raw: str) -> str:
    """Return the 11-digit mainland mobile number, or raise InvalidValue."""
    s = normalize(raw, drop="-")
    if not s:
        raise InvalidValue(_l("Please enter the mobile number."), "empty")
    # Country code only counts as such when a full 11-digit number follows it.
    for prefix in ("+86", "86"):
        if s.startswith(prefix) and len(s) == len(prefix) + 11:
            s = s[len(prefix):]
            break
    if not _DIGITS.fullmatch(s):
        raise InvalidValue(_l("A mobile number has only digits."), "chars")
    if len(s) != 11:
        raise InvalidValue(
            _l("A mobile number has 11 digits, but %(count)d were given.", count=len(s)), "length"
        )
    if s[0] != "1" or s[1] not in "3456789":
        # No mainland mobile range starts with 10, 11 or 12.
        raise InvalidValue(
            _l("A mobile number starts with 13 to 19: please check the first digits."), "prefix"
        )
    return s


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check; False for empty or non-digit input rather than raising."""
    if not _DIGITS.fullmatch(digits or ""):
        return False
    total = 0
    # Double every second digit counting from the right (the check digit is not doubled).
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def canonical_bank_account(raw: str) -> str:
    """Return the account as 16-19 digits, or raise InvalidValue.

    Luhn is deliberately not enforced: some social-security card accounts fail
    it, so the caller shows a warning for the clerk to confirm instead.
    """
    s = normalize(raw, drop="-")
    if not s:
        raise InvalidValue(_l("Please enter the bank account number."), "empty")
    if not _DIGITS.fullmatch(s):
        raise InvalidValue(_l("A bank account number has only digits."), "chars")
    if not 16 <= len(s) <= 19:
        raise InvalidValue(
            _l("A bank account number has 16 to 19 digits, but %(count)d were given.",
               count=len(s)),
            "length",
        )
    return s


def canonical_area_code(raw: str) -> str:
    """Return a 12-digit administrative area code, or raise InvalidValue."""
    s = normalize(raw)
    if not s:
        raise InvalidValue(_l("Please enter the area code."), "empty")
    if not _DIGITS.fullmatch(s) or len(s) != 12:
        raise InvalidValue(_l("An area code has exactly 12 digits."), "length")
    if s[0] == "0":
        raise InvalidValue(_l("An area code cannot start with 0: please check it."), "area")
    if s[6:9] == "000" and s[9:] != "000":
        # A village always sits inside a township, so its township part cannot be empty.
        raise InvalidValue(
            _l("This area code has a village part but no township part: please check it."),
            "structure",
        )
    return s


def area_level(code: str) -> str:
    """"county", "township" or "village", read from which trailing parts are zero."""
    code = canonical_area_code(code)  # a malformed code must not get a level by accident
    if code.endswith("000000"):
        return "county"
    if code.endswith("000"):
        return "township"
    return "village"


def parent_code(code: str) -> str | None:
    """The code one level up (village -> township -> county); None for a county."""
    level = area_level(code)
    code = canonical_area_code(code)
    if level == "village":
        return code[:9] + "000"
    if level == "township":
        return code[:6] + "000000"
    return None


# GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from 31 (digits
# and capitals without I, O, Z, S, V); the 18th is a check character over the first 17,
# weights 3^i mod 31.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    """GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS,
                                                            strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def canonical_credit_code(raw: str) -> str:
    """Return the 18-character unified social credit code, or raise InvalidValue.  Spaces
    and full-width characters are folded, letters made upper case."""
    s = normalize(raw, drop="-").upper()
    if not s:
        raise InvalidValue(_l("Please enter the unified social credit code."), "empty")
    if len(s) != 18:
        raise InvalidValue(_l("A unified social credit code has 18 characters, but %(count)d "
                              "were given.", count=len(s)), "length")
    bad = sorted({c for c in s if c not in _CREDIT_CHARS})
    if bad:
        raise InvalidValue(_l("A unified social credit code has only digits and capital "
                              "letters other than I, O, Z, S and V; not: %(chars)s",
                              chars=" ".join(bad)), "chars")
    if credit_check_char(s[:17]) != s[17]:
        raise InvalidValue(_l("The last character of this credit code does not match the "
                              "others: please check it against the business licence."),
                           "checksum")
    return s


def company_name_key(name: str | None) -> str:
    """Company names as compared (installer names typed before companies were records):
    NFKC-folded (full-width brackets become ASCII), no spaces, upper case."""
    return normalize(name or "").upper()
