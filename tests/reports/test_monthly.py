"""The monthly ranking report (月度通报): figures as of a month's end equal an independent
replay of the recorded events (issue 11 item 7, second half), stay the same when later
facts arrive, divide by the target then in force; the ranking and its ties; the PDF (text,
capitals, page numbers, embedded font) and the XLSX with the same figures; publishing freezes
byte-identical files, a second publication needs a reason and supersedes; scope; the CLI."""
from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date, timedelta

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from heating.areas.models import Area, AreaTarget
from heating.audit.models import AuditEvent
from heating.auth.models import User
from heating.core.i18n import local_today
from heating.core.money import fen_in_capitals
from heating.demo import build_demo
from heating.extensions import db
from heating.households.lifecycle import DONE_STATES, OVERDUE
from heating.households.models import CaseEvent, Household
from heating.households.queries import overdue_cutoff
from heating.households.services import transition
from heating.payouts import demo as money_demo
from heating.payouts.models import BankResultImport, Payment
from heating.reports import monthly, monthly_render, publishing, settings
from heating.reports.models import MonthlyReport
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_case, make_user

SEED = 5


@pytest.fixture
def demo(app):
    build_demo(300, seed=SEED, echo=lambda _: None)
    money_demo.extend_demo(seed=SEED, echo=lambda _: None)
    db.session.commit()


def _county() -> Area:
    return db.session.scalar(select(Area).where(Area.level == "county"))


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _replay(county_id: int, year: int, day: date, limits: dict[str, int]):
    """Per township: done, paid households, overdue by kind, paid fen — by walking each
    case's events in Python (no window functions, no shared code with ``monthly``)."""
    cutoff = monthly.cutoff_of(day)
    events = db.session.execute(
        select(CaseEvent.household_id, CaseEvent.action, CaseEvent.to_state, CaseEvent.at,
               CaseEvent.id, Household.township_id)
        .join(Household, Household.id == CaseEvent.household_id)
        .where(Household.county_id == county_id, Household.programme_year == year)).all()
    last: dict[int, tuple] = {}
    confirmed: dict[int, object] = {}
    for hid, action, to_state, at, eid, township in events:
        if at >= cutoff:
            continue
        if hid not in last or (at, eid) > (last[hid][1], last[hid][2]):
            last[hid] = (to_state, at, eid, township)
        if action == "confirm" and (hid not in confirmed or at > confirmed[hid]):
            confirmed[hid] = at
    done, paid = Counter(), Counter()
    overdue: dict[int, Counter] = defaultdict(Counter)
    for hid, (state, at, _, township) in last.items():
        done[township] += state in DONE_STATES
        paid[township] += state == "paid"
        for kind, (states, clock, _) in OVERDUE.items():
            since = at if clock == "state_since" else confirmed.get(hid)
            if state in states and since is not None and since < overdue_cutoff(
                    limits[kind], day):
                overdue[township][kind] += 1
    fen = Counter()
    for township, amount, imported in db.session.execute(
            select(Household.township_id, Payment.amount_fen, BankResultImport.imported_at)
            .join(Household, Household.id == Payment.household_id)
            .join(BankResultImport, BankResultImport.id == Payment.result_import_id)
            .where(Household.county_id == county_id, Household.programme_year == year,
                   Payment.kind == "equipment", Payment.status == "paid")):
        if imported < cutoff:
            fen[township] += amount
    return done, paid, overdue, fen


def _months_with_movement(year: int) -> list[date]:
    today = local_today()
    first = db.session.scalar(select(CaseEvent.at).join(Household).where(
        Household.programme_year == year).order_by(CaseEvent.at).limit(1))
    month = monthly.month_start(first.date())
    out = []
    while monthly.month_end_day(month) < today:
        out.append(month)
        month = monthly.next_month(month)
    return out


def test_figures_as_of_each_past_month_equal_a_replay_of_the_events(demo):
    county = _county()
    limits = settings.thresholds(county.id)
    years = sorted({y for (y,) in db.session.execute(select(Household.programme_year)
                                                      .distinct())})
    checked_paid = checked_done = 0
    for year in years:
        for month in _months_with_movement(year):
            f = monthly.build(county, year, month, local_today())
            done, paid, overdue, fen = _replay(county.id, year, f.as_of, limits)
            for t in f.townships:
                assert (t.done, t.paid_households, t.paid_fen) == (
                    done[t.area_id], paid[t.area_id], fen[t.area_id]), (year, month, t.name)
                assert t.overdue == {k: overdue[t.area_id][k] for k in OVERDUE}, (month, t.name)
            before = f.month - timedelta(days=1)
            prev_done = _replay(county.id, year, before, limits)[0]
            assert [t.done_before for t in f.townships] == [
                prev_done[t.area_id] for t in f.townships]
            assert f.total.done == sum(done.values())
            if f.line:  # the county line's last point is the month's own figure
                assert f.line[-1] == (f.as_of, f.total.done)
            checked_paid += f.total.paid_fen
            checked_done += f.total.done
    assert checked_paid > 0 and checked_done > 0


def test_the_line_equals_the_replay_at_every_month_end(demo):
    county = _county()
    year = db.session.scalar(select(Household.programme_year).where(
        Household.state == "paid").limit(1))
    month = _months_with_movement(year)[-1]
    f = monthly.build(county, year, month, local_today())
    limits = settings.thresholds(county.id)
    assert len(f.line) >= 2
    for day, value in f.line:
        assert value == sum(_replay(county.id, year, day, limits)[0].values()), day


def test_a_past_month_keeps_its_figures_when_later_facts_arrive(app, world):
    clerk = make_user("clerk", world.village_a1)
    reviewer = make_user("reviewer", world.town_a)
    county_user = make_user("county", world.county)
    year = local_today().year
    hh = make_case(world.village_a1, clerk, state="passed", programme_year=year)
    # the case passed in the past (its inspection recorded 40 days before this month began)
    past = monthly.month_start(local_today()) - timedelta(days=40)
    db.session.add(CaseEvent(household_id=hh.id, action="pass", from_state="installed",
                             to_state="passed", at=monthly.cutoff_of(past) - timedelta(hours=2)))
    db.session.commit()
    month = monthly.month_start(past)
    before = monthly.build(world.county, year, month, local_today())
    row = next(t for t in before.townships if t.area_id == world.town_a.id)
    assert row.done == 1
    # today the certificate is revoked: the case leaves the done states (and is overdue now)
    transition(hh, "revoke", county_user, reason="复核发现问题")
    db.session.commit()
    assert hh.state not in DONE_STATES
    again = monthly.build(world.county, year, month, local_today())
    assert [(t.area_id, t.done, t.overdue) for t in again.townships] == [
        (t.area_id, t.done, t.overdue) for t in before.townships]
    del reviewer


def test_progress_divides_by_the_target_in_force_at_the_months_end(app, world):
    year = local_today().year
    month = monthly.month_start(local_today()) - timedelta(days=1)
    month = monthly.month_start(month)
    db.session.add_all([
        AreaTarget(area_id=world.town_a.id, programme_year=year, target=10,
                   effective_from=date(year, 1, 1)),
        AreaTarget(area_id=world.town_a.id, programme_year=year, target=40,
                   effective_from=monthly.month_end_day(month) + timedelta(days=1))])
    db.session.commit()
    f = monthly.build(world.county, year, month, local_today())
    row = next(t for t in f.townships if t.area_id == world.town_a.id)
    assert row.target == 10


def test_ranking_ties_by_paid_share_then_fewer_overdue_then_code():
    T = monthly.TownshipFigures  # noqa: N806
    a = T(1, "甲", "003", target=10, done=5, paid_households=1)
    b = T(2, "乙", "002", target=10, done=5, paid_households=2)
    c = T(3, "丙", "001", target=10, done=5, paid_households=2, overdue={
        k: (3 if k == "submitted" else 0) for k in OVERDUE})
    d = T(4, "丁", "004", target=20, done=12)
    e = T(5, "戊", "000", target=None, done=9)
    ranked = monthly.rank([a, b, c, d, e])
    assert [t.name for t in ranked] == ["丁", "乙", "丙", "甲", "戊"]
    assert [t.rank for t in ranked] == [1, 2, 3, 4, 5]


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _last_month_with_money() -> tuple[int, date]:
    year = db.session.scalar(select(Household.programme_year).where(
        Household.state == "paid").limit(1))
    return year, _months_with_movement(year)[-1]


def test_the_pdf_and_xlsx_carry_the_same_figures(demo):
    county = _county()
    year, month = _last_month_with_money()
    f = monthly.build(county, year, month, local_today())
    issue = monthly_render.Issue(publishing.office_of(county), date(2026, 12, 4))
    pdf = monthly_render.render_pdf(f, issue)
    text = _pdf_text(pdf).replace(" ", "").replace("\n", "")
    assert monthly_render.title_of(f).replace(" ", "") in text
    assert "排名方法" in text and "排名后三位" in text and "第1页/共" in text
    assert fen_in_capitals(f.total.paid_fen) in text
    assert publishing.office_of(county) in text and "2026年12月4日" in text
    for t in f.townships:
        assert t.name in text
    fonts = {str(font.get("/BaseFont")) for page in PdfReader(io.BytesIO(pdf)).pages
             for font in (page["/Resources"].get("/Font") or {}).values()
             for font in [font.get_object()]}
    assert fonts and not any("Helvetica" in name for name in fonts)
    assert monthly_render.render_pdf(f, issue) == pdf  # same figures, same bytes
    book = openpyxl.load_workbook(io.BytesIO(monthly_render.render_xlsx(f, issue)))
    rows = [r for r in book.active.iter_rows(values_only=True)]
    header = rows.index(next(r for r in rows if r and r[0] == "名次"))
    body = rows[header + 1:]
    assert len(body) == len(f.townships) + 1
    for t, r in zip(f.townships, body):
        assert (r[0], r[1], r[2], r[3], r[5], r[7]) == (
            t.rank, t.name, t.target, t.done, t.done_before, t.paid_households)
        assert round(float(r[9]) * 100) == t.paid_fen
    assert body[-1][1] == "全县合计" and round(float(body[-1][9]) * 100) == f.total.paid_fen


def test_publish_freezes_the_files_and_a_correction_supersedes(demo, client, post):
    county_user = _user("county")
    log_in(client, county_user)
    year, month = _last_month_with_money()
    form = {"programme_year": str(year), "month": f"{month:%Y-%m}"}
    draft = client.get("/reports/monthly/draft.pdf", query_string=form)
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF")
    assert client.get("/reports/monthly/draft.xlsx", query_string=form).status_code == 200
    assert post("/reports/monthly/publish", form).status_code == 302
    first = db.session.scalar(select(MonthlyReport))
    assert (first.version, first.supersedes_id) == (1, None)
    one = client.get(f"/reports/monthly/{first.id}.pdf").data
    assert one == client.get(f"/reports/monthly/{first.id}.pdf").data
    assert one == publishing.stored(first, "pdf")
    import hashlib
    assert hashlib.sha256(one).hexdigest() == first.pdf_sha256
    xlsx = client.get(f"/reports/monthly/{first.id}.xlsx")
    assert hashlib.sha256(xlsx.data).hexdigest() == first.xlsx_sha256
    # later facts change nothing in the published file
    assert client.get(f"/reports/monthly/{first.id}.pdf").data == one
    # a second publication without a reason is refused and stores nothing
    page = post("/reports/monthly/publish", form, follow_redirects=True)
    assert "To correct it" in page.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(MonthlyReport)) == 1
    # with a reason: version 2, superseding version 1, saying so in the PDF
    post("/reports/monthly/publish", {**form, "reason": "更正一个乡镇的任务数"})
    second = db.session.scalar(select(MonthlyReport).where(MonthlyReport.version == 2))
    assert second.supersedes_id == first.id
    assert second.correction_reason == "更正一个乡镇的任务数"
    text = _pdf_text(publishing.stored(second, "pdf")).replace(" ", "").replace("\n", "")
    assert "更正并取代" in text and "更正一个乡镇的任务数" in text and "第2版" in text
    assert publishing.stored(first, "pdf") == one  # the first stays as it was
    audits = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "reports.monthly_published")))
    assert [a.object_id for a in audits] == [str(first.id), str(second.id)] or \
        [int(a.object_id) for a in audits] == [first.id, second.id]
    listing = client.get("/reports/monthly").get_data(as_text=True)
    assert f"/reports/monthly/{second.id}.pdf" in listing


def test_a_month_not_over_is_refused_and_hostile_input_is_harmless(demo, client, post):
    log_in(client, _user("county"))
    today = local_today()
    current = {"programme_year": str(today.year), "month": f"{today:%Y-%m}"}
    page = post("/reports/monthly/publish", current, follow_redirects=True)
    assert page.status_code == 200 and "month that is over" in page.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(MonthlyReport)) == 0
    for bad in ({"programme_year": "x", "month": "2026-13"}, {"month": "'; drop"},
                {"programme_year": "99999999999999999999", "month": "2026-1"}):
        assert post("/reports/monthly/publish", bad).status_code == 302
        assert client.get("/reports/monthly", query_string=bad).status_code == 200
        assert client.get("/reports/monthly/draft.pdf", query_string=bad).status_code in (
            200, 302)
    assert client.get("/reports/monthly/draft.doc").status_code == 404
    assert client.get("/reports/monthly/999999.pdf").status_code == 404
    assert db.session.scalar(select(db.func.count()).select_from(MonthlyReport)) == 0


def test_the_auditor_reads_published_reports_and_cannot_publish(demo, client, post):
    county = _county()
    year, month = _last_month_with_money()
    report = publishing.publish(county, year, month, _user("county"))
    db.session.commit()
    auditor = make_user("auditor", county, username="auditor_m")
    log_in(client, auditor)
    assert client.get(f"/reports/monthly/{report.id}.pdf").status_code == 200
    assert client.get("/reports/monthly").status_code == 200
    form = {"programme_year": str(year), "month": f"{month:%Y-%m}", "reason": "x"}
    assert post("/reports/monthly/publish", form).status_code == 403
    other = AreaFactory(code="139988000000", name="邻县")
    outsider = make_user("auditor", other, username="auditor_other")
    db.session.commit()
    log_in(client, outsider)
    assert client.get(f"/reports/monthly/{report.id}.pdf").status_code == 404


def test_the_cli_writes_the_report(demo, app, tmp_path):
    year, month = _last_month_with_money()
    out = tmp_path / "nov.pdf"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["monthly-report", "--month", f"{month:%Y-%m}", "--year",
                                 str(year), str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "排名方法" in _pdf_text(out.read_bytes()).replace(" ", "")
    xlsx = tmp_path / "nov.xlsx"
    assert runner.invoke(args=["monthly-report", "--month", f"{month:%Y-%m}",
                               str(xlsx)]).exit_code == 0
    assert openpyxl.load_workbook(xlsx).active.max_row > 10
    bad = runner.invoke(args=["monthly-report", "--month", "2026/11", str(out)])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
    today = local_today()
    running = runner.invoke(args=["monthly-report", "--month", f"{today:%Y-%m}", str(out)])
    assert running.exit_code != 0 and "not over" in running.output
