"""Audit rows as people read them: the action's label, the object's name (a link where the
viewer may open it), who acted, and before → after as a list of "field: old → new".

``present()`` takes a page of rows and loads the names it needs in one query per kind of
object (users, areas, cases, certificates …), never one per row.  Values are shown as they
were stored: the audit log holds masks and hash prefixes, never full numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, false, or_, select
from sqlalchemy.orm import joinedload

from heating.areas.models import Area
from heating.audit.labels import FIELDS, OBJECT_TYPES, action_label, field_label
from heating.audit.models import AuditEvent
from heating.auth import permissions
from heating.auth.admin_forms import ROLE_LABELS
from heating.auth.models import User
from heating.certificates.models import Certificate
from heating.core.masking import mask_name
from heating.core.money import format_fen
from heating.extensions import db
from heating.households import import_services
from heating.households.import_models import ImportRecord
from heating.households.lifecycle import STATES
from heating.households.models import (
    CONVERSION_TYPES,
    DEVICE_KINDS,
    PREVIOUS_HEATING,
    Household,
)
from heating.inspections.models import CHECK_ITEMS, FOLLOW_UP_RESULTS, RESULTS, UPLOAD_KINDS
from heating.payouts import usage
from heating.payouts.models import (
    BATCH_STATES,
    CORRECTION_STATES,
    PAYMENT_STATES,
    SUBSIDY_KINDS,
    UTILITIES,
    AccountCorrection,
    Payment,
    PayoutBatch,
    UsageImport,
)
from heating.payouts.usage_match import REASON_LABELS
from heating.publicity.models import ENTRY_STATES, NOTICE_STATES, Notice, NoticeEntry, Objection
from heating.publicity.scope import notice_scope_clause
from heating.subsidies import services as subsidies
from heating.subsidies.models import EQUIPMENT_METHODS, RATE_SCALE, SubsidyPolicy

#: a list value (case ids of a notice, serials printed) is cut after this many items
LIST_ITEMS = 10
IMPORT_STATUSES = {"previewed": _l("Checked, not imported"), "imported": _l("Imported"),
                   "rejected": _l("Refused")}
#: keys whose values are record numbers (shown as #12)
ID_KEYS = frozenset({"household", "case", "cases", "photos", "upload", "inspection",
                     "follow_up", "import", "import_id", "entry", "supersedes_id", "id"})
#: file fingerprints are shown by their first characters (enough to compare two rows)
FINGERPRINT = 16
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
class Named:
    """An object as shown: its kind, its name and, where the viewer may open it, a link."""

    kind: Any
    name: str = ""
    url: str | None = None


@dataclass
class Actor:
    name: str
    username: str = ""  #: what the "user" filter takes
    url: str | None = None


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
    names = _Names(viewer)
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


def _ids(values: Iterable[Any]) -> set[int]:
    out = set()
    for v in values:
        try:
            out.add(int(v))
        except (TypeError, ValueError):
            pass
    return out


class _Names:
    """The names (and links) of the objects one page of rows refers to, loaded in bulk."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        self.wanted: dict[str, set[str]] = {}
        self.users: set[int] = set()
        self.area_ids: set[int] = set()
        self.area_codes: set[str] = set()
        self.objects: dict[tuple[str, str], Named] = {}
        self.user_rows: dict[int, Any] = {}
        self.areas: dict[int, Area] = {}
        self.areas_by_code: dict[str, Area] = {}

    # --- what is wanted ---
    def want(self, object_type: str, object_id: str | None) -> None:
        if object_id is None:
            return
        self.wanted.setdefault(object_type, set()).add(object_id)
        if object_type == "user":
            self.users |= _ids([object_id])
        elif object_type == "area":
            self.area_ids |= _ids([object_id])

    def want_values(self, data: dict[str, Any] | None) -> None:
        for key, value in (data or {}).items():
            if key == "inspector":
                self.users |= _ids([value])
            elif key in ("area_id", "county_id"):
                self.area_ids |= _ids([value])
            elif key in ("village", "township") and isinstance(value, str):
                self.area_codes.add(value)

    # --- loading: one query per kind ---
    def load(self) -> None:
        if self.users:
            self.user_rows = {u.id: u for u in db.session.execute(
                select(User.id, User.username, User.display_name)
                .where(User.id.in_(sorted(self.users))))}
        if self.area_ids or self.area_codes:
            for area in db.session.scalars(select(Area).where(or_(
                    Area.id.in_(sorted(self.area_ids)),
                    Area.code.in_(sorted(self.area_codes)))).options(joinedload(Area.parent))):
                self.areas[area.id] = area
                self.areas_by_code[area.code] = area
        for object_type, ids in self.wanted.items():
            loader = _LOADERS.get(object_type)
            numeric = _ids(ids)
            if loader and numeric:
                for object_id, named in loader(self, sorted(numeric)):
                    self.objects[(object_type, str(object_id))] = named

    # --- what is shown ---
    def user_name(self, user_id: Any) -> str:
        row = self.user_rows.get(next(iter(_ids([user_id])), -1))
        return row.display_name if row else _("User #%(id)s", id=user_id)

    def user_named(self, user_id: int) -> Named:
        row = self.user_rows.get(user_id)
        if row is None:
            return Named(OBJECT_TYPES["user"], _("User #%(id)s", id=user_id))
        url = (url_for("admin.detail", user_id=user_id)
               if permissions.can(self.viewer, "user.manage") else None)
        return Named(OBJECT_TYPES["user"], row.display_name, url)

    def area_name(self, area: Area | None, fallback: Any) -> str:
        if area is None:
            return str(fallback)
        if area.level == "village" and area.parent is not None:
            return f"{area.parent.name} {area.name}"
        return area.name

    def actor(self, e: AuditEvent) -> Actor:
        if e.actor_id is None:
            return Actor(_("System") if e.actor_name == "system" else e.actor_name)
        named = self.user_named(e.actor_id)
        return Actor(named.name, e.actor_name, named.url)

    def named(self, e: AuditEvent) -> Named:
        kind = OBJECT_TYPES.get(e.object_type, e.object_type)
        if e.object_id is None:
            return Named(kind)
        if e.object_type == "user":
            return self.user_named(next(iter(_ids([e.object_id])), 0))
        if e.object_type == "area":
            area = self.areas.get(next(iter(_ids([e.object_id])), 0))
            return Named(kind, self.area_name(area, f"#{e.object_id}"))
        found = self.objects.get((e.object_type, e.object_id))
        if found is not None:
            return found
        return Named(kind, f"#{e.object_id[:FINGERPRINT]}")  # usage files: a fingerprint


# --- one loader per kind of object: (object id, Named) for the ids wanted -------------------

def _case_named(names: _Names, hh: Household | None, case_id: int, anchor: str = "") -> Named:
    """A case by its masked name, linked to its page, when the viewer may open it; otherwise
    by number only (not even the masked name of a case outside the viewer's areas)."""
    kind = OBJECT_TYPES["household"]
    if hh is None or not permissions.can(names.viewer, "household.view", hh):
        return Named(kind, _("Case #%(id)s", id=case_id))
    return Named(kind, f"{mask_name(hh.head_name)} #{hh.id}",
                 url_for("households.detail", case_id=hh.id) + anchor)


def _households(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    found = {hh.id: hh for hh in db.session.scalars(
        select(Household).where(Household.id.in_(ids)))}
    return [(i, _case_named(names, found.get(i), i)) for i in ids]


def _certificates(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for cert in db.session.scalars(select(Certificate).where(Certificate.id.in_(ids))
                                   .options(joinedload(Certificate.household))):
        case_ = _case_named(names, cert.household, cert.household_id, "#certificate")
        yield cert.id, Named(OBJECT_TYPES["certificate"], cert.serial, case_.url)


def _notice_links(names: _Names, notice_ids: Iterable[int]) -> dict[int, tuple[str, bool]]:
    """Notice id → (number, may the viewer open it), in one query."""
    ids = sorted(set(notice_ids))
    if not ids:
        return {}
    clause = (notice_scope_clause(names.viewer)
              if permissions.can(names.viewer, "notice.view") else false())
    rows = db.session.execute(select(Notice.id, Notice.number, case((clause, True),
                                                                    else_=False))
                              .where(Notice.id.in_(ids)))
    return {i: (number, bool(visible)) for i, number, visible in rows}


def _notice_named(kind: Any, name: str, notice_id: int, links: dict[int, tuple[str, bool]]
                  ) -> Named:
    visible = links.get(notice_id, ("", False))[1]
    return Named(kind, name, url_for("publicity.detail", notice_id=notice_id)
                 if visible else None)


def _notices(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    links = _notice_links(names, ids)
    return [(i, _notice_named(OBJECT_TYPES["notice"], number, i, links))
            for i, (number, _v) in links.items()]


def _entries(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    entries = list(db.session.scalars(select(NoticeEntry).where(NoticeEntry.id.in_(ids))))
    links = _notice_links(names, (e.notice_id for e in entries))
    return [(e.id, _notice_named(OBJECT_TYPES["notice_entry"],
                                 f"{links.get(e.notice_id, ('', False))[0]} #{e.seq}",
                                 e.notice_id, links)) for e in entries]


def _objections(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    objections = list(db.session.scalars(select(Objection).where(Objection.id.in_(ids))
                                         .options(joinedload(Objection.entry))))
    links = _notice_links(names, (o.entry.notice_id for o in objections))
    return [(o.id, _notice_named(OBJECT_TYPES["objection"],
                                 f"{links.get(o.entry.notice_id, ('', False))[0]} "
                                 f"#{o.entry.seq}", o.entry.notice_id, links))
            for o in objections]


def _policies(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    counties = (subsidies.counties_for(names.viewer)
                if permissions.can(names.viewer, "policy.view") else set())
    for p in db.session.execute(select(SubsidyPolicy.id, SubsidyPolicy.name,
                                       SubsidyPolicy.version, SubsidyPolicy.county_id)
                                .where(SubsidyPolicy.id.in_(ids))):
        yield p.id, Named(OBJECT_TYPES["subsidy_policy"], f"{p.name} v{p.version}",
                          url_for("subsidies.detail", policy_id=p.id)
                          if p.county_id in counties else None)


def _batch_url(names: _Names, batch: PayoutBatch) -> str | None:
    return (url_for("payouts.detail", batch_id=batch.id)
            if permissions.can(names.viewer, "payout.view", batch) else None)


def _batches(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for b in db.session.scalars(select(PayoutBatch).where(PayoutBatch.id.in_(ids))):
        yield b.id, Named(OBJECT_TYPES["payout_batch"], b.number, _batch_url(names, b))


def _payments(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for p in db.session.scalars(select(Payment).where(Payment.id.in_(ids))
                                .options(joinedload(Payment.batch))):
        yield p.id, Named(OBJECT_TYPES["payment"], p.reference, _batch_url(names, p.batch))


def _corrections(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for c in db.session.scalars(select(AccountCorrection).where(AccountCorrection.id.in_(ids))
                                .options(joinedload(AccountCorrection.household))):
        case_ = _case_named(names, c.household, c.household_id)
        yield c.id, Named(OBJECT_TYPES["account_correction"], f"#{c.id} · {case_.name}",
                          case_.url)


def _imports(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for rec in db.session.scalars(select(ImportRecord).where(ImportRecord.id.in_(ids))):
        yield rec.id, Named(OBJECT_TYPES["import"], rec.filename,
                            url_for("imports.detail", import_id=rec.id)
                            if import_services.visible(rec, names.viewer) else None)


def _usage_imports(names: _Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for imp in db.session.scalars(select(UsageImport).where(UsageImport.id.in_(ids))):
        yield imp.id, Named(OBJECT_TYPES["usage_import"], imp.filename,
                            url_for("payouts.usage_detail", import_id=imp.id)
                            if usage.viewable(imp, names.viewer) else None)


_LOADERS: dict[str, Callable[[_Names, list[int]], Iterable[tuple[int, Named]]]] = {
    "household": _households, "certificate": _certificates, "notice": _notices,
    "notice_entry": _entries, "objection": _objections, "subsidy_policy": _policies,
    "payout_batch": _batches, "payment": _payments, "account_correction": _corrections,
    "import": _imports, "usage_import": _usage_imports,
}


# --- before → after -------------------------------------------------------------------------

class _Formatter:
    def __init__(self, names: _Names, object_type: str) -> None:
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
            ids = _ids([value])
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
