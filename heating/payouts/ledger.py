"""The household ledger's payment column: the equipment subsidy the bank paid to the case
(its paid equipment payments summed; empty when nothing was paid), so that the ledger's
total, the dashboard's "paid" and the bank's paid result lines can be compared to the fen."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from heating.core import spreadsheet_write as sw
from heating.households.exports import LedgerColumn
from heating.payouts.models import Payment


def _yuan_text(fen: Any) -> str | None:
    return None if fen is None else "%d.%02d" % divmod(int(fen), 100)


def ledger_columns() -> list[LedgerColumn]:
    def paid(household_id: Any) -> Any:
        return (select(func.sum(Payment.amount_fen))
                .where(Payment.household_id == household_id, Payment.kind == "equipment",
                       Payment.status == "paid")
                .scalar_subquery())

    return [LedgerColumn(sw.Column("已发放设备补贴(元)", sw.DECIMAL2, 14), paid, _yuan_text)]
