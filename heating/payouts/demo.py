"""Demo data for the money side (``flask demo-data`` runs ``extend_demo`` after the households
are built): subsidy policies, 公示 notices with objections, payout batches in every state with
paid and failed payments, account corrections and a re-pay batch (补发), and a season of
running-subsidy usage with its batch.

Everything goes through the real services, by the demo staff who may make each move, so the
rules hold by construction (maker–checker, the lifecycle, frozen amounts, bank-file totals).
Money takes time, though: a notice runs for a week, and a running subsidy is paid for a heating
season that starts after the inspection passed.  So the first part is a story from the past,
played with the services' clock set back (``clock_at``): a seeded sample of the cases approved
long enough ago is installed and inspected before the latest heating season began, put on
notices (one objection dismissed, one upheld), confirmed when the period is over and paid in
township batches (two payments fail at the bank, the accounts are corrected and re-paid).
Then, at the real time, the inspections demo runs (``heating.inspections.demo``) and the
present follows: the last townships' confirmed cases wait in batches that are dropped (the
cases wait again), draft, approved and exported; the season's usage files are imported with an
approved running-subsidy batch; today's passed cases go on notices that are still running (one
with an open objection), except one township's, left for its reviewer to publish; and three
回头看 findings on paid cases open recoveries (追回): one open, one partly paid back, one
waiting for a waiver's approval.

Rows written under the shifted clock carry their story's dates, so their ids do not follow
time across all cases (each case's own history does).
"""
from __future__ import annotations

import contextlib
import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

import heating.core.db as core_db
import heating.core.i18n as core_i18n
from heating.areas.models import Area
from heating.auth.models import User
from heating.core.i18n import LOCAL_TZ, local_today
from heating.core.ids import luhn_ok
from heating.core.money import format_fen
from heating.extensions import db
from heating.households.models import Household
from heating.inspections import assignments, followups
from heating.inspections import demo as inspections_demo
from heating.inspections import services as inspections
from heating.inspections.models import CHECKLIST, Installation
from heating.payouts import bankfiles, batches, corrections, reconcile, recoveries, usage
from heating.payouts.models import Payment, PayoutBatch, UsageRecord
from heating.payouts.recovery_models import Recovery
from heating.payouts.services import PayoutError, create_batch
from heating.publicity import objections
from heating.publicity import services as publicity
from heating.publicity.models import Notice, NoticeEntry, Objection
from heating.subsidies import services as subsidies
from heating.subsidies.calculator import INVOICE_RATE
from heating.subsidies.models import SubsidyPolicy
from heating.subsidies.seasons import DEFAULT_END, DEFAULT_START, season_dates, season_key

#: how many of the long-approved cases live through last autumn's story
PAST_LIMIT = 100
#: the past story lasts this many days and ends before today …
STORY_DAYS = 35
#: … and its inspections pass at least this many days before the season starts
PASS_LEAD = 3
#: conversion type → policy terms (DOMAIN.md's Hebei examples; later seasons taper)
POLICY_TERMS = {
    "electric": {"label": "煤改电", "equipment_rate_pct": Decimal("85"),
                 "equipment_cap": Decimal("7400"), "running_cap_units": 10000,
                 "season_rates": {1: Decimal("0.20"), 2: Decimal("0.20"), 3: Decimal("0.15")},
                 "recovery_seasons": 3},
    "gas": {"label": "煤改气", "equipment_rate_pct": Decimal("70"),
            "equipment_cap": Decimal("2700"), "running_cap_units": 1200,
            "season_rates": {1: Decimal("1.00"), 2: Decimal("1.00"), 3: Decimal("0.80")},
            "recovery_seasons": 3},
}
#: what becomes of the batches of the townships whose cases wait until today, in code order
WAITING = ("dropped", "draft", "approved", "exported")
#: a season's typical usage per conversion type: (low, high, mode) for a whole season
USAGE = {"electric": (1500, 12500, 6000), "gas": (250, 1500, 800)}
_OBJECTIONS = (("村民（匿名电话）", "反映该户旧燃煤炉具仍在使用，要求核实"),
               ("同组村民", "反映该户安装的设备与公示的型号不一致"))
_DISMISSED = "经乡镇现场复核，燃煤炉具已拆除，设备与验收记录一致，异议不成立"
_UPHELD = "经乡镇现场复核，燃煤炉具未拆除，异议成立：撤销验收合格证明，整改后重新验收"
_BANK_FAILURES = ("账户已销户", "户名与账号不符")
_CORRECTION = "原账户已销户，户主提供本人新开立的银行卡（复印件已存档）"
_NEW_BANKS = (("中国邮政储蓄银行", "621799"), ("中国农业银行", "622848"))


# --- the services' clock ----------------------------------------------------------------------
@contextlib.contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the services as if it were ``moment`` (time keeps flowing from there).  Every
    service reads the time through ``core.db.now_utc`` or ``core.i18n.local_today``; both ask
    their module's ``datetime`` class, which is swapped here and restored afterwards."""
    offset = moment - datetime.now(timezone.utc)

    class Shifted(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return datetime.now(tz) + offset

    saved = core_db.datetime, core_i18n.datetime
    core_db.datetime = core_i18n.datetime = Shifted  # type: ignore[misc]
    try:
        yield
    finally:
        core_db.datetime, core_i18n.datetime = saved  # type: ignore[misc]


def _on(day: date, hour: int, minute: int = 0) -> contextlib.AbstractContextManager[None]:
    """The clock at ``hour``:``minute`` Beijing time on ``day``."""
    return clock_at(datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ))


# --- who does what ----------------------------------------------------------------------------
@dataclass
class Cast:
    county: Area
    county_user: User
    finance: User  #: the maker of batches
    checker: User  #: the second finance user, who approves
    staff: dict[tuple[str, int], User]  #: (role, area id) → a staffer holding only that role
    seed: int
    keys: int = 0

    def of(self, role: str, area_id: int) -> User:
        return self.staff[(role, area_id)]

    def key(self) -> str:
        """A create form's idempotency key, the same for the same seed."""
        self.keys += 1
        return f"demo-{self.seed:06d}-{self.keys:06d}"


def _cast(seed: int) -> Cast | None:
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(("county", "finance", "finance02"))))}
    if len(users) < 3:
        return None
    county = users["county"].grants[0].area
    return Cast(county, users["county"], users["finance"], users["finance02"],
                inspections_demo._staff(), seed)


@dataclass
class Plan:
    """The story's calendar: the season whose usage is imported and the days of the past."""

    season: str
    start: date  #: the season's first day
    day0: date  #: the first day of last autumn's story

    def day(self, n: int) -> date:
        return self.day0 + timedelta(days=n)


def plan_for(today: date) -> Plan:
    """The latest heating season that has ended (its usage file exists and its running
    subsidy is due; a season still running has neither), and a story that passes its cases
    before that season starts and is over before today."""
    year = today.year
    while season_dates(season_key(year))[1] >= today:
        year -= 1
    season = season_key(year)
    start = season_dates(season)[0]
    # as late as it can be (the more cases were approved by then): the passes on day 5
    day0 = min(start - timedelta(days=5 + PASS_LEAD), today - timedelta(days=STORY_DAYS))
    return Plan(season, start, day0)


# --- the entry point --------------------------------------------------------------------------
def extend_demo(seed: int, echo: Callable[[str], Any]) -> None:
    """The past money story, the inspections demo, then the present; commits each part."""
    cast = _cast(seed)
    if cast is None:
        inspections_demo.extend_demo(seed=seed, echo=echo)
        return
    rng = random.Random(seed * 7919 + 5)
    plan = plan_for(local_today())
    _past(rng, cast, plan)
    db.session.commit()
    inspections_demo.extend_demo(seed=seed, echo=echo)
    _present(rng, cast, plan)
    db.session.commit()
    echo(summary())


def _past(rng: random.Random, cast: Cast, plan: Plan) -> None:
    with _on(plan.day(-5), 10):
        _policies(cast)
    cohort = _cohort(rng, plan.day(-3))
    if not cohort:
        return
    _inspect(rng, cast, cohort, plan)
    with _on(plan.day(8), 9):
        notices = _publish(cast, cohort)
    _objections(rng, cast, notices, plan)
    with _on(plan.day(16), 1):
        publicity.confirm_due()  # the daily job, the night after the period ended
    _pay_past(rng, cast, plan)


def _present(rng: random.Random, cast: Cast, plan: Plan) -> None:
    _waiting_batches(cast)
    _running(rng, cast, plan)
    _recoveries(rng, cast)
    passed = list(db.session.scalars(select(Household).where(Household.state == "passed")
                                     .order_by(Household.id)))
    last = max((hh.township.code for hh in passed), default=None)
    if len({hh.township_id for hh in passed}) > 1:  # one township's wait for its reviewer
        passed = [hh for hh in passed if hh.township.code != last]
    entries = [e for n in _publish(cast, passed) for e in n.entries]
    if entries:  # one objection still open: the reviewer's next decision
        entry = rng.choice(entries)
        objections.record_objection(entry, cast.of("reviewer", entry.household.township_id),
                                    *_OBJECTIONS[1])


# --- policies ---------------------------------------------------------------------------------
def _policies(cast: Cast) -> None:
    """Both conversion types for every programme year with cases, in force from the first
    of January of the year the first of them was approved."""
    rows = db.session.execute(select(Household.programme_year, func.min(Household.approved_at))
                              .group_by(Household.programme_year)
                              .order_by(Household.programme_year)).all()
    for n, (year, first) in enumerate(rows, start=1):
        since = date(min(year, first.astimezone(LOCAL_TZ).year) if first else year, 1, 1)
        for ctype, terms in POLICY_TERMS.items():
            subsidies.create_policy({
                "county_id": cast.county.id, "programme_year": year, "conversion_type": ctype,
                "device_kind": "", "name": f"{year}年度{terms['label']}设备购置及运行补贴",
                "reference": f"示范县政办〔{year}〕{n * 10 + len(ctype)}号",
                "equipment_method": INVOICE_RATE,
                "equipment_rate_pct": terms["equipment_rate_pct"],
                "equipment_cap": terms["equipment_cap"],
                "running_cap_units": terms["running_cap_units"],
                "season_start": DEFAULT_START, "season_end": DEFAULT_END,
                "seasons": len(terms["season_rates"]), "season_rates": terms["season_rates"],
                "recovery_seasons": terms["recovery_seasons"],
                "effective_from": since, "effective_to": None,
                "note": "演示数据：参照河北省标准"}, cast.county_user)


# --- last autumn: installations, inspections, notices ------------------------------------------
def _cohort(rng: random.Random, before: date) -> list[Household]:
    """A seeded sample of the cases approved before ``before`` and still waiting, of the
    programme year with most of them (a notice lists one programme year)."""
    limit = datetime(before.year, before.month, before.day, tzinfo=LOCAL_TZ)
    waiting = (Household.state == "approved", Household.approved_at < limit)
    year = db.session.scalar(select(Household.programme_year).where(*waiting)
                             .group_by(Household.programme_year)
                             .order_by(func.count().desc(), Household.programme_year.desc())
                             .limit(1))
    ids = list(db.session.scalars(select(Household.id).where(
        *waiting, Household.programme_year == year).order_by(Household.id)))
    picked = sorted(rng.sample(ids, min(PAST_LIMIT, len(ids))))
    return list(db.session.scalars(select(Household).where(Household.id.in_(picked))
                                   .order_by(Household.id)))


def _inspect(rng: random.Random, cast: Cast, cohort: list[Household], plan: Plan) -> None:
    """The clerks record the installations, the reviewers book the visits, the inspectors
    pass every case five days later (with the two photos the pass needs)."""
    visit = plan.day(5)
    with _on(plan.day(0), 9):
        for hh in cohort:
            data = inspections_demo._installation(rng, hh)
            approved = hh.approved_at.astimezone(LOCAL_TZ).date()
            data["install_date"] = max(approved + timedelta(days=1),
                                       plan.day(0) - timedelta(days=rng.randint(1, 20)))
            inspections.save_installation(hh, data, cast.of("clerk", hh.village_id))
            assignments.assign(hh, cast.of("inspector", hh.township_id), visit,
                               cast.of("reviewer", hh.township_id), local_today())
    with _on(visit, 9):
        photos = {"device_with_head": inspections_demo.placeholder_photo(
                      "device + head", (40, 90, 140)),
                  "stove_site": inspections_demo.placeholder_photo(
                      "stove removed", (120, 90, 60))}
        for hh in cohort:
            inspector = cast.of("inspector", hh.township_id)
            for kind, data in photos.items():
                inspections.store_photo(hh, kind, FileStorage(io.BytesIO(data), "demo.jpg"),
                                        inspector)
            inspections.record_inspection(
                hh, inspector, result="pass",
                checklist=dict.fromkeys(CHECKLIST[hh.conversion_type], True),
                stoves_removed=hh.coal_stoves, reasons=None)


def _publish(cast: Cast, cases: list[Household]) -> list[Notice]:
    """A notice per township (and programme year) of the passed cases, by its reviewer."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for hh in cases:
        groups[(hh.township_id, hh.programme_year)].append(hh.id)
    notices = []
    for (township_id, year), ids in sorted(groups.items()):
        township = db.session.get(Area, township_id)
        notices.append(publicity.publish(
            cast.of("reviewer", township_id), township=township, case_ids=ids,
            title=f"{township.name}{year}年度农村清洁取暖改造设备购置补贴公示",
            objection_phone=f"0399-555{township.code[6:9]}1",
            issuing_office=f"{township.name}人民政府"))
    return notices


def _objections(rng: random.Random, cast: Cast, notices: list[Notice], plan: Plan) -> None:
    """Two objections during the period: one dismissed, one upheld (certificate revoked, the
    case back to installed for a new inspection)."""
    entries = [e for n in notices for e in n.entries]
    if len(entries) < 2:
        return
    picked = rng.sample(entries, 2)
    with _on(plan.day(10), 10):
        made = [objections.record_objection(e, _reviewer(cast, e), *why)
                for e, why in zip(picked, _OBJECTIONS)]
    with _on(plan.day(12), 15):
        objections.dismiss(made[0], _reviewer(cast, picked[0]), _DISMISSED)
        objections.uphold(made[1], _reviewer(cast, picked[1]), _UPHELD)


def _reviewer(cast: Cast, entry: NoticeEntry) -> User:
    return cast.of("reviewer", entry.household.township_id)


# --- last autumn: batches, the bank's results, corrections, 补发 -------------------------------
def _confirmed_townships() -> list[int]:
    """Townships with confirmed cases waiting for a batch, in code order."""
    return list(db.session.scalars(
        select(Area.id).where(Area.id.in_(select(Household.township_id).where(
            Household.state == "confirmed"))).order_by(Area.code)))


def _batch(cast: Cast, **choice: Any) -> PayoutBatch:
    choice.setdefault("kind", "equipment")
    return create_batch(cast.finance, idempotency_key=cast.key(), **choice)


def _pay_past(rng: random.Random, cast: Cast, plan: Plan) -> None:
    """A batch per township (the last four townships' cases wait for today): made by one
    finance user, approved by the other, exported, and paid — two payments of the largest
    batch fail, their accounts are corrected and a re-pay batch pays exactly those two."""
    towns = _confirmed_townships()
    towns = towns[:max(1, len(towns) - len(WAITING))]
    if not towns:
        return
    with _on(plan.day(18), 10):
        made = [_batch(cast, township_id=t) for t in towns]
    with _on(plan.day(18), 15):
        for batch in made:
            batches.approve(batch, cast.checker)
    with _on(plan.day(19), 9):
        for batch in made:
            bankfiles.bank_file(batch, "csv", cast.finance)
    failing = max(made, key=lambda b: b.payment_count)
    with _on(plan.day(23), 15):
        for batch in made:
            _results(rng, cast, batch, plan.day(22), failures=2 if batch is failing else 0)
    with _on(plan.day(24), 9):
        for batch in made:
            if batch is not failing:
                batches.close_batch(batch, cast.finance)
    if _correct_accounts(rng, cast, failing, plan):
        _repay(rng, cast, plan)
    with _on(plan.day(32), 9):
        batches.close_batch(failing, cast.finance)


def _results(rng: random.Random, cast: Cast, batch: PayoutBatch, paid_on: date,
             failures: int = 0) -> None:
    """The bank's result file for an exported batch (the layout ``reconcile`` reads), built
    from the batch's own references and amounts, imported by finance."""
    rows = db.session.execute(select(Payment.reference, Payment.amount_fen).where(
        Payment.batch_id == batch.id, Payment.status == "pending").order_by(Payment.seq)).all()
    failed = dict(zip(sorted(rng.sample(range(len(rows)), min(failures, len(rows)))),
                      _BANK_FAILURES))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["付款参考号", "金额", "状态", "失败原因", "到账日期"])
    for n, (reference, fen) in enumerate(rows):
        amount = f"{fen // 100}.{fen % 100:02d}"
        if n in failed:
            writer.writerow([reference, amount, "失败", failed[n], ""])
        else:
            writer.writerow([reference, amount, "成功", "", paid_on.isoformat()])
    report = reconcile.import_results(batch, out.getvalue().encode("utf-8-sig"),
                                      f"{batch.number}-银行回单.csv", cast.finance)
    if not report.ok:
        raise PayoutError(f"demo result file refused: {report.file_error} {report.problems}")


def _new_account(rng: random.Random) -> tuple[str, str]:
    bank, prefix = rng.choice(_NEW_BANKS)
    body = prefix + f"{rng.randrange(10 ** 12):012d}"
    return bank, next(body + d for d in "0123456789" if luhn_ok(body + d))


def _correct_accounts(rng: random.Random, cast: Cast, batch: PayoutBatch, plan: Plan) -> int:
    """Four eyes: the first correction asked by finance and approved by the other finance
    user, the second asked by the village clerk and approved by the county office."""
    failed = list(db.session.scalars(select(Payment).where(
        Payment.batch_id == batch.id, Payment.status == "failed").order_by(Payment.seq)))
    pairs = [(cast.finance, cast.checker), (None, cast.county_user)]
    asked = []
    with _on(plan.day(25), 10):
        for payment, (requester, _) in zip(failed, pairs):
            hh = payment.household
            bank, account = _new_account(rng)
            asked.append(corrections.request_correction(hh, {
                "bank_name": bank, "bank_account": account,
                "account_holder": hh.account_holder if hh.holder_exception_reason
                else hh.head_name, "luhn_confirmed": False, "reason": _CORRECTION},
                requester or cast.of("clerk", hh.village_id)))
    with _on(plan.day(26), 11):
        for correction, (_, approver) in zip(asked, pairs):
            corrections.approve_correction(correction, approver, "已核对新银行卡复印件")
    return len(asked)


def _repay(rng: random.Random, cast: Cast, plan: Plan) -> None:
    with _on(plan.day(27), 10):
        batch = _batch(cast, repay=True, note="退票补发")
    with _on(plan.day(27), 16):
        batches.approve(batch, cast.checker)
    with _on(plan.day(28), 9):
        bankfiles.bank_file(batch, "csv", cast.finance)
    with _on(plan.day(31), 15):
        _results(rng, cast, batch, plan.day(30))


# --- today --------------------------------------------------------------------------------------
def _waiting_batches(cast: Cast) -> None:
    """The townships whose confirmed cases wait since last autumn: a batch made and dropped
    (its cases are confirmed again and wait for the next one), a draft, an approved batch and
    an exported one (the bank has the file, no results yet)."""
    for n, township_id in enumerate(_confirmed_townships()[:len(WAITING)]):
        batch = _batch(cast, township_id=township_id)
        if WAITING[n] == "dropped":
            batches.drop_batch(batch, cast.finance, "乡镇反映花名册中一户门牌号待核实，重新造册")
        if WAITING[n] in ("approved", "exported"):
            batches.approve(batch, cast.checker)
        if WAITING[n] == "exported":
            bankfiles.bank_file(batch, "csv", cast.finance)


def _running(rng: random.Random, cast: Cast, plan: Plan) -> None:
    """The power and gas companies' usage files for the last season that has ended, with one
    near-zero figure each and one number the county does not know, imported by finance; then
    the season's running-subsidy batch, approved."""
    rows = db.session.execute(
        select(Household.conversion_type, Household.head_name, Installation.meter_no)
        .join(Installation, Installation.household_id == Household.id)
        .where(Household.state == "paid").order_by(Household.id)).all()
    imported = 0
    for utility, ctype, column in (("power", "electric", "电表号"), ("gas", "gas", "燃气户号")):
        mine = [r for r in rows if r.conversion_type == ctype]
        if not mine:
            continue
        low, high, mode = USAGE[ctype]
        lines = [[r.meter_no, r.head_name,
                  f"{Decimal(int(rng.triangular(low, high, mode) * 100)).scaleb(-2)}"]
                 for r in mine]
        lines[rng.randrange(len(lines))][2] = "3.50"  # near zero: to be followed up
        lines.append([("E" if ctype == "electric" else "G") + "9000000001", "", "812.00"])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows([[column, "户主姓名", "用量"], *lines])
        company = "供电公司" if utility == "power" else "燃气公司"
        preview = usage.upload(out.getvalue().encode("utf-8-sig"),
                               f"{company}{plan.season}采暖季用量.csv", utility=utility,
                               season=plan.season, county_id=cast.county.id, user=cast.finance)
        outcome = usage.confirm(preview, cast.finance)
        imported += outcome.imported is not None
    if imported:
        batch = _batch(cast, kind="running", season=plan.season)
        batches.approve(batch, cast.checker)


def _recoveries(rng: random.Random, cast: Cast) -> None:
    """回头看 findings on three paid cases, recorded today by their township's inspector (the
    county office where there is none): each opens a recovery of the equipment subsidy (the
    demo policies recover within 3 seasons).  The first stays open, the second is partly
    paid back, the third waits for the second finance user to approve a waiver."""
    paid = list(db.session.scalars(select(Household).where(Household.state == "paid")
                                   .order_by(Household.id)))
    findings = (("rebound", "入户核查发现旧燃煤炉具已重新安装并使用"),
                ("device_removed", "空气源热泵已拆除，户主称已出售"),
                ("rebound", "户主已故，房屋无人居住前曾复烧"))
    opened = []
    for case, (result, note) in zip(rng.sample(paid, min(len(paid), len(findings))), findings):
        visitor = cast.staff.get(("inspector", case.township_id), cast.county_user)
        visit = followups.record_follow_up(case, visitor, result=result,
                                           visited_on=local_today(), note=note)
        found = db.session.scalar(select(Recovery).where(Recovery.follow_up_id == visit.id))
        if found is not None:
            opened.append(found)
    if len(opened) > 1:
        part = opened[1]
        recoveries.receive(part, cast.finance, received_on=local_today(),
                           amount=Decimal(part.amount_fen // 3).scaleb(-2),
                           reference="SJ-2026-0001", note="户主首次退回")
    if len(opened) > 2:
        recoveries.request_waiver(opened[2], cast.finance, "户主已故，无遗产可供追回，申请核销")


# --- what was made --------------------------------------------------------------------------
def summary() -> str:
    """One line of counts for the demo-data output."""
    def counts(column: Any) -> str:
        rows = db.session.execute(select(column, func.count()).group_by(column)
                                  .order_by(column)).all()
        return ", ".join(f"{k} {n}" for k, n in rows) or "none"

    total = db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
        Payment.status == "paid")) or 0
    return (f"money: policies {db.session.scalar(select(func.count(SubsidyPolicy.id)))}; "
            f"notices {counts(Notice.state)}; objections {counts(Objection.outcome)}; "
            f"batches {counts(PayoutBatch.state)}; payments {counts(Payment.status)} "
            f"({format_fen(total)} yuan paid); usage records "
            f"{db.session.scalar(select(func.count(UsageRecord.id)))}; recoveries "
            f"{counts(Recovery.state)}")
