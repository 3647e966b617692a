"""Usage files → UsageRecords with the running subsidy (services): matching by meter for power
and gas, every exclusion reason, season numbers, cap and tapering rates from the policy, the
near-zero flag, once-only files and refused files (nothing written)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.payouts import usage
from heating.payouts.models import UsageImport, UsageRecord
from heating.payouts.usage.match import analyse, parse_usage
from tests.factories import AreaFactory
from tests.fixtures import make_user
from tests.payouts.usage_helpers import D, make_policy, paid_case, usage_csv, usage_xlsx

SEASON = "2025-2026"


@pytest.fixture
def people(world):
    clerk = make_user("clerk", world.village_a1, username="clerk1")
    inspector = make_user("inspector", world.town_a, username="insp1")
    finance = make_user("finance", world.county, username="fin1")
    county = make_user("county", world.county, username="cty1")
    return clerk, inspector, finance, county


def _rows(analysis):
    return {ln.number: ln for ln in analysis.lines}


def _upload(data, finance, world, utility="power", season=SEASON):
    return usage.upload(data, "用量.csv", utility=utility, season=season,
                        county_id=world.county.id, user=finance)


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_power_file_matches_electric_cases_by_meter_and_imports_records(app, world, people):
    clerk, inspector, finance, county = people
    policy = make_policy(world.county, county)
    a = paid_case(world.village_a1, clerk, inspector, "E1001")
    b = paid_case(world.village_a2, clerk, inspector, "E1002", head_name="欧阳丽娜")
    data = usage_csv([("e-1001", "3000", "王某"), ("E1002", "12000.5", ""), ("", "", "")])

    preview = _upload(data, finance, world)
    db.session.commit()
    assert preview.counts["matched"] == 2 and preview.counts["rows"] == 2  # blank row skipped
    assert preview.counts["total_fen"] == 60_000 + 200_000  # 3000×0.20; cap 10000×0.20
    shown = {r["n"]: r for r in preview.rows}
    assert shown[3]["nm"] == "欧**娜" and shown[3]["vl"] == "南岗村"
    assert "欧阳丽娜" not in json.dumps(preview.data, ensure_ascii=False)
    assert _count(UsageImport) == 0 and _count(UsageRecord) == 0  # nothing before confirming

    outcome = usage.confirm(usage.load_preview(preview.token, finance), finance)
    db.session.commit()
    imp = outcome.imported
    assert imp.matched_count == 2 and imp.row_count == 2 and imp.utility == "power"
    records = {r.household_id: r for r in db.session.scalars(select(UsageRecord))}
    assert set(records) == {a.id, b.id}
    ra, rb = records[a.id], records[b.id]
    assert (ra.amount_fen, ra.usage, ra.season, ra.season_no, ra.meter_no, ra.policy_id) == (
        60_000, D("3000.00"), SEASON, 1, "E1001", policy.id)
    assert ra.explanation == "按 3,000.00 千瓦时计，未超过 10,000 千瓦时上限，× 0.20 元/千瓦时 = 600.00 元"
    assert rb.amount_fen == 200_000 and rb.usage == D("12000.50")
    assert rb.inputs["cap_units"] == "10000" and rb.inputs["season_no"] == "1"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "usage.imported"))
    facts = json.loads(event.after)
    assert facts["matched"] == 2 and facts["total_fen"] == 260_000
    assert event.object_id == str(imp.id)


def test_gas_file_matches_gas_cases_only(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county, conversion_type="gas", rates={1: "1.00"}, cap=1200)
    make_policy(world.county, county)
    gas = paid_case(world.village_a1, clerk, inspector, "G2001", conversion_type="gas")
    paid_case(world.village_a1, clerk, inspector, "E3001")
    data = usage_xlsx([("g2001", 1500.0, None), ("E3001", 800, None)], title="2025-2026采暖季用气量")

    analysis = analyse(data, utility="gas", season=SEASON, county_id=world.county.id)
    rows = _rows(analysis)
    assert rows[3].household_id == gas.id and rows[3].amount.fen == 120_000  # min(1500,1200)×1
    assert rows[3].amount.explanation.endswith("按 1,200 立方米计，× 1.00 元/立方米 = 1,200.00 元")
    assert rows[4].reason == "unmatched"  # an electric case's meter is not a gas account
    # the same electric meter in a power file does match
    power = analyse(usage_csv([("E3001", "800")]), utility="power", season=SEASON,
                    county_id=world.county.id)
    assert power.lines[0].reason is None and power.lines[0].amount.fen == 16_000


def test_every_exclusion_reason(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E01")
    paid_case(world.village_a1, clerk, inspector, "E02", state="confirmed")
    paid_case(world.village_a1, clerk, inspector, "E03", state="withdrawn")
    paid_case(world.village_a1, clerk, inspector, "E04", passed_on=None)
    paid_case(world.village_a1, clerk, inspector, "E05", programme_year=2027)  # no policy
    paid_case(world.village_a1, clerk, inspector, "E06")
    paid_case(world.village_a1, clerk, inspector, "E06")  # two live cases, one meter
    paid_case(world.village_b1, clerk, inspector, "E07", passed_on=date(2025, 12, 1))
    paid_case(world.village_b1, clerk, inspector, "E08", passed_on=date(2021, 10, 1))
    data = usage_csv([
        ("E01", "100"), ("E01", "120"),             # 2, 3: duplicate rows
        ("E02", "500"), ("E03", "500"), ("E04", "500"), ("E05", "500"),  # 4–7
        ("E06", "500"), ("E99", "500"),             # 8: ambiguous, 9: unmatched
        ("E07", "500"), ("E08", "500"),             # 10: before season 1, 11: season 5 > 3
        ("", "500"), ("E10", "abc"), ("E11", "1.234"), ("E12", "-5"),  # 12–15
        ("4.10881E+17", "500"),                     # 16: a number Excel damaged
    ])
    rows = _rows(analyse(data, utility="power", season=SEASON, county_id=world.county.id))
    reasons = {n: (ln.reason, ln.params) for n, ln in rows.items()}
    assert reasons[2] == ("duplicate", {"rows": "2、3"}) and reasons[3][0] == "duplicate"
    assert reasons[4] == ("not_paid", {"state": "confirmed"})
    assert reasons[5][0] == "stopped"
    assert reasons[6][0] == "no_inspection"
    assert reasons[7][0] == "no_policy"
    assert reasons[8][0] == "ambiguous" and reasons[9][0] == "unmatched"
    assert reasons[10] == ("before_first", {"first": "2026-2027", "passed": "2025-12-01"})
    assert reasons[11] == ("after_last", {"season_no": 5, "seasons": 3})
    assert [reasons[n][0] for n in (12, 13, 14, 15, 16)] == [
        "bad_meter", "bad_usage", "bad_usage", "bad_usage", "meter_as_number"]
    assert all(ln.reason for ln in rows.values())  # nothing in this file is paid
    for code in {r for r, _ in reasons.values()}:  # every reason renders with its params
        assert str(usage.REASONS[code])


@pytest.mark.parametrize("passed_on,season,expected", [
    (date(2025, 10, 1), "2025-2026", 1),
    (date(2025, 10, 1), "2026-2027", 2),
    (date(2025, 11, 14), "2025-2026", 1),
    (date(2025, 11, 15), "2025-2026", None),  # passed on the start day: that season is not 1
    (date(2025, 12, 1), "2025-2026", None),
    (date(2025, 12, 1), "2026-2027", 1),
    (date(2024, 10, 1), "2025-2026", 2),
])
def test_season_number_counts_from_first_season_after_the_pass(app, world, people, passed_on,
                                                                season, expected):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1", passed_on=passed_on)
    line = analyse(usage_csv([("E1", "1000")]), utility="power", season=season,
                   county_id=world.county.id).lines[0]
    if expected is None:
        assert line.reason == "before_first" and line.season_no == 0
    else:
        assert line.reason is None and line.season_no == expected


def test_tapering_rate_and_cap_follow_the_policy(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county, rates={1: "0.20", 2: "0.15", 3: "0.10"}, cap=8000)
    paid_case(world.village_a1, clerk, inspector, "S1", passed_on=date(2025, 10, 1))
    paid_case(world.village_a1, clerk, inspector, "S2", passed_on=date(2024, 10, 1))
    paid_case(world.village_a1, clerk, inspector, "S3", passed_on=date(2023, 10, 1))
    rows = _rows(analyse(usage_csv([("S1", "9000"), ("S2", "9000"), ("S3", "2500.55")]),
                         utility="power", season=SEASON, county_id=world.county.id))
    assert [rows[n].season_no for n in (2, 3, 4)] == [1, 2, 3]
    assert rows[2].amount.fen == 160_000  # min(9000, 8000) × 0.20
    assert rows[3].amount.fen == 120_000  # min(9000, 8000) × 0.15
    assert rows[4].amount.fen == 25_006   # 2500.55 × 0.10 = 250.055 → 250.06 (half up)
    assert rows[3].amount.explanation == ("用量 9,000.00 千瓦时，超过上限，按 8,000 千瓦时计，"
                                          "× 0.15 元/千瓦时 = 1,200.00 元")


def test_policy_without_a_rate_for_the_season_is_reported(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county, seasons=2, rates={1: "0.20"})
    paid_case(world.village_a1, clerk, inspector, "R1", passed_on=date(2024, 10, 1))
    line = analyse(usage_csv([("R1", "100")]), utility="power", season=SEASON,
                   county_id=world.county.id).lines[0]
    assert (line.reason, line.params) == ("no_rate", {"season_no": 2})


def test_near_zero_usage_is_flagged_with_configurable_thresholds(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    make_policy(world.county, county, conversion_type="gas", rates={1: "1.00"}, cap=1200)
    for meter in ("L1", "L2", "L3"):
        paid_case(world.village_a1, clerk, inspector, meter)
    paid_case(world.village_a1, clerk, inspector, "G1", conversion_type="gas")
    power = _rows(analyse(usage_csv([("L1", "0"), ("L2", "99.99"), ("L3", "150")]),
                          utility="power", season=SEASON, county_id=world.county.id))
    assert [power[n].low for n in (2, 3, 4)] == [True, True, False]
    assert power[2].reason is None and power[2].amount.fen == 0  # recorded, nothing to pay
    gas = analyse(usage_xlsx([("G1", 19.5, None)]), utility="gas", season=SEASON,
                  county_id=world.county.id).lines[0]
    assert gas.low is True
    current_app.config["USAGE_LOW_KWH"] = "200"
    again = _rows(analyse(usage_csv([("L3", "150")]), utility="power", season=SEASON,
                          county_id=world.county.id))
    assert again[2].low is True


def test_same_file_twice_is_already_imported_and_changes_nothing(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1")
    data = usage_csv([("E1", "1000")])
    preview = _upload(data, finance, world)
    usage.confirm(preview, finance)
    db.session.commit()
    with pytest.raises(usage.UsageError) as err:
        _upload(data, finance, world)
    db.session.commit()
    assert err.value.code == "already_imported"
    # the old preview cannot be confirmed a second time either
    again = usage.confirm(usage.load_preview(preview.token, finance), finance)
    assert again.imported is None and again.refused is not None
    assert _count(UsageImport) == 1 and _count(UsageRecord) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "usage.rejected")) == 1


def test_household_recorded_by_another_file_for_the_season_is_excluded(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    case = paid_case(world.village_a1, clerk, inspector, "E1")
    first = _upload(usage_csv([("E1", "1000")]), finance, world)
    imp = usage.confirm(first, finance).imported
    db.session.commit()
    second = analyse(usage_csv([("E1", "1500"), ("E2", "1")]), utility="power",
                     season=SEASON, county_id=world.county.id).lines[0]
    assert (second.reason, second.params) == ("recorded", {"import_id": imp.id})
    # another season of the same household is fine
    later = analyse(usage_csv([("E1", "1500")]), utility="power", season="2026-2027",
                    county_id=world.county.id).lines[0]
    assert later.reason is None and later.household_id == case.id and later.season_no == 2


def test_confirm_refreshes_the_preview_when_a_case_changed(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    case = paid_case(world.village_a1, clerk, inspector, "E1")
    paid_case(world.village_a1, clerk, inspector, "E2")
    preview = _upload(usage_csv([("E1", "1000"), ("E2", "1000")]), finance, world)
    db.session.commit()
    case.state = "payment_failed"  # e.g. the bank returned the equipment payment meanwhile
    db.session.commit()
    outcome = usage.confirm(usage.load_preview(preview.token, finance), finance)
    db.session.commit()
    assert outcome.changed and outcome.imported is None
    assert _count(UsageImport) == 0 and _count(UsageRecord) == 0
    fresh = usage.load_preview(preview.token, finance)
    assert fresh.counts["matched"] == 1 and fresh.counts["reasons"] == {"not_paid": 1}
    assert usage.confirm(fresh, finance).imported.matched_count == 1


def test_only_the_users_county_is_matched(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1")
    other = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    outsider = make_user("finance", other, username="fin_other")
    preview = usage.upload(usage_csv([("E1", "1000")]), "f.csv", utility="power",
                           season=SEASON, county_id=other.id, user=outsider)
    assert preview.rows[0]["r"] == "unmatched" and preview.rows[0]["h"] is None
    with pytest.raises(usage.UsageForbidden):  # not their county
        usage.upload(usage_csv([("E1", "1000")]), "f.csv", utility="power", season=SEASON,
                     county_id=world.county.id, user=outsider)
    assert usage.load_preview(preview.token, finance) is None  # a preview is its uploader's


@pytest.mark.parametrize("data,utility,code", [
    (usage_csv([("110105194912310021", "8000")], header=("身份证号", "金额")), "power",
     "no_header"),
    (usage_csv([("G1", "10")], header=("燃气户号", "用量")), "power", "wrong_utility"),
    (usage_csv([("E1", "10")], header=("电表号", "用量")), "gas", "wrong_utility"),
    (usage_csv([("E1", "王五")], header=("电表号", "户主姓名")), "power", "missing_usage"),
    (usage_csv([], header=("电表号", "用量")), "power", "no_rows"),
    (b"", "power", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "power", "foreign"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "power", "xls"),
    (b"PK\x03\x04garbage", "power", "bad_zip"),
])
def test_bad_files_are_refused_with_a_message_and_nothing_written(app, world, people, data,
                                                                   utility, code):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1")
    with pytest.raises(usage.UsageError if code in (
            "no_header", "wrong_utility", "missing_usage", "no_rows") else Exception) as err:
        _upload(data, finance, world, utility=utility)
    assert getattr(err.value, "code", None) == code
    assert str(err.value.message)
    db.session.commit()
    assert _count(UsageImport) == 0 and _count(UsageRecord) == 0
    folder = Path(current_app.config["STORAGE_DIR"]) / "usage"
    assert not folder.exists() or not any(folder.iterdir())  # no file kept


def test_gbk_csv_is_read(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1")
    data = usage_csv([("E1", "1000", "王五")], header=("电表号", "用电量(kWh)", "户主姓名"),
                     encoding="gbk")
    line = analyse(data, utility="power", season=SEASON, county_id=world.county.id).lines[0]
    assert line.reason is None and line.file_name == "王*"


@pytest.mark.parametrize("season,code", [("2025-2027", "bad_season"), ("2025", "bad_season"),
                                         ("2099-2100", "future_season")])
def test_bad_seasons_are_refused(app, season, code):
    with pytest.raises(usage.UsageError) as err:
        usage.check_season(season, today=date(2026, 4, 1))
    assert err.value.code == code


def test_default_season_is_the_latest_that_ended():
    assert usage.default_season(date(2026, 4, 1)) == "2025-2026"
    assert usage.default_season(date(2026, 1, 10)) == "2024-2025"
    assert usage.default_season(date(2026, 11, 28)) == "2025-2026"


@pytest.mark.parametrize("raw,expected", [
    ("1000", D("1000.00")), (1000.0, D("1000.00")), ("1,234.5", D("1234.50")),
    ("１２３", D("123.00")), (0.1 + 0.2, D("0.30")), ("1.234", None), ("-1", None),
    ("abc", None), ("", None), (True, None), ("NaN", None), ("1000000", None),
])
def test_parse_usage(raw, expected):
    assert parse_usage(raw) == expected


def test_zero_amount_case_is_not_confused_with_unpaid(app, world, people):
    """A paid household using nothing gets a record (amount 0) and a follow-up flag."""
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "Z1")
    preview = _upload(usage_csv([("Z1", "0")]), finance, world)
    imp = usage.confirm(preview, finance).imported
    db.session.commit()
    record = db.session.scalar(select(UsageRecord).where(UsageRecord.import_id == imp.id))
    assert record.amount_fen == 0 and record.low_usage is True
    assert usage.low_count(imp) == 1 and usage.total_fen(imp) == 0


def test_confirm_only_by_the_uploader(app, world, people):
    clerk, inspector, finance, county = people
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1")
    preview = _upload(usage_csv([("E1", "1000")]), finance, world)
    colleague = make_user("finance", world.county, username="fin2")
    with pytest.raises(usage.UsageForbidden):
        usage.confirm(preview, colleague)
