from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking"), filters=[_strip], validators=[
        DataRequired(_l("Say why the certificate is revoked (objection upheld, fraud found…).")),
        Length(max=500)])
