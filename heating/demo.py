"""Demo data: a fictional county with staff for every role and households in every state the
screens reach so far (draft … approved, withdrawn, cancelled).

Everything is made up: the county code 139901 belongs to no real prefecture (13 99 is not
issued), township and village names are built from syllable lists, people's names from common
surnames and given-name characters, ID numbers by the published GB 11643 algorithm.  The same
seed gives the same people, numbers, states and event chains; times are the same offsets
from the last midnight (Beijing time), so a demo built today ends yesterday evening.

Rows are written in bulk (SQLAlchemy Core, in chunks) but each one is a row the services could
have written: every case has a legal event chain from ``lifecycle.TRANSITIONS`` made by staff
who hold an allowed role over its village, and the audit rows ``transition()`` and
``create_household()`` would have added, with masks and hash prefixes only.  Case events and
audit rows are inserted in time order across all cases, so their ids follow time as in real use.
"""
from __future__ import annotations

import bisect
import functools
import heapq
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

import click
from flask import current_app
from sqlalchemy import func, insert, select, text

from heating.areas.models import Area, AreaTarget
from heating.audit.models import AuditEvent
from heating.auth.models import RoleGrant, User
from heating.auth.services import hash_password
from heating.core.db import now_utc
from heating.core.i18n import local_today
from heating.core.ids import id_check_char, luhn_ok
from heating.core.lookup import keyed_hash
from heating.core.masking import mask_bank, mask_id, mask_phone
from heating.core.redact import redact
from heating.extensions import db
from heating.households import lifecycle
from heating.households.models import DEVICE_KINDS_BY_TYPE, CaseEvent, Household

DEMO_PASSWORD = "demo-pass-2026"
COUNTY_CODE, COUNTY_NAME = "139901000000", "示范县"
TOWNSHIPS, VILLAGES = 10, 200
CHUNK = 2000
DAY = 86400
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, no daylight saving

# --- name material (generated combinations, not taken from any gazetteer) ---------------------
_PLACE_1 = "青禾柳松栗杏桐芦槐榆桑梨枣麦兰岚霞鹤雁鹿燕碧翠丹苇菱荷稻黍椿楸蒲杞芹茅"
_PLACE_2 = "溪泉岭塘坡湾川屯峪洼台营庄堡桥沟坪园店寨岗田滩垣"
#: common surnames, the most frequent repeated so that they come up as often as in a register
_SURNAMES = ("王" * 30 + "李" * 28 + "张" * 27 + "刘" * 22 + "陈" * 18 + "杨" * 12 + "赵" * 10
             + "黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏"
             + "卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔"
             + "康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
_MALE = "建国明华军伟强平东海志文勇杰涛斌刚辉鹏林峰磊成福贵忠庆宝山春生德荣金永立新喜旺树发保全"
_FEMALE = "秀英兰芳丽敏静霞红玉梅凤琴燕桂萍珍娟云莲华艳翠芬娥香月雪淑荣春素爱"
_RARE = "堃喆昇赟珺䶮"  # rare characters the PDF fonts must cover (TECH-NOTES)
_PHONE_PREFIXES = ("130 131 132 133 134 135 136 137 138 139 150 151 152 155 156 157 158 159 "
                   "176 177 178 180 181 182 183 185 186 187 188 189 198 199").split()
#: (bank, weight, fictional 6-digit card prefix)
_BANKS = (("中国农业银行", 30, "622848"), ("中国邮政储蓄银行", 25, "621799"),
          ("农村商业银行", 20, "623199"), ("农村信用合作社", 15, "622991"),
          ("中国建设银行", 5, "621700"), ("中国工商银行", 5, "622202"))
_RETURN = ("门牌号与户口簿不一致，请核对后重新提交", "银行卡复印件不清晰，请重新上传",
           "供暖面积与现场不符，请复核", "缺少户主签字的申请表", "身份证复印件缺失")
_WITHDRAW = ("户主申请撤销：已自行安装取暖设备", "农户自愿放弃改造", "房屋计划翻建，本年度暂不改造",
             "全家外出务工，冬季不在村居住")
_HOLDER = ("户主已去世，补贴由配偶{}领取（村委会证明已存档）",
           "户主长期卧床无法办卡，由子女{}代领（经县级审批）")
_REREGISTER = "户主申请撤销：登记信息有误，将重新登记"
_CANCEL = ("户主已去世，户籍已注销", "房屋已列入拆迁范围", "经核查为空置房，不符合补贴条件",
           "经核查此前已享受过补贴")

#: final states and their weights (current programme year; the previous year is mostly done)
STATE_MIX = {"draft": 22.7, "submitted": 28.1, "returned": 5.3, "approved": 35.3,
             "withdrawn": 4.3, "cancelled": 4.3}
PREVIOUS_YEAR_MIX = {"submitted": 2, "returned": 3, "approved": 75, "withdrawn": 10,
                     "cancelled": 10}
PREVIOUS_YEAR_SHARE = 0.12
#: creation window (days before the build) by final state, so that the newest cases are the drafts
_WINDOW = {"draft": (0.1, 60), "submitted": (1, 90), "returned": (3, 100), "approved": (8, 150),
           "withdrawn": (5, 150), "cancelled": (5, 150), "previous": (395, 560)}
#: where a case stood when it was withdrawn or cancelled
_BEFORE_END = {"withdrawn": {"draft": 40, "submitted": 25, "returned": 15, "approved": 20},
               "cancelled": {"draft": 20, "submitted": 30, "returned": 10, "approved": 40}}
#: staff added after the first demo: (username, roles over the county)
ADDED_STAFF = (("finance02", ("finance",)),)
#: (action, days later: min, max) for the moves of each path
_STEPS = {"submit": (0, 6), "return": (1, 5), "resubmit": (1, 6), "approve": (1, 8),
          "withdraw": (1, 20), "cancel": (2, 25)}


@dataclass
class Village:
    id: int
    code: str
    name: str
    township: Area
    clerk_ids: list[int] = field(default_factory=list)


@dataclass
class Staff:
    names: dict[int, str]  # user id → username
    county_id: int
    reviewers: dict[int, list[int]]  # township id → reviewer user ids


@dataclass
class Person:
    name: str
    id_number: str
    phone: str
    bank: str
    account: str
    village: int  # index into the village list
    group: str
    house: str


# --- the entry points --------------------------------------------------------------------------
def build_demo(households: int, seed: int, echo: Callable[[str], Any]) -> None:
    """Build the county, its staff and ``households`` cases in one transaction, then commit."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = int(now_utc().timestamp())
    midnight = (now + LOCAL_OFFSET) // DAY * DAY - LOCAL_OFFSET
    setup = midnight - 600 * DAY
    year = local_today().year
    county, villages, weights = _build_areas(rng, households, year, setup)
    staff = _build_users(rng, county, villages, setup)
    echo(f"{COUNTY_NAME}: {TOWNSHIPS} townships, {len(villages)} villages, "
         f"{len(staff.names)} users")
    maker = CaseMaker(rng, villages, weights, staff, year, midnight)
    _write_cases(maker, households, echo)
    db.session.commit()
    # fresh statistics after a bulk load, so the planners choose indexes on real numbers
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    echo(f"{households} households written in {time.perf_counter() - started:.1f} s")


def demo_logins() -> list[str]:
    """Printable lines: the demo password and a login for each role, read from the database."""
    wanted = ("admin", "county", "auditor", "finance", "finance02", "reviewer01", "inspector01",
              "reviewer_inspector", "clerk001")
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(wanted)))}
    if not users:
        return []
    lines = [f"Demo logins (password for every demo user: {DEMO_PASSWORD})"]
    for name in wanted:
        user = users.get(name)
        if user is None:
            continue
        by_area: dict[str, list[str]] = {}
        for grant in user.grants:
            area = grant.area
            label = f"{area.parent.name} {area.name}" if area.level == "village" else area.name
            by_area.setdefault(label, []).append(grant.role)
        held = "; ".join(f"{' + '.join(roles)} over {label}" for label, roles in by_area.items())
        lines.append(f"  {name:<20}{held}")
    lines.append("  " + _clerk_cover())
    lines.append("  reviewer01 …, inspector01 …: one of each for every township, in code order")
    return lines


def _clerk_cover() -> str:
    """How the demo's clerks cover the villages: every village has one, some clerks serve
    two or three small neighbouring villages (as in a real county)."""
    clerk_grants = (select(RoleGrant.user_id, RoleGrant.area_id)
                    .where(RoleGrant.role == "clerk").subquery())
    clerks, villages = db.session.execute(select(
        func.count(func.distinct(clerk_grants.c.user_id)),
        func.count(func.distinct(clerk_grants.c.area_id)))).one()
    total = db.session.scalar(select(func.count(Area.id)).where(Area.level == "village"))
    last = db.session.scalar(select(User.username).where(User.username.like("clerk%"))
                             .order_by(User.username.desc()).limit(1))
    uncovered = f"; {total - villages} village(s) without a clerk" if villages < total else ""
    return (f"clerk001 … {last}: {clerks} clerks cover all {villages} villages (one to three "
            f"villages each){uncovered}")


# --- areas and staff -------------------------------------------------------------------------
def _place_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names = []
    while len(names) < count:
        name = rng.choice(_PLACE_1) + rng.choice(_PLACE_2)
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _build_areas(rng: random.Random, households: int, year: int, at: int
                 ) -> tuple[Area, list[Village], list[float]]:
    when = _ts(at)
    county = Area(code=COUNTY_CODE, name=COUNTY_NAME, level="county", code_year=year,
                  created_at=when, updated_at=when)
    sizes = [VILLAGES // TOWNSHIPS] * TOWNSHIPS
    for _ in range(TOWNSHIPS * 2):  # uneven townships, same total
        a, b = rng.randrange(TOWNSHIPS), rng.randrange(TOWNSHIPS)
        if a != b and sizes[a] > 14 and sizes[b] < 26:
            sizes[a], sizes[b] = sizes[a] - 1, sizes[b] + 1
    taken: set[str] = set()
    town_names = _place_names(rng, TOWNSHIPS, taken)
    areas, villages = [county], []
    for t, (size, name) in enumerate(zip(sizes, town_names), start=1):
        suffix = "镇" if rng.random() < 0.6 else "乡"
        town = Area(code=f"{COUNTY_CODE[:6]}{t:03d}000", name=name + suffix, level="township",
                    parent=county, code_year=year, created_at=when, updated_at=when)
        areas.append(town)
        for v, vname in enumerate(_place_names(rng, size, taken), start=1):
            village = Area(code=f"{COUNTY_CODE[:6]}{t:03d}{v:03d}", name=vname + "村",
                           level="village", parent=town, code_year=year, created_at=when,
                           updated_at=when)
            areas.append(village)
            villages.append(Village(0, village.code, village.name, town))
    db.session.add_all(areas)
    db.session.flush()
    for village, area in zip(villages, [a for a in areas if a.level == "village"]):
        village.id = area.id
    weights = [rng.uniform(0.5, 1.5) for _ in villages]
    targets = _split(households, weights)
    by_town: dict[int, int] = {}
    for village, target in zip(villages, targets):
        by_town[village.township.id] = by_town.get(village.township.id, 0) + target
    rows = [(county.id, households)] + list(by_town.items()) + [
        (v.id, n) for v, n in zip(villages, targets)]
    db.session.add_all(AreaTarget(area_id=a, programme_year=year, target=n,
                                  effective_from=date(year, 1, 1), set_at=when)
                       for a, n in rows)
    db.session.add(AuditEvent(at=when, actor_id=None, actor_name="system", action="areas.loaded",
                              object_type="area", object_id=None, summary=(
                                  f"created {len(areas)}, updated 0, retired 0, "
                                  f"targets {len(rows)}")))
    return county, villages, weights


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder: the parts add up)."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])[:total - sum(parts)]:
        parts[i] += 1
    return parts


def person_name(rng: random.Random, male: bool) -> str:
    surname = (rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.004
               else rng.choice(_SURNAMES))
    chars = _MALE if male else _FEMALE
    if rng.random() < 0.003:
        chars = _RARE
    given = rng.choice(chars) + (rng.choice(_MALE if male else _FEMALE)
                                 if rng.random() < 0.7 else "")
    return surname + given


def _staff_plan(rng: random.Random, county: Area, villages: list[Village]
                ) -> list[tuple[str, list[tuple[str, int]]]]:
    """(username, [(role, area id)]) for everyone: county staff, a reviewer and an inspector
    per township (in the first also a staffer holding both), a clerk for every village."""
    towns = sorted({v.township.id: v.township for v in villages}.values(), key=lambda a: a.code)
    plan = [(role, [(role, county.id)]) for role in ("admin", "county", "auditor", "finance")]
    for n, town in enumerate(towns, start=1):
        plan.append((f"reviewer{n:02d}", [("reviewer", town.id)]))
        plan.append((f"inspector{n:02d}", [("inspector", town.id)]))
    plan.append(("reviewer_inspector", [("reviewer", towns[0].id), ("inspector", towns[0].id)]))
    first_two = {towns[0].id, towns[1].id}
    i, n = 0, 0
    while i < len(villages):  # one village a clerk in the first two townships, else 2 or 3
        take = 1 if villages[i].township.id in first_two else rng.choice((2, 2, 3))
        group = [v for v in villages[i:i + take] if v.township.id == villages[i].township.id]
        n += 1
        plan.append((f"clerk{n:03d}", [("clerk", v.id) for v in group]))
        i += len(group)
    return plan


def _build_users(rng: random.Random, county: Area, villages: list[Village], at: int) -> Staff:
    """Users and grants as ``auth.services.create_user`` / ``grant_role`` write them, audit
    rows included (one password hash shared by all: hashing per user would cost seconds)."""
    plan = _staff_plan(rng, county, villages)
    password = hash_password(DEMO_PASSWORD)
    when = _ts(at)
    users = [User(username=name, display_name=person_name(rng, rng.random() < 0.6),
                  password_hash=password, must_change_password=False, failed_logins=0,
                  active=True, created_at=when, updated_at=when) for name, _ in plan]
    # a second finance user checks the first one's batches (maker–checker); staff added since
    # the first demo draw their names from their own generator, so a seed keeps its county
    for name, grants in ADDED_STAFF:
        plan.append((name, [(role, county.id) for role in grants]))
        users.append(User(username=name, display_name=person_name(random.Random(name), False),
                          password_hash=password, must_change_password=False, failed_logins=0,
                          active=True, created_at=when, updated_at=when))
    db.session.add_all(users)
    db.session.flush()
    audit: list[dict[str, Any]] = []
    for user, (name, grants) in zip(users, plan):
        audit.append(_audit(at + 1 + len(audit), None, "user.created", user.id, name,
                            after={"username": name, "display_name": user.display_name},
                            object_type="user"))
        for role, area_id in grants:
            db.session.add(RoleGrant(user_id=user.id, role=role, area_id=area_id))
            audit.append(_audit(at + 1 + len(audit), None, "user.role_granted", user.id,
                                f"{name}: {role} @ area {area_id}",
                                after={"role": role, "area_id": area_id}, object_type="user"))
    db.session.flush()
    db.session.execute(insert(AuditEvent.__table__), audit)
    ids = {u.username: u.id for u in users}
    by_village = {v.id: v for v in villages}
    reviewers: dict[int, list[int]] = {}
    for name, grants in plan:
        for role, area_id in grants:
            if role == "clerk":
                by_village[area_id].clerk_ids.append(ids[name])
            elif role == "reviewer":
                reviewers.setdefault(area_id, []).append(ids[name])
    return Staff({u.id: u.username for u in users}, ids["county"], reviewers)


def _dump(values: dict[str, Any] | None) -> str | None:
    """As ``audit.services.record`` serialises before/after (with its redaction pass)."""
    if values is None:
        return None
    if len(values) == 1 and "state" in values:  # a transition's before/after: a few only
        return _dump_state(values["state"])
    return redact(json.dumps(values, ensure_ascii=False, sort_keys=True, default=str))


#: summaries repeat (reasons, user names): redact each distinct one once
_redact_summary = functools.lru_cache(maxsize=4096)(redact)


@functools.lru_cache(maxsize=None)
def _dump_state(state: str) -> str:
    return redact(json.dumps({"state": state}, ensure_ascii=False, sort_keys=True))


def _audit(at: int, actor: tuple[int, str] | None, action: str, object_id: int, summary: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           object_type: str = "household") -> dict[str, Any]:
    return {"at": _ts(at), "actor_id": actor[0] if actor else None,
            "actor_name": actor[1] if actor else "system", "action": action,
            "object_type": object_type, "object_id": str(object_id),
            "summary": _redact_summary(summary),
            "before": _dump(before), "after": _dump(after), "ip": None}


# --- households --------------------------------------------------------------------------------
class CaseMaker:
    """Seed-deterministic people and case histories; knows nothing of the database."""

    def __init__(self, rng: random.Random, villages: list[Village], weights: list[float],
                 staff: Staff, year: int, until: int) -> None:
        self.rng, self.villages, self.staff, self.year = rng, villages, staff, year
        #: every moment lies before this midnight: what happens after it does not depend on the
        #: time of day the demo is built, so a seed always draws the same numbers
        self.until = until
        self.cum_weights = list(_accumulate(weights))
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.accounts: set[str] = set()
        self.houses = [0] * len(villages)
        self.reregister: dict[int, Person] = {}  # slot → a withdrawn case's person, re-registered

    def slots(self, n: int) -> list[tuple[int, str, int]]:
        """(creation time, final state, programme year) for n cases, oldest first."""
        rng, out = self.rng, []
        for _ in range(n):
            previous = rng.random() < PREVIOUS_YEAR_SHARE
            mix = PREVIOUS_YEAR_MIX if previous else STATE_MIX
            state = rng.choices(list(mix), list(mix.values()))[0]
            low, high = _WINDOW["previous" if previous else state]
            created = _office_hours(rng, self.until - int(rng.uniform(low, high) * DAY))
            out.append((created, state, self.year - previous))
        out.sort()
        return out

    def person(self) -> Person:
        rng = self.rng
        village = bisect.bisect(self.cum_weights, rng.random() * self.cum_weights[-1])
        village = min(village, len(self.villages) - 1)
        male = rng.random() < 0.75  # heads of household are mostly men in the registers
        while True:
            born = self.year - int(rng.triangular(25, 88, 60))
            day = rng.randrange(365)
            birth = datetime(born, 1, 1) + timedelta(days=day)
            area = "139901" if rng.random() < 0.9 else f"1399{rng.randint(2, 5):02d}"
            first17 = f"{area}{birth:%Y%m%d}{rng.randrange(500) * 2 + male:03d}"
            if first17 not in self.ids:
                self.ids.add(first17)
                break
        phone = _unique(self.phones, lambda: rng.choice(_PHONE_PREFIXES)
                        + f"{rng.randrange(10 ** 8):08d}")
        bank, _, prefix = rng.choices(_BANKS, [b[1] for b in _BANKS])[0]
        account = _unique(self.accounts, lambda: _luhn_complete(
            prefix + f"{rng.randrange(10 ** 12):012d}"))
        if rng.random() < 0.01:  # a social-security card account that fails the check digit
            account = account[:-1] + str((int(account[-1]) + 1) % 10)
        self.houses[village] += rng.randint(1, 3)
        house = self.houses[village]
        return Person(person_name(rng, male), first17 + id_check_char(first17), phone, bank,
                      account, village, f"{house // 30 + 1}组", f"{house}号")

    def case(self, slot: int, created: int, state: str, year: int,
             times: list[int]) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
        """One household row (in its final state) and its history: (time, action, from, to,
        actor, reason) per move, and an ``"exception"`` entry for a county holder exception."""
        person = self.reregister.pop(slot, None)
        if person is not None and state in lifecycle.INACTIVE_STATES:
            state = "submitted"  # the re-registration itself stays active
        person = person or self.person()
        village = self.villages[person.village]
        clerk = self.rng.choice(village.clerk_ids)
        row = self._registration(person, village, clerk, year)
        history = self._history(row, created, state, village, clerk)
        for at, action, _, _, actor, why in history:
            if action in ("submit", "resubmit"):
                row["submitted_at"] = _ts(at)
            elif action == "approve":
                row["approved_at"], row["approved_by_id"] = _ts(at), actor
            elif action == "exception":
                row["holder_exception_reason"] = why
                row["holder_exception_by_id"], row["holder_exception_at"] = actor, _ts(at)
        # the ORM's version counter: 1 at creation, +1 for each later change of the row
        moves = [move for move in history if move[1] != "exception"]
        row.update(state=history[-1][3] or state, version=len(history),
                   created_at=_ts(created), updated_at=_ts(history[-1][0]),
                   state_since=_ts(moves[-1][0]), confirmed_at=None)
        if history[-1][5] == _REREGISTER:  # the same person again, after this withdrawal
            later = bisect.bisect(times, history[-1][0] + DAY, lo=slot + 1)
            while later < len(times) and later in self.reregister:
                later += 1
            if later < len(times):
                self.reregister[later] = person
        return row, history

    def _registration(self, person: Person, village: Village, clerk: int, year: int
                      ) -> dict[str, Any]:
        """The household row as the clerk registers it (the column names of the table)."""
        rng = self.rng
        kind = rng.choices(("gas", "electric"), (40, 60))[0]
        holder = person.name
        if rng.random() < 0.005:  # another holder: needs the county's exception (history)
            holder = person_name(rng, rng.random() < 0.5)
        return {
            "programme_year": year, "village_id": village.id,
            "township_id": village.township.id, "county_id": village.township.parent_id,
            "head_name": person.name, "id_number": person.id_number, "phone": person.phone,
            "group_name": person.group, "house_no": person.house,
            "residents": rng.choices(range(1, 9), (8, 25, 22, 20, 13, 7, 3, 2))[0],
            "heated_area": Decimal(int(rng.triangular(30, 200, 85) * 100)).scaleb(-2),
            "previous_heating": rng.choices(("coal_stove", "coal_kang", "coal_boiler", "other"),
                                            (70, 15, 12, 3))[0],
            "coal_stoves": rng.choices((1, 2, 3), (55, 35, 10))[0],
            "low_income": rng.random() < 0.1, "conversion_type": kind,
            "device_kind": rng.choices(DEVICE_KINDS_BY_TYPE[kind],
                                       (1,) if kind == "gas" else (45, 25, 20, 10))[0],
            "bank_name": person.bank, "bank_account": person.account, "account_holder": holder,
            "luhn_confirmed": not luhn_ok(person.account), "holder_exception_reason": None,
            "holder_exception_by_id": None, "holder_exception_at": None,
            "created_by_id": clerk, "submitted_at": None, "approved_at": None,
            "approved_by_id": None}

    def _history(self, row: dict[str, Any], created: int, state: str, village: Village,
                 clerk: int) -> list[tuple[Any, ...]]:
        """The moves that bring a new draft to ``state``, by staff allowed to make them."""
        rng = self.rng
        reviewers = self.staff.reviewers[village.township.id]
        history: list[tuple[Any, ...]] = [(created, "create", None, "draft", clerk, None)]
        at, source = created, "draft"
        if row["account_holder"] != row["head_name"]:
            at += rng.randint(600, DAY)
            why = rng.choice(_HOLDER).format(row["account_holder"])
            history.append((at, "exception", None, None, self.staff.county_id, why))
        for action in self._path(state):
            at = _later(rng, at, *_STEPS[action])
            why = None
            if action in ("approve", "return"):
                actor = rng.choice(reviewers)
            elif action == "cancel":
                actor = rng.choice(reviewers + [self.staff.county_id])
            elif action == "withdraw" and not lifecycle.allows("edit_registration", source):
                actor = rng.choice(reviewers + [clerk])  # the township has the case
            else:
                actor = clerk
            if action == "return":
                why = rng.choice(_RETURN)
            elif action == "withdraw":
                why = _REREGISTER if rng.random() < 0.1 else rng.choice(_WITHDRAW)
            elif action == "cancel":
                why = rng.choice(_CANCEL)
            target = lifecycle.BY_ACTION[action].target
            history.append((at, action, source, target, actor, why))
            source = target
        return _fit_before(rng, history, self.until - 600)

    def _path(self, state: str) -> list[str]:
        rng = self.rng
        before = state
        if state in _BEFORE_END:
            weights = _BEFORE_END[state]
            before = rng.choices(list(weights), list(weights.values()))[0]
        detour = ["return", "resubmit"] if rng.random() < 0.18 else []
        path = {"draft": [], "submitted": ["submit"] + detour, "returned": ["submit", "return"],
                "approved": ["submit"] + detour + ["approve"]}[before]
        if state != before:
            path.append({"withdrawn": "withdraw", "cancelled": "cancel"}[state])
        return path


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def _unique(seen: set[str], make: Callable[[], str]) -> str:
    while True:
        value = make()
        if value not in seen:
            seen.add(value)
            return value


def _luhn_complete(body: str) -> str:
    """``body`` with the Luhn check digit appended (the digits left of it are doubled in turn)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def _office_hours(rng: random.Random, at: int) -> int:
    """A moment between 08:30 and 17:30 Beijing time on the day of ``at``."""
    local_day = (at + LOCAL_OFFSET) // DAY
    return local_day * DAY - LOCAL_OFFSET + rng.randint(8 * 3600 + 1800, 17 * 3600 + 1800)


def _later(rng: random.Random, at: int, min_days: int, max_days: int) -> int:
    """A moment min..max days after ``at``, in office hours when possible."""
    moment = _office_hours(rng, at + rng.randint(min_days, max_days) * DAY)
    return moment if moment > at else at + rng.randint(300, 7200)


def _fit_before(rng: random.Random, history: list[tuple[Any, ...]], limit: int
                ) -> list[tuple[Any, ...]]:
    """Squeeze a history that would run into the future to end between its start and
    ``limit``."""
    start, end = history[0][0], history[-1][0]
    if end <= limit:
        return history
    span = max(int((limit - start) * rng.uniform(0.4, 1.0)), len(history))
    return [(start + (at - start) * span // (end - start) + i, *rest)
            for i, (at, *rest) in enumerate(history)]


def _write_cases(maker: CaseMaker, n: int, echo: Callable[[str], Any]) -> None:
    """Insert households chunk by chunk; events and audit rows follow in global time order."""
    key = current_app.config["LOOKUP_KEY"]
    slots = maker.slots(n)
    times = [s[0] for s in slots]
    villages = {v.id: v.code for v in maker.villages}
    names = maker.staff.names
    pending: list[tuple[Any, ...]] = []  # heap of (time, seq, household id, move, snapshot)
    seq = 0
    progress = _Progress(n, echo)
    # ids given here so that events can refer to them without a RETURNING round trip per row
    next_id = (db.session.scalar(select(func.max(Household.id))) or 0) + 1
    for start in range(0, n, CHUNK):
        rows, histories = [], []
        for slot in range(start, min(start + CHUNK, n)):
            created, state, year = slots[slot]
            row, history = maker.case(slot, created, state, year, times)
            row["id_hash"] = keyed_hash("id", row["id_number"], key)
            row["bank_hash"] = keyed_hash("bank", row["bank_account"], key)
            rows.append(row)
            histories.append(history)
        ids = range(next_id, next_id + len(rows))
        next_id += len(rows)
        for hid, row in zip(ids, rows):
            row["id"] = hid
        db.session.execute(insert(Household.__table__), rows)
        for hid, row, history in zip(ids, rows, histories):
            snapshot = _snapshot(row, villages[row["village_id"]])
            for move in history:
                seq += 1
                heapq.heappush(pending, (move[0], seq, hid, move, snapshot))
        horizon = times[start + CHUNK] if start + CHUNK < n else None
        _flush_moves(pending, horizon, names)
        progress.update(len(rows))
    progress.finish()
    if db.engine.dialect.name == "postgresql":  # explicit ids do not advance the sequence
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('households', 'id'), "
                                "(SELECT max(id) FROM households))"))


def _flush_moves(pending: list[tuple[Any, ...]], horizon: int | None,
                 names: dict[int, str]) -> None:
    """Write the events and audit rows older than ``horizon`` (all when None), oldest first."""
    events, audit = [], []
    while pending and (horizon is None or pending[0][0] < horizon):
        at, _, hid, (_, action, source, target, actor, why), snapshot = heapq.heappop(pending)
        who = (actor, names[actor])
        if action == "exception":
            audit.append(_audit(at, who, "household.holder_exception", hid, why,
                                before={"holder_exception_reason": None},
                                after={"holder_exception_reason": why}))
            continue
        events.append({"household_id": hid, "action": action, "from_state": source,
                       "to_state": target, "actor_id": actor, "at": _ts(at), "reason": why})
        if action == "create":
            audit.append(_audit(at, who, "household.created", hid,
                                f"{snapshot['head_name']} @ {snapshot['village']}",
                                after=snapshot))
        else:
            audit.append(_audit(at, who, f"household.{action}", hid, why or "",
                                before={"state": source}, after={"state": target}))
    if events:
        db.session.execute(insert(CaseEvent.__table__), events)
    if audit:
        db.session.execute(insert(AuditEvent.__table__), audit)


def _snapshot(row: dict[str, Any], village_code: str) -> dict[str, Any]:
    """``Household.audit_snapshot()`` of the case as registered (a draft, no exception yet)."""
    return {"state": "draft", "programme_year": row["programme_year"], "village": village_code,
            "head_name": row["head_name"], "id_number": mask_id(row["id_number"]),
            "id_hash": row["id_hash"][:12], "phone": mask_phone(row["phone"]),
            "group_name": row["group_name"], "house_no": row["house_no"],
            "residents": row["residents"], "heated_area": str(row["heated_area"]),
            "previous_heating": row["previous_heating"], "coal_stoves": row["coal_stoves"],
            "low_income": row["low_income"], "conversion_type": row["conversion_type"],
            "device_kind": row["device_kind"], "bank_name": row["bank_name"],
            "bank_account": mask_bank(row["bank_account"]),
            "bank_hash": row["bank_hash"][:12], "account_holder": row["account_holder"],
            "holder_exception_reason": None}


class _Progress:
    """A click progress bar on a terminal, a line per 10 % through ``echo`` otherwise."""

    def __init__(self, total: int, echo: Callable[[str], Any]) -> None:
        self.total, self.done, self.echo, self.said = total, 0, echo, 0
        self.bar = (click.progressbar(length=total, label="households", show_pos=True)
                    if sys.stdout.isatty() and echo is click.echo else None)
        if self.bar is not None:
            self.bar.__enter__()

    def update(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.done * 10 // max(self.total, 1) > self.said:
            self.said = self.done * 10 // max(self.total, 1)
            self.echo(f"households: {self.done}/{self.total}")

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
