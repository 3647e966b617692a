"""What inspections adds to the case page and to a lifecycle move's guard facts (registered by
``inspections.wiring.init_app`` through ``households.providers``)."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from heating.auth import permissions
from heating.core.i18n import local_today
from heating.households import lifecycle
from heating.households.models import Household
from heating.inspections import assignments
from heating.inspections import services as inspections
from heating.inspections.forms import AssignForm, DocumentForm
from heating.inspections.models import DOCUMENT_KINDS


def guard_facts(hh: Household, actor: Any) -> dict[str, Any]:
    """The installation, documents and who registered, approved and installed the case."""
    context = inspections.guard_context(hh, actor)
    return {f.name: getattr(context, f.name) for f in fields(context)}


def paperwork(hh: Household, current_user: Any, context: lifecycle.Context) -> dict[str, Any]:
    """Installation, inspections and documents of the case, with the forms this user may use
    on them."""
    may_assign = lifecycle.may(current_user, "assign_inspector", hh)
    assign_form = AssignForm()
    if may_assign:
        assign_form.inspector_id.choices = [(u.id, u.display_name)
                                            for u in assignments.inspectors_for(hh)]
        current = assignments.assignment_of(hh)
        assign_form.inspector_id.data = current.inspector_id if current else None
        assign_form.visit_date.data = current.visit_date if current else local_today()
    return {
        "installation": context.installation,
        "may_edit_installation": lifecycle.may(current_user, "record_installation", hh),
        "assignment": assignments.assignment_of(hh),
        "may_assign": may_assign, "assign_form": assign_form,
        "inspections": inspections.inspections_of(hh),
        "documents": inspections.documents(hh),
        "may_upload_document": lifecycle.may(current_user, "upload_document", hh),
        "may_view_documents": permissions.may_view_upload(current_user, hh, document=True),
        "document_form": DocumentForm(), "DOCUMENT_KINDS": DOCUMENT_KINDS,
    }
