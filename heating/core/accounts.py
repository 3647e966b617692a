"""The bank-account accessor every record holding an account number shares (the case, a
payment, an account correction): the raw column is private (``_bank_account``) and every write
also sets ``bank_hash``, the keyed hash duplicate checks and lookups use, so the two never
disagree.  The mapped columns stay on each model (their nullability differs)."""
from __future__ import annotations

from heating.core.lookup import keyed_hash
from heating.core.masking import mask_bank


class BankAccount:
    """Mixin: ``bank_account`` (property + keyed-hash setter), ``bank_masked``, and the same
    conversion for raw column values and bulk inserts."""

    @property
    def bank_account(self) -> str | None:
        return self._bank_account  # type: ignore[attr-defined]

    @bank_account.setter
    def bank_account(self, canonical: str | None) -> None:
        self._bank_account = canonical or None
        self.bank_hash = keyed_hash("bank", canonical) if canonical else None

    @staticmethod
    def bank_account_from_column(stored: str | None) -> str | None:
        """The account number from a raw column value read by a column query (ledger exports,
        bank files): the accessor's conversion, kept here like ``id_number_from_column``."""
        return stored

    @staticmethod
    def bank_columns(canonical: str) -> dict[str, str]:
        """The column values the ``bank_account`` accessor writes, for bulk inserts (a batch
        of 20,000 payments is inserted without building ORM objects)."""
        return {"_bank_account": canonical, "bank_hash": keyed_hash("bank", canonical)}

    @property
    def bank_masked(self) -> str:
        stored = self._bank_account  # type: ignore[attr-defined]
        return mask_bank(stored) if stored else ""
