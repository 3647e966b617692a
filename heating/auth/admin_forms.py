"""Forms of the user administration screens.  They check shape only (required, length,
choices); the account rules (password policy, free user name, role over a fitting area) are
the services' and come back as errors on the named field."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from heating.areas.models import Area
from heating.auth.models import ROLES
from heating.core.forms import PromptSelectField

#: role codes as people in the county office call them (DOMAIN.md)
ROLE_LABELS = {
    "clerk": _l("Village clerk"),
    "reviewer": _l("Township reviewer"),
    "inspector": _l("Acceptance inspector"),
    "finance": _l("Finance / payout"),
    "county": _l("County manager"),
    "auditor": _l("Auditor (read-only)"),
    "admin": _l("System administrator"),
}
LEVEL_LABELS = {"county": _l("County"), "township": _l("Townships"), "village": _l("Villages")}

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("User name or display name"), validators=[Length(max=64)])


def area_choices(areas: list[Area]) -> dict[str, list[tuple[int, str]]]:
    """Select options grouped county / townships / villages, each shown as code + name."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for area in areas:
        name = (f"{area.parent.name} {area.name}" if area.level == "village" and area.parent
                else area.name)
        group = groups.setdefault(str(LEVEL_LABELS[area.level]), [])
        group.append((area.id, f"{area.code} {name}"))
    return groups


class _GrantFields:
    # both start empty: a preselected pair (the first role over the first area, a clerk over
    # the whole county) was one the service refuses
    role = PromptSelectField(_l("Role"), choices=[(r, ROLE_LABELS[r]) for r in ROLES],
                             prompt=_l("— choose a role —"), required=_l("Choose a role."))
    area_id = PromptSelectField(_l("Area"), coerce=int, prompt=_l("— choose an area —"),
                                required=_l("Choose an area."),
                                description=_l("County-wide roles over the county; reviewers "
                                               "and inspectors over a township; clerks over a "
                                               "village or a township."))


class _TemporaryPassword:
    password = StringField(_l("Temporary password"), validators=[Length(max=256)],
                           description=_l("At least 12 characters. The user must change it "
                                          "at the first login."))
    generate = BooleanField(_l("Generate a strong password and show it to me once"))

    def validate_password(self, field: Any) -> None:
        if not self.generate.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter a temporary password, or tick \"generate\"."))


class CreateUserForm(_TemporaryPassword, _GrantFields, FlaskForm):
    username = StringField(_l("User name"), filters=[lambda v: v.strip() if v else v],
                           validators=[
                               DataRequired(_l("Enter a user name.")),
                               Regexp(USERNAME_PATTERN, message=_l(
                                   "Use 3 to 64 letters, digits, dots, dashes or underscores, "
                                   "starting with a letter or digit."))],
                           description=_l("Used to log in, e.g. the person's name in pinyin."))
    display_name = StringField(_l("Display name"), validators=[
        DataRequired(_l("Enter the name to show for this user.")), Length(max=64)])


class GrantForm(_GrantFields, FlaskForm):
    pass


class DisplayNameForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[
        DataRequired(_l("Enter the name to show for this user.")), Length(max=64)])


class ResetPasswordForm(_TemporaryPassword, FlaskForm):
    pass
