"""Import services: upload → preview record, confirm → every valid row in one transaction.

Services flush, never commit: the request or the CLI command owns the transaction, so a crash
anywhere in a confirmation leaves no row of the file behind.  Who may import: clerks (into their
villages), reviewers (their township), county users (their county); others are refused here.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path, PurePath
from typing import Any, Callable, Iterator

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from heating.areas.models import Area
from heating.audit.models import AuditEvent
from heating.audit.services import record as audit
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.i18n import local
from heating.core.redact import redact
from heating.core.refusals import Forbidden
from heating.core.spreadsheet_read import SpreadsheetError, sniff
from heating.core.storage import read_kept_upload
from heating.extensions import db
from heating.households.imports import Parsed, Progress, Row, parse
from heating.households.imports.models import ImportRecord
from heating.households.imports.rules import portable
from heating.households.models import CaseEvent, Household

IMPORT_DIR = "imports"
INSERT_CHUNK = 2000
BULK_CACHE_KIB = 64 * 1024


class ImportForbidden(Forbidden):
    """The user's roles do not allow importing (403)."""


class ImportRefused(SpreadsheetError):
    """The upload is refused as a whole (too large, already imported…)."""


def _real(user: Any) -> Any:
    """The user object behind Flask-Login's ``current_user`` proxy: the bulk paths read its
    attributes tens of thousands of times, and every read through the proxy costs."""
    getter = getattr(user, "_get_current_object", None)
    return getter() if getter is not None else user


def require_importer(user: Any) -> None:
    if not permissions.may_import(user):
        raise ImportForbidden()


def visible(record: ImportRecord, user: Any) -> bool:
    """Its uploader, and county users of the county it was uploaded in, may read a record."""
    if record.uploaded_by_id == getattr(user, "id", None):
        return True
    counties = permissions.scope_for(
        user, permissions.PERMISSIONS["household.import_records"]).counties
    return record.county_id is not None and record.county_id in counties


def recent(user: Any, limit: int = 20) -> list[ImportRecord]:
    return list(db.session.scalars(
        select(ImportRecord).where(ImportRecord.uploaded_by_id == user.id)
        .order_by(ImportRecord.id.desc()).limit(limit)))


def already_imported(sha256: str) -> ImportRecord | None:
    return db.session.scalar(select(ImportRecord).where(ImportRecord.sha256 == sha256,
                                                        ImportRecord.status == "imported"))


def _county_of(user: Any) -> int | None:
    """The county holding the uploader's import scope (the first by id if several)."""
    scope = permissions.scope_for(user, permissions.PERMISSIONS["household.import"])
    counties = set(scope.counties)
    if scope.townships:
        counties |= set(db.session.scalars(select(Area.parent_id).where(
            Area.id.in_(scope.townships))))
    if scope.villages:
        township = Area.__table__.alias("t")
        counties |= set(db.session.scalars(
            select(township.c.parent_id).join(Area, Area.parent_id == township.c.id)
            .where(Area.id.in_(scope.villages))))
    counties.discard(None)
    return min(counties) if counties else None


def _clean_name(filename: str) -> str:
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return "".join(ch for ch in name if ch >= " ")[:255] or "upload"


# --- upload ---------------------------------------------------------------------------------
def upload(data: bytes, filename: str, programme_year: int, user: Any, *,
           progress: Progress | None = None) -> tuple[ImportRecord, Parsed | None]:
    """Check and parse the file and keep it with its preview; a refused file gets a record
    with status 'rejected' (and no kept file) so every attempt is audited."""
    require_importer(user)
    user = _real(user)
    digest = hashlib.sha256(data).hexdigest()
    rec = ImportRecord(uploaded_by_id=user.id, county_id=_county_of(user),
                       filename=_clean_name(filename), sha256=digest, size=len(data),
                       programme_year=programme_year, status="previewed")
    try:
        check_upload(data, digest)
        parsed = parse(data, user, progress=progress)
    except SpreadsheetError as err:
        rec.status = "rejected"
        rec.preview = json.dumps({"v": 1, "file_error": portable(err.message),
                                  "code": err.code}, ensure_ascii=False)
        db.session.add(rec)
        db.session.flush()
        audit("imports.rejected", "import", rec.id, actor=user, summary=err.code,
              after=_facts(rec, code=err.code))
        return rec, None
    rec.stored_path = _store(data, sniff(data))
    _set_preview(rec, parsed)
    db.session.add(rec)
    db.session.flush()
    audit("imports.previewed", "import", rec.id, actor=user, summary=rec.filename,
          after=_facts(rec))
    return rec, parsed


def check_upload(data: bytes, digest: str | None = None) -> None:
    """Refuse a file that is too large or was imported before (before reading it)."""
    digest = digest or hashlib.sha256(data).hexdigest()
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if len(data) > limit:
        raise ImportRefused(_l("The file is larger than %(mb)d MB. Split it into smaller files "
                               "and upload them one by one.", mb=limit // (1024 * 1024)),
                            "too_large")
    earlier = already_imported(digest)
    if earlier is not None:
        raise ImportRefused(_l(
            "This file was already imported on %(when)s (import %(id)s, %(n)d households). "
            "Nothing was changed.", when=local(earlier.imported_at), id=earlier.id,
            n=earlier.imported_count), "already_imported")


def _store(data: bytes, kind: str) -> str:
    folder = Path(current_app.config["STORAGE_DIR"]) / IMPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"{IMPORT_DIR}/{secrets.token_hex(16)}.{kind}"
    (Path(current_app.config["STORAGE_DIR"]) / relative).write_bytes(data)
    return relative


def read_stored(rec: ImportRecord) -> bytes:
    if not rec.stored_path:
        raise ImportRefused(_l("The file of this import is not kept (it was refused)."),
                            "no_file")
    return read_kept_upload(rec.stored_path, rec.sha256, ImportRefused)


def _set_preview(rec: ImportRecord, parsed: Parsed) -> None:
    counts = parsed.counts()
    rec.row_count, rec.new_count = counts["rows"], counts["new"]
    rec.duplicate_count, rec.error_count = counts["duplicates"], counts["errors"]
    rec.preview = json.dumps(parsed.as_json(), ensure_ascii=False, separators=(",", ":"))


def _facts(rec: ImportRecord, **extra: Any) -> dict[str, Any]:
    facts = {"filename": rec.filename, "sha256": rec.sha256, "size": rec.size,
             "programme_year": rec.programme_year, "status": rec.status,
             "rows": rec.row_count, "new": rec.new_count, "duplicates": rec.duplicate_count,
             "errors": rec.error_count, "imported": rec.imported_count}
    facts.update(extra)
    return facts


# --- confirm --------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What a confirmation did: ``imported`` cases, or why none (``refused`` / ``changed``)."""

    imported: int = 0
    refused: Any = None
    changed: bool = False


def previewed_rows(rec: ImportRecord) -> set[int]:
    return {r[0] for r in rec.preview_data.get("rows", []) if r[1] in ("new", "warning")}


def confirm(rec: ImportRecord, user: Any, *, progress: Progress | None = None) -> Outcome:
    """Import the rows the preview showed as new, all or nothing.  The stored file is read and
    validated again; if any row's fate changed since the preview (someone registered one of the
    ID numbers meanwhile), nothing is imported and the preview is refreshed."""
    require_importer(user)
    user = _real(user)
    if rec.uploaded_by_id != user.id:
        raise ImportForbidden()
    rec = db.session.get(ImportRecord, rec.id, with_for_update=True, populate_existing=True)
    if rec.status == "imported":
        return Outcome(refused=_l("This file has already been imported."))
    if rec.status != "previewed":
        return Outcome(refused=_l("This file was refused and cannot be imported."))
    earlier = already_imported(rec.sha256)
    if earlier is not None:
        return Outcome(refused=_l("This file was already imported on %(when)s (import "
                                  "%(id)s). Nothing was changed.",
                                  when=local(earlier.imported_at), id=earlier.id))
    try:
        parsed = parse(read_stored(rec), user, progress=progress)
    except SpreadsheetError as err:
        return Outcome(refused=err.message)
    rows = parsed.importable
    if {r.number for r in rows} != previewed_rows(rec):
        _set_preview(rec, parsed)
        db.session.flush()
        return Outcome(changed=True)
    if not rows:
        return Outcome(refused=_l("No row of this file can be imported."))
    insert_cases(rows, rec, user, progress=progress)
    rec.status, rec.imported_count, rec.imported_at = "imported", len(rows), now_utc()
    db.session.flush()
    audit("imports.confirmed", "import", rec.id, actor=user, summary=rec.filename,
          after=_facts(rec))
    return Outcome(imported=len(rows))


def refresh(rec: ImportRecord, user: Any) -> None:
    """Validate the kept file again and store the new preview (after a lost race)."""
    user = _real(user)
    try:
        parsed = parse(read_stored(rec), user)
    except SpreadsheetError:
        return
    _set_preview(rec, parsed)
    db.session.flush()


# --- the bulk insert --------------------------------------------------------------------------
def insert_cases(rows: list[Row], rec: ImportRecord, user: Any, *,
                 progress: Progress | None = None) -> list[int]:
    """Households, their creation events and audit rows in bulk (one compiled INSERT per
    table run with the driver's executemany), with ids reserved first so the three tables are
    written in one pass."""
    now = now_utc()
    actor = Actor(user.id, user.username, rec.id, rec.programme_year, now,
                  request.remote_addr if has_request_context() else None)
    ids = _reserve_ids(len(rows))
    # a draft as the registration form would create it; columns left out are NULL (the
    # holder exception, submission and approval columns)
    households = BulkInsert(Household.__table__, HOUSEHOLD_COLUMNS, {
        "programme_year": actor.programme_year, "state": "draft", "version": 1,
        "luhn_confirmed": False, "frozen_fen": 0, "created_by_id": actor.id, "created_at": now,
        "updated_at": now, "state_since": now})
    events = BulkInsert(CaseEvent.__table__, ("household_id",), {  # from_state, reason: NULL
        "action": "create", "to_state": "draft", "actor_id": actor.id, "at": now})
    audits = BulkInsert(AuditEvent.__table__, ("object_id", "summary", "after"), {
        "at": now, "actor_id": actor.id, "actor_name": actor.username,
        "action": "household.imported", "object_type": "household", "ip": actor.ip})
    with _bulk_cache():
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start:start + INSERT_CHUNK]
            chunk_ids = ids[start:start + INSERT_CHUNK]
            households.run([_household(hid, r) for hid, r in zip(chunk_ids, chunk)])
            events.run([(hid,) for hid in chunk_ids])
            audits.run([_audit_row(hid, r, actor) for hid, r in zip(chunk_ids, chunk)])
            if progress:
                progress("insert", start + len(chunk), len(rows))
    return ids


class BulkInsert:
    """``INSERT INTO table (columns, constants)`` compiled once and run with the driver's
    executemany on the session's connection.  Every value goes through its column type's bind
    processor, as a Core insert would (UTC datetimes, hundredths, booleans), the constants
    once rather than on every row, and no parameter dict is built per row (on SQLite)."""

    def __init__(self, table: Table, columns: tuple[str, ...], constants: dict[str, Any]
                 ) -> None:
        self.connection = db.session.connection()
        dialect = self.connection.dialect
        keys = (*columns, *constants)
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        self.processors = [(i, p) for i, key in enumerate(columns)
                           if (p := _processor(table.c[key], dialect)) is not None]
        self.constants = tuple(_processed(table.c[key], dialect, value)
                               for key, value in constants.items())
        self.shape: Callable[[tuple[Any, ...]], Any]
        if dialect.positional:  # SQLite: the values in the statement's (the table's) order
            # a column the caller did not give (one with a default) fails here, not silently
            order = [keys.index(name) for name in compiled.positiontup or ()]
            self.shape = (itemgetter(*order) if len(order) > 1
                          else lambda values: tuple(values[i] for i in order))
        else:  # PostgreSQL (psycopg): named parameters
            self.shape = lambda values: dict(zip(keys, values))

    def run(self, rows: list[tuple[Any, ...]]) -> None:
        constants, processors, shape = self.constants, self.processors, self.shape
        params = []
        for row in rows:
            if processors:
                values = list(row)
                for i, process in processors:
                    values[i] = process(values[i])
                row = tuple(values)
            params.append(shape(row + constants))
        if params:
            self.connection.exec_driver_sql(self.sql, params)


def _processor(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """What a Core insert does to the column's values: the type as the dialect implements it
    (SQLite's DATETIME writes its own text format)."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _processed(column: Any, dialect: Any, value: Any) -> Any:
    process = _processor(column, dialect)
    return value if process is None else process(value)


@contextlib.contextmanager
def _bulk_cache() -> Iterator[None]:
    """SQLite: a larger page cache while the rows go in (the households table has ten indexes,
    three of them on random keyed hashes; the default 2 MB cache keeps re-reading their pages);
    the connection's own setting comes back afterwards."""
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = db.session.connection()
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    connection.exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        # after a failed insert too (a larger cache left behind would only cost memory)
        with contextlib.suppress(SQLAlchemyError):
            connection.exec_driver_sql(f"PRAGMA cache_size = {previous}")


def _reserve_ids(n: int) -> list[int]:
    """Ids for ``n`` new households.  PostgreSQL: taken from the table's sequence, so
    registrations running meanwhile never collide.  SQLite: after the highest id, which is
    safe because this transaction holds the database's write lock (BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return list(db.session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence('households', 'id')) "
            "FROM generate_series(1, :n)"), {"n": n}))
    start = (db.session.scalar(select(func.max(Household.id))) or 0) + 1
    return list(range(start, start + n))


@dataclass(frozen=True)
class Actor:
    """Who imports, for which import and when: plain values read once, not per row."""

    id: int
    username: str
    import_id: int
    programme_year: int
    at: datetime
    ip: str | None


#: the households columns that differ from row to row, in ``_household``'s order
HOUSEHOLD_COLUMNS = (
    "id", "village_id", "township_id", "county_id", "head_name", "id_number", "id_hash",
    "phone", "group_name", "house_no", "residents", "heated_area", "previous_heating",
    "coal_stoves", "low_income", "conversion_type", "device_kind", "bank_name",
    "bank_account", "bank_hash", "account_holder")


def _household(hid: int, row: Row) -> tuple[Any, ...]:
    """A row's values for ``HOUSEHOLD_COLUMNS``.  The raw number columns take the canonical
    values, exactly what the model's accessors store (see Household.id_number)."""
    v, village = row.values, row.village
    assert village is not None
    return (hid, village.id, village.township_id, village.county_id, v["head_name"],
            v["id_number"], row.id_hash, v["phone"], v["group_name"], v["house_no"],
            v["residents"], v["heated_area"], v["previous_heating"], v["coal_stoves"],
            v["low_income"], v["conversion_type"], v["device_kind"], v["bank_name"],
            v["bank_account"], row.bank_hash, v["account_holder"])


def _audit_row(hid: int, row: Row, actor: Actor) -> tuple[str, str, str]:
    """``household.imported``: the case, the import and the row it came from.  The masked
    values of every row are in the import record's preview and the file's hash in the
    ``imports.confirmed`` row, so this row stays small (20,000 of them in one transaction)."""
    assert row.village is not None
    return (str(hid), redact(f"{row.values['head_name']} @ {row.village.code} "
                             f"(import {actor.import_id}, row {row.number})"),
            f'{{"import": {actor.import_id}, "row": {row.number}}}')
