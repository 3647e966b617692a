"""Subsidy policies and the amounts they give.

Reading: `policy_for` finds the policy in force for a case, `terms` detaches its money terms
for the pure calculator, `equipment_amount` / `running_amount` compute an amount with its
explanation, and `case_subsidy` says what the case page shows (the amount frozen on a 公示
notice once there is one, else the amount computed now, else why it cannot be computed yet).

Writing: `create_policy`, `update_policy` (only while no amount has been frozen from it:
`policy_in_use`) and `new_version` (the old one is marked superseded in the same
transaction). Every change is audited with before and after. Services flush, never commit.
Policy writes of one county are serialised by a row lock on the county (PostgreSQL; SQLite
writers are serialised by BEGIN IMMEDIATE), so two clerks cannot both create overlapping
policies or both replace the same version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from flask import Flask, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core import registry
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.money import from_fen
from heating.extensions import db
from heating.households.models import CONVERSION_TYPES, Household
from heating.inspections.services import installation_of
from heating.subsidies import calculator
from heating.subsidies.calculator import INVOICE_RATE, Amount, PolicyTerms
from heating.subsidies.models import PolicySeasonRate, SubsidyPolicy
from heating.subsidies.validation import MAX_SEASONS, SubsidyError, validated

#: what new_version copies unchanged from the version it replaces
IDENTITY = ("county_id", "programme_year", "conversion_type", "device_kind")


# ---------------------------------------------------------------- reading

def decision_date(case: Household) -> date:
    """The Beijing date whose policy applies: the approval date, else today (an estimate)."""
    if case.approved_at is not None:
        return case.approved_at.astimezone(LOCAL_TZ).date()
    return local_today()


def policy_for(case: Household, on: date | None = None) -> SubsidyPolicy | None:
    """The current policy for the case's county, programme year and conversion type, effective
    on ``on`` (default: `decision_date`); a policy for the case's device kind wins over one
    for every kind (""), then the highest version."""
    on = on or decision_date(case)
    return db.session.scalars(
        select(SubsidyPolicy).where(
            SubsidyPolicy.county_id == case.county_id,
            SubsidyPolicy.programme_year == case.programme_year,
            SubsidyPolicy.conversion_type == case.conversion_type,
            SubsidyPolicy.device_kind.in_([case.device_kind, ""]),
            SubsidyPolicy.superseded_at.is_(None),
            SubsidyPolicy.effective_from <= on,
            or_(SubsidyPolicy.effective_to.is_(None), SubsidyPolicy.effective_to >= on))
        .order_by((SubsidyPolicy.device_kind == "").asc(), SubsidyPolicy.version.desc())
        .limit(1)).first()


def terms(policy: SubsidyPolicy) -> PolicyTerms:
    """The policy's money terms, detached from the database, for the calculator."""
    return PolicyTerms(
        equipment_method=policy.equipment_method,
        equipment_rate=policy.equipment_rate,
        area_rate=None if policy.area_rate_fen is None else from_fen(policy.area_rate_fen),
        equipment_cap=from_fen(policy.equipment_cap_fen),
        running_unit=policy.running_unit,
        running_cap_units=(None if policy.running_cap_units is None
                           else Decimal(policy.running_cap_units)),
        season_rates={r.season_no: r.unit_rate for r in policy.season_rates},
        seasons=policy.seasons)


_CALCULATION_MESSAGES = {
    "missing_invoice": _l("The installation has no invoice amount."),
    "missing_area": _l("The household's heated area is missing; the clerk enters it on the "
                       "household."),
    "season_out_of_range": _l("The policy does not pay this season: it pays a running subsidy "
                              "for a limited number of seasons only."),
    "no_rate_for_season": _l("The policy has no unit rate for this season."),
    "missing_usage": _l("The usage is missing."),
    "negative_usage": _l("The usage cannot be negative."),
}


def _from_calculation(err: calculator.CalculationError) -> SubsidyError:
    message = _CALCULATION_MESSAGES.get(
        err.code, _l("The amount cannot be computed from this policy; the county office "
                     "should check its terms."))
    return SubsidyError(message, code=err.code)


def equipment_amount(case: Household, *, freeze: bool = False) -> tuple[SubsidyPolicy, Amount]:
    """The equipment subsidy the case would get now, with the policy it came from.

    ``freeze=True`` (publishing the amount on a notice) first takes a shared lock on the
    policy row, so a concurrent `update_policy` cannot change the terms between this
    computation and the notice entry that records it (PostgreSQL; SQLite writers are
    serialised anyway).
    """
    policy = policy_for(case)
    if policy is not None and freeze:
        db.session.refresh(policy, with_for_update={"read": True})
    if policy is None:
        raise SubsidyError(_l(
            "No subsidy policy is in force for programme year %(year)s, %(type)s, on "
            "%(date)s. The county office enters it under Subsidy policies.",
            year=case.programme_year, type=CONVERSION_TYPES[case.conversion_type],
            date=decision_date(case).isoformat()), code="no_policy")
    invoice = area = None
    if policy.equipment_method == INVOICE_RATE:
        installation = installation_of(case)
        if installation is None:
            raise SubsidyError(_l("No installation recorded yet: this policy pays a share of "
                                  "the invoice amount, which is recorded with the "
                                  "installation."), code="no_installation")
        invoice = installation.invoice_amount
    else:
        area = case.heated_area
    try:
        return policy, calculator.equipment_subsidy(terms(policy), invoice_amount=invoice,
                                                    heated_area=area)
    except calculator.CalculationError as err:
        raise _from_calculation(err) from None


def running_amount(policy: SubsidyPolicy, *, season_no: int, usage: Decimal) -> Amount:
    """One season's running subsidy under ``policy`` (SubsidyError when it pays none)."""
    try:
        return calculator.running_subsidy(terms(policy), season_no=season_no, usage=usage)
    except calculator.CalculationError as err:
        raise _from_calculation(err) from None


def running_words() -> calculator.RunningWords:
    """The running-subsidy wording in the reader's language.  The catalog's Chinese is the
    calculator's ``CHINESE`` (what is stored), word for word (tests/subsidies)."""
    return calculator.RunningWords(
        within_cap=_("{usage} {unit} counted, within the {cap} {unit} cap, × {rate} yuan/{unit} "
                     "= {value} yuan"),
        over_cap=_("{usage} {unit} used, over the cap: {cap} {unit} counted, × {rate} "
                   "yuan/{unit} = {value} yuan"),
        no_cap=_("{usage} {unit} counted, × {rate} yuan/{unit} = {value} yuan"),
        units={"kWh": _("kWh"), "m³": _("m³")})


def running_explanation(inputs: Any, amount_fen: Any, stored: str = "") -> str:
    """A running subsidy's explanation for the screen, in the reader's language, worded from
    the stored inputs and amount; the stored text itself when they cannot be read (records
    without inputs), so every stored explanation stays readable."""
    if not isinstance(inputs, dict) or not isinstance(amount_fen, int):
        return stored or ""
    if "running_words" not in g:
        g.running_words = running_words()
    return calculator.running_explanation(inputs, from_fen(amount_fen),
                                          g.running_words) or stored or ""


#: Who uses policies, registered by the domains that keep amounts computed from them
#: (publicity: notice entries; payouts: usage records), each ``provider(policy_ids) -> the ids
#: in use``, so subsidies imports neither.
PolicyUse = Callable[[list[int]], "set[int]"]
#: The amount a case has frozen elsewhere (publicity: on its notice), ``provider(case) ->
#: CaseSubsidy | None``; the first that answers wins over the amount computed now.
FrozenAmount = Callable[[Household], "CaseSubsidy | None"]
_POLICY_USES = "heating.policy_uses"
_FROZEN_AMOUNTS = "heating.frozen_amounts"


def register_policy_use(app: Flask, provider: PolicyUse) -> None:
    registry.register(app, _POLICY_USES, provider)


def register_frozen_amount(app: Flask, provider: FrozenAmount) -> None:
    registry.register(app, _FROZEN_AMOUNTS, provider)


def policy_in_use(policy: SubsidyPolicy) -> bool:
    """An amount computed from it was frozen on a notice (even one since taken off) or
    recorded for a season's usage: from then on it cannot be edited, only replaced."""
    if policy.id is None:
        return False
    return bool(policies_in_use([policy.id]))


@dataclass
class CaseSubsidy:
    """What the case page shows about the equipment subsidy."""

    amount_fen: int | None = None
    explanation: str = ""
    policy: SubsidyPolicy | None = None
    #: the notice the amount is frozen on (then it no longer follows the policy or the case)
    notice: Any = None
    #: why there is no amount yet
    problem: Any = None
    #: computed before approval: the policy in force on the approval date will apply
    estimate: bool = False


def case_subsidy(case: Household) -> CaseSubsidy:
    for provider in registry.registered(_FROZEN_AMOUNTS):
        frozen = provider(case)
        if frozen is not None:
            return frozen
    try:
        policy, amount = equipment_amount(case)
    except SubsidyError as err:
        return CaseSubsidy(problem=err.message, estimate=case.approved_at is None)
    return CaseSubsidy(amount.fen, amount.explanation, policy,
                       estimate=case.approved_at is None)


def county_of(area: Area) -> int:
    while area.parent is not None and area.level != "county":
        area = area.parent
    return area.id


def counties_for(user: Any, perm: str = "policy.view") -> set[int]:
    """Counties whose policies ``user`` may see (perm policy.view: any grant inside the
    county) or manage (policy.manage: a grant over the whole county)."""
    allowed = permissions.PERMISSIONS[perm]
    grants = [g for g in getattr(user, "grants", []) if g.role in allowed]
    if perm == "policy.manage":
        return {g.area_id for g in grants if g.area.level == "county"}
    return {county_of(g.area) for g in grants}


def policies(county_ids: set[int], *, year: int | None = None,
             conversion_type: str | None = None) -> list[SubsidyPolicy]:
    query = select(SubsidyPolicy).where(SubsidyPolicy.county_id.in_(sorted(county_ids)))
    if year:
        query = query.where(SubsidyPolicy.programme_year == year)
    if conversion_type:
        query = query.where(SubsidyPolicy.conversion_type == conversion_type)
    return list(db.session.scalars(query.order_by(
        SubsidyPolicy.programme_year.desc(), SubsidyPolicy.conversion_type,
        SubsidyPolicy.device_kind, SubsidyPolicy.version.desc())))


def policies_in_use(ids: list[int]) -> set[int]:
    """Which of these policies are in use (one query each kind, for the list page)."""
    if not ids:
        return set()
    used: set[int] = set()
    for provider in registry.registered(_POLICY_USES):
        used |= provider(ids)
    return used


def versions(policy: SubsidyPolicy) -> list[SubsidyPolicy]:
    """The whole chain the policy belongs to, oldest first."""
    first = policy
    seen = {policy.id}
    while first.supersedes is not None and first.supersedes.id not in seen:
        first = first.supersedes
        seen.add(first.id)
    chain = [first]
    while True:
        nxt = db.session.scalars(select(SubsidyPolicy).where(
            SubsidyPolicy.supersedes_id == chain[-1].id)).first()
        if nxt is None or nxt.id in {p.id for p in chain}:
            return chain
        chain.append(nxt)


def successor(policy: SubsidyPolicy) -> SubsidyPolicy | None:
    return db.session.scalars(select(SubsidyPolicy).where(
        SubsidyPolicy.supersedes_id == policy.id)).first()


# ---------------------------------------------------------------- writing

def snapshot(policy: SubsidyPolicy) -> dict[str, Any]:
    """Every stored term (scaled integers as stored; their names say the scale)."""
    return {
        "county_id": policy.county_id, "programme_year": policy.programme_year,
        "conversion_type": policy.conversion_type, "device_kind": policy.device_kind,
        "version": policy.version, "supersedes_id": policy.supersedes_id, "name": policy.name,
        "reference": policy.reference, "equipment_method": policy.equipment_method,
        "equipment_rate_e4": policy.equipment_rate_e4, "area_rate_fen": policy.area_rate_fen,
        "equipment_cap_fen": policy.equipment_cap_fen,
        "running_cap_units": policy.running_cap_units, "season_start": policy.season_start,
        "season_end": policy.season_end, "seasons": policy.seasons,
        "recovery_seasons": policy.recovery_seasons,
        "season_rates_e4": {str(r.season_no): r.unit_rate_e4 for r in policy.season_rates},
        "effective_from": policy.effective_from.isoformat(),
        "effective_to": policy.effective_to.isoformat() if policy.effective_to else None,
        "superseded_at": policy.superseded_at.isoformat() if policy.superseded_at else None,
        "note": policy.note,
    }


def _lock_county(county_id: int) -> None:
    """Serialise policy writes of one county (FOR NO KEY UPDATE, so rows that merely refer
    to the county are not blocked; a no-op on SQLite, whose writers
    already hold the database's write lock from BEGIN IMMEDIATE)."""
    db.session.execute(select(Area.id).where(Area.id == county_id)
                       .with_for_update(key_share=True))


def _check_overlap(columns: dict[str, Any], exclude: set[int]) -> None:
    """At most one current policy per county, year, type and device kind on any date."""
    end = columns["effective_to"]
    query = select(SubsidyPolicy).where(
        *[getattr(SubsidyPolicy, k) == columns[k] for k in IDENTITY],
        SubsidyPolicy.superseded_at.is_(None),
        or_(SubsidyPolicy.effective_to.is_(None),
            SubsidyPolicy.effective_to >= columns["effective_from"]))
    if end is not None:
        query = query.where(SubsidyPolicy.effective_from <= end)
    if exclude:
        query = query.where(SubsidyPolicy.id.not_in(sorted(exclude)))
    other = db.session.scalars(query.limit(1)).first()
    if other is not None:
        raise SubsidyError(_l(
            "“%(name)s” (version %(version)s) already applies to this programme year, "
            "conversion type and device kind from %(start)s to %(end)s. Change the effective "
            "dates so they do not overlap, or make a new version of that policy.",
            name=other.name, version=other.version, start=other.effective_from.isoformat(),
            end=other.effective_to.isoformat() if other.effective_to else _l("open end")),
            "effective_from", code="overlap")


def _next_version(columns: dict[str, Any]) -> int:
    top = db.session.scalar(select(func.max(SubsidyPolicy.version)).where(
        *[getattr(SubsidyPolicy, k) == columns[k] for k in IDENTITY]))
    return (top or 0) + 1


def _apply(policy: SubsidyPolicy, columns: dict[str, Any], rates: dict[int, int]) -> None:
    for key, value in columns.items():
        setattr(policy, key, value)
    current = {r.season_no: r for r in policy.season_rates}
    for season_no, rate in current.items():
        if season_no not in rates:
            policy.season_rates.remove(rate)
    for season_no, value in rates.items():
        if season_no in current:
            current[season_no].unit_rate_e4 = value
        else:
            policy.season_rates.append(PolicySeasonRate(season_no=season_no,
                                                        unit_rate_e4=value))
    try:
        terms(policy)  # the calculator accepts these terms (it checks them again)
    except calculator.CalculationError:
        raise SubsidyError(_l("These terms cannot produce an amount; check the rates and the "
                              "cap.")) from None


def _may_manage(actor: Any, county_id: Any) -> None:
    if county_id not in counties_for(actor, "policy.manage"):
        raise SubsidyError(_l("Only the county office edits the county's subsidy policies."),
                           "county_id", code="not_allowed")


def create_policy(data: dict[str, Any], actor: Any) -> SubsidyPolicy:
    """A new policy (version 1 of its county, year, type and kind, or the next free number
    when earlier ones cover other dates)."""
    columns, rates = validated(data)
    _may_manage(actor, columns["county_id"])
    _lock_county(columns["county_id"])
    _check_overlap(columns, set())
    policy = SubsidyPolicy(version=_next_version(columns), created_by_id=actor.id)
    _apply(policy, columns, rates)
    db.session.add(policy)
    db.session.flush()
    record("policy.create", "subsidy_policy", policy.id, actor=actor,
           summary=f"{policy.name} v{policy.version}", after=snapshot(policy))
    return policy


def _refuse_replaced(policy: SubsidyPolicy) -> None:
    if policy.superseded_at is not None:
        newer = successor(policy)
        raise SubsidyError(_l("This version has been replaced by version %(version)s; work on "
                              "the current version.",
                              version=newer.version if newer else "?"), code="superseded")


def update_policy(policy: SubsidyPolicy, data: dict[str, Any], actor: Any) -> SubsidyPolicy:
    """Correct a policy no amount has been frozen from. The county, year, type and device
    kind stay those of the version chain once there is more than one version."""
    _may_manage(actor, policy.county_id)
    _lock_county(policy.county_id)
    # FOR UPDATE waits for a notice being published from this policy (its FK check holds a
    # key-share lock), so policy_in_use below sees that notice's entries
    db.session.refresh(policy, with_for_update=True)
    _refuse_replaced(policy)
    if policy_in_use(policy):
        raise SubsidyError(_l("Amounts computed from this policy are already on a public "
                              "notice or a usage record, so it cannot be changed. Make a new "
                              "version instead: it applies to amounts computed from now on, "
                              "and the published amounts keep this version."), code="in_use")
    if policy.version > 1 or policy.supersedes_id is not None:
        data = {**data, **{k: getattr(policy, k) for k in IDENTITY}}
    data.setdefault("county_id", policy.county_id)
    columns, rates = validated(data)
    _may_manage(actor, columns["county_id"])
    _check_overlap(columns, {policy.id})
    before = snapshot(policy)
    if any(columns[k] != getattr(policy, k) for k in IDENTITY):
        columns["version"] = _next_version(columns)
    _apply(policy, columns, rates)
    db.session.flush()
    record("policy.update", "subsidy_policy", policy.id, actor=actor,
           summary=f"{policy.name} v{policy.version}", before=before, after=snapshot(policy))
    return policy


def new_version(policy: SubsidyPolicy, data: dict[str, Any], actor: Any) -> SubsidyPolicy:
    """A copy of ``policy`` with the terms in ``data``, numbered after every version of its
    county, year, type and kind; ``policy`` is marked superseded. Amounts already frozen keep
    the old version; amounts computed from now on use the new one."""
    _may_manage(actor, policy.county_id)
    _lock_county(policy.county_id)
    db.session.refresh(policy, with_for_update=True)
    _refuse_replaced(policy)
    columns, rates = validated({**data, **{k: getattr(policy, k) for k in IDENTITY}})
    _check_overlap(columns, {policy.id})
    before_old = snapshot(policy)
    policy.superseded_at = now_utc()
    fresh = SubsidyPolicy(version=_next_version(columns), supersedes_id=policy.id,
                          created_by_id=actor.id)
    _apply(fresh, columns, rates)
    db.session.add(fresh)
    db.session.flush()
    record("policy.new_version", "subsidy_policy", fresh.id, actor=actor,
           summary=f"{fresh.name} v{fresh.version} replaces v{policy.version}",
           before=before_old | {"id": policy.id}, after=snapshot(fresh) | {"id": fresh.id})
    record("policy.supersede", "subsidy_policy", policy.id, actor=actor,
           summary=f"{policy.name} v{policy.version} replaced by v{fresh.version}",
           before=before_old, after=snapshot(policy))
    return fresh


def form_data(policy: SubsidyPolicy) -> dict[str, Any]:
    """The service data of an existing policy (to prefill the edit and new-version forms)."""
    return {
        **{k: getattr(policy, k) for k in IDENTITY},
        "name": policy.name, "reference": policy.reference,
        "equipment_method": policy.equipment_method,
        "equipment_rate_pct": (None if policy.equipment_rate_e4 is None
                               else Decimal(policy.equipment_rate_e4).scaleb(-2).normalize()),
        "area_rate": None if policy.area_rate_fen is None else from_fen(policy.area_rate_fen),
        "equipment_cap": from_fen(policy.equipment_cap_fen),
        "running_cap_units": policy.running_cap_units,
        "season_start": policy.season_start, "season_end": policy.season_end,
        "seasons": policy.seasons, "recovery_seasons": policy.recovery_seasons,
        "season_rates": {r.season_no: r.unit_rate.normalize() for r in policy.season_rates},
        "effective_from": policy.effective_from, "effective_to": policy.effective_to,
        "note": policy.note or "",
    }


__all__ = ["MAX_SEASONS", "SubsidyError", "case_subsidy", "create_policy", "equipment_amount",
           "new_version", "policy_for", "policy_in_use", "running_amount", "terms",
           "update_policy"]
