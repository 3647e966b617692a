"""The bank file of a batch (CSV and XLSX, layout in docs/bank-file.md) and the payout roster.

Rendering is pure (``render_csv`` / ``render_xlsx``: data in, bytes out).  ``bank_file`` is
the service: the first download of an approved batch renders both files, stores them under
STORAGE_DIR/bankfiles/ with their SHA-256, count and total on the batch, and marks the batch
and its payments exported; every later download serves the stored bytes after checking the
SHA-256, so the bank always gets identical bytes.  The bank file carries full ID and account
numbers (the bank needs them): every download is audited.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from heating.areas.models import Area
from heating.audit.services import record
from heating.auth import permissions
from heating.core import spreadsheet_write as sw
from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ
from heating.core.masking import mask_bank, mask_id
from heating.core.money import fen_in_capitals, from_fen
from heating.core.spreadsheet_write import neutralise
from heating.core.storage import StorageError, read_checked, store_new  # noqa: F401 (raised here)
from heating.extensions import db
from heating.households.models import Household
from heating.payouts import render
from heating.payouts.models import Payment, PayoutBatch
from heating.payouts.services import PayoutError

FORMATS = ("csv", "xlsx")
COLUMNS = ("序号", "姓名", "身份证号", "开户银行", "银行账号", "金额", "付款参考号")
KIND_LABELS = {"equipment": "设备购置补贴", "running": "运行补贴"}
#: the row (0-based) where the table's column headers are, in both formats
TABLE_HEADER_ROW = 8




@dataclass(frozen=True)
class BankFileHeader:
    batch_number: str
    kind: str  #: 设备购置补贴 / 运行补贴 2025-2026 / 设备购置补贴（补发）
    count: int
    total_fen: int
    prepared_on: date


#: (name, ID number, bank, account, amount in fen, payment reference), in sequence order
BankRow = tuple[str, str, str, str, int, str]


def header_block(h: BankFileHeader) -> list[list[str]]:
    """The rows above the table (both formats carry the same block)."""
    return [["补贴发放银行代发文件"], ["批次号", h.batch_number], ["补贴类型", h.kind],
            ["付款笔数", str(h.count)], ["付款总金额（元）", f"{from_fen(h.total_fen)}"],
            ["金额大写", fen_in_capitals(h.total_fen)],
            ["制表日期", h.prepared_on.isoformat()], []]


def _text(value: str) -> str:
    """Free text (names, bank names) with the formula guard; numbers stay as they are."""
    return neutralise(value or "")


def render_csv(h: BankFileHeader, rows: Iterable[BankRow]) -> bytes:
    """UTF-8 with a BOM, commas, CRLF.  ID and account numbers are plain digits (a bank's
    import reads them as text; open the XLSX to look at the file in Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(header_block(h))
    writer.writerow(COLUMNS)
    for seq, (name, id_number, bank, account, fen, ref) in enumerate(rows, start=1):
        writer.writerow((seq, _text(name), id_number, _text(bank), account,
                         f"{from_fen(fen)}", ref))
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


#: the table's columns in the XLSX (ID, account and reference as text cells, never rounded)
XLSX_COLUMNS = (
    sw.Column("序号", sw.INTEGER, 7), sw.Column("姓名", sw.STRING, 12),
    sw.Column("身份证号", sw.TEXT, 21), sw.Column("开户银行", sw.STRING, 22),
    sw.Column("银行账号", sw.TEXT, 23), sw.Column("金额", sw.DECIMAL2, 12),
    sw.Column("付款参考号", sw.TEXT, 26),
)


def render_xlsx(h: BankFileHeader, rows: Iterable[BankRow]) -> bytes:
    """One sheet, the header block then the table (frozen below the column titles).  ID and
    account numbers and references are text cells; amounts are numbers with two decimals and
    the block's total is a number too.  The same data gives the same bytes."""
    block: list[list[Any]] = header_block(h)
    block[4] = [block[4][0], from_fen(h.total_fen)]  # the total, as a number
    table = ((seq, name, id_number, bank, account, from_fen(fen), ref)
             for seq, (name, id_number, bank, account, fen, ref) in enumerate(rows, start=1))
    return b"".join(sw.xlsx_stream(XLSX_COLUMNS, table, sheet_name="代发明细",
                                   preamble=block))


# --- the service: freeze at the first download -------------------------------------------------

def kind_label(batch: PayoutBatch) -> str:
    label = KIND_LABELS[batch.kind] + (f" {batch.season}" if batch.season else "")
    return label + ("（补发）" if batch.is_repay else "")


def bank_rows(batch: PayoutBatch) -> list[BankRow]:
    """The payments the bank file carries (voided ones left out), read as columns."""
    query = (select(Payment.payee_name, Household._id_number, Payment.bank_name,
                    Payment._bank_account, Payment.amount_fen, Payment.reference)
             .join(Household, Payment.household_id == Household.id)
             .where(Payment.batch_id == batch.id, Payment.status == "pending")
             .order_by(Payment.seq))
    id_of, account_of = Household.id_number_from_column, Payment.bank_account_from_column
    return [(name, id_of(raw_id), bank, account_of(raw_acct), fen, ref)
            for name, raw_id, bank, raw_acct, fen, ref in db.session.execute(query)]


def _store(data: bytes, batch: PayoutBatch, ext: str) -> str:
    return store_new(data, "bankfiles", batch.number, ext)


def _freeze(batch: PayoutBatch, actor: Any) -> None:
    rows = bank_rows(batch)
    count, total = len(rows), sum(r[4] for r in rows)
    if (count, total) != (batch.payment_count, batch.total_fen) or not count:
        raise PayoutError(_l("The batch's totals do not match its payments; the bank file was "
                             "not made. Tell the system administrator."))
    now = now_utc()
    h = BankFileHeader(batch.number, kind_label(batch), count, total,
                       now.astimezone(LOCAL_TZ).date())
    csv_bytes, xlsx_bytes = render_csv(h, rows), render_xlsx(h, rows)
    batch.csv_path, batch.xlsx_path = _store(csv_bytes, batch, "csv"), _store(xlsx_bytes, batch,
                                                                              "xlsx")
    batch.csv_sha256 = hashlib.sha256(csv_bytes).hexdigest()
    batch.xlsx_sha256 = hashlib.sha256(xlsx_bytes).hexdigest()
    batch.export_count, batch.export_total_fen = count, total
    batch.exported_by_id, batch.exported_at = actor.id, now
    batch.state = "exported"
    # the payments stay "pending": from now on they read as sent (Payment.shown_status)
    db.session.flush()  # the version check: a concurrent first download fails here
    record("payout.bank_file_frozen", "payout_batch", batch.id, actor=actor,
           summary=batch.number, before={"state": "approved"},
           after={"state": "exported", "count": count, "total_fen": total,
                  "csv_sha256": batch.csv_sha256[:16], "xlsx_sha256": batch.xlsx_sha256[:16]})


def read_stored(batch: PayoutBatch, fmt: str) -> bytes:
    relative, digest = ((batch.csv_path, batch.csv_sha256) if fmt == "csv"
                        else (batch.xlsx_path, batch.xlsx_sha256))
    return read_checked(relative, digest, f"batch {batch.number} ({fmt})")


def bank_file(batch: PayoutBatch, fmt: str, actor: Any) -> bytes:
    """The bank file's bytes (frozen at the first download); every download is audited."""
    if fmt not in FORMATS:
        raise PayoutError(_l("Unknown file format."))
    if not permissions.can(actor, "payout.export", batch):
        raise PayoutError(_l("Only finance staff download bank files."))
    if batch.state == "approved":
        _freeze(batch, actor)
    elif batch.state not in ("exported", "reconciled", "closed"):
        raise PayoutError(_l("The bank file is made once the batch is approved by a second "
                             "finance user."))
    data = read_stored(batch, fmt)
    record("payout.bank_file_download", "payout_batch", batch.id, actor=actor,
           summary=f"{batch.number}.{fmt}",
           after={"format": fmt, "count": batch.export_count,
                  "total_fen": batch.export_total_fen})
    return data


# --- the payout roster (补贴发放花名册) per township ---------------------------------------------

def roster_pdf(batch: PayoutBatch, township: Area, actor: Any) -> render.Rendered:
    """The roster of one township of the batch (masked numbers), audited."""
    query = (select(Payment.seq, Area.name, Payment.payee_name, Household._id_number,
                    Payment._bank_account, Payment.amount_fen, Household.id,
                    Household.head_name, Household.print_name)
             .join(Household, Payment.household_id == Household.id)
             .join(Area, Area.id == Household.village_id)
             .where(Payment.batch_id == batch.id, Household.township_id == township.id,
                    Payment.status != "voided")
             .order_by(Payment.seq))
    rows = []
    for seq, village, payee, raw, acct, fen, case_id, head, print_name in db.session.execute(query):
        # the head's print spelling (印刷用名) when the payee is the head; the bank file keeps
        # the registered name, which the bank matches against the account
        spelled = bool(print_name) and payee.strip() == head.strip()
        rows.append(render.RosterRow(
            seq, village, print_name if spelled else payee,
            mask_id(Household.id_number_from_column(raw)),
            mask_bank(Payment.bank_account_from_column(acct)), fen,
            print_name_used=spelled, case_no=str(case_id)))
    county = db.session.get(Area, batch.county_id)
    data = render.RosterData(batch_number=batch.number, kind=kind_label(batch),
                             county=county.name if county else "", township=township.name,
                             rows=tuple(rows), printed_on=now_utc().astimezone(LOCAL_TZ).date())
    rendered = render.render_roster(data)
    record("payout.roster_printed", "payout_batch", batch.id, actor=actor,
           summary=f"{batch.number} {township.code}", after={"rows": len(rows)})
    return rendered

