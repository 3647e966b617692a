"""What every printed paper shares (certificates, public notices, bank-file cover sheets): the
Chinese labels of conversion types and devices, the name as printed, where an issued PDF is kept,
and the natural order of house numbers.  Plain data and duck-typed cases: no domain imported."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from heating.core.storage import store_new

CN_CONVERSION = {"gas": "煤改气", "electric": "煤改电"}
CN_DEVICE = {
    "gas_boiler": "燃气壁挂炉",
    "heat_pump": "空气源热泵",
    "storage_heater": "蓄热式电暖器",
    "direct_heater": "直热式电暖器",
    "other_electric": "其他电采暖设备",
}


def printed_name(hh: Any) -> str:
    """The head's name as documents print it: the print spelling when there is one."""
    return hh.print_name or hh.head_name


def store_pdf(data: bytes, folder: str, stem: str) -> str:
    """Write an issued PDF under a new name, read-only; the path relative to STORAGE_DIR."""
    return store_new(data, folder, stem, "pdf")


# -- natural order of house numbers --------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile("[零〇一二两三四五六七八九十百]+")
_PARTS = re.compile(r"(\d+)")


def _cn_to_int(text: str) -> int:
    """一 1, 十 10, 十二 12, 二十 20, 二十三 23, 一百零五 105, 三〇五 305 (digit by digit)."""
    if "十" not in text and "百" not in text:
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch == "百":
            total += (digit or 1) * 100
            digit = 0
        elif ch == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit


def house_number_key(house_no: str | None) -> tuple[tuple[int, int | str], ...]:
    """A sort key in natural order: "2号" before "10号", "3-2" before "3-10", "二组" before
    "十组"; full-width digits count as digits.  Mixed values never raise (numbers sort before
    text at the same position)."""
    text = unicodedata.normalize("NFKC", house_no or "").strip()
    text = _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group())), text)
    key: list[tuple[int, int | str]] = []
    for i, part in enumerate(_PARTS.split(text)):
        if not part:
            continue
        key.append((0, int(part)) if i % 2 else (1, part))
    return tuple(key)
