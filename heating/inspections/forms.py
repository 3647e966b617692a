"""Installation, assignment, inspection and document forms.  Values are normalised the way
people type them; the content of uploaded files is checked by the services, not here."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from heating.core.forms import PromptSelectField
from heating.core.i18n import local_today
from heating.core.numbers import FiniteDecimalField, id_choice
from heating.households.models import CONVERSION_TYPES, DEVICE_KINDS, DEVICE_KINDS_BY_TYPE
from heating.inspections.models import CHECK_ITEMS, DOCUMENT_KINDS, FOLLOW_UP_RESULTS


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _fen(form: Any, field: Any) -> None:
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError(_l("Enter at most two decimal places."))


class InstallationForm(FlaskForm):
    conversion_type = SelectField(_l("Conversion type"), choices=list(CONVERSION_TYPES.items()))
    device_kind = SelectField(_l("Device kind"), choices=list(DEVICE_KINDS.items()))
    brand = StringField(_l("Brand"), filters=[_strip], validators=[
        DataRequired(_l("Enter the brand.")), Length(max=60)])
    model = StringField(_l("Model"), filters=[_strip], validators=[
        DataRequired(_l("Enter the model.")), Length(max=60)])
    factory_serial = StringField(_l("Factory serial number"), filters=[_strip], validators=[
        DataRequired(_l("Enter the factory serial number from the device's nameplate.")),
        Length(max=60)])
    units = IntegerField(_l("Units"), default=1, validators=[
        InputRequired(_l("Enter the number of units.")),
        NumberRange(1, 20, _l("Units must be between 1 and 20."))],
        description=_l("The subsidy covers one device per household."))
    rated_power = FiniteDecimalField(_l("Rated power (kW)"), places=2, validators=[
        InputRequired(_l("Enter the rated power in kW.")),
        NumberRange(Decimal("0.1"), Decimal("100"),
                    _l("Rated power must be between 0.1 and 100 kW; check the figure.")), _fen])
    invoice_amount = FiniteDecimalField(_l("Invoice amount (yuan)"), places=2, validators=[
        InputRequired(_l("Enter the invoice amount in yuan.")),
        NumberRange(Decimal("1"), Decimal("200000"),
                    _l("The invoice amount must be between 1 and 200,000 yuan.")), _fen],
        description=_l("Including installation, as on the invoice."))
    installer = StringField(_l("Installer company"), filters=[_strip], validators=[
        DataRequired(_l("Enter the installer company.")), Length(max=100)])
    install_date = DateField(_l("Install date"), validators=[
        InputRequired(_l("Enter the install date."))])
    meter_no = StringField(_l("Electricity meter no. or gas account no."), filters=[_strip],
                           validators=[DataRequired(_l("Enter the electricity meter number "
                                                       "(coal to electricity) or the gas account "
                                                       "number (coal to gas).")),
                                       Length(max=40)])
    version = HiddenField()

    def validate_device_kind(self, field: Any) -> None:
        if field.data not in DEVICE_KINDS_BY_TYPE.get(self.conversion_type.data, ()):
            raise ValidationError(_l("This device kind does not match the conversion type."))

    def validate_install_date(self, field: Any) -> None:
        if field.data and field.data > local_today():
            raise ValidationError(_l("The install date cannot be in the future."))
        if field.data and field.data < date(2016, 1, 1):
            raise ValidationError(_l("Enter a date from 2016 on."))

    def data_for_service(self) -> dict[str, Any]:
        names = ("conversion_type", "device_kind", "brand", "model", "factory_serial", "units",
                 "rated_power", "invoice_amount", "installer", "install_date", "meter_no")
        return {n: getattr(self, n).data for n in names}


class AssignForm(FlaskForm):
    # no inspector preselected: the first of the list is not a choice anyone made
    inspector_id = PromptSelectField(
        _l("Inspector"), coerce=id_choice, validate_choice=False,
        prompt=_l("— choose an inspector —"), required=_l("Choose an inspector."),
        description=_l("Whoever registered or approved this case or recorded its "
                       "installation may not inspect it and is left out of this list."))
    visit_date = DateField(_l("Visit date"), validators=[
        InputRequired(_l("Enter the visit date."))])


class InspectionForm(FlaskForm):
    """One form for the whole visit; the checklist shown depends on the conversion type."""

    device_running = BooleanField(CHECK_ITEMS["device_running"])
    stove_removed = BooleanField(CHECK_ITEMS["stove_removed"])
    leak_alarm = BooleanField(CHECK_ITEMS["leak_alarm"])
    pressure_test = BooleanField(CHECK_ITEMS["pressure_test"])
    line_upgraded = BooleanField(CHECK_ITEMS["line_upgraded"])
    dedicated_breaker = BooleanField(CHECK_ITEMS["dedicated_breaker"])
    head_confirmed = BooleanField(CHECK_ITEMS["head_confirmed"])
    stoves_removed = IntegerField(_l("Coal stoves removed"), validators=[
        InputRequired(_l("Enter how many coal stoves were removed (0 if none).")),
        NumberRange(0, 20, _l("Enter a number between 0 and 20."))])
    other_inspectors = StringField(_l("Other staff on the visit"), filters=[_strip],
                                   validators=[Optional(), Length(max=100)])
    reasons = TextAreaField(_l("Reasons (required for a fail) or remarks"), filters=[_strip],
                            validators=[Length(max=1000)])
    photo_device_with_head = FileField(_l("Photo: device with the household head"))
    photo_stove_site = FileField(_l("Photo: site of the removed coal stove"))
    #: set by the button pressed (pass or fail)
    result = StringField(validators=[AnyOf(("pass", "fail"), _l("Choose pass or fail."))])

    def validate_reasons(self, field: Any) -> None:
        # said here, next to the box, rather than as a refusal at the top of a long page
        if self.result.data == "fail" and not field.data:
            raise ValidationError(_l("Please give a reason."))

    def checklist(self) -> dict[str, bool]:
        return {item: bool(getattr(self, item).data) for item in CHECK_ITEMS}


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Document"), choices=list(DOCUMENT_KINDS.items()))
    file = FileField(_l("File (JPEG or PNG)"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[
        DataRequired(_l("Please give a reason.")), Length(max=500)])


class FollowUpForm(FlaskForm):
    """A follow-up (回头看) visit to a paid case, on the case page."""

    result = SelectField(_l("What the visit found"), choices=list(FOLLOW_UP_RESULTS.items()))
    visited_on = DateField(_l("Visit date"), default=local_today, validators=[
        InputRequired(_l("Enter the date of the visit."))])
    note = TextAreaField(_l("Note (required unless in use)"), filters=[_strip],
                         validators=[Length(max=2000)])

    def validate_note(self, field: Any) -> None:
        if self.result.data != "ok" and not field.data:
            raise ValidationError(_l("Describe what was found: a note is required for any "
                                     "result other than in use."))


class SampleForm(FlaskForm):
    """The random follow-up sample: a township and how many paid cases to visit."""

    township_id = SelectField(_l("Township"), coerce=id_choice, validate_choice=False)
    n = IntegerField(_l("Cases to visit"), default=10, validators=[
        InputRequired(_l("Enter how many cases to visit.")),
        NumberRange(1, 500, _l("Enter a number between 1 and 500."))])
