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
    SelectMultipleField,
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
    # choices: the county's installer companies (installers.choices_for), set by the view
    installer_company_id = PromptSelectField(
        _l("Installer company"), coerce=id_choice, validate_choice=False,
        prompt=_l("— choose the installer company —"),
        required=_l("Choose the installer company from the list."),
        description=_l("A company missing from the list is added by the county."))
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
                 "rated_power", "invoice_amount", "installer_company_id", "install_date",
                 "meter_no")
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


class CampaignForm(FlaskForm):
    """A 回头看 campaign: its name and population, the rate per township and the first N
    installations of every installer company."""

    name = StringField(_l("Campaign name"), filters=[_strip], validators=[
        DataRequired(_l("Give the campaign a name.")), Length(max=100)])
    programme_year = IntegerField(_l("Programme year"), validators=[
        InputRequired(_l("Enter the programme year.")),
        NumberRange(2016, 2100, _l("Enter a year between 2016 and 2100."))])
    township_ids = SelectMultipleField(
        _l("Townships"), coerce=id_choice, validate_choice=False,
        description=_l("None chosen: every township of the county."))
    rate_percent = IntegerField(_l("Rate per township (per cent)"), default=5, validators=[
        InputRequired(_l("Enter the share of each township's paid cases to visit.")),
        NumberRange(1, 100, _l("Enter a whole percentage between 1 and 100."))],
        description=_l("Rounded up, at least one case in every township with paid cases."))
    first_n = IntegerField(_l("First installations of every installer company"), default=0,
                           validators=[
        InputRequired(_l("Enter how many of each company's first installations to add "
                         "(0 for none).")),
        NumberRange(0, 100, _l("Enter a number between 0 and 100."))],
        description=_l("Each company's earliest installations in the population (by install "
                       "date), added to the sample."))
    reason = TextAreaField(_l("Reason (only when the population overlaps an open campaign)"),
                           filters=[_strip], validators=[Length(max=1000)])


class CompanyForm(FlaskForm):
    """An installer company the county keeps on record."""

    name = StringField(_l("Company name"), filters=[_strip], validators=[
        DataRequired(_l("Enter the company's name as on its business licence.")),
        Length(max=100)])
    credit_code = StringField(_l("Unified social credit code"), filters=[_strip], validators=[
        DataRequired(_l("Please enter the unified social credit code.")), Length(max=40)],
        description=_l("18 characters, from the business licence."))
    contact_name = StringField(_l("Contact"), filters=[_strip],
                               validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), filters=[_strip],
                                validators=[Optional(), Length(max=20)])
    active = BooleanField(_l("Offered in the installation form"), default=True)


class ResolveForm(FlaskForm):
    """Which company a free-text installer name means."""

    key = HiddenField(validators=[DataRequired()])
    company_id = PromptSelectField(_l("Installer company"), coerce=id_choice, validate_choice=False,
                                   prompt=_l("— choose a company —"),
                                   required=_l("Choose a company."))


class VisitAssignForm(FlaskForm):
    """The inspector who makes a campaign visit, and when."""

    inspector_id = PromptSelectField(_l("Inspector"), coerce=id_choice, validate_choice=False,
                                     prompt=_l("— choose an inspector —"),
                                     required=_l("Choose an inspector."))
    visit_date = DateField(_l("Visit date"), validators=[
        InputRequired(_l("Enter the visit date."))])
