"""Household import screens.  Importing is for clerks, reviewers and county users; an import
record is read by its uploader (whatever their roles now) and by county users of its county,
and confirmed only by its uploader: everyone else gets 404 (the record is not revealed)."""
from __future__ import annotations

from typing import Any

from heating.auth import permissions
from heating.auth.models import User
from heating.extensions import db
from heating.households.imports import services as import_services
from heating.households.imports.models import ImportRecord
from tests.imports.helpers import grid, row, xlsx

IMPORTERS = {"clerk", "reviewer", "county"}


def _record(uploader: Any) -> ImportRecord:
    """A previewed import of a one-row file, uploaded by ``uploader``."""
    if permissions.may_import(uploader):
        rec, _ = import_services.upload(xlsx(grid([row(1)])), "f.xlsx", 2026, uploader)
    else:  # a user who has since lost the role that let them upload
        rec = ImportRecord(uploaded_by_id=uploader.id, filename="f.xlsx", sha256="0" * 64,
                           size=1, programme_year=2026, status="previewed", preview="{}")
        db.session.add(rec)
    db.session.commit()
    return rec


def _own(c: Any) -> int:
    return _record(c.user if c.user is not None else c.other_user).id


def _others(c: Any) -> int:
    return _record(db.session.get(User, c.case.created_by_id)).id


def _importers(ok: int) -> Any:
    return lambda role, scope: 302 if role == "anonymous" else (ok if role in IMPORTERS else 403)


def _county_in(ok: int, others: int = 404) -> Any:
    """``ok`` for a county user of the record's county; ``others`` for everyone else."""
    return lambda role, scope: 302 if role == "anonymous" else (
        ok if role == "county" and scope == "in" else others)


def cells(h: Any) -> dict[str, list[Any]]:
    return {
        "imports.index": [
            h.Cell("GET", lambda c: "/imports/", _importers(200), name="form"),
            # no file: the form comes back with its message
            h.Cell("POST", lambda c: "/imports/", _importers(200),
                   data=lambda c: {"programme_year": "2026"}, name="upload"),
        ],
        "imports.template": [h.Cell("GET", lambda c: "/imports/template.xlsx", _importers(200))],
        "imports.detail": [
            h.Cell("GET", lambda c: f"/imports/{_own(c)}", h.everyone(200), name="own"),
            h.Cell("GET", lambda c: f"/imports/{_others(c)}", _county_in(200),
                   name="another's"),
        ],
        "imports.confirm": [
            h.Cell("POST", lambda c: f"/imports/{_own(c)}/confirm", _importers(302),
                   name="own"),
            # county users read others' imports but only the uploader confirms
            h.Cell("POST", lambda c: f"/imports/{_others(c)}/confirm", _county_in(403),
                   name="another's"),
        ],
    }
