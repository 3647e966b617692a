"""The audit viewer (auditor, county): filter by user, object, action and date."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, StringField
from wtforms.validators import Optional

from heating.audit.models import AuditEvent
from heating.auth import permissions
from heating.core.i18n import LOCAL_TZ
from heating.core.numbers import DateBounds
from heating.core.pagination import keyset_page, prefix_range
from heating.core.web import int_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = StringField(_l("User"), validators=[Optional()])
    object_type = StringField(_l("Object type"), validators=[Optional()])
    object_id = StringField(_l("Object id"), validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional()])
    date_from = DateField(_l("Date from"), validators=[Optional(), DateBounds()])
    date_to = DateField(_l("Date to"), validators=[Optional(), DateBounds()])


@bp.route("/")
@login_required
def index() -> Any:
    permissions.require(current_user, "audit.view")
    form = AuditFilterForm(request.args)
    form.validate()
    query = select(AuditEvent)
    if form.user.data:
        query = query.where(AuditEvent.actor_name == form.user.data.strip())
    if form.object_type.data:
        query = query.where(AuditEvent.object_type == form.object_type.data.strip())
    if form.object_id.data:
        query = query.where(AuditEvent.object_id == form.object_id.data.strip())
    if form.action.data:
        query = query.where(prefix_range(AuditEvent.action, form.action.data.strip()))
    if form.date_from.data and not form.date_from.errors:
        start = datetime.combine(form.date_from.data, time.min, LOCAL_TZ)
        query = query.where(AuditEvent.at >= start)
    if form.date_to.data and not form.date_to.errors:
        end = datetime.combine(form.date_to.data + timedelta(days=1), time.min, LOCAL_TZ)
        query = query.where(AuditEvent.at < end)
    after = int_arg("after", what=_l("Page"))
    page = keyset_page(query, AuditEvent.id, after, current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("audit/list.html", form=form, page=page, args=args)
