"""Demo installations and inspections: walked through the real services, so every row is
legal; the outcomes a demo needs are there."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select

from heating.certificates.models import Certificate
from heating.demo import build_demo
from heating.extensions import db
from heating.households.models import Household
from heating.inspections import services
from heating.inspections.demo import extend_demo
from heating.inspections.models import Assignment, Inspection, Installation


def test_demo_cases_are_installed_inspected_and_certified(app):
    lines: list[str] = []
    build_demo(300, seed=7, echo=lines.append)
    extend_demo(seed=7, echo=lines.append)
    assert lines[-1].startswith("installations and inspections:")
    states = Counter(db.session.scalars(select(Household.state)))
    assert states["installed"] and states["passed"] and states["failed"]
    results = Counter(db.session.scalars(select(Inspection.result)))
    assert results["pass"] == states["passed"] and results["fail"] >= states["failed"]
    certs = list(db.session.scalars(select(Certificate).order_by(Certificate.sequence)))
    assert [c.sequence for c in certs] == list(range(1, len(certs) + 1))
    assert all(c.pdf_sha256 is None for c in certs)  # rendered on first download
    assert db.session.scalar(select(Assignment.id)) is not None
    root = Path(app.config["STORAGE_DIR"])
    for insp in db.session.scalars(select(Inspection).where(Inspection.result == "pass")):
        assert len(insp.photos) == 2
        assert all((root / p.path).is_file() for p in insp.photos)
        hh = insp.household
        ctx = services.guard_context(hh, insp.inspector)
        assert insp.inspector_id not in ctx.registered_by | ctx.approved_by | ctx.installed_by
    installed = set(db.session.scalars(select(Installation.household_id)))
    assert {hh.id for hh in db.session.scalars(select(Household).where(
        Household.state.in_(("installed", "failed", "passed"))))} <= installed
