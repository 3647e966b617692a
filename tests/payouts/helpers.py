"""Test data for payouts, independent of the publicity services: a notice with frozen entries
written directly, cases placed in ``confirmed`` directly (like ``make_case(state=...)``), a
bank result file built from a batch's payments."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import func, insert, select

from heating.areas.models import Area
from heating.auth.models import User
from heating.core.lookup import keyed_hash
from heating.core.masking import mask_id, mask_name
from heating.extensions import db
from heating.households.models import Household
from heating.payouts import services
from heating.payouts.models import Payment, PayoutBatch
from heating.publicity.models import Notice, NoticeEntry
from heating.subsidies.models import SubsidyPolicy
from tests.factories import luhn_account, make_id_number
from tests.fixtures import make_case

_counter = {"notice": 0}


def policy(county: Area, creator: User) -> SubsidyPolicy:
    found = db.session.scalar(select(SubsidyPolicy).where(SubsidyPolicy.county_id == county.id))
    if found:
        return found
    pol = SubsidyPolicy(county_id=county.id, programme_year=2026, conversion_type="electric",
                        device_kind="", version=1, name="测试政策", equipment_method="invoice_rate",
                        equipment_rate_e4=8500, equipment_cap_fen=740000, seasons=3,
                        effective_from=date(2026, 1, 1), created_by_id=creator.id)
    db.session.add(pol)
    db.session.flush()
    return pol


def notice_for(village: Area, creator: User) -> Notice:
    _counter["notice"] += 1
    township = village.parent
    notice = Notice(number=f"GS-T-{_counter['notice']:05d}-{village.id}", title="公示",
                    village_id=village.id, township_id=township.id,
                    county_id=township.parent_id, programme_year=2026, state="closed",
                    period_days=7, starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 7),
                    objection_phone="0310-1234567", issuing_office="东河镇人民政府",
                    published_by_id=creator.id)
    db.session.add(notice)
    db.session.flush()
    return notice


def confirm(hh: Household, amount_fen: int, creator: User, notice: Notice | None = None
            ) -> NoticeEntry:
    """A confirmed NoticeEntry for ``hh`` (which is placed in ``confirmed``)."""
    notice = notice or notice_for(hh.village, creator)
    pol = policy(db.session.get(Area, hh.county_id), creator)
    entry = NoticeEntry(notice_id=notice.id, household_id=hh.id, seq=hh.id, state="confirmed",
                        masked_name=mask_name(hh.head_name), masked_id=mask_id(hh.id_number),
                        village_name=hh.village.name, conversion_type=hh.conversion_type,
                        device_kind=hh.device_kind, amount_fen=amount_fen,
                        explanation="测试", inputs={}, policy_id=pol.id,
                        case_version=hh.version)
    hh.state = "confirmed"
    db.session.add(entry)
    db.session.commit()
    return entry


def confirmed_case(village: Area, creator: User, amount_fen: int = 680000, **kw: Any
                   ) -> Household:
    hh = make_case(village, creator, state="confirmed", **kw)
    confirm(hh, amount_fen, creator)
    return hh


def bulk_confirmed(village: Area, creator: User, n: int, amount_fen: int = 680000,
                   start: int = 100_000) -> list[int]:
    """``n`` confirmed cases with entries, inserted in bulk (benchmarks, concurrency)."""
    township = village.parent
    notice = notice_for(village, creator)
    pol = policy(township.parent, creator)
    rows = []
    for i in range(start, start + n):
        idn, acct = make_id_number(i), luhn_account(i)
        name = f"王{'建国明华丽'[i % 5]}{'一二三四五六七八九'[i % 9]}"
        rows.append({"programme_year": 2026, "state": "confirmed", "version": 1,
                     "village_id": village.id, "township_id": township.id,
                     "county_id": township.parent_id, "head_name": name, "_id_number": idn,
                     "id_hash": keyed_hash("id", idn), "phone": f"139{i:08d}",
                     "group_name": "1组", "house_no": f"{i}号", "residents": 3,
                     "heated_area": Decimal("80.00"), "previous_heating": "coal_stove", "coal_stoves": 1,
                     "low_income": False, "conversion_type": "electric",
                     "device_kind": "heat_pump", "bank_name": "农村信用社",
                     "_bank_account": acct, "bank_hash": keyed_hash("bank", acct),
                     "account_holder": name, "luhn_confirmed": False,
                     "created_by_id": creator.id})
    table = Household.__table__
    last = db.session.scalar(select(func.max(Household.id))) or 0
    db.session.execute(insert(table), [
        {("id_number" if k == "_id_number" else "bank_account" if k == "_bank_account"
          else k): v for k, v in r.items()} for r in rows])
    ids = list(db.session.scalars(select(Household.id).where(Household.id > last)
                                  .order_by(Household.id)))
    db.session.execute(insert(NoticeEntry.__table__), [
        {"notice_id": notice.id, "household_id": hid, "seq": k, "state": "confirmed",
         "masked_name": "王*", "masked_id": "139901********0000", "village_name": village.name,
         "conversion_type": "electric", "device_kind": "heat_pump", "amount_fen": amount_fen,
         "explanation": "测试", "inputs": {}, "policy_id": pol.id, "case_version": 1}
        for k, hid in enumerate(ids, start=1)])
    db.session.commit()
    return ids


def batch(actor: User, **kw: Any) -> PayoutBatch:
    kw.setdefault("kind", "equipment")
    kw.setdefault("idempotency_key", services.new_idempotency_key())
    made = services.create_batch(actor, **kw)
    db.session.commit()
    return made


def result_csv(payments: Iterable[Payment], *, failed: dict[int, str] | None = None,
               paid_on: str = "2026-03-02", amount: dict[int, str] | None = None,
               extra: list[list[str]] | None = None) -> bytes:
    """The bank's result file for ``payments``; ``failed`` maps payment ids to reasons."""
    failed, amount = failed or {}, amount or {}
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["付款参考号", "金额", "状态", "失败原因", "到账日期"])
    for p in payments:
        fen = amount.get(p.id, f"{p.amount_fen / 100:.2f}")
        if p.id in failed:
            w.writerow([p.reference, fen, "失败", failed[p.id], ""])
        else:
            w.writerow([p.reference, fen, "成功", "", paid_on])
    for line in extra or []:
        w.writerow(line)
    return out.getvalue().encode("utf-8-sig")


def live_payments(batch: PayoutBatch) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(
        Payment.batch_id == batch.id, Payment.status != "voided").order_by(Payment.seq)))
