"""Payout forms.  The create form carries a hidden idempotency key made when the form is
shown: submitting the same form twice returns the batch made the first time."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from heating.core.ids import InvalidValue, canonical_bank_account, luhn_ok
from heating.core.money import from_fen, to_fen
from heating.core.numbers import DateBounds, id_choice
from heating.payouts.models import SUBSIDY_KINDS


class BatchForm(FlaskForm):
    kind = SelectField(_l("Subsidy"), choices=list(SUBSIDY_KINDS.items()))
    township_id = SelectField(_l("Township"), coerce=int, default=0)
    season = StringField(_l("Heating season"), validators=[Optional(), Length(max=9)],
                         description=_l("Running subsidy only, e.g. 2025-2026."))
    repay = BooleanField(_l("Re-pay batch (补发): failed payments whose account correction "
                            "was approved"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    idempotency_key = HiddenField(validators=[DataRequired()])


class PreviewForm(FlaskForm):
    """The GET filters of the new-batch page (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    kind = SelectField(choices=list(SUBSIDY_KINDS.items()), default="equipment",
                       validate_choice=False)
    township_id = SelectField(coerce=id_choice, default=0, validate_choice=False)
    season = StringField(default="")
    repay = BooleanField()


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Please give a reason.")), Length(max=500)])


class ConfirmForm(FlaskForm):
    """An action with nothing to fill in: only the CSRF token (the page asked first)."""


class ResultUploadForm(FlaskForm):
    file = FileField(_l("Bank result file (.xlsx or .csv)"),
                     validators=[FileRequired(_l("Choose the bank's result file."))])


def _canonical_account(form: Any, field: Any) -> None:
    try:
        field.data = canonical_bank_account(field.data or "")
    except InvalidValue as err:
        raise ValidationError(str(err.message)) from None


class CorrectionForm(FlaskForm):
    bank_name = StringField(_l("Bank"), filters=[lambda v: v.strip() if v else v],
                            validators=[DataRequired(_l("Enter the bank.")), Length(max=60)])
    bank_account = StringField(_l("Account number"), validators=[
        DataRequired(_l("Enter the new account number.")), _canonical_account],
        description=_l("Bank card or social-security card account, 16 to 19 digits, in the "
                       "name of the head of household."))
    account_holder = StringField(_l("Account holder"), filters=[lambda v: v.strip() if v else v],
                                 validators=[DataRequired(_l("Enter the account holder.")),
                                             Length(max=50)])
    luhn_confirmed = BooleanField(_l("I have checked the account number against the card"))
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Please give a reason.")), Length(max=500)])

    def validate_luhn_confirmed(self, field: Any) -> None:
        account = self.bank_account.data
        if account and not self.bank_account.errors and not luhn_ok(account) and not field.data:
            raise ValidationError(_l("The account number fails the card check digit. Check it "
                                     "against the card; if it is right (some social-security "
                                     "cards are), tick the box to confirm."))

    def data_for_service(self) -> dict[str, Any]:
        account = self.bank_account.data
        return {"bank_name": self.bank_name.data, "bank_account": account,
                "account_holder": self.account_holder.data, "reason": self.reason.data,
                "luhn_confirmed": bool(self.luhn_confirmed.data and not luhn_ok(account))}


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])




class YuanField(StringField):
    """An amount in yuan as people type it (full-width digits, thousands commas, ¥ or 元),
    read exactly (``core.money.to_fen``) into a Decimal with two places; empty gives None."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if not (self.raw or "").strip():
            return
        try:
            self.data = from_fen(to_fen(self.raw))
        except (TypeError, ValueError):
            raise ValueError(_l("Enter an amount in yuan with at most two decimals, e.g. "
                                "1,000.00.")) from None

    def _value(self) -> str:
        if self.data is None:
            return getattr(self, "raw", None) or ""
        return format(self.data, "f")


class ReceiptForm(FlaskForm):
    received_on = DateField(_l("Received on"), validators=[
        InputRequired(_l("Enter the date the money came in.")), DateBounds()])
    amount = YuanField(_l("Amount recovered (yuan)"), validators=[
        InputRequired(_l("Enter the amount recovered in yuan, e.g. 1,000.00."))],
        description=_l("Part of the amount is fine: record each payment back as it comes in."))
    reference = StringField(_l("Receipt number"), validators=[Optional(), Length(max=60)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
