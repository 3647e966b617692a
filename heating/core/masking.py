"""Masks for personal data on screens, PDFs, public lists and logs.

Every function accepts None (giving "") and never raises: masking runs while rendering,
where an exception would be worse than a conservative mask. When the input
does not look like what we expect, we reveal less, never more.
"""
from __future__ import annotations

from .ids import normalize

_SAFE = "****"


def _safe_mask(s: str) -> str:
    # Nothing entered stays empty, so blank fields do not render as "****".
    if not s:
        return ""
    # Two trailing characters help a clerk match records; only shown when they
    # are a small fraction of the value, so a short value is never revealed.
    return _SAFE + s[-2:] if len(s) >= 10 else _SAFE


def mask_id(value: str | None) -> str:
    """410881199001011231 -> 410881********1231: area and last 4 kept, birth date hidden."""
    s = normalize(value or "")
    if len(s) != 18:
        return _safe_mask(s)
    return s[:6] + "*" * 8 + s[14:]


def mask_bank(value: str | None) -> str:
    """Only the last 4 digits, as on bank statements."""
    s = normalize(value or "", drop="-")
    if not s:
        return ""
    # A value shorter than 8 would be mostly revealed by its last 4.
    return _SAFE + s[-4:] if len(s) >= 8 else _SAFE


def mask_phone(value: str | None) -> str:
    """13812345678 -> 138****5678 (the carrier prefix and last 4 kept)."""
    s = normalize(value or "", drop="-")
    for prefix in ("+86", "86"):
        if s.startswith(prefix) and len(s) == len(prefix) + 11:
            s = s[len(prefix):]
            break
    if len(s) != 11:
        return _safe_mask(s)
    return s[:3] + _SAFE + s[-4:]


def mask_name(value: str | None) -> str:
    """张三明 -> 张*明, 欧阳丽娜 -> 欧**娜, 张三 -> 张*, 张 -> 张.

    A single character is kept: a bare surname does not identify anyone.
    """
    s = "".join((value or "").split())
    if len(s) <= 1:
        return s
    if len(s) == 2:
        return s[0] + "*"
    return s[0] + "*" * (len(s) - 2) + s[-1]
