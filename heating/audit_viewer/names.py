"""The names of the objects audit rows are about, and links to them where the reader may
open them: loaded for a whole page of rows in one query per kind of object (users, areas,
cases, certificates, notices …), never one per row.  Each kind asks its own domain's rule for
"may this reader open it" (scope, notice visibility, the import's uploader …)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import case, false, or_, select
from sqlalchemy.orm import joinedload

from heating.areas.models import Area
from heating.audit.models import AuditEvent
from heating.audit_viewer.labels import OBJECT_TYPES
from heating.auth import permissions
from heating.auth.models import User
from heating.certificates.models import Certificate
from heating.core.masking import mask_name
from heating.extensions import db
from heating.households.imports import services as import_services
from heating.households.imports.models import ImportRecord
from heating.households.models import Household
from heating.payouts import usage
from heating.payouts.models import AccountCorrection, Payment, PayoutBatch, UsageImport
from heating.publicity.models import Notice, NoticeEntry, Objection
from heating.publicity.scope import notice_scope_clause
from heating.subsidies import services as subsidies
from heating.subsidies.models import SubsidyPolicy

#: file fingerprints (and usage files, named by theirs) are shown by their first characters
FINGERPRINT = 16


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


def ids_of(values: Iterable[Any]) -> set[int]:
    out = set()
    for v in values:
        try:
            out.add(int(v))
        except (TypeError, ValueError):
            pass
    return out


class Names:
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
            self.users |= ids_of([object_id])
        elif object_type == "area":
            self.area_ids |= ids_of([object_id])

    def want_values(self, data: dict[str, Any] | None) -> None:
        for key, value in (data or {}).items():
            if key == "inspector":
                self.users |= ids_of([value])
            elif key in ("area_id", "county_id"):
                self.area_ids |= ids_of([value])
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
            numeric = ids_of(ids)
            if loader and numeric:
                for object_id, named in loader(self, sorted(numeric)):
                    self.objects[(object_type, str(object_id))] = named

    # --- what is shown ---
    def user_name(self, user_id: Any) -> str:
        row = self.user_rows.get(next(iter(ids_of([user_id])), -1))
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
            return self.user_named(next(iter(ids_of([e.object_id])), 0))
        if e.object_type == "area":
            area = self.areas.get(next(iter(ids_of([e.object_id])), 0))
            return Named(kind, self.area_name(area, f"#{e.object_id}"))
        found = self.objects.get((e.object_type, e.object_id))
        if found is not None:
            return found
        return Named(kind, f"#{e.object_id[:FINGERPRINT]}")  # usage files: a fingerprint


# --- one loader per kind of object: (object id, Named) for the ids wanted -------------------

def _case_named(names: Names, hh: Household | None, case_id: int, anchor: str = "") -> Named:
    """A case by its masked name, linked to its page, when the viewer may open it; otherwise
    by number only (not even the masked name of a case outside the viewer's areas)."""
    kind = OBJECT_TYPES["household"]
    if hh is None or not permissions.can(names.viewer, "household.view", hh):
        return Named(kind, _("Case #%(id)s", id=case_id))
    return Named(kind, f"{mask_name(hh.head_name)} #{hh.id}",
                 url_for("households.detail", case_id=hh.id) + anchor)


def _households(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    found = {hh.id: hh for hh in db.session.scalars(
        select(Household).where(Household.id.in_(ids)))}
    return [(i, _case_named(names, found.get(i), i)) for i in ids]


def _certificates(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for cert in db.session.scalars(select(Certificate).where(Certificate.id.in_(ids))
                                   .options(joinedload(Certificate.household))):
        case_ = _case_named(names, cert.household, cert.household_id, "#certificate")
        yield cert.id, Named(OBJECT_TYPES["certificate"], cert.serial, case_.url)


def _notice_links(names: Names, notice_ids: Iterable[int]) -> dict[int, tuple[str, bool]]:
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


def _notices(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    links = _notice_links(names, ids)
    return [(i, _notice_named(OBJECT_TYPES["notice"], number, i, links))
            for i, (number, _v) in links.items()]


def _entries(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    entries = list(db.session.scalars(select(NoticeEntry).where(NoticeEntry.id.in_(ids))))
    links = _notice_links(names, (e.notice_id for e in entries))
    return [(e.id, _notice_named(OBJECT_TYPES["notice_entry"],
                                 f"{links.get(e.notice_id, ('', False))[0]} #{e.seq}",
                                 e.notice_id, links)) for e in entries]


def _objections(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    objections = list(db.session.scalars(select(Objection).where(Objection.id.in_(ids))
                                         .options(joinedload(Objection.entry))))
    links = _notice_links(names, (o.entry.notice_id for o in objections))
    return [(o.id, _notice_named(OBJECT_TYPES["objection"],
                                 f"{links.get(o.entry.notice_id, ('', False))[0]} "
                                 f"#{o.entry.seq}", o.entry.notice_id, links))
            for o in objections]


def _policies(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    counties = (subsidies.counties_for(names.viewer)
                if permissions.can(names.viewer, "policy.view") else set())
    for p in db.session.execute(select(SubsidyPolicy.id, SubsidyPolicy.name,
                                       SubsidyPolicy.version, SubsidyPolicy.county_id)
                                .where(SubsidyPolicy.id.in_(ids))):
        yield p.id, Named(OBJECT_TYPES["subsidy_policy"], f"{p.name} v{p.version}",
                          url_for("subsidies.detail", policy_id=p.id)
                          if p.county_id in counties else None)


def _batch_url(names: Names, batch: PayoutBatch) -> str | None:
    return (url_for("payouts.detail", batch_id=batch.id)
            if permissions.can(names.viewer, "payout.view", batch) else None)


def _batches(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for b in db.session.scalars(select(PayoutBatch).where(PayoutBatch.id.in_(ids))):
        yield b.id, Named(OBJECT_TYPES["payout_batch"], b.number, _batch_url(names, b))


def _payments(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for p in db.session.scalars(select(Payment).where(Payment.id.in_(ids))
                                .options(joinedload(Payment.batch))):
        yield p.id, Named(OBJECT_TYPES["payment"], p.reference, _batch_url(names, p.batch))


def _corrections(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for c in db.session.scalars(select(AccountCorrection).where(AccountCorrection.id.in_(ids))
                                .options(joinedload(AccountCorrection.household))):
        case_ = _case_named(names, c.household, c.household_id)
        yield c.id, Named(OBJECT_TYPES["account_correction"], f"#{c.id} · {case_.name}",
                          case_.url)


def _imports(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for rec in db.session.scalars(select(ImportRecord).where(ImportRecord.id.in_(ids))):
        yield rec.id, Named(OBJECT_TYPES["import"], rec.filename,
                            url_for("imports.detail", import_id=rec.id)
                            if import_services.visible(rec, names.viewer) else None)


def _usage_imports(names: Names, ids: list[int]) -> Iterable[tuple[int, Named]]:
    for imp in db.session.scalars(select(UsageImport).where(UsageImport.id.in_(ids))):
        yield imp.id, Named(OBJECT_TYPES["usage_import"], imp.filename,
                            url_for("payouts.usage_detail", import_id=imp.id)
                            if usage.viewable(imp, names.viewer) else None)


_LOADERS: dict[str, Callable[[Names, list[int]], Iterable[tuple[int, Named]]]] = {
    "household": _households, "certificate": _certificates, "notice": _notices,
    "notice_entry": _entries, "objection": _objections, "subsidy_policy": _policies,
    "payout_batch": _batches, "payment": _payments, "account_correction": _corrections,
    "import": _imports, "usage_import": _usage_imports,
}
