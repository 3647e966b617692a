"""Test data for recoveries: cases whose equipment subsidy was paid through the real batch
flow (maker, checker, bank file, bank results with a chosen value date)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from heating.areas.models import Area
from heating.extensions import db
from heating.households.models import Household
from heating.inspections import followups
from heating.payouts import bankfiles, batches, reconcile
from heating.payouts.recovery_models import Recovery
from tests.fixtures import make_user
from tests.payouts.helpers import batch, confirmed_case, live_payments, policy, result_csv


@dataclass
class People:
    clerk: Any
    inspector: Any
    maker: Any  #: finance: makes batches, records receipts, asks for waivers
    checker: Any  #: finance: approves batches and waivers
    county: Any


def people(world: Any) -> People:
    return People(make_user("clerk", world.village_a1, username="rc_clerk"),
                  make_user("inspector", world.town_a, world.town_b, username="rc_insp"),
                  make_user("finance", world.county, username="rc_maker"),
                  make_user("finance", world.county, username="rc_checker"),
                  make_user("county", world.county, username="rc_county"))


def set_recovery(county: Area, creator: Any, seasons: int | None) -> None:
    pol = policy(county, creator)
    pol.recovery_seasons = seasons
    db.session.commit()


def paid_cases(world: Any, p: People, amounts: list[tuple[Area, int]],
               paid_on: date = date(2026, 1, 10)) -> list[Household]:
    """Confirmed cases of ``amounts`` (village, fen), paid in one batch on ``paid_on``."""
    cases = [confirmed_case(village, p.clerk, fen) for village, fen in amounts]
    made = batch(p.maker)
    batches.approve(made, p.checker)
    bankfiles.bank_file(made, "csv", p.maker)
    report = reconcile.import_results(made, result_csv(live_payments(made),
                                                       paid_on=paid_on.isoformat()),
                                      "r.csv", p.maker)
    assert report.ok, (report.file_error, report.problems)
    db.session.commit()
    for hh in cases:
        db.session.refresh(hh)
        assert hh.state == "paid"
    return cases


def visit(case: Household, actor: Any, result: str, on: date, note: str = "旧炉具复烧") -> None:
    followups.record_follow_up(case, actor, result=result, visited_on=on,
                               note=None if result == "ok" else note)
    db.session.commit()


def recoveries_of(case: Household) -> list[Recovery]:
    return list(db.session.scalars(select(Recovery).where(Recovery.household_id == case.id)
                                   .order_by(Recovery.id)))
