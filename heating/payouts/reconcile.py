"""Bank results in: the bank's result file for an exported batch, imported in one transaction
or rejected whole.

Columns (header row found by name, CSV or XLSX): 付款参考号/reference, 金额/amount,
状态/status (成功/失败, success/failed), 失败原因/reason, 到账日期/paid date.  The whole file
is refused, with a report per row, when a reference is unknown (or not of this batch), an
amount differs from the payment's, a payment was already settled (by another file), a status
or date cannot be read, or a reference appears twice.  The same file (same SHA-256) a second
time is reported as already imported and changes nothing.

Paid → payment paid (paid_on) and, for the equipment subsidy, case ``pay`` → paid; failed →
payment failed with the bank's reason and case ``payment_fail`` → payment_failed.  Running
subsidy payments change only their own status (the case stays paid).  The batch becomes
reconciled when none of its payments waits for a result.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from heating.audit.services import record
from heating.auth import permissions
from heating.core.db import now_utc
from heating.core.money import format_fen, to_fen
from heating.core.spreadsheet_read import SpreadsheetError, cell_text, find_header, read_book
from heating.core.storage import store_new
from heating.extensions import db
from heating.households.models import Household
from heating.households.services import VersionConflict, transition_many
from heating.payouts.models import BankResultImport, Payment, PayoutBatch
from heating.payouts.services import PayoutError

ALIASES = {
    "付款参考号": "reference", "参考号": "reference", "业务参考号": "reference",
    "reference": "reference", "paymentreference": "reference", "ref": "reference",
    "金额": "amount", "金额(元)": "amount", "amount": "amount", "交易金额": "amount",
    "状态": "status", "处理状态": "status", "交易状态": "status", "status": "status",
    "失败原因": "reason", "原因": "reason", "备注": "reason", "reason": "reason",
    "failurereason": "reason",
    "到账日期": "paid_on", "入账日期": "paid_on", "交易日期": "paid_on", "paiddate": "paid_on",
    "paid_on": "paid_on", "date": "paid_on",
}
PAID = {"成功", "已到账", "已入账", "success", "succeeded", "paid", "ok"}
FAILED = {"失败", "退票", "已退票", "failed", "failure", "fail", "returned"}
#: the reason recorded when the bank sends a failure without one
NO_REASON = "银行未注明失败原因"
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%d %H:%M:%S", "%Y年%m月%d日")


@dataclass(frozen=True)
class RowProblem:
    row: int  #: the row number as the spreadsheet shows it
    reference: str
    message: Any


@dataclass
class ResultReport:
    """What happened to an uploaded result file (nothing at all unless ``imported``)."""

    filename: str
    imported: BankResultImport | None = None
    already: BankResultImport | None = None
    problems: list[RowProblem] = field(default_factory=list)
    file_error: Any = None

    @property
    def ok(self) -> bool:
        return self.imported is not None


@dataclass
class _Row:
    row: int
    reference: str
    payment_id: int
    household_id: int
    kind: str
    amount_fen: int
    paid: bool
    paid_on: date | None
    reason: str | None


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date_text(unicodedata.normalize("NFKC", cell_text(value)).strip())


@functools.lru_cache(maxsize=1024)
def _parse_date_text(text: str) -> date | None:
    """A bank's file repeats a handful of dates over 20,000 rows: parse each once."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _status(value: Any) -> bool | None:
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell_text(value))).lower()
    return True if key in PAID else False if key in FAILED else None


def _payments(batch: PayoutBatch) -> dict[str, tuple[int, int, str, int, str]]:
    """reference → (payment id, household id, kind, fen, status) for the whole batch, locked
    on PostgreSQL: a second file for the same batch waits, then sees this one's results."""
    query = (select(Payment.reference, Payment.id, Payment.household_id, Payment.kind,
                    Payment.amount_fen, Payment.status).where(Payment.batch_id == batch.id))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.order_by(Payment.id).with_for_update()
    return {ref: (pid, hid, kind, fen, status)
            for ref, pid, hid, kind, fen, status in db.session.execute(query)}


def check_rows(rows: list[list[Any]], batch: PayoutBatch
               ) -> tuple[list[_Row], list[RowProblem], Any]:
    """The file's rows checked against the batch: (good rows, problems, file-level error)."""
    header = find_header(rows, ALIASES, min_hits=3)
    if header is None or not {"reference", "amount", "status"} <= set(header.columns):
        return [], [], _l("No header row with the columns 付款参考号, 金额 and 状态 was found. "
                          "Upload the bank's result file for this batch.")
    payments = _payments(batch)
    seen: dict[str, int] = {}  #: reference → the row it first appeared in
    good, problems = [], []
    for index in range(header.row + 1, len(rows)):
        line, n = rows[index], index + 1
        if not any(cell_text(v) for v in line):
            continue
        cell = functools.partial(_cell, line, header.columns)
        ref = unicodedata.normalize("NFKC", cell_text(cell("reference"))).strip()
        checked = _check_row(n, ref, payments.get(ref), seen.get(ref), cell)
        seen.setdefault(ref, n)
        if isinstance(checked, _Row):
            good.append(checked)
        else:
            problems.append(RowProblem(n, ref[:40], checked))
    if not good and not problems:
        return [], [], _l("The file has no result rows.")
    return good, problems, None


def _cell(line: list[Any], columns: dict[str, int], key: str) -> Any:
    """The row's value in the column the header named ``key``; None where the row is short."""
    col = columns.get(key)
    return line[col] if col is not None and col < len(line) else None


def _check_row(n: int, ref: str, found: tuple[int, int, str, int, str] | None,
               first_row: int | None, cell: Callable[[str], Any]) -> _Row | Any:
    """One result row against its payment: the row to apply, or the problem (a message)."""
    if not ref or found is None:
        return _l("Unknown payment reference: it is not a payment of this batch.")
    if first_row is not None:
        return _l("This reference appears twice in the file (first in row %(row)d).",
                  row=first_row)
    pid, hid, kind, fen, status = found
    paid = _status(cell("status"))
    try:
        amount = to_fen(cell_text(cell("amount")))
    except (TypeError, ValueError):
        amount = None
    paid_on = _parse_date(cell("paid_on")) if paid else None
    problem = _result_problem(status, fen, amount, paid, paid_on)
    if problem is not None:
        return problem
    reason = None if paid else (cell_text(cell("reason"))[:500] or NO_REASON)
    return _Row(n, ref, pid, hid, kind, fen, bool(paid), paid_on, reason)


def _result_problem(status: str, fen: int, amount: int | None, paid: bool | None,
                    paid_on: date | None) -> Any:
    """Why the bank's result cannot settle a payment in ``status`` of ``fen``, or None."""
    if status in ("paid", "failed"):
        return _l("This payment was already settled by an earlier result file.")
    if status != "pending":  # voided before the file was made
        return _l("This payment was voided and never sent to the bank.")
    if amount is None:
        return _l("The amount cannot be read.")
    if amount != fen:
        return _l("Amount %(file)s differs from the payment's %(ours)s.",
                  file=format_fen(amount), ours=format_fen(fen))
    if paid is None:
        return _l("Unknown status: use 成功 or 失败 (success or failed).")
    if paid and paid_on is None:
        return _l("The paid date is missing or cannot be read (use 2026-03-01).")
    return None


def _store(data: bytes, batch: PayoutBatch, kind: str) -> str:
    return store_new(data, "bankresults", batch.number, kind)


def import_results(batch: PayoutBatch, data: bytes, filename: str, actor: Any) -> ResultReport:
    """Import the bank's result file for ``batch``, all or nothing (see the module docstring).
    The caller commits when ``report.ok`` and rolls back otherwise."""
    if not permissions.can(actor, "payout.results", batch):
        raise PayoutError(_l("Only finance staff import bank results."))
    if batch.state not in ("exported", "reconciled"):
        raise PayoutError(_l("Bank results can be imported once the bank file is exported."))
    filename = (filename or "results")[-200:]
    report = ResultReport(filename)
    digest = hashlib.sha256(data).hexdigest()
    report.already = db.session.scalar(select(BankResultImport)
                                       .where(BankResultImport.sha256 == digest))
    if report.already is not None:
        return report
    try:
        book = read_book(data)
        sheet = next(book.sheets, None)
    except SpreadsheetError as err:
        report.file_error = err.message
        return report
    good, report.problems, report.file_error = check_rows(sheet.rows if sheet else [], batch)
    if report.problems or report.file_error:
        return report
    db.session.refresh(batch)  # after the payment locks: the batch as the last import left it
    report.imported = _apply(batch, good, data, book.kind, digest, filename, actor)
    return report


def _apply(batch: PayoutBatch, good: list[_Row], data: bytes, kind: str, digest: str,
           filename: str, actor: Any) -> BankResultImport:
    paid = [r for r in good if r.paid]
    failed = [r for r in good if not r.paid]
    imp = BankResultImport(
        sha256=digest, filename=filename, path=_store(data, batch, kind),
        county_id=batch.county_id, imported_by_id=actor.id, imported_at=now_utc(),
        row_count=len(good), paid_count=len(paid), paid_fen=sum(r.amount_fen for r in paid),
        failed_count=len(failed), failed_fen=sum(r.amount_fen for r in failed))
    try:
        with db.session.begin_nested():
            db.session.add(imp)
            db.session.flush()
    except IntegrityError:
        raise PayoutError(_l("This file was imported a moment ago by someone else.")) from None
    now = now_utc()
    db.session.execute(update(Payment), [
        {"id": r.payment_id, "status": "paid" if r.paid else "failed", "paid_on": r.paid_on,
         "failure_reason": r.reason, "settled_at": now, "result_import_id": imp.id}
        for r in good])
    _move_cases(paid, failed, actor)
    waiting = db.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.batch_id == batch.id, Payment.status == "pending")) or 0
    before = batch.state
    if not waiting:
        batch.state = "reconciled"
    db.session.flush()
    record("payout.results_imported", "payout_batch", batch.id, actor=actor,
           summary=f"{batch.number}: {filename}",
           before={"state": before},
           after={"state": batch.state, "import": imp.id, "sha256": digest[:16],
                  "paid": imp.paid_count, "paid_fen": imp.paid_fen,
                  "failed": imp.failed_count, "failed_fen": imp.failed_fen})
    return imp


def _cases(rows: list[_Row]) -> list[Any]:
    ids = [r.household_id for r in rows if r.kind == "equipment"]
    found: list[Any] = []
    for start in range(0, len(ids), 500):
        found += db.session.execute(
            select(Household.id, Household.state, Household.village_id, Household.township_id,
                   Household.county_id).where(Household.id.in_(ids[start:start + 500]))).all()
    return found


def _move_cases(paid: list[_Row], failed: list[_Row], actor: Any) -> None:
    try:
        transition_many(_cases(paid), "pay", actor)
        transition_many(_cases(failed), "payment_fail", actor,
                        reasons={r.household_id: r.reason or NO_REASON for r in failed})
    except VersionConflict:
        raise PayoutError(_l("A case of this batch changed meanwhile. Nothing was imported; "
                             "try again.")) from None


def imports_of(batch: PayoutBatch) -> list[BankResultImport]:
    ids = select(Payment.result_import_id).where(Payment.batch_id == batch.id,
                                                 Payment.result_import_id.is_not(None)).distinct()
    return list(db.session.scalars(select(BankResultImport)
                                   .where(BankResultImport.id.in_(ids))
                                   .order_by(BankResultImport.id)))
