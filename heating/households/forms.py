"""Household forms: every value normalised the way a clerk types it (full-width digits,
spaces, lowercase x) and stored canonical; messages say what to do next."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from heating.core.i18n import local_today
from heating.core.ids import (
    InvalidValue,
    canonical_bank_account,
    canonical_id_number,
    canonical_mobile,
    luhn_ok,
)
from heating.core.numbers import MAX_YEAR, MIN_YEAR, FiniteDecimalField, id_choice
from heating.households.lifecycle import STATES
from heating.households.models import (
    CONVERSION_TYPES,
    DEVICE_KINDS,
    DEVICE_KINDS_BY_TYPE,
    PREVIOUS_HEATING,
)


def _canonical(fn: Any) -> Any:
    """A validator that replaces the field's data by its canonical form or raises its message."""
    def validator(form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            field.data = fn(field.data)
        except InvalidValue as err:
            raise ValidationError(str(err.message)) from None
    return validator


def _strip_spaces_inside_kept(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class HouseholdForm(FlaskForm):
    village_id = SelectField(_l("Village"), coerce=int, validators=[InputRequired()])
    programme_year = IntegerField(_l("Programme year"), validators=[
        InputRequired(_l("Enter the programme year.")),
        NumberRange(MIN_YEAR, MAX_YEAR, _l("Enter a year between 2016 and 2100."))])
    head_name = StringField(_l("Head of household"), filters=[_strip_spaces_inside_kept],
                            validators=[DataRequired(_l("Enter the name of the head of "
                                                        "household.")), Length(max=50)])
    id_number = StringField(_l("ID number"), validators=[
        DataRequired(_l("Enter the 18-character ID number.")),
        _canonical(canonical_id_number)],
        description=_l("18 characters as on the ID card; the last may be X."))
    phone = StringField(_l("Mobile number"), validators=[
        DataRequired(_l("Enter an 11-digit mobile number.")), _canonical(canonical_mobile)])
    group_name = StringField(_l("Group"), filters=[_strip_spaces_inside_kept],
                             validators=[Optional(), Length(max=20)],
                             description=_l("Villager group (组), e.g. 3组."))
    house_no = StringField(_l("House number"), filters=[_strip_spaces_inside_kept],
                           validators=[Optional(), Length(max=30)])
    residents = IntegerField(_l("Residents"), validators=[
        InputRequired(_l("Enter the number of residents.")),
        NumberRange(1, 30, _l("Residents must be between 1 and 30."))])
    heated_area = FiniteDecimalField(_l("Heated area (m²)"), places=2, validators=[
        InputRequired(_l("Enter the heated area in square metres.")),
        NumberRange(Decimal("5"), Decimal("1000"),
                    _l("A heated area must be between 5 and 1000 m²; check the figure."))])
    previous_heating = SelectField(_l("Previous heating"), choices=list(PREVIOUS_HEATING.items()))
    coal_stoves = IntegerField(_l("Coal stoves"), validators=[
        InputRequired(_l("Enter the number of coal stoves (0 if none).")),
        NumberRange(0, 20, _l("Coal stoves must be between 0 and 20."))])
    low_income = BooleanField(_l("Low-income household (低保/困难户)"))
    conversion_type = SelectField(_l("Conversion type"), choices=list(CONVERSION_TYPES.items()))
    device_kind = SelectField(_l("Device kind"), choices=list(DEVICE_KINDS.items()))
    bank_name = StringField(_l("Bank"), filters=[_strip_spaces_inside_kept],
                            validators=[Optional(), Length(max=60)])
    bank_account = StringField(_l("Account number"), validators=[
        Optional(), _canonical(canonical_bank_account)],
        description=_l("Bank card or social-security card account, 16 to 19 digits, in the "
                       "name of the head of household."))
    account_holder = StringField(_l("Account holder"), filters=[_strip_spaces_inside_kept],
                                 validators=[Optional(), Length(max=50)])
    luhn_confirmed = BooleanField(_l("I have checked the account number against the card"))
    version = HiddenField()
    reason = TextAreaField(_l("Reason for the correction"), validators=[Length(max=500)])

    def validate_device_kind(self, field: Any) -> None:
        if field.data not in DEVICE_KINDS_BY_TYPE.get(self.conversion_type.data, ()):
            raise ValidationError(_l("This device kind does not match the conversion type."))

    def validate_luhn_confirmed(self, field: Any) -> None:
        account = self.bank_account.data
        if account and not self.bank_account.errors and not luhn_ok(account) and not field.data:
            raise ValidationError(_l("The account number fails the card check digit. Check it "
                                     "against the card; if it is right (some social-security "
                                     "cards are), tick the box to confirm."))

    def data_for_service(self) -> dict[str, Any]:
        names = ("programme_year", "head_name", "id_number", "phone", "group_name", "house_no",
                 "residents", "heated_area", "previous_heating", "coal_stoves", "low_income",
                 "conversion_type", "device_kind", "bank_name", "bank_account",
                 "account_holder", "luhn_confirmed")
        data = {n: getattr(self, n).data for n in names}
        for n in ("group_name", "house_no", "bank_name", "account_holder"):
            data[n] = data[n] or ("" if n in ("group_name", "house_no") else None)
        data["bank_account"] = data["bank_account"] or None
        data["luhn_confirmed"] = bool(data["luhn_confirmed"] and data["bank_account"]
                                      and not luhn_ok(data["bank_account"]))
        return data


def default_programme_year() -> int:
    return local_today().year


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])


class PrintNameForm(FlaskForm):
    """The print spelling (印刷用名) of the head's name; the service checks the rules."""
    print_name = StringField(_l("Print spelling"), filters=[_strip_spaces_inside_kept],
                             validators=[Length(max=50)])
    reason = StringField(_l("Reason"), filters=[_strip_spaces_inside_kept],
                         validators=[Length(max=500)])


class RevealForm(FlaskForm):
    field = SelectField(choices=[("id_number", _l("ID number")),
                                 ("bank_account", _l("Account number")),
                                 ("phone", _l("Mobile number"))])
    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Say why you need the full number; this is recorded.")),
        Length(max=200)])


class SearchForm(FlaskForm):
    """GET filters of the household list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), filters=[_strip_spaces_inside_kept])
    township = SelectField(_l("Township"), coerce=id_choice, validate_choice=False, default=0)
    village = SelectField(_l("Village"), coerce=id_choice, validate_choice=False, default=0)
    state = SelectField(_l("State"), choices=[("", _l("All states"))] + list(STATES.items()),
                        validate_choice=False, default="")
    conversion_type = SelectField(_l("Conversion type"), choices=[("", _l("All types"))]
                                  + list(CONVERSION_TYPES.items()), validate_choice=False,
                                  default="")
    year = IntegerField(_l("Programme year"), validators=[
        Optional(), NumberRange(MIN_YEAR, MAX_YEAR, _l("Enter a year between 2016 and 2100."))])
    order = SelectField(_l("Order"), choices=[("", _l("Newest first")),
                                              ("oldest", _l("Oldest first"))],
                        validate_choice=False, default="")
    # the dashboard's links: a stage, the cases that count as done, overdue work (kind and
    # the threshold in days the dashboard used)
    stage = HiddenField()
    done = HiddenField()
    overdue = HiddenField()
    days = HiddenField()
    after = HiddenField()
