"""Bulk household import screens: upload → preview (an import record) → confirm.

Each view: load the record through ``_load`` (404 unless the user uploaded it or is a county
user of its county), check the role (403), call one service, commit once, redirect.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from heating.auth import permissions
from heating.core.refusals import Refusal
from heating.core.web import attempt, page_arg, show_refusal
from heating.extensions import db
from heating.households.blueprint import imports_bp as bp
from heating.households.forms import default_programme_year
from heating.households.imports import services
from heating.households.imports.forms import ConfirmForm, UploadForm

# the model module is imported here so the app (and Alembic's autogenerate) knows the table
from heating.households.imports.models import ImportRecord
from heating.households.imports.rules import render, render_problem
from heating.households.imports.template import template_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "农户导入模板.xlsx"
PAGE = 200
STATUS_LABELS = {"new": _l("New"), "warning": _l("New, with warning"),
                 "duplicate": _l("Duplicate"), "error": _l("Error"),
                 "skipped": _l("Skipped")}  # a withdrawn or cancelled case of a ledger


@bp.app_context_processor
def _import_globals() -> dict[str, Any]:
    return {"may_import": lambda: permissions.may_import(current_user)}


def _require_importer() -> None:
    if not permissions.may_import(current_user):
        abort(403)


def _load(import_id: int) -> ImportRecord:
    rec = db.session.get(ImportRecord, import_id)
    if rec is None or not services.visible(rec, current_user):
        abort(404)
    return rec


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> Any:
    _require_importer()
    form = UploadForm()
    if request.method == "GET":
        form.programme_year.data = default_programme_year()
    if form.validate_on_submit():
        upload = form.file.data
        rec, _parsed = services.upload(upload.read(), upload.filename or "",
                                       form.programme_year.data, current_user)
        if rec.status == "previewed":
            return redirect(url_for("imports.detail", import_id=rec.id))
        form.file.errors = list(form.file.errors) + [render(
            rec.preview_data.get("file_error", {}))]
    return render_template("imports/index.html", form=form,
                           records=services.recent(current_user))


@bp.route("/template.xlsx")
@login_required
def template() -> Any:
    _require_importer()
    return Response(template_bytes(), mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=household-import-template.xlsx; "
                               f"filename*=UTF-8''{quote(TEMPLATE_NAME)}",
        "Cache-Control": "no-store"})


@bp.route("/<int:import_id>")
@login_required
def detail(import_id: int) -> Any:
    rec = _load(import_id)
    data = rec.preview_data
    rows = data.get("rows", [])
    problems = [r for r in rows if r[1] != "new"]
    show = request.args.get("show") or ("problems" if problems else "all")
    chosen = problems if show == "problems" else rows
    page = page_arg()
    shown = chosen[(page - 1) * PAGE:page * PAGE]
    return render_template(
        "imports/detail.html", rec=rec, data=data, show=show, page=page,
        pages=max((len(chosen) + PAGE - 1) // PAGE, 1), total_shown=len(chosen),
        rows=[_display(r) for r in shown],
        file_error=render(data["file_error"]) if data.get("file_error") else None,
        labels={k: str(v) for k, v in STATUS_LABELS.items()},
        may_confirm=(rec.status == "previewed" and rec.new_count > 0
                     and rec.uploaded_by_id == current_user.id
                     and permissions.may_import(current_user)),
        confirm_form=ConfirmForm())


def _display(row: list[Any]) -> dict[str, Any]:
    number, status, name, id_masked, village, problems = row
    return {"number": number, "status": status, "name": name, "id_masked": id_masked,
            "village": village, "messages": [(p.get("k", "e"), render_problem(p))
                                             for p in problems]}


@bp.route("/<int:import_id>/confirm", methods=["POST"])
@login_required
def confirm(import_id: int) -> Any:
    rec = _load(import_id)
    if rec.uploaded_by_id != current_user.id or not permissions.may_import(current_user):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    # someone may register one of these ID numbers at the same moment (PostgreSQL), or
    # another confirmation of this file win: then nothing of this file is written
    taken = Refusal(_("Nothing was imported: some of these ID numbers were registered at the "
                      "same moment. Check the refreshed preview and confirm again."))
    with attempt(taken=taken, quiet=lambda err: err is taken) as done:
        outcome = services.confirm(rec, current_user)
    if done.refusal is taken:
        rec = _load(import_id)
        services.refresh(rec, current_user)
        show_refusal(taken)
    if not done:
        return redirect(url_for("imports.detail", import_id=import_id))
    if outcome.changed:
        flash(_("Nothing was imported: cases were registered or changed since the preview. "
                "The preview below is up to date; check it and confirm again."), "error")
    elif outcome.refused is not None:
        flash(str(outcome.refused), "error")
    else:
        flash(_("%(n)d households were imported as drafts.", n=outcome.imported), "success")
    return redirect(url_for("imports.detail", import_id=import_id))
