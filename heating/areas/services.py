"""Loading the area tree from the published code list (CSV), year after year."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from heating.areas.models import LEVELS, Area, AreaTarget
from heating.audit.services import record
from heating.core.db import now_utc
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
            _set_target(area, row["programme_year"], row["target"])
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


def _set_target(area: Area, year: int, target: int) -> None:
    row = db.session.scalar(select(AreaTarget).where(AreaTarget.area_id == area.id,
                                                     AreaTarget.programme_year == year))
    if row is None:
        db.session.add(AreaTarget(area_id=area.id, programme_year=year, target=target))
    else:
        row.target = target


def by_code(code: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.code == code))
