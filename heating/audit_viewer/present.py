"""Audit rows as people read them: the action's label, the object's name (a link where the
reader may open it, see names.py), who acted, and before → after as a list of
"field: old → new".  Values are shown as they were stored: the audit log holds masks and hash
prefixes, never full numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from heating.audit.models import AuditEvent
from heating.audit_viewer.labels import FIELDS, action_label, field_label
from heating.audit_viewer.names import FINGERPRINT, Actor, Named, Names, ids_of
from heating.auth.admin_forms import ROLE_LABELS
from heating.core.money import format_fen
from heating.households.lifecycle import STATES
from heating.households.models import CONVERSION_TYPES, DEVICE_KINDS, PREVIOUS_HEATING
from heating.inspections.models import CHECK_ITEMS, FOLLOW_UP_RESULTS, RESULTS, UPLOAD_KINDS
from heating.payouts.models import (
    BATCH_STATES,
    CORRECTION_STATES,
    PAYMENT_STATES,
    SUBSIDY_KINDS,
    UTILITIES,
)
from heating.payouts.usage.match import REASON_LABELS
from heating.publicity.models import ENTRY_STATES, NOTICE_STATES
from heating.subsidies.models import EQUIPMENT_METHODS, RATE_SCALE

#: a list value (case ids of a notice, serials printed) is cut after this many items
LIST_ITEMS = 10
IMPORT_STATUSES = {"previewed": _l("Checked, not imported"), "imported": _l("Imported"),
                   "rejected": _l("Refused")}
#: keys whose values are record numbers (shown as #12)
ID_KEYS = frozenset({"household", "case", "cases", "photos", "upload", "inspection",
                     "follow_up", "import", "import_id", "entry", "supersedes_id", "id"})
#: before/after keys in the order of the FIELDS table (stored sorted by their English key)
_ORDER = {key: i for i, key in enumerate(FIELDS)}
#: the states of the object a row is about (a "state" key means that object's state)
STATES_BY_OBJECT: dict[str, dict[str, Any]] = {
    "household": STATES, "payout_batch": BATCH_STATES, "notice": NOTICE_STATES,
    "notice_entry": ENTRY_STATES, "account_correction": CORRECTION_STATES,
}
#: coded values of a key, whatever the object
CODES: dict[str, dict[str, Any]] = {
    "case_state": STATES, "entry_state": ENTRY_STATES, "role": ROLE_LABELS,
    "conversion_type": CONVERSION_TYPES, "device_kind": DEVICE_KINDS,
    "previous_heating": PREVIOUS_HEATING, "equipment_method": EQUIPMENT_METHODS,
    "utility": UTILITIES, "result": {**RESULTS, **FOLLOW_UP_RESULTS},
    "kind": {**UPLOAD_KINDS, **SUBSIDY_KINDS}, "status": {**PAYMENT_STATES, **IMPORT_STATUSES},
}


@dataclass(frozen=True)
class Punctuation:
    colon: str
    semicolon: str
    enumeration: str


CHINESE = Punctuation("：", "；", "、")
WESTERN = Punctuation(": ", "; ", ", ")


def punctuation() -> Punctuation:
    """Full-width marks in Chinese, ": " and "; " in English."""
    locale = get_locale()
    return CHINESE if locale is None or locale.language == "zh" else WESTERN


@dataclass
class Change:
    label: Any
    old: str | None  #: None: the key is not in "before"
    new: str | None  #: None: the key is not in "after"


@dataclass
class Row:
    event: AuditEvent
    action: Any
    actor: Actor
    obj: Named
    changes: list[Change] = field(default_factory=list)


def present(events: Iterable[AuditEvent], viewer: Any) -> list[Row]:
    events = list(events)
    values = [(e, _load_json(e.before), _load_json(e.after)) for e in events]
    names = Names(viewer)
    for e, before, after in values:
        names.want(e.object_type, e.object_id)
        if e.actor_id:
            names.users.add(e.actor_id)
        for data in (before, after):
            names.want_values(data)
    names.load()
    rows = []
    for e, before, after in values:
        fmt = _Formatter(names, e.object_type)
        rows.append(Row(e, action_label(e.action), names.actor(e), names.named(e),
                        fmt.changes(before, after)))
    return rows


def _load_json(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"": text}
    return data if isinstance(data, dict) else {"": data}


# --- before → after -------------------------------------------------------------------------

class _Formatter:
    def __init__(self, names: Names, object_type: str) -> None:
        self.names = names
        self.object_type = object_type

    def changes(self, before: dict[str, Any] | None, after: dict[str, Any] | None
                ) -> list[Change]:
        before, after = before or {}, after or {}
        keys = sorted(set(before) | set(after), key=lambda k: (_ORDER.get(k, len(_ORDER)), k))
        return [Change(field_label(k) if k else "",
                       self.value(k, before[k]) if k in before else None,
                       self.value(k, after[k]) if k in after else None) for k in keys]

    def value(self, key: str, value: Any) -> str:
        if value is None or value == "" or value == [] or value == {}:
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        p = punctuation()
        if key == "season_rates_e4" and isinstance(value, dict):
            return p.semicolon.join(_("season %(n)s: %(rate)s", n=k, rate=self._rate(v))
                                    for k, v in value.items())
        if isinstance(value, dict):
            names = {"checklist": CHECK_ITEMS, "reasons": REASON_LABELS}.get(key)
            return p.semicolon.join(
                f"{names.get(k, k) if names else field_label(k)}{p.colon}"
                f"{self.value('' if names else k, v)}" for k, v in value.items())
        if isinstance(value, list):
            return self._list(key, value)
        return self._scalar(key, value)

    def _list(self, key: str, items: list[Any]) -> str:
        shown = [f"#{v}" if key in ID_KEYS else self.value(key, v)
                 for v in items[:LIST_ITEMS]]
        text = punctuation().enumeration.join(shown)
        if len(items) > LIST_ITEMS:
            text += " " + _("… (%(n)s in all)", n=len(items))
        return text

    def _scalar(self, key: str, value: Any) -> str:
        names = self.names
        if key == "state":
            labels = STATES_BY_OBJECT.get(self.object_type, STATES)
            return str(labels.get(value, value))
        if key in CODES:
            return str(CODES[key].get(value, value))
        if key in ("area_id", "county_id"):
            ids = ids_of([value])
            return names.area_name(names.areas.get(next(iter(ids), 0)), value)
        if key in ("village", "township"):
            area = names.areas_by_code.get(str(value))
            return f"{names.area_name(area, value)} ({value})" if area else str(value)
        if key == "inspector":
            return names.user_name(value)
        if key in ID_KEYS:
            return f"#{value}"
        if key.endswith("_fen") and isinstance(value, int):
            return _("%(amount)s yuan", amount=format_fen(value))
        if "sha256" in key and isinstance(value, str) and len(value) > FINGERPRINT:
            return value[:FINGERPRINT] + "…"
        if key == "equipment_rate_e4" and isinstance(value, int):
            return f"{(Decimal(value) / 100).normalize():f}%"
        return str(value)

    @staticmethod
    def _rate(value: Any) -> str:
        """A stored unit rate (1/10,000 yuan) in yuan: 2000 → 0.20, 2250 → 0.225."""
        try:
            rate = Decimal(value) / RATE_SCALE
        except (TypeError, ValueError, ArithmeticError):
            return str(value)
        cents = rate.quantize(Decimal("0.01"))
        return _("%(amount)s yuan", amount=f"{cents if cents == rate else rate.normalize()}")
