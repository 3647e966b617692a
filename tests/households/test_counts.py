"""household_counts, kept by database triggers, always equals a GROUP BY over households."""
from __future__ import annotations

from sqlalchemy import func, select, update

from heating.extensions import db
from heating.households import queries, services
from heating.households.models import Household, HouseholdCount
from tests.fixtures import make_case, make_user


def truth() -> dict:
    rows = db.session.execute(select(
        Household.village_id, Household.programme_year, Household.conversion_type,
        Household.state, func.count()).group_by(
        Household.village_id, Household.programme_year, Household.conversion_type,
        Household.state)).all()
    return {tuple(r[:4]): r[4] for r in rows}


def kept() -> dict:
    rows = db.session.execute(select(
        HouseholdCount.village_id, HouseholdCount.programme_year,
        HouseholdCount.conversion_type, HouseholdCount.state, HouseholdCount.n)).all()
    return {tuple(r[:4]): r[4] for r in rows if r[4]}


def test_counts_follow_inserts_moves_and_corrections(app, world):
    clerk = make_user("clerk", world.village_a1, world.village_a2, world.village_b1)
    reviewer = make_user("reviewer", world.town_a)
    cases = [make_case(v, clerk, conversion_type=t, device_kind=k, programme_year=y)
             for v in (world.village_a1, world.village_a2, world.village_b1)
             for t, k in (("gas", "gas_boiler"), ("electric", "heat_pump"))
             for y in (2025, 2026)]
    assert kept() == truth() and sum(truth().values()) == 12
    for hh in cases[:4]:
        services.transition(hh, "submit", clerk)
    services.transition(cases[0], "return", reviewer, "缺材料")
    services.transition(cases[1], "approve", reviewer)
    services.transition(cases[2], "withdraw", clerk, "不改了")
    db.session.commit()
    assert kept() == truth()
    # a correction that moves a case to another village and type
    db.session.execute(update(Household).where(Household.id == cases[5].id).values(
        village_id=world.village_b1.id, township_id=world.town_b.id, conversion_type="gas",
        device_kind="gas_boiler"))
    db.session.commit()
    assert kept() == truth()


def test_list_counts_use_the_kept_table(app, world):
    clerk = make_user("clerk", world.village_a1)
    for _ in range(3):
        make_case(world.village_a1, clerk)
    county = make_user("county", world.county)
    f = queries.Filters(township=world.town_a.id)
    assert queries.counts_by_state(county, f) == {"draft": 3}
    assert queries.counts_by_state(county, queries.Filters(township=world.town_b.id)) == {}
    assert queries.counts_by_state(make_user("clerk", world.village_b1), queries.Filters()) == {}


def test_counts_follow_bulk_statements(app, world):
    """One statement moving many cases across villages and states at once (the payout batch's
    bulk moves; statement-level triggers on PostgreSQL): the kept counts still equal the
    GROUP BY, including keys whose net change is zero."""
    clerk = make_user("clerk", world.village_a1, world.village_a2, world.village_b1)
    cases = [make_case(v, clerk) for v in (world.village_a1, world.village_a2,
                                           world.village_b1) for _ in range(4)]
    ids = [hh.id for hh in cases]
    db.session.execute(update(Household).where(Household.id.in_(ids[::2]))
                       .values(state="submitted"))
    db.session.commit()
    assert kept() == truth()
    # swap states in one statement: per village, as many leave "draft" as enter it
    db.session.execute(update(Household).where(Household.id.in_(ids)).values(
        state=func.coalesce(None, Household.state).op("||")("")))  # no-op rewrite of every row
    db.session.execute(update(Household).where(Household.id.in_(ids[:6])).values(
        village_id=world.village_b1.id, township_id=world.town_b.id))
    db.session.commit()
    assert kept() == truth()
    db.session.execute(update(Household).where(Household.id.in_(ids)).values(state="approved"))
    db.session.commit()
    assert kept() == truth() and sum(truth().values()) == 12
