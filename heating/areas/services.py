"""Loading the area tree from the published code list (CSV), year after year."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from sqlalchemy import func, select

from heating.areas.models import LEVELS, Area, AreaTarget
from heating.audit.services import record
from heating.core.db import now_utc
from heating.core.i18n import local_today
from heating.core.ids import InvalidValue, area_level, canonical_area_code, parent_code
from heating.extensions import db

COLUMNS = ("code", "name", "level", "parent_code", "code_year", "programme_year", "target")


class AreaFileError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    retired: int = 0
    targets: int = 0
    messages: list[str] = field(default_factory=list)


def _parse(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AreaFileError([f"missing columns: {', '.join(missing)}"])
    rows, errors = [], []
    for line, row in enumerate(reader, start=2):
        try:
            code = canonical_area_code(row["code"])
            level = row["level"].strip()
            if level not in LEVELS or level != area_level(code):
                raise ValueError(f"level {level!r} does not match code {code}")
            parent = (row["parent_code"] or "").strip() or None
            if level != "county" and parent != parent_code(code):
                raise ValueError(f"parent_code must be {parent_code(code)}")
            target = (row["target"] or "").strip()
            rows.append({"code": code, "name": row["name"].strip(), "level": level,
                         "parent": parent, "code_year": int(row["code_year"]),
                         "programme_year": int(row["programme_year"]) if target else None,
                         "target": int(target) if target else None})
            if not rows[-1]["name"]:
                raise ValueError("empty name")
            if rows[-1]["target"] is not None and rows[-1]["target"] < 0:
                raise ValueError("negative target")
        except (InvalidValue, ValueError, KeyError, TypeError) as err:
            errors.append(f"line {line}: {err}")
    if errors:
        raise AreaFileError(errors)
    return rows


def load_areas(text: str, actor: Any = None) -> LoadReport:
    """Create or update areas by code; codes absent from a newer code year are retired."""
    rows = _parse(text)
    report = LoadReport()
    existing = {a.code: a for a in db.session.scalars(select(Area))}
    order = {"county": 0, "township": 1, "village": 2}
    file_year = max((r["code_year"] for r in rows), default=0)
    for row in sorted(rows, key=lambda r: order[r["level"]]):
        area = existing.get(row["code"])
        parent = existing.get(row["parent"]) if row["parent"] else None
        if row["parent"] and parent is None:
            raise AreaFileError([f"{row['code']}: parent {row['parent']} is not in the file "
                                 "or the database"])
        if area is None:
            area = Area(code=row["code"], name=row["name"], level=row["level"],
                        parent=parent, code_year=row["code_year"])
            db.session.add(area)
            existing[area.code] = area
            report.created += 1
        elif row["code_year"] >= area.code_year:
            changed = (area.name, area.retired_at) != (row["name"], None)
            area.name, area.code_year, area.retired_at = row["name"], row["code_year"], None
            area.parent = parent
            report.updated += int(changed)
        if row["target"] is not None:
            db.session.flush()
            set_target(area, row["programme_year"], row["target"], actor)
            report.targets += 1
    in_file = {r["code"] for r in rows}
    for area in existing.values():
        if area.code not in in_file and area.retired_at is None and area.code_year < file_year:
            area.retired_at = now_utc()
            report.retired += 1
    db.session.flush()
    record("areas.loaded", "area", None, actor=actor,
           summary=f"created {report.created}, updated {report.updated}, "
                   f"retired {report.retired}, targets {report.targets}")
    return report


def set_target(area: Area, year: int, target: int, actor: Any = None,
               reason: str | None = None) -> AreaTarget | None:
    """Set the area's target for ``year``, keeping the history: a first target is in force
    from 1 January of its year (or today, if that is earlier), a changed one from today
    (Beijing date); an unchanged target writes nothing (None).  Two changes on one day leave
    that day's last value (the audit log keeps both)."""
    today = local_today()
    current = current_target(area.id, year)
    if current is not None and current.target == target:
        return None
    starts = today if current is not None else min(date(year, 1, 1), today)
    row = current if current is not None and current.effective_from == starts else None
    before = current.target if current is not None else None
    if row is None:
        row = AreaTarget(area_id=area.id, programme_year=year, target=target,
                         effective_from=starts)
        db.session.add(row)
    row.target, row.reason = target, (reason or "").strip() or None
    row.set_by_id, row.set_at = getattr(actor, "id", None), now_utc()
    db.session.flush()
    record("areas.target_set", "area", area.id, actor=actor,
           summary=f"{area.code} {year}: {before} → {target} from {starts.isoformat()}",
           before={"target": before}, after={"target": target, "programme_year": year,
                                             "effective_from": starts.isoformat()})
    return row


def current_target(area_id: int, year: int) -> AreaTarget | None:
    """The area's latest target row for ``year`` (None: never set)."""
    return db.session.scalar(
        select(AreaTarget).where(AreaTarget.area_id == area_id,
                                 AreaTarget.programme_year == year)
        .order_by(AreaTarget.effective_from.desc()).limit(1))


def targets_on(year: int, day: date, area_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Area id → the target in force at the end of ``day`` for ``year`` (areas whose first
    target starts later are left out).  One query: the latest row per area up to ``day``."""
    latest = (select(AreaTarget.area_id, func.max(AreaTarget.effective_from).label("since"))
              .where(AreaTarget.programme_year == year, AreaTarget.effective_from <= day)
              .group_by(AreaTarget.area_id))
    if area_ids is not None:
        latest = latest.where(AreaTarget.area_id.in_(sorted(set(area_ids))))
    latest_sq = latest.subquery()
    rows = db.session.execute(
        select(AreaTarget.area_id, AreaTarget.target)
        .join(latest_sq, (latest_sq.c.area_id == AreaTarget.area_id)
              & (latest_sq.c.since == AreaTarget.effective_from))
        .where(AreaTarget.programme_year == year))
    return {area_id: target for area_id, target in rows}


def by_code(code: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.code == code))
