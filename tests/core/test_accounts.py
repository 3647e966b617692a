"""The bank-account accessor exists once (core/accounts.py) and every record with an account
number uses it: a write through it always sets the keyed hash, on every model."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from heating.core.accounts import BankAccount
from heating.core.lookup import keyed_hash
from heating.households.models import Household
from heating.payouts.models import AccountCorrection, Payment

HEATING = Path(__file__).resolve().parents[2] / "heating"


def test_the_accessor_is_written_once():
    defined = [f"{p.relative_to(HEATING)}:{node.lineno}" for p in HEATING.rglob("*.py")
               for node in ast.walk(ast.parse(p.read_text("utf-8")))
               if isinstance(node, ast.FunctionDef) and node.name == "bank_account"]
    assert defined == ["core/accounts.py:16", "core/accounts.py:20"]


@pytest.mark.parametrize("model", [Household, Payment, AccountCorrection])
def test_every_model_with_an_account_writes_the_hash_through_it(app, model):
    assert issubclass(model, BankAccount)
    record = model()
    record.bank_account = "6217000010001234567"
    assert record.bank_hash == keyed_hash("bank", "6217000010001234567")
    assert record.bank_masked.endswith("4567") and "0001" not in record.bank_masked
