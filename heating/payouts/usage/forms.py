"""Forms of the usage-file import (running subsidy)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

from heating.payouts.models import UTILITIES
from heating.payouts.usage import UsageError, check_season


class UsageUploadForm(FlaskForm):
    utility = SelectField(_l("Company"), choices=list(UTILITIES.items()),
                          validators=[InputRequired(_l("Choose the power or the gas company."))],
                          description=_l("Power company: matched to electric cases by the "
                                         "electricity meter no. (电表号); gas company: matched "
                                         "to gas cases by the gas account no. (燃气户号), as "
                                         "recorded with the installation."))
    season = StringField(_l("Heating season"), validators=[
        InputRequired(_l("Enter the heating season, e.g. 2025-2026."))],
        description=_l("The season the usage was measured in, written as its two years "
                       "(2025-2026 = 15 Nov 2025 – 15 Mar 2026)."))
    county = SelectField(_l("County"), coerce=int,
                         validators=[InputRequired(_l("Choose the county."))])
    file = FileField(_l("Usage file (.xlsx or CSV)"), validators=[
        FileRequired(_l("Choose the file to upload."))],
        description=_l("One row per meter with the columns 电表号 or 燃气户号 and 用量 (the "
                       "season's usage in kWh or m³, at most two decimals); 户主姓名 is "
                       "optional and only shown. CSV in UTF-8 or GBK; at most 10 MB."))

    def validate_season(self, field: Any) -> None:
        field.data = (field.data or "").strip()
        try:
            check_season(field.data)
        except UsageError as err:
            raise ValidationError(str(err.message)) from None


class UsageConfirmForm(FlaskForm):
    """No fields: the CSRF token only."""
