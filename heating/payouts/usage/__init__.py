"""Running subsidy from a season's usage file (issue 5, item 9): upload → preview → confirm.

``upload`` checks the file, decides every row's fate (``match.analyse``) and keeps the
file with its preview under STORAGE_DIR/usage/<token>.* — no database row yet, so an abandoned
preview changes nothing.  ``confirm`` reads the kept file again; when the rows that would be
paid are exactly those the preview showed, it writes one UsageImport and all its UsageRecords
(bulk insert) in the caller's transaction, audited with its counts.  Paying the records is the
payout batches' job (``create_batch(kind="running", season=…)``).

Once only: the same file (SHA-256) is imported once (unique column), and a household has at
most one record per season (unique constraint).  Services flush, never commit.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePath
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select

from heating.areas.models import Area
from heating.audit.services import record as audit
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.i18n import local, local_today
from heating.core.refusals import Forbidden, record_independently
from heating.core.spreadsheet_read import SpreadsheetError, sniff
from heating.core.storage import read_kept_upload
from heating.extensions import db
from heating.households.models import Household
from heating.payouts.models import UTILITIES, UsageImport, UsageRecord
from heating.payouts.usage.match import (
    REASON_LABELS,
    REASONS,
    UNIT_OF,
    Analysis,
    UsageError,
    analyse,
    threshold,
)
from heating.subsidies import seasons

__all__ = ["REASON_LABELS", "REASONS", "UTILITIES", "Outcome", "Preview", "UsageError", "confirm",
           "counties_for", "default_season", "import_for", "imports_for", "load_preview",
           "records_of", "upload"]

USAGE_DIR = "usage"
INSERT_CHUNK = 2000
_TOKEN = re.compile(r"[0-9a-f]{32}")


class UsageForbidden(Forbidden):
    """The user may not import usage files (403)."""


# --- who and where ------------------------------------------------------------------------------
def counties_for(user: Any) -> list[Area]:
    """Counties the user imports usage for (finance is granted over a whole county)."""
    ids = permissions.scope_for(user, permissions.PERMISSIONS["usage.import"]).counties
    if not ids:
        return []
    return list(db.session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.code)))


def _viewable_counties(user: Any) -> frozenset[int]:
    return permissions.scope_for(user, permissions.PERMISSIONS["payout.view"]).counties


def check_season(key: str, today: date | None = None) -> str:
    """A season key that has started (usage of a future season cannot exist)."""
    try:
        start = seasons.season_dates(key)[0]
    except (TypeError, ValueError):
        raise UsageError(_l("Write the season as two consecutive years, e.g. 2025-2026."),
                         "bad_season") from None
    if start > (today or local_today()):
        raise UsageError(_l("The season %(season)s has not started yet.", season=key),
                         "future_season")
    return key


def default_season(today: date | None = None) -> str:
    """The season whose usage file is most likely being imported: the latest that has ended
    (the companies send a season's figures after its end)."""
    today = today or local_today()
    year = today.year
    while seasons.season_dates(seasons.season_key(year))[1] >= today:
        year -= 1
    return seasons.season_key(year)


# --- the kept file and its preview --------------------------------------------------------------
@dataclass
class Preview:
    token: str
    data: dict[str, Any]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.data["rows"]

    @property
    def counts(self) -> dict[str, Any]:
        return self.data["counts"]

    def __getattr__(self, name: str) -> Any:  # utility, season, filename, sha256, …
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None


def _folder() -> Path:
    folder = Path(current_app.config["STORAGE_DIR"]) / USAGE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")
    os.replace(tmp, path)  # a reader never sees half a preview


def load_preview(token: str, user: Any) -> Preview | None:
    """The preview, for its uploader only (None for anyone else, or an unknown token)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    try:
        data = json.loads((_folder() / f"{token}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("user_id") != getattr(user, "id", None):
        return None
    return Preview(token, data)


def already_imported(sha256: str, county_id: int) -> UsageImport | None:
    """The earlier import of the same file into this county (a city-wide file from the power
    company may be imported once by each county)."""
    return db.session.scalar(select(UsageImport).where(UsageImport.sha256 == sha256,
                                                       UsageImport.county_id == county_id))


def _refuse_repeat(sha256: str, county_id: int) -> None:
    earlier = already_imported(sha256, county_id)
    if earlier is not None:
        raise UsageError(_l(
            "This file was already imported on %(when)s (usage import %(id)s, %(n)d "
            "households). Nothing was changed.", when=local(earlier.imported_at),
            id=earlier.id, n=earlier.matched_count), "already_imported")


def _preview_data(analysis: Analysis) -> dict[str, Any]:
    return {"sheet": analysis.sheet, "header_row": analysis.header_row,
            "counts": analysis.counts(), "signature": analysis.signature(),
            "rows": [ln.as_json() for ln in analysis.lines]}


def upload(data: bytes, filename: str, *, utility: str, season: str, county_id: int,
           user: Any) -> Preview:
    """Check and analyse the file, keep it and its preview; raises UsageError (a refusal,
    audited) when the file or the choice cannot be used.  Writes no table but the audit log."""
    if not permissions.can(user, "usage.import") or county_id not in {c.id for c in counties_for(user)}:
        raise UsageForbidden()
    name = _clean_name(filename)
    digest = hashlib.sha256(data).hexdigest()
    try:
        if utility not in UTILITIES:
            raise UsageError(_l("Choose the power or the gas company."), "bad_utility")
        check_season(season)
        limit = current_app.config["IMPORT_MAX_BYTES"]
        if len(data) > limit:
            raise UsageError(_l("The file is larger than %(mb)d MB. Split it into smaller "
                                "files.", mb=limit // (1024 * 1024)), "too_large")
        _refuse_repeat(digest, county_id)
        analysis = analyse(data, utility=utility, season=season, county_id=county_id)
    except SpreadsheetError as err:
        # the refused attempt stays on record whatever else the request rolls back
        record_independently(
            audit, "usage.rejected", "usage_file", digest[:16], actor=user, summary=name,
            after={"filename": name, "sha256": digest, "utility": utility,
                   "season": season, "code": err.code})
        raise
    token = secrets.token_hex(16)
    path = f"{USAGE_DIR}/{token}.{sniff(data)}"
    (_folder() / Path(path).name).write_bytes(data)
    preview = Preview(token, {"v": 1, "user_id": user.id, "county_id": county_id,
                              "utility": utility, "season": season, "filename": name,
                              "sha256": digest, "size": len(data), "path": path,
                              "uploaded_at": now_utc().isoformat(), **_preview_data(analysis)})
    _write_json(_folder() / f"{token}.json", preview.data)
    audit("usage.previewed", "usage_file", token, actor=user, summary=name,
          after=_facts(preview.data))
    return preview


def _clean_name(filename: str) -> str:
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return "".join(ch for ch in name if ch >= " ")[:200] or "upload"


def _facts(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    counts = data["counts"]
    facts = {"filename": data["filename"], "sha256": data["sha256"],
             "utility": data["utility"], "season": data["season"], "rows": counts["rows"],
             "matched": counts["matched"], "excluded": counts["excluded"],
             "low_usage": counts["low"], "total_fen": counts["total_fen"],
             "reasons": counts["reasons"]}
    facts.update(extra)
    return facts


# --- confirm ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What a confirmation did: the ``imported`` UsageImport, or why not."""

    imported: UsageImport | None = None
    refused: Any = None
    changed: bool = False


def confirm(preview: Preview, user: Any) -> Outcome:
    """Write the previewed rows, all or nothing.  If the kept file now gives other rows or
    amounts (a case was paid, another import recorded a household meanwhile), nothing is
    written and the preview is refreshed."""
    if not permissions.can(user, "usage.import") or preview.user_id != user.id:
        raise UsageForbidden()
    if preview.county_id not in {c.id for c in counties_for(user)}:
        raise UsageForbidden()
    try:
        _refuse_repeat(preview.sha256, preview.county_id)
        data = read_kept_upload(preview.path, preview.sha256, UsageError)
        analysis = analyse(data, utility=preview.utility, season=preview.season,
                           county_id=preview.county_id)
    except SpreadsheetError as err:
        return Outcome(refused=err.message)
    if analysis.signature() != preview.data["signature"]:
        preview.data.update(_preview_data(analysis))
        _write_json(_folder() / f"{preview.token}.json", preview.data)
        return Outcome(changed=True)
    matched = analysis.matched
    if not matched:
        return Outcome(refused=_l("No row of this file can be paid: nothing to import."))
    counts = analysis.counts()
    excluded = [ln.as_json() for ln in analysis.lines if ln.reason]
    imp = UsageImport(sha256=preview.sha256, filename=preview.filename, path=preview.path,
                      utility=preview.utility, season=preview.season,
                      county_id=preview.county_id, imported_by_id=user.id,
                      row_count=counts["rows"], matched_count=counts["matched"],
                      report={"v": 1, "sheet": analysis.sheet,
                              "header_row": analysis.header_row, "counts": counts,
                              "excluded": excluded})
    db.session.add(imp)
    db.session.flush()
    for start in range(0, len(matched), INSERT_CHUNK):
        db.session.execute(insert(UsageRecord.__table__), [
            _record_row(imp, ln) for ln in matched[start:start + INSERT_CHUNK]])
    audit("usage.imported", "usage_import", imp.id, actor=user,
          summary=f"{imp.filename} ({imp.utility} {imp.season})",
          after=_facts(preview.data, import_id=imp.id))
    return Outcome(imported=imp)


def _record_row(imp: UsageImport, line: Any) -> dict[str, Any]:
    amount = line.amount
    return {"import_id": imp.id, "household_id": line.household_id, "season": imp.season,
            "season_no": line.season_no, "meter_no": line.meter, "usage": line.usage,
            "amount_fen": amount.fen, "explanation": amount.explanation,
            "inputs": amount.inputs, "policy_id": line.policy_id, "low_usage": line.low}


# --- reading what was imported ------------------------------------------------------------------
def imports_for(user: Any, limit: int = 100) -> list[UsageImport]:
    counties = _viewable_counties(user)
    if not counties:
        return []
    return list(db.session.scalars(
        select(UsageImport).where(UsageImport.county_id.in_(counties))
        .order_by(UsageImport.id.desc()).limit(limit)))


def import_for(import_id: int, user: Any) -> UsageImport | None:
    """The import, when it belongs to a county the user reads payouts of."""
    imp = db.session.get(UsageImport, import_id)
    if imp is None or not viewable(imp, user):
        return None
    return imp


def viewable(imp: UsageImport, user: Any) -> bool:
    return imp.county_id in _viewable_counties(user)


def records_of(imp: UsageImport, *, low_only: bool = False, offset: int = 0,
               limit: int | None = 200) -> tuple[int, list[Any]]:
    """(count, rows) of the import's records with the masked-later head name and village."""
    where = [UsageRecord.import_id == imp.id]
    if low_only:
        where.append(UsageRecord.low_usage.is_(True))
    total = db.session.scalar(select(func.count()).select_from(UsageRecord).where(*where))
    query = (select(UsageRecord.id, UsageRecord.household_id, UsageRecord.meter_no,
                    UsageRecord.usage, UsageRecord.season_no, UsageRecord.amount_fen,
                    UsageRecord.explanation, UsageRecord.inputs, UsageRecord.low_usage,
                    Household.head_name,
                    Household.group_name, Household.house_no, Area.name.label("village"))
             .join(Household, Household.id == UsageRecord.household_id)
             .join(Area, Area.id == Household.village_id)
             .where(*where).order_by(Area.code, Household.group_name, Household.house_no,
                                     UsageRecord.id).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return total or 0, list(db.session.execute(query))


def total_fen(imp: UsageImport) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(UsageRecord.amount_fen), 0))
                             .where(UsageRecord.import_id == imp.id)) or 0


def low_count(imp: UsageImport) -> int:
    return db.session.scalar(select(func.count()).select_from(UsageRecord).where(
        UsageRecord.import_id == imp.id, UsageRecord.low_usage.is_(True))) or 0


def threshold_text(utility: str) -> str:
    """The configured near-zero threshold, as shown on the upload form."""
    return f"{threshold(utility).normalize():f} {UNIT_OF[utility]}"


def audit_low_export(imp: UsageImport, user: Any, rows: int) -> None:
    """The low-usage list leaves the system with masked names: logged like any export."""
    audit("usage.low_usage_export", "usage_import", imp.id, actor=user,
          summary=f"{imp.filename} ({imp.season})", after={"rows": rows})


def policies_with_usage(ids: list[int]) -> set[int]:
    """Policies a season's usage was recorded under (registered with
    ``subsidies.register_policy_use``)."""
    return set(db.session.scalars(select(UsageRecord.policy_id).where(
        UsageRecord.policy_id.in_(ids)).distinct()))
