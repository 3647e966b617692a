"""Installer companies the county keeps on record, and the installer names typed as free text
before they were records: matched onto a company by name (``core.ids.company_name_key``) when
the company is recorded or edited, the rest listed for the county to resolve.

Services flush, never commit; every change is audited (the contact's phone number masked).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core.ids import InvalidValue, canonical_credit_code, company_name_key
from heating.extensions import db
from heating.households.models import Household
from heating.households.services import CaseError
from heating.inspections.models import Installation, InstallerCompany

NAME_MAX = 100
_PHONE_CHARS = set("0123456789-+() ")


def mask_phone(phone: str) -> str:
    """A contact number as audit rows keep it: the last four digits only."""
    return f"***{phone[-4:]}" if phone else ""


# --- reading ---------------------------------------------------------------------------------

def managed_counties(user: Any) -> list[Area]:
    """Counties whose installer companies ``user`` keeps (county staff of the county)."""
    ids = permissions.scope_for(user, permissions.PERMISSIONS["installer.manage"]).counties
    if not ids:
        return []
    return list(db.session.scalars(select(Area).where(Area.id.in_(sorted(ids)))
                                   .order_by(Area.code)))


def companies_of(county_id: int, *, active_only: bool = False) -> list[InstallerCompany]:
    query = select(InstallerCompany).where(InstallerCompany.county_id == county_id)
    if active_only:
        query = query.where(InstallerCompany.active.is_(True))
    return list(db.session.scalars(query.order_by(InstallerCompany.name,
                                                  InstallerCompany.id)))


def installation_counts(county_id: int) -> dict[int, int]:
    """Company id → installations recorded with it."""
    rows = db.session.execute(
        select(Installation.installer_company_id, func.count())
        .join(InstallerCompany, InstallerCompany.id == Installation.installer_company_id)
        .where(InstallerCompany.county_id == county_id)
        .group_by(Installation.installer_company_id)).all()
    return {company_id: n for company_id, n in rows}


def choices_for(hh: Household, current: Installation | None = None) -> list[InstallerCompany]:
    """The companies offered in the case's installation form: the county's active ones, and
    the one the installation has now even if no longer active."""
    companies = companies_of(hh.county_id, active_only=True)
    if current is not None and current.installer_company is not None \
            and current.installer_company not in companies:
        companies.append(current.installer_company)
    return companies


def match_name(county_id: int, name: str | None) -> InstallerCompany | None:
    """The county's company whose name is ``name`` as compared, if exactly one."""
    key = company_name_key(name)
    if not key:
        return None
    found = list(db.session.scalars(select(InstallerCompany).where(
        InstallerCompany.county_id == county_id, InstallerCompany.name_key == key).limit(2)))
    return found[0] if len(found) == 1 else None


@dataclass
class UnresolvedName:
    """Installations of the county whose typed installer name matches no company."""

    key: str
    names: list[str]
    installations: int


def _unresolved_rows(county_id: int) -> list[tuple[str, int]]:
    return [(name, n) for name, n in db.session.execute(
        select(Installation.installer, func.count())
        .join(Household, Household.id == Installation.household_id)
        .where(Household.county_id == county_id, Installation.installer_company_id.is_(None))
        .group_by(Installation.installer).order_by(Installation.installer)).all()]


def unresolved_names(county_id: int) -> list[UnresolvedName]:
    """Free-text names not matched onto a company, grouped by the name as compared (``县燃气
    公司`` and ``县燃气 公司`` are one), most installations first."""
    groups: dict[str, UnresolvedName] = {}
    for name, n in _unresolved_rows(county_id):
        key = company_name_key(name)
        group = groups.setdefault(key, UnresolvedName(key, [], 0))
        group.names.append(name)
        group.installations += n
    return sorted(groups.values(), key=lambda g: (-g.installations, g.key))


# --- recording --------------------------------------------------------------------------------

def _clean(data: dict[str, Any]) -> dict[str, Any]:
    name = " ".join((data.get("name") or "").split())
    if not name:
        raise CaseError(_l("Enter the company's name as on its business licence."), "name")
    if len(name) > NAME_MAX:
        raise CaseError(_l("The name is too long (at most %(n)d characters).", n=NAME_MAX),
                        "name")
    try:
        code = canonical_credit_code(data.get("credit_code") or "")
    except InvalidValue as err:
        raise CaseError(err.message, "credit_code") from None
    contact = " ".join((data.get("contact_name") or "").split())
    phone = (data.get("contact_phone") or "").strip()
    if len(contact) > 50:
        raise CaseError(_l("The contact's name is too long (at most 50 characters)."),
                        "contact_name")
    if len(phone) > 20 or not set(phone) <= _PHONE_CHARS:
        raise CaseError(_l("Enter the contact's phone number with digits only (a landline "
                           "may have an area code and a dash)."), "contact_phone")
    return {"name": name, "credit_code": code, "contact_name": contact,
            "contact_phone": phone, "active": bool(data.get("active", True))}


def _audited(company: InstallerCompany) -> dict[str, Any]:
    snap = company.snapshot()
    snap["contact_phone"] = mask_phone(snap["contact_phone"])
    return snap


def _check_unique(county_id: int, code: str, company_id: int | None) -> None:
    taken = db.session.scalar(select(InstallerCompany.id).where(
        InstallerCompany.county_id == county_id, InstallerCompany.credit_code == code,
        InstallerCompany.id != (company_id or 0)))
    if taken is not None:
        raise CaseError(_l("A company with this credit code is already on record in this "
                           "county."), "credit_code")


def create_company(county: Area, data: dict[str, Any], actor: Any) -> InstallerCompany:
    if county.level != "county" or not permissions.can(actor, "installer.manage", _at(county)):
        raise CaseError(_l("Only county staff keep the installer companies of their county."))
    clean = _clean(data)
    _check_unique(county.id, clean["credit_code"], None)
    company = InstallerCompany(county_id=county.id, name_key=company_name_key(clean["name"]),
                               **clean)
    db.session.add(company)
    db.session.flush()
    record("installer.created", "installer_company", company.id, actor=actor,
           summary=company.name, after=_audited(company))
    match_free_text(company, actor)
    return company


def update_company(company: InstallerCompany, data: dict[str, Any],
                   actor: Any) -> InstallerCompany:
    if not permissions.can(actor, "installer.manage", company):
        raise CaseError(_l("Only county staff keep the installer companies of their county."))
    clean = _clean(data)
    _check_unique(company.county_id, clean["credit_code"], company.id)
    before = _audited(company)
    for name, value in clean.items():
        setattr(company, name, value)
    company.name_key = company_name_key(company.name)
    db.session.flush()
    after = _audited(company)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        record("installer.edited", "installer_company", company.id, actor=actor,
               summary=company.name, before={k: before[k] for k in changed},
               after={k: after[k] for k in changed})
        match_free_text(company, actor)
    return company


def match_free_text(company: InstallerCompany, actor: Any) -> int:
    """Installations of the county typed with this company's name (as compared) and no company
    yet get it; returns how many (audited when any)."""
    texts = [name for name, _ in _unresolved_rows(company.county_id)
             if company_name_key(name) == company.name_key]
    n = _map(company, texts) if texts else 0
    if n:
        record("installer.matched", "installer_company", company.id, actor=actor,
               summary=_summary(n, texts), after={"names": texts, "installations": n})
    return n


def resolve_name(county: Area, key: str, company: InstallerCompany | None, actor: Any) -> int:
    """The county says which company a free-text name means: every installation of the
    county with that name (as compared) and no company gets it."""
    if not permissions.can(actor, "installer.manage", _at(county)):
        raise CaseError(_l("Only county staff keep the installer companies of their county."))
    if company is None or company.county_id != county.id:
        raise CaseError(_l("Choose a company of this county."), "company_id")
    texts = [name for name, _ in _unresolved_rows(county.id) if company_name_key(name) == key]
    if not texts:
        raise CaseError(_l("No installation with this name is waiting any more (someone may "
                           "have resolved it): reload the page."))
    n = _map(company, texts)
    record("installer.name_resolved", "installer_company", company.id, actor=actor,
           summary=_summary(n, texts), after={"names": texts, "installations": n})
    return n


def _summary(n: int, texts: list[str]) -> str:
    return f"{n} × {' / '.join(texts)[:80]}"


def _map(company: InstallerCompany, texts: list[str]) -> int:
    in_county = select(Household.id).where(Household.county_id == company.county_id)
    result = db.session.execute(
        update(Installation).where(Installation.installer.in_(texts),
                                   Installation.installer_company_id.is_(None),
                                   Installation.household_id.in_(in_county))
        .values(installer_company_id=company.id)
        .execution_options(synchronize_session=False))
    db.session.expire_all()
    return result.rowcount or 0


def company_for_case(company_id: int, hh: Household,
                     current: Installation | None) -> InstallerCompany:
    """The company chosen in the installation form, if it may be chosen for this case."""
    company = db.session.get(InstallerCompany, company_id)
    keeps = current is not None and current.installer_company_id == company_id
    if company is None or company.county_id != hh.county_id or not (company.active or keeps):
        raise CaseError(_l("Choose the installer company from the list (ask the county to add "
                           "a company that is missing)."), "installer_company_id")
    return company


@dataclass(frozen=True)
class _At:
    """A county as the scope helpers see it."""

    county_id: int
    village_id: None = None
    township_id: None = None


def _at(county: Area) -> _At:
    return _At(county.id)
