"""Request plumbing shared by every blueprint: write intent for SQLite, template helpers,
error pages (never a bare 500), a local-only ``next`` redirect check, and numbers read from
the query string (bounded; a bad one is ignored with a message, never an error page)."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, render_template, request
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from heating.core.db import write_intent
from heating.core.i18n import LANGUAGE_NAMES, local
from heating.core.money import format_fen, format_yuan
from heating.core.numbers import DB_INT_MAX, whole_number
from heating.extensions import db

log = logging.getLogger("heating")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def install_proxy_fix(app: Flask) -> None:
    """Behind nginx, take the client address from X-Forwarded-For (only when configured)."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore
                                x_host=hops)


def install_write_intent(app: Flask) -> None:
    """Requests that write open their SQLite transaction with BEGIN IMMEDIATE."""

    @app.before_request
    def _mark_writer() -> None:
        write_intent.set(request.method in WRITE_METHODS)


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: no scheme, no host, no protocol-relative '//' or backslash tricks."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    return target


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` of every route: a number beyond what a database id holds does not match
    the route (404) instead of reaching the query (a 500)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = DB_INT_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


def install_bounded_ids(app: Flask) -> None:
    """Before any blueprint: rules bind their converters when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter


#: the highest page number a paged view accepts (page × page size stays a database integer)
MAX_PAGE = 1_000_000


def int_arg(name: str, default: int | None = 0, *, low: int = 0, high: int = DB_INT_MAX,
            what: str | LazyString | None = None) -> int | None:
    """The query parameter ``name`` as a whole number from ``low`` to ``high``: ``default``
    when it is missing or empty, and when it is anything else too, then with a message that
    says it was ignored (a hand-edited or stale link still opens its page)."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    try:
        return whole_number(raw, low, high)
    except ValueError:
        _ignored(what or name, low, high)
        return default


def int_args(name: str, *, low: int = 1, high: int = DB_INT_MAX,
             what: str | LazyString | None = None) -> list[int]:
    """A repeated query parameter (``?ids=1&ids=2``) as whole numbers; bad ones are left
    out, with one message."""
    found, bad = [], False
    for raw in request.args.getlist(name):
        try:
            found.append(whole_number(raw, low, high))
        except ValueError:
            bad = True
    if bad:
        _ignored(what or name, low, high)
    return found


def page_arg(name: str = "page") -> int:
    """A page number (1 when missing or bad)."""
    return int_arg(name, 1, low=1, high=MAX_PAGE, what=_l("Page")) or 1


def _ignored(what: Any, low: int, high: int) -> None:
    if high < DB_INT_MAX:
        flash(_("“%(what)s” must be a whole number from %(low)s to %(high)s; the value in the "
                "address was ignored.", what=what, low=low, high=high), "warning")
    else:
        flash(_("The value for “%(what)s” in the address is not valid and was ignored.",
                what=what), "warning")


def ignore_bad_filters(form: Any) -> None:
    """A GET filter form read from the query string: a field whose value does not pass its
    validators (a year out of range, an id that is no number) is reset to its default, as if
    it had not been given, and the page says which filter was ignored and why."""
    form.validate()
    for field in form:
        if not field.errors:
            continue
        if field.process_errors:
            # not even read (no number, no id): WTForms' own words are about types
            _ignored(field.label.text, 0, DB_INT_MAX)
        else:
            flash(_("%(field)s: %(error)s The filter was ignored.", field=field.label.text,
                    error=field.errors[0]), "warning")
        field.data, field.raw_data, field.errors = field.default, [], []


def attach_error(form: Any, err: Any) -> None:
    """A service's refusal (anything with ``.message`` and ``.field``) shown on its form
    field, or as a flashed message when it names no field of this form."""
    field = getattr(form, err.field, None) if getattr(err, "field", None) else None
    if field is not None:
        field.errors = list(field.errors) + [err.message]
    else:
        flash(err.message, "error")


def install_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["yuan"] = format_yuan  # Decimal 6800 → "6,800.00"
    app.jinja_env.filters["fen"] = format_fen  # int 680000 → "6,800.00"
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your role does not allow this action on this record.")),
    404: (_l("Not found"),
          _l("There is no such page or record, or it is outside your area.")),
    405: (_l("Not allowed"), _l("This address cannot be used that way.")),
    413: (_l("File too large"), _l("The upload is larger than allowed (25 MB per request). "
                                   "Reduce the file size and try again.")),
    500: (_l("System error"), _l("Something went wrong on our side. Nothing was saved. "
                                 "Try again; if it happens again, tell the system "
                                 "administrator.")),
}


def _error_page(code: int, detail: str | None = None) -> tuple[str, int]:
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[400])
    return render_template("errors/error.html", code=code, title=title,
                           text=detail or text), code


def install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> Any:
        db.session.rollback()
        return _error_page(400, _("The form expired or was sent twice. Go back, reload the "
                                  "page and submit again."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        if err.code and err.code >= 500:
            db.session.rollback()
        if err.code in (301, 302, 303, 307, 308):
            return err
        return _error_page(err.code or 400)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("TESTING") and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise err
        return _error_page(500)
