"""The audit viewer (auditor, county): filter by user, object, action and date; each row with
its action's label, the object's name (a link where the viewer may open it) and before →
after as a list (see present.py)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from heating.audit.models import AuditEvent
from heating.audit_viewer import labels
from heating.audit_viewer.blueprint import bp
from heating.audit_viewer.present import present
from heating.auth import permissions
from heating.core.forms import PromptSelectField
from heating.core.i18n import LOCAL_TZ
from heating.core.numbers import DateBounds
from heating.core.pagination import keyset_page
from heating.core.web import int_arg


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    object_type = PromptSelectField(_l("Object type"), prompt=_l("All objects"),
                                    choices=list(labels.OBJECT_TYPES.items()))
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=40)])
    #: choices set per request: the group names are the reader's language
    action = PromptSelectField(_l("Action"), prompt=_l("All actions"))
    date_from = DateField(_l("Date from"), validators=[Optional(), DateBounds()])
    date_to = DateField(_l("Date to"), validators=[Optional(), DateBounds()])


def _filtered(form: AuditFilterForm) -> Any:
    """The query of the filters that are valid (an invalid one is shown with its message)."""
    query = select(AuditEvent)
    if form.user.data and not form.user.errors:
        query = query.where(AuditEvent.actor_name == form.user.data.strip())
    if form.object_type.data and not form.object_type.errors:
        query = query.where(AuditEvent.object_type == form.object_type.data)
    if form.object_id.data and not form.object_id.errors:
        query = query.where(AuditEvent.object_id == form.object_id.data.strip())
    action = form.action.data if not form.action.errors else None
    if action and action.startswith("group:"):
        query = query.where(AuditEvent.action.in_(labels.GROUP_ACTIONS[action[6:]]))
    elif action:
        query = query.where(AuditEvent.action == action)
    if form.date_from.data and not form.date_from.errors:
        start = datetime.combine(form.date_from.data, time.min, LOCAL_TZ)
        query = query.where(AuditEvent.at >= start)
    if form.date_to.data and not form.date_to.errors:
        end = datetime.combine(form.date_to.data + timedelta(days=1), time.min, LOCAL_TZ)
        query = query.where(AuditEvent.at < end)
    return query


@bp.route("/")
@login_required
def index() -> Any:
    permissions.require(current_user, "audit.view")
    form = AuditFilterForm(request.args)
    form.action.choices = labels.action_choices()
    form.validate()
    after = int_arg("after", what=_l("Page"))
    page = keyset_page(_filtered(form), AuditEvent.id, after, current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("audit/list.html", form=form, page=page, args=args,
                           rows=present(page.items, current_user))
