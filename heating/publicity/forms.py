"""Forms of the 公示 screens (CSRF on every POST; the services re-check every rule)."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from heating.core.numbers import id_choice


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class PublishForm(FlaskForm):
    """The new notice: the cases ticked on the page and what the notice prints."""
    township_id = HiddenField()
    village_id = HiddenField()
    year = HiddenField()
    # the service checks every id (eligible, in scope): the choices only render the boxes
    case_ids = SelectMultipleField(_l("Cases"), coerce=id_choice, validate_choice=False)
    title = StringField(_l("Title"), filters=[_strip], validators=[
        DataRequired(_l("Give the notice a title.")), Length(max=200)])
    starts_on = DateField(_l("First day of the notice period"), validators=[
        InputRequired(_l("Give the first day (YYYY-MM-DD)."))])
    period_days = IntegerField(_l("Period (days)"), validators=[
        InputRequired(_l("Give the number of days.")),
        NumberRange(1, 60, _l("Between 1 and 60 days."))])
    objection_phone = StringField(_l("Phone for objections (township office)"),
                                  filters=[_strip], validators=[
        DataRequired(_l("Give the township office's phone number for objections.")),
        Length(max=30)])
    issuing_office = StringField(_l("Issuing office"), filters=[_strip], validators=[
        DataRequired(_l("Give the issuing office.")), Length(max=100)])

    def default_period(self) -> None:
        if self.period_days.data is None:
            self.period_days.data = current_app.config["PUBLICITY_DAYS"]


class ObjectionForm(FlaskForm):
    raised_by = StringField(_l("Raised by"), filters=[_strip], validators=[
        DataRequired(_l("Say who raised the objection (a name, or e.g. \"anonymous call\").")),
        Length(max=100)])
    reason = TextAreaField(_l("Objection"), filters=[_strip], validators=[
        DataRequired(_l("Write down what the objection says.")), Length(max=1000)])


class DecisionForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the decision"), filters=[_strip], validators=[
        DataRequired(_l("Please give a reason.")), Length(max=1000)])


class TakeOffForm(FlaskForm):
    reason = TextAreaField(_l("Why the case leaves the notice"), filters=[_strip], validators=[
        DataRequired(_l("Please give a reason.")), Length(max=500)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button confirms the ended notices the user may manage."""


__all__ = ["ConfirmForm", "DecisionForm", "ObjectionForm", "PublishForm",
           "TakeOffForm"]
