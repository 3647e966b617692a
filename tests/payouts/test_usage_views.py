"""Usage-file screens: upload with help text, preview (matched, excluded with reasons, the
near-zero flag, total), confirm with its confirmation text, the list, the import detail with the
follow-up list and its CSV; refusals shown on the form with nothing written; scope."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.payouts.models import UsageImport, UsageRecord
from tests.factories import AreaFactory
from tests.fixtures import log_in, make_user, says
from tests.payouts.usage_helpers import make_policy, paid_case, usage_csv

SEASON = "2025-2026"


def _setup(world):
    clerk = make_user("clerk", world.village_a1, username="clerk1")
    inspector = make_user("inspector", world.town_a, username="insp1")
    county = make_user("county", world.county, username="cty1")
    make_policy(world.county, county)
    paid_case(world.village_a1, clerk, inspector, "E1", head_name="李小龙")
    paid_case(world.village_a2, clerk, inspector, "E2")
    paid_case(world.village_a2, clerk, inspector, "E3", state="confirmed")
    return county


def _send(post, data, utility="power", season=SEASON, county_id=None, name="用量.csv"):
    form = {"utility": utility, "season": season, "file": (io.BytesIO(data), name)}
    if county_id is not None:
        form["county"] = str(county_id)
    return post("/payouts/usage/upload", form, content_type="multipart/form-data")


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_upload_preview_confirm_detail_and_follow_up_list(app, client, post, world):
    _setup(world)
    finance = make_user("finance", world.county, username="fin1")
    log_in(client, finance)
    form = client.get("/payouts/usage/upload")
    assert form.status_code == 200
    assert says(form, "Heating season") and "2025-2026" in form.get_data(as_text=True)
    assert "电表号" in form.get_data(as_text=True) and "燃气户号" in form.get_data(as_text=True)

    data = usage_csv([("E1", "3000", "李小龙"), ("E2", "50"), ("E3", "800"), ("E9", "10")])
    response = _send(post, data, county_id=world.county.id)
    assert response.status_code == 302 and "/payouts/usage/preview/" in response.location
    preview_url = response.location
    page = client.get(preview_url + "?show=all")
    body = page.get_data(as_text=True)
    assert "李*龙" in body and "李小龙" not in body  # masked, from the case and from the file
    # the working in words, in the reader's language (not min(3,000.00 kWh, 10,000 kWh))
    assert "3,000.00 kWh counted, within the 10,000 kWh cap, × 0.20 yuan/kWh = 600.00 yuan" \
        in body
    assert says(page, "Near-zero usage: follow up")
    assert says(page, "The equipment subsidy of this case is not paid yet (state: %(state)s).",
                state="Notice period over")
    assert says(page, "No case of this conversion type in your county has this number.")
    assert says(page, "Total running subsidy: %(amount)s yuan", amount="610.00")
    assert 'data-confirm="' in body and says(
        page, "Import %(n)s usage records", n=2)
    assert _count(UsageImport) == 0

    token = preview_url.rstrip("/").split("/")[-1]
    done = post(f"/payouts/usage/preview/{token}/confirm")
    assert done.status_code == 302
    imp = db.session.scalar(select(UsageImport))
    assert done.location.endswith(f"/payouts/usage/{imp.id}")
    assert _count(UsageRecord) == 2

    detail = client.get(f"/payouts/usage/{imp.id}")
    assert detail.status_code == 200 and says(detail, "Near-zero usage: %(n)s", n=1)
    assert "3,000.00 kWh counted, within the 10,000 kWh cap, × 0.20 yuan/kWh = 600.00 yuan" \
        in detail.get_data(as_text=True)
    log_in(client, finance, lang="zh_Hans_CN")
    zh = client.get(f"/payouts/usage/{imp.id}").get_data(as_text=True)
    assert "按 3,000.00 千瓦时计，未超过 10,000 千瓦时上限，× 0.20 元/千瓦时 = 600.00 元" in zh
    assert "min(" not in zh and "元/kWh" not in zh
    log_in(client, finance)
    low = client.get(f"/payouts/usage/{imp.id}?show=low")
    assert "E2" in low.get_data(as_text=True) and "E1" not in re.sub(
        r"<(script|nav)[^>]*>.*?</\1>", "", low.get_data(as_text=True), flags=re.S).split(
        "<tbody>")[-1]
    excluded = client.get(f"/payouts/usage/{imp.id}?show=excluded")
    assert "E9" in excluded.get_data(as_text=True)
    listing = client.get("/payouts/usage/")
    assert imp.filename in listing.get_data(as_text=True)

    csv_response = client.get(f"/payouts/usage/{imp.id}/low-usage.csv")
    text = csv_response.get_data(as_text=True)
    assert csv_response.status_code == 200 and "E2" in text and "E1," not in text
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "usage.low_usage_export")) == 1

    # the same file again: a clear message on the form, nothing changes
    again = _send(post, data, county_id=world.county.id)
    assert again.status_code == 200
    assert says(again, "The file was not read; see the message below.")
    assert "already imported" in again.get_data(as_text=True) or "已导入" in again.get_data(
        as_text=True)
    assert _count(UsageImport) == 1 and _count(UsageRecord) == 2
    # the old preview now leads to the import
    assert client.get(preview_url).status_code == 302


def test_wrong_columns_message_and_nothing_written(app, client, post, world):
    _setup(world)
    log_in(client, make_user("finance", world.county, username="fin1"))
    bad = usage_csv([("110105194912310021", "8000")], header=("身份证号", "金额"))
    response = _send(post, bad, county_id=world.county.id)
    assert response.status_code == 200
    assert says(response, "No header row was found. The file needs a column 电表号 (power "
                          "company) or 燃气户号 (gas company) and a column 用量 in one of its "
                          "first 30 rows.")
    wrong = _send(post, usage_csv([("G1", "5")], header=("燃气户号", "用量")),
                  county_id=world.county.id)
    assert "燃气户号" in wrong.get_data(as_text=True) and wrong.status_code == 200
    season = _send(post, usage_csv([("E1", "5")]), season="2025-2027",
                   county_id=world.county.id)
    assert says(season, "Write the season as two consecutive years, e.g. 2025-2026.")
    assert _count(UsageImport) == 0


def test_preview_is_the_uploaders_and_imports_stay_in_their_county(app, client, post, world):
    _setup(world)
    finance = make_user("finance", world.county, username="fin1")
    log_in(client, finance)
    response = _send(post, usage_csv([("E1", "3000")]), county_id=world.county.id)
    preview_url = response.location
    post(preview_url + "/confirm")
    imp = db.session.scalar(select(UsageImport))

    colleague = make_user("finance", world.county, username="fin2")
    log_in(client, colleague)
    assert client.get(preview_url).status_code == 404
    assert client.get(f"/payouts/usage/{imp.id}").status_code == 200

    other = AreaFactory(code="139902000000", name="邻县", level="county")
    db.session.commit()
    log_in(client, make_user("finance", other, username="fin_other"))
    assert client.get(f"/payouts/usage/{imp.id}").status_code == 404
    assert client.get(f"/payouts/usage/{imp.id}/low-usage.csv").status_code == 404
    assert imp.filename not in client.get("/payouts/usage/").get_data(as_text=True)
    # and cannot upload into the world's county
    sneaky = _send(post, usage_csv([("E1", "3000")]), county_id=world.county.id)
    assert sneaky.status_code == 200 and _count(UsageImport) == 1

    log_in(client, make_user("auditor", world.county, username="aud1"))
    assert client.get(f"/payouts/usage/{imp.id}").status_code == 200
    assert client.get("/payouts/usage/upload").status_code == 403


def test_stored_explanations_of_earlier_imports_stay_readable(app, client, post, world):
    """Records imported before the worded explanation (``min(…)``) are worded from their
    stored inputs; a record whose inputs cannot be read shows its stored text."""
    _setup(world)
    finance = make_user("finance", world.county, username="fin1")
    log_in(client, finance)
    preview = _send(post, usage_csv([("E1", "12000"), ("E2", "50")]), county_id=world.county.id)
    token = preview.location.rstrip("/").split("/")[-1]
    post(f"/payouts/usage/preview/{token}/confirm")
    imp = db.session.scalar(select(UsageImport))
    over, other = sorted(imp_records(imp), key=lambda r: -r.usage)
    over.explanation = "min(12,000.00 kWh, 10,000 kWh) × 0.20 元/kWh = 2,000.00"
    other.explanation, other.inputs = "min(50.00 kWh, 10,000 kWh) × 0.20 元/kWh = 10.00", {}
    db.session.commit()
    log_in(client, finance, lang="zh_Hans_CN")
    body = client.get(f"/payouts/usage/{imp.id}").get_data(as_text=True)
    assert ("用量 12,000.00 千瓦时，超过上限，按 10,000 千瓦时计，× 0.20 元/千瓦时 = 2,000.00 元"
            in body)
    assert "min(50.00 kWh, 10,000 kWh) × 0.20 元/kWh = 10.00" in body
    log_in(client, finance)
    body = client.get(f"/payouts/usage/{imp.id}").get_data(as_text=True)
    assert ("12,000.00 kWh used, over the cap: 10,000 kWh counted, × 0.20 yuan/kWh = "
            "2,000.00 yuan") in body


def imp_records(imp):
    return list(db.session.scalars(select(UsageRecord).where(UsageRecord.import_id == imp.id)))
