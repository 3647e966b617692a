"""公示 notices: the list, a new notice, the notice and its downloads, objections and their
decisions, taking a case off, confirmation.  A notice of village A1 is in scope where the case
is; the builders publish it (and record an objection) for the cell's passed case."""
from __future__ import annotations

from datetime import date
from typing import Any

from heating.core.i18n import local_today
from heating.extensions import db
from heating.publicity import objections, services
from heating.publicity.models import Notice, Objection
from heating.subsidies.models import SubsidyPolicy
from tests.fixtures import make_user

ANON = "anonymous"


def with_policy(ctx: Any) -> SubsidyPolicy:
    """100 元/m² up to 12,000 元 (no installation needed)."""
    policy = SubsidyPolicy(
        county_id=ctx.world.county.id, programme_year=ctx.case.programme_year,
        conversion_type=ctx.case.conversion_type, device_kind="", version=1, name="面积补贴",
        equipment_method="area_rate", area_rate_fen=10000, equipment_cap_fen=1200000,
        effective_from=date(2020, 1, 1), created_by_id=ctx.case.created_by_id)
    db.session.add(policy)
    db.session.commit()
    return policy


def _reviewer(ctx: Any) -> Any:
    return make_user("reviewer", ctx.world.town_a, username="notice_reviewer")


def with_notice(ctx: Any) -> Notice:
    with_policy(ctx)
    notice = services.publish(_reviewer(ctx), township=ctx.world.town_a,
                              village=ctx.world.village_a1, case_ids=[ctx.case.id],
                              title="公示", objection_phone="0391-1234567",
                              issuing_office="东河镇人民政府")
    db.session.commit()
    return notice


def with_objection(ctx: Any) -> Objection:
    notice = with_notice(ctx)
    reviewer = notice.published_by
    objection = objections.record_objection(notice.entries[0], reviewer, "村民", "有异议")
    db.session.commit()
    return objection


def _reviewer_of_town(ok: int) -> Any:
    """Only a reviewer may; a reviewer of another township does not see township A (404)."""
    def expect(role: str, scope: str) -> int:
        if role == ANON:
            return 302
        if role != "reviewer":
            return 403
        return ok if scope == "in" else 404
    return expect


def _publish_data(ctx: Any) -> dict[str, Any]:
    with_policy(ctx)
    return {"township_id": str(ctx.world.town_a.id), "village_id": "0", "year": "",
            "case_ids": [str(ctx.case.id)], "title": "公示",
            "starts_on": local_today().isoformat(), "period_days": "7",
            "objection_phone": "0391-1234567", "issuing_office": "东河镇人民政府"}


def cells(h: Any) -> dict[str, list[Any]]:
    notice = lambda c: with_notice(c).id  # noqa: E731
    entry = lambda c: with_notice(c).entries[0].id  # noqa: E731
    objection = lambda c: with_objection(c).id  # noqa: E731
    reason = lambda c: {"reason": "核实"}  # noqa: E731
    return {
        "publicity.index": [
            h.Cell("GET", lambda c: "/publicity/", h.allowed(h.CASE_ROLES, scoped=False))],
        "publicity.new": [
            h.Cell("GET", lambda c: "/publicity/new", h.allowed({"reviewer"}, scoped=False),
                   name="choose"),
            h.Cell("GET", lambda c: f"/publicity/new?township={c.world.town_a.id}",
                   _reviewer_of_town(200), case_state="passed", name="township"),
            h.Cell("POST", lambda c: "/publicity/new", _reviewer_of_town(302),
                   data=_publish_data, case_state="passed", name="publish"),
        ],
        "publicity.detail": [
            h.Cell("GET", lambda c: f"/publicity/{notice(c)}", h.allowed(h.CASE_ROLES),
                   case_state="passed")],
        "publicity.pdf": [
            h.Cell("GET", lambda c: f"/publicity/{notice(c)}.pdf", h.allowed(h.CASE_ROLES),
                   case_state="passed")],
        "publicity.xlsx": [
            h.Cell("GET", lambda c: f"/publicity/{notice(c)}.xlsx", h.allowed(h.CASE_ROLES),
                   case_state="passed")],
        "publicity.object": [
            h.Cell("POST", lambda c: f"/publicity/entries/{entry(c)}/objections",
                   h.allowed({"reviewer"}, 302), case_state="passed",
                   data=lambda c: {"raised_by": "村民", "reason": "有异议"})],
        "publicity.dismiss": [
            h.Cell("POST", lambda c: f"/publicity/objections/{objection(c)}/dismiss",
                   h.allowed({"reviewer"}, 302), case_state="passed", data=reason)],
        "publicity.uphold": [
            h.Cell("POST", lambda c: f"/publicity/objections/{objection(c)}/uphold",
                   h.allowed({"reviewer"}, 302), case_state="passed", data=reason)],
        "publicity.take_off": [
            h.Cell("POST", lambda c: f"/publicity/entries/{entry(c)}/take-off",
                   h.allowed({"reviewer"}, 302), case_state="passed", data=reason)],
        "publicity.confirm": [
            h.Cell("POST", lambda c: f"/publicity/{notice(c)}/confirm",
                   h.allowed({"reviewer"}, 302), case_state="passed")],
        "publicity.confirm_all": [
            h.Cell("POST", lambda c: "/publicity/confirm",
                   h.allowed({"reviewer"}, 302, scoped=False))],
    }
