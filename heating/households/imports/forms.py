"""The upload form of the household import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField

from heating.households.forms import HouseholdForm


class UploadForm(FlaskForm):
    file = FileField(_l("File (.xlsx or CSV)"), validators=[
        FileRequired(_l("Choose the file to upload."))],
        description=_l("The filled-in template or your own spreadsheet with the same column "
                       "headers; at most 10 MB."))
    #: the same bounds and messages as the registration form's programme year
    programme_year = IntegerField(
        _l("Programme year"),
        validators=list(HouseholdForm.programme_year.kwargs["validators"]),
        description=_l("Imported cases are drafts in this programme year."))


class ConfirmForm(FlaskForm):
    """No fields: the CSRF token only."""
