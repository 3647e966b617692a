"""Ledger (台账) downloads: the household list's filters as a CSV or XLSX file.

- ``GET /exports/households.xlsx|csv?<list filters>``: numbers as the user sees them on
  screen; audited as ``households.export``.
- ``GET /exports/households/full?<list filters>``: the reason form, for the roles that see
  some number "on request" (DOMAIN.md); ``POST`` it to get the file with those numbers in
  full, audited as ``households.export_full`` with the reason.

The audit row is committed before the file streams, with the row count from a COUNT over the
same conditions: a download that breaks off half-way is still on record.
"""
from __future__ import annotations

import os
from typing import Any, Mapping
from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length

from heating.auth import permissions
from heating.core.web import attempt, writes
from heating.households import exports, queries
from heating.households.blueprint import exports_bp as bp

FILTER_NAMES = ("q", "township", "village", "state", "conversion_type", "year", "order")
FIELD_LABELS = {"id_number": _l("ID number"), "bank_account": _l("Account number"),
                "phone": _l("Mobile number")}


class FullExportForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Say why you need the full number; this is recorded.")),
        Length(max=200)])
    file_format = RadioField(_l("File format"), default="xlsx", choices=[
        ("xlsx", _l("Excel (.xlsx)")), ("csv", _l("CSV (.csv)"))])


@bp.app_context_processor
def _export_links() -> dict[str, Any]:
    """``may_export_full()`` for the list page's "Full-number export…" link."""
    return {"may_export_full": lambda: bool(exports.revealable_fields(current_user))}


def _tmp_dir() -> str:
    return os.path.join(current_app.config["STORAGE_DIR"], "tmp")


def _download(export: exports.LedgerExport) -> Response:
    # no stream_with_context: the chunks need neither the request nor the session
    response = Response(export.chunks(), content_type=export.mimetype)  # charset included once
    # RFC 6266 / 5987: the Chinese name for browsers that read filename*, ASCII for the rest
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export.ascii_filename}"; '
        f"filename*=UTF-8''{quote(export.filename)}")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _export(f: queries.Filters, fmt: str, args: dict[str, Any], reason: str | None = None
            ) -> Any:
    """Audit (committed with the request), then the streamed file; a refusal the user can act
    on goes back to the list with the message (the role may not: 403)."""
    with attempt() as done:
        export = exports.prepare(current_user, f, fmt, reason=reason, tmp_dir=_tmp_dir())
    if not done:
        return redirect(url_for("households.index", **args))
    return _download(export)


def _args(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: source.get(k) for k in FILTER_NAMES if source.get(k)}


@bp.route("/households.<any(csv, xlsx):fmt>")
@login_required
@writes  # every export of personal data is audited
def households(fmt: str) -> Any:
    permissions.require(current_user, "household.view")
    return _export(queries.Filters.from_args(request.args), fmt, _args(request.args))


@bp.route("/households/full", methods=["GET", "POST"])
@login_required
def households_full() -> Any:
    permissions.require(current_user, "household.view")
    fields = exports.revealable_fields(current_user)
    if not fields:
        abort(403)
    source = request.form if request.method == "POST" else request.args
    f = queries.Filters.from_args(source)  # the list's reader: the rows it shows
    form = FullExportForm()
    args = _args(source)
    if form.validate_on_submit():
        return _export(f, form.file_format.data, args, form.reason.data)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "households/export_full.html", form=form, args=args,
        fields=("、" if str(get_locale()).startswith("zh") else ", ").join(
            str(FIELD_LABELS[name]) for name in fields),
        rows=exports.count(current_user, f)), status
