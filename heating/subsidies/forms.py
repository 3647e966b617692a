"""The subsidy policy form: amounts in 元 with two places, the invoice share in % (85 or
72.5), running-subsidy rates in 元 per kWh or m³ with up to four places, all read as exact
Decimal (never float). The service checks the rules that span fields and stores the scaled
integers; this form only reads what was typed and says what to fix."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from heating.core.numbers import MAX_YEAR, MIN_YEAR
from heating.households.forms import default_programme_year
from heating.households.models import CONVERSION_TYPES, DEVICE_KINDS, DEVICE_KINDS_BY_TYPE
from heating.subsidies.models import EQUIPMENT_METHODS
from heating.subsidies.services import IDENTITY, MAX_SEASONS

_NUMBER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")
_UNITS = ("元/kwh", "元/m³", "元/m3", "元/m²", "元/m2", "元", "%")


class ExactDecimalField(StringField):
    """A number as people type it (full-width digits, thousands commas, a trailing 元 or %),
    read as an exact Decimal with at most ``places`` decimals; empty gives None."""

    def __init__(self, label: Any = None, validators: Any = None, places: int = 2,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        text = unicodedata.normalize("NFKC", self.raw).strip().lower()
        for unit in _UNITS:
            text = text.removesuffix(unit).rstrip()
        text = text.removeprefix("¥").strip()
        if not text:
            self.data = None
            return
        self.data = None
        if not _NUMBER.fullmatch(text):
            raise ValueError(_l("Enter a number such as 85, 72.5 or 7,400.00."))
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise ValueError(_l("Enter a number such as 85, 72.5 or 7,400.00.")) from None
        if -number.as_tuple().exponent > self.places and number != round(number, self.places):
            raise ValueError(_l("At most %(places)s decimal places.", places=self.places))
        self.data = number

    def _value(self) -> str:
        if getattr(self, "raw", None) is not None and self.data is None:
            return self.raw
        if isinstance(self.data, Decimal):
            return format(self.data, "f")
        return "" if self.data is None else str(self.data)


class _MonthDay(StringField):
    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0] if valuelist else ""
        self.data = unicodedata.normalize("NFKC", raw).strip().replace("/", "-").replace(".", "-")


def _required_for(method: str, message: Any) -> Any:
    def check(form: Any, field: Any) -> None:
        if form.equipment_method.data == method and field.data is None and not field.errors:
            raise ValidationError(message)
    return check


class PolicyForm(FlaskForm):
    county_id = SelectField(_l("County"), coerce=int, validators=[InputRequired()])
    programme_year = IntegerField(_l("Programme year"), validators=[
        InputRequired(_l("Enter the programme year.")),
        NumberRange(MIN_YEAR, MAX_YEAR, _l("Enter a year between 2016 and 2100."))],
        description=_l("The policy applies to cases of this programme year (年度)."))
    conversion_type = SelectField(_l("Conversion type"), choices=list(CONVERSION_TYPES.items()))
    device_kind = SelectField(
        _l("Device kind"),
        choices=[("", _l("Every device kind of the type"))] + list(DEVICE_KINDS.items()),
        description=_l("Leave “every device kind” unless a kind has its own terms; a policy "
                       "for the case's own kind wins over one for every kind."))
    name = StringField(_l("Name"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                       validators=[InputRequired(_l("Enter a name for the policy.")),
                                   Length(max=100)],
                       description=_l("As officials will recognise it, e.g. 2026年煤改电补贴."))
    reference = StringField(_l("Policy document number (文号)"),
                            validators=[Optional(), Length(max=100)])
    equipment_method = SelectField(_l("Equipment subsidy"),
                                   choices=list(EQUIPMENT_METHODS.items()))
    equipment_rate_pct = ExactDecimalField(
        _l("Share of the invoice (percent)"), places=2,
        validators=[_required_for("invoice_rate", _l("Enter the share of the invoice in "
                                                     "percent, e.g. 85 or 72.5."))],
        description=_l("85 means 85 percent of the invoice amount (including installation)."))
    area_rate = ExactDecimalField(
        _l("Rate per m² of heated area (元)"), places=2,
        validators=[_required_for("area_rate", _l("Enter the rate in 元 per m², e.g. "
                                                  "100."))])
    equipment_cap = ExactDecimalField(
        _l("Cap (元)"), places=2, validators=[InputRequired(_l("Enter the cap in 元."))],
        description=_l("The most one household gets, e.g. 7,400.00."))
    seasons = IntegerField(_l("Seasons with a running subsidy"), default=0, validators=[
        InputRequired(_l("Enter the number of seasons (0 if there is no running subsidy).")),
        NumberRange(0, MAX_SEASONS, _l("From 0 to %(max)s seasons.", max=MAX_SEASONS))],
        description=_l("Season 1 is the first heating season that starts after the "
                       "inspection passed."))
    season_rates = FieldList(ExactDecimalField(places=4), min_entries=MAX_SEASONS,
                             max_entries=MAX_SEASONS)
    running_cap_units = IntegerField(
        _l("Usage cap per season (kWh or m³)"), validators=[
            Optional(), NumberRange(1, 1_000_000, _l("A whole number above 0, or empty."))],
        description=_l("Usage above the cap is not subsidised; leave empty for no cap."))
    recovery_seasons = IntegerField(
        _l("Recovery period (heating seasons)"), validators=[
            Optional(), NumberRange(1, MAX_SEASONS, _l("From 1 to %(max)s seasons, or empty for "
                                                       "no recovery.", max=MAX_SEASONS))],
        description=_l("追回: a follow-up that finds a rebound or the device removed within "
                       "this many heating seasons of the equipment payment opens a recovery "
                       "of it. Empty: no recovery."))
    season_start = _MonthDay(_l("Heating season starts (MM-DD)"), default="11-15")
    season_end = _MonthDay(_l("Heating season ends (MM-DD)"), default="03-15")
    effective_from = DateField(_l("Effective from"), validators=[
        InputRequired(_l("Enter the date the policy takes effect."))],
        description=_l("The policy applies to cases approved by the township on or after "
                       "this date (not to the installation or payment date)."))
    effective_to = DateField(_l("Effective until"), validators=[Optional()],
                             description=_l("Last approval date it applies to; leave empty "
                                            "while it is in force."))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])

    def validate_device_kind(self, field: Any) -> None:
        if field.data and field.data not in DEVICE_KINDS_BY_TYPE.get(self.conversion_type.data,
                                                                     ()):
            raise ValidationError(_l("This device kind does not match the conversion type."))

    def validate_effective_to(self, field: Any) -> None:
        if field.data and self.effective_from.data and field.data < self.effective_from.data:
            raise ValidationError(_l("The policy cannot end before it takes effect."))

    def drop_identity(self) -> None:
        """A new version (or a later version's edit) keeps the county, year, type and kind."""
        for name in IDENTITY:
            delattr(self, name)

    def prefill(self, data: dict[str, Any]) -> None:
        for name, field in self._fields.items():
            if name == "season_rates":
                for i, entry in enumerate(field.entries):
                    entry.data = data["season_rates"].get(i + 1)
            elif name in data:
                field.data = data[name]

    def data_for_service(self) -> dict[str, Any]:
        names = ("programme_year", "conversion_type", "device_kind", "county_id", "name",
                 "reference", "equipment_method", "equipment_rate_pct", "area_rate",
                 "equipment_cap", "seasons", "recovery_seasons", "running_cap_units",
                 "season_start", "season_end", "effective_from", "effective_to", "note")
        data = {n: self[n].data for n in names if n in self}
        data["season_rates"] = {i + 1: e.data for i, e in enumerate(self.season_rates.entries)
                                if e.data is not None}
        return data

    @classmethod
    def fresh(cls) -> "PolicyForm":
        form = cls()
        if not form.is_submitted():
            form.programme_year.data = default_programme_year()
        return form
