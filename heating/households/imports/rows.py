"""One row of a household file: its cells normalised and checked by the registration form's
rules (``rules.RULES`` and ``heating.core.ids``).  Columns whose values repeat from row to
row (village, residents, area, choices) are checked once per distinct value; the ID, phone and
bank numbers on every row."""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

from flask import current_app
from flask_babel import lazy_gettext as _l

from heating.core.ids import (
    InvalidValue,
    canonical_bank_account,
    canonical_id_number,
    canonical_mobile,
    luhn_ok,
)
from heating.core.masking import mask_id
from heating.core.spreadsheet_read import Header, cell_text, column_letter, lost_precision
from heating.households.imports.rules import (
    BY_KEY,
    CONVERSION_WORDS,
    DEFAULT_DEVICE,
    FOOTER,
    FOOTER_CELLS,
    NO,
    RULES,
    YES,
    Places,
    VillageRef,
    closed_state_words,
    name_key,
    portable,
    previous_heating_choices,
    previous_heating_words,
    safe_text,
)

_UNIT = re.compile(r"(人|口|个|台|套|处|平方米|平米|㎡|m2|m²)$")
_MAYBE_SCIENTIFIC = re.compile(r"[eEＥｅ]")
_TWO_PLACES = Decimal("0.01")


class Row:
    """One data row: its spreadsheet row number, what it will become and why."""

    __slots__ = ("number", "status", "values", "village", "problems", "warnings", "id_hash",
                 "bank_hash", "id_masked", "name")

    def __init__(self, number: int) -> None:
        self.number = number
        self.status = "new"
        self.values: dict[str, Any] = {}
        self.village: VillageRef | None = None
        self.problems: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.id_hash: str | None = None
        self.bank_hash: str | None = None
        self.id_masked = ""
        self.name = ""

    @property
    def importable(self) -> bool:
        # not "skipped" (a withdrawn or cancelled case of a ledger), "duplicate" or "error"
        return self.status in ("new", "warning")

    def as_json(self) -> list[Any]:
        village = f"{self.village.township_name} {self.village.name}" if self.village else ""
        return [self.number, self.status, safe_text(self.name), self.id_masked, village,
                self.problems + self.warnings]


class RowChecker:
    """Normalises and validates one row at a time, as the registration form would."""

    def __init__(self, header: Header, places: Places) -> None:
        self.keys = list(header.columns)
        self.indexes = list(header.columns.values())
        self.labels = header.labels
        self.letters = {k: column_letter(i) for k, i in header.columns.items()}
        self.places = places
        #: ``heating.core.lookup.keyed_hash``'s HMAC with its key set up once (copied per use)
        self.hmac = hmac.new(current_app.config["LOOKUP_KEY"].encode(), digestmod=hashlib.sha256)
        self.heating = previous_heating_words()
        self.closed = closed_state_words()
        self.today = date.today()
        self.rules: list[tuple[str, Callable[..., Any]]] = [
            ("place", self._place), ("address", self._address), ("residents", self._integer),
            ("heated_area", self._area), ("previous_heating", self._heating),
            ("coal_stoves", self._integer), ("conversion_type", self._conversion),
            ("low_income", self._yes_no)]
        #: per column, the outcome for each distinct text: (value, [(key, message, kind)])
        self.memo: dict[str, dict[Any, tuple[Any, list[tuple[Any, ...]]]]] = {
            key: {} for key, _ in self.rules}

    def _problem(self, row: Row, key: str | None, message: Any, kind: str = "e") -> None:
        entry = portable(message)
        entry["k"] = kind
        if key is not None:
            entry["c"] = self.labels.get(key, BY_KEY[key].header)
            entry["l"] = self.letters.get(key, "")
        (row.problems if kind == "e" else row.warnings).append(entry)

    def _hash(self, kind: bytes, value: str) -> str:
        """``keyed_hash(kind, value)``, without setting the key up again for every row."""
        mac = self.hmac.copy()
        mac.update(kind + value.encode())
        return mac.hexdigest()

    def check(self, number: int, cells: list[Any]) -> Row | None:
        n = len(cells)
        picked = [cells[col] if col < n else "" for col in self.indexes]
        shown = [v.strip() if v.__class__ is str else cell_text(v) for v in picked]
        if not any(shown):
            return None  # an empty row, or only a running number in an unknown column
        texts = dict(zip(self.keys, shown))
        raw = dict(zip(self.keys, picked))
        if not texts["id_number"] and self._is_footer(cells):
            return None
        row = Row(number)
        state = texts.get("state")
        if state and name_key(state).lower() in self.closed:
            return self._closed(row, texts, raw)
        values = row.values
        row.name = texts["head_name"]
        self._name(row, texts["head_name"])
        self._id(row, raw["id_number"], texts["id_number"])
        values["phone"] = self._canonical(row, "phone", texts["phone"], canonical_mobile)
        found = self._repeating(row, texts)
        row.village = found["place"]
        values["group_name"], values["house_no"] = found["address"] or ("", "")
        for key in ("residents", "heated_area", "previous_heating", "coal_stoves",
                    "low_income"):
            values[key] = found[key]
        kind = found["conversion_type"]
        values["conversion_type"], values["device_kind"] = kind, DEFAULT_DEVICE.get(kind)
        self._bank(row, texts, raw.get("bank_account", ""))
        if row.problems:
            row.status = "error"
        elif row.warnings:
            row.status = "warning"
        return row

    def _closed(self, row: Row, texts: dict[str, str], raw: dict[str, Any]) -> Row:
        """A withdrawn or cancelled case from a re-uploaded ledger: shown as skipped, never
        imported, and left out of the duplicate checks (its household may since have a new,
        active case, which the file may hold too)."""
        row.name = texts["head_name"]
        self._id(row, raw["id_number"], texts["id_number"])
        row.problems.clear()  # only for the masked ID shown in the preview
        row.id_hash = None
        row.village = self._place("place", (texts.get("township", ""), texts["village"]),
                                  _collect([]))
        self._problem(row, "state", _l("This case was withdrawn or cancelled (%(state)s): "
                                       "it is not imported.", state=texts["state"]), "s")
        row.status = "skipped"
        return row

    def _repeating(self, row: Row, texts: dict[str, str]) -> dict[str, Any]:
        """The columns whose values repeat: each rule runs once per distinct text and its
        messages are repeated on every row with that text."""
        found = {}
        for key, rule in self.rules:
            text = (texts.get("township", ""), texts["village"]) if key == "place" else (
                texts.get(key, ""))
            seen = self.memo[key]
            hit = seen.get(text)
            if hit is None:
                said: list[tuple[Any, ...]] = []
                hit = seen[text] = (rule(key, text, _collect(said)), said)
            for col, message, kind in hit[1]:
                self._problem(row, col, message, kind)
            found[key] = hit[0]
        return found

    def _is_footer(self, cells: list[Any]) -> bool:
        """A line under the table: a few cells, the first naming a signature, date or total
        (a household row without its ID number fills many more cells, and stays an error)."""
        filled = [text for text in map(cell_text, cells) if text]
        return (len(filled) <= FOOTER_CELLS
                and bool(FOOTER.search(unicodedata.normalize("NFKC", filled[0]))))

    # columns that differ on every row ------------------------------------------------------
    def _name(self, row: Row, text: str) -> None:
        if not text:
            self._problem(row, "head_name", RULES.required["head_name"])
        elif len(text) > RULES.lengths["head_name"]:
            self._problem(row, "head_name", _too_long(RULES.lengths["head_name"]))
        row.values["head_name"] = text

    def _id(self, row: Row, raw: Any, text: str) -> None:
        if (raw.__class__ is not str or _MAYBE_SCIENTIFIC.search(raw)) and lost_precision(raw):
            self._problem(row, "id_number", _l(
                "Excel stored this ID number as a number (%(shown)s) and has already lost its "
                "last digits. Format the column as text (Format Cells → Text), type the "
                "numbers again and upload again.", shown=_scientific(raw)))
            return
        if not text:
            self._problem(row, "id_number", RULES.required["id_number"])
            return
        try:
            canonical = canonical_id_number(text, self.today)
        except InvalidValue as err:
            self._problem(row, "id_number", err.message)
            return
        row.values["id_number"] = canonical
        row.id_hash = self._hash(b"id:", canonical)
        row.id_masked = mask_id(canonical)

    def _canonical(self, row: Row, key: str, text: str, fn: Callable[[str], str]) -> str | None:
        if not text:
            self._problem(row, key, RULES.required[key])
            return None
        try:
            return fn(text)
        except InvalidValue as err:
            self._problem(row, key, err.message)
            return None

    def _bank(self, row: Row, texts: dict[str, str], raw_account: Any) -> None:
        values = row.values
        bank_name, holder = texts.get("bank_name", ""), texts.get("account_holder", "")
        for key, text in (("bank_name", bank_name), ("account_holder", holder)):
            if len(text) > RULES.lengths[key]:
                self._problem(row, key, _too_long(RULES.lengths[key]))
        values["bank_name"], values["account_holder"] = bank_name or None, holder or None
        values["bank_account"], values["luhn_confirmed"] = None, False
        account = texts.get("bank_account", "")
        if raw_account.__class__ is not str and lost_precision(raw_account) or (
                _MAYBE_SCIENTIFIC.search(account) and lost_precision(account)):
            self._problem(row, "bank_account", _l(
                "Excel stored this account number as a number (%(shown)s) and has already "
                "lost its last digits. Format the column as text (Format Cells → Text), type "
                "the numbers again and upload again.", shown=_scientific(raw_account)))
        elif account:
            try:
                values["bank_account"] = canonical_bank_account(account)
            except InvalidValue as err:
                self._problem(row, "bank_account", err.message)
            else:
                row.bank_hash = self._hash(b"bank:", values["bank_account"])
                if not luhn_ok(values["bank_account"]):
                    self._problem(row, "bank_account", _l(
                        "The account number fails the card check digit. It is imported as "
                        "typed; check it against the card and confirm it on the case before "
                        "submitting."), "w")
        if holder and row.name and holder != row.name:
            self._problem(row, "account_holder", _l(
                "The account holder is not the head of household. Submission is blocked until "
                "a county user records an exception."), "w")

    # columns whose values repeat (rules called once per distinct text) ----------------------
    def _place(self, key: str, texts: tuple[str, str], say: Callable[..., None]
               ) -> VillageRef | None:
        township, village = texts
        if not village:
            say("village", _l("Enter the village."))
            return None
        candidates = self.places.villages_named(village)
        if township:
            ids = self.places.township_ids(township)
            if not ids:
                say("township", _l("“%(name)s” is not a township in your area.", name=township))
                return None
            candidates = [v for v in candidates if v.township_id in ids]
            if not candidates:
                say("village", _l("“%(name)s” is not a village of %(township)s in your area.",
                                  name=village, township=township))
                return None
        elif not candidates:
            say("village", _l("“%(name)s” is not a village in your area.", name=village))
            return None
        if len(candidates) > 1:
            say("township", _l("Several villages in your area are called “%(name)s”: fill in "
                               "the township.", name=village))
            return None
        return candidates[0]

    def _address(self, key: str, text: str, say: Callable[..., None]) -> tuple[str, str]:
        text = unicodedata.normalize("NFKC", text)
        group, sep, house = text.partition("组")
        group, house = (group.strip() + "组", house.strip()) if sep else ("", text)
        for part, value in (("group_name", group), ("house_no", house)):
            if len(value) > RULES.lengths[part]:
                say("address", _too_long(RULES.lengths[part]))
        return group, house

    def _number(self, key: str, text: str, say: Callable[..., None]) -> Decimal | None:
        if not text:
            say(key, RULES.required[key])
            return None
        text = _UNIT.sub("", "".join(unicodedata.normalize("NFKC", text).split()))
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            say(key, _l("Enter a number."))
            return None
        return number

    def _in_range(self, key: str, number: Decimal, say: Callable[..., None]) -> bool:
        low, high, message = getattr(RULES, key)
        if number < low or number > high:
            say(key, message)
            return False
        return True

    def _integer(self, key: str, text: str, say: Callable[..., None]) -> int | None:
        number = self._number(key, text, say)
        if number is None:
            return None
        if number != number.to_integral_value():
            say(key, _l("Enter a whole number."))
            return None
        return int(number) if self._in_range(key, number, say) else None

    def _area(self, key: str, text: str, say: Callable[..., None]) -> Decimal | None:
        number = self._number(key, text, say)
        if number is None:
            return None
        if number.quantize(_TWO_PLACES, ROUND_HALF_UP) != number:
            say(key, _l("At most two decimal places."))
            return None
        return number.quantize(_TWO_PLACES) if self._in_range(key, number, say) else None

    def _heating(self, key: str, text: str, say: Callable[..., None]) -> str | None:
        if not text:
            return "coal_stove"
        code = self.heating.get(name_key(text))
        if code is None:
            say(key, _l("Unknown heating “%(value)s”: use one of %(choices)s.", value=text,
                        choices="、".join(previous_heating_choices())))
        return code

    def _conversion(self, key: str, text: str, say: Callable[..., None]) -> str | None:
        if not text:
            say(key, _l("Enter 煤改气 or 煤改电."))
            return None
        kind = CONVERSION_WORDS.get(name_key(text).lower())
        if kind is None:
            say(key, _l("“%(value)s” is not a conversion type: enter 煤改气 or 煤改电.",
                        value=text))
        return kind

    def _yes_no(self, key: str, text: str, say: Callable[..., None]) -> bool:
        word = name_key(text).lower()
        if word in YES:
            return True
        if word not in NO:
            say(key, _l("Enter 是 or 否."))
        return False


def _collect(said: list[tuple[Any, ...]]) -> Callable[..., None]:
    def say(col: str, message: Any, kind: str = "e") -> None:
        said.append((col, message, kind))
    return say


def _too_long(limit: int) -> Any:
    return _l("At most %(n)d characters.", n=limit)


def _scientific(value: Any) -> str:
    """How Excel shows a long number: 4.10881E+17."""
    if isinstance(value, float):
        mantissa, exponent = f"{value:.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent):02d}"
    return cell_text(value)
