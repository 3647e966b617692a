"""The reports domain's forms: the dashboard's year (GET) and the county's settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from heating.core.numbers import MAX_YEAR, MIN_YEAR
from heating.households.lifecycle import OVERDUE_LABELS
from heating.reports.models import MAX_THRESHOLD_DAYS

_DAYS = [InputRequired(_l("Enter a number of days.")),
         NumberRange(1, MAX_THRESHOLD_DAYS, _l("Enter a number of days between 1 and "
                                               "%(max)s."))]


class ThresholdsForm(FlaskForm):
    """Overdue thresholds in days, one field per kind of ``lifecycle.OVERDUE``."""

    submitted = IntegerField(OVERDUE_LABELS["submitted"], validators=_DAYS)
    inspection = IntegerField(OVERDUE_LABELS["inspection"], validators=_DAYS)
    notice = IntegerField(OVERDUE_LABELS["notice"], validators=_DAYS)
    unpaid = IntegerField(OVERDUE_LABELS["unpaid"], validators=_DAYS)
    objection = IntegerField(OVERDUE_LABELS["objection"], validators=_DAYS)
    repay = IntegerField(OVERDUE_LABELS["repay"], validators=_DAYS)


class YearDatesForm(FlaskForm):
    programme_year = IntegerField(_l("Programme year"), validators=[
        InputRequired(_l("Enter the programme year.")),
        NumberRange(MIN_YEAR, MAX_YEAR, _l("Enter a year between 2016 and 2100."))])
    starts_on = DateField(_l("Start date"), validators=[InputRequired(_l("Enter the start date."))])
    deadline = DateField(_l("Deadline"), validators=[InputRequired(_l("Enter the deadline."))])
