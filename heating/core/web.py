"""Request plumbing shared by every blueprint: the unit of work (one commit per request),
write intent for SQLite, template helpers,
error pages (never a bare 500), a local-only ``next`` redirect check, and numbers read from
the query string (bounded; a bad one is ignored with a message, never an error page)."""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterator, Mapping, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, flash, render_template, request
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from heating.core.db import write_intent
from heating.core.i18n import LANGUAGE_NAMES, local
from heating.core.money import format_fen, format_yuan
from heating.core.numbers import DB_INT_MAX, whole_number
from heating.core.refusals import Conflict, Refusal
from heating.extensions import db

log = logging.getLogger("heating")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Any])


def install_proxy_fix(app: Flask) -> None:
    """Behind nginx, take the client address from X-Forwarded-For (only when configured)."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore
                                x_host=hops)


def writes(view: F) -> F:
    """A GET view that writes (the audit row of a download, the bank file frozen or the PDF
    stored on the first download): its request is a writer like a POST, so SQLite opens its
    transaction with BEGIN IMMEDIATE, and the unit of work commits it."""
    view.writes = True  # type: ignore[attr-defined]
    return view


def install_write_intent(app: Flask) -> None:
    """Requests that write (POST…, or a view marked ``@writes``) open their SQLite
    transaction with BEGIN IMMEDIATE.  First hook of all: before anything reads."""

    def _mark_writer() -> None:
        view = app.view_functions.get(request.endpoint or "")
        write_intent.set(request.method in WRITE_METHODS or getattr(view, "writes", False))

    app.before_request_funcs.setdefault(None, []).insert(0, _mark_writer)


def install_unit_of_work(app: Flask) -> None:
    """One commit per request, here and nowhere in the views (Indico's ``RH.process``): a
    writing request that ends well (status below 400) is committed; every other ending (a
    refusal, an error page, a 500) is rolled back (what a refusal itself records was
    committed on its own: ``core.refusals.record_independently``).  A request without write
    intent never commits: a GET that changes data by accident changes nothing."""

    @app.after_request
    def _end_unit_of_work(response: Response) -> Response:
        if write_intent.get() and response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        # the request's writing is over: a streamed body (a large export) only reads
        write_intent.set(False)
        return response


class Outcome:
    """What :func:`attempt` ended with: true when the work was done, else ``refusal``."""

    refusal: Refusal | None = None

    def __bool__(self) -> bool:
        return self.refusal is None


@contextlib.contextmanager
def attempt(form: Any = None, *, stale: Refusal | None = None,
            taken: Refusal | None = None,
            also: Mapping[type[Exception], Callable[[Any], Refusal]] | None = None,
            quiet: bool | Callable[[Refusal], bool] = False, own: bool = False
            ) -> Iterator[Outcome]:
    """Run the request's work; on a refusal roll it back and show it.

    The work is flushed at the end of the block, so that a concurrent edit (``stale``: a
    version column that no longer matches, or a service's own ``Conflict`` without a
    message) or a lost race on a unique index (``taken``) surfaces here as that refusal;
    without one they are errors.  ``also`` turns other exceptions into refusals (a PDF that
    would print boxes: ``certificates.PRINT_REFUSALS``).

    A refusal goes onto ``form`` (on its field, or flashed when it names none) or is
    flashed, with its problems; with ``quiet`` (True, or true for that refusal) the page
    shows it itself from ``outcome.refusal``.  A 403 refusal is re-raised and becomes its
    error page.  The commit is the request's, at its end; ``own`` commits the block (and
    the request's work so far) on its own instead: an inspector's photos are kept even when
    the inspection is then refused.

        with attempt(form) as done:
            services.do_it(obj, form.data_for_service(), current_user)
        if done:
            flash(_("Done."), "success")
            return redirect(...)
        return render_template(..., form=form)
    """
    outcome = Outcome()
    try:
        yield outcome
        if own:
            db.session.commit()
        else:
            db.session.flush()
    except Refusal as err:
        if stale is not None and isinstance(err, Conflict) and not err.message:
            err = stale  # the service saw the version change itself
        _refused(outcome, err, form, quiet)
    except StaleDataError:
        if stale is None:
            raise
        _refused(outcome, stale, form, quiet)
    except IntegrityError:
        if taken is None:
            raise
        _refused(outcome, taken, form, quiet)
    except Exception as err:
        for kind, translate in (also or {}).items():
            if isinstance(err, kind):
                _refused(outcome, translate(err), form, quiet)
                break
        else:
            raise


def _refused(outcome: Outcome, err: Refusal, form: Any,
             quiet: bool | Callable[[Refusal], bool]) -> None:
    db.session.rollback()
    if err.as_page:
        raise err
    outcome.refusal = err
    if not (quiet(err) if callable(quiet) else quiet):
        show_refusal(err, form)


def show_refusal(err: Refusal, form: Any = None) -> None:
    """The refusal on its form field (or flashed when it names no field of ``form``), and
    each of its problems flashed.  A refusal without a message shows nothing."""
    if form is not None and err.message:
        attach_error(form, err)
    elif err.message:
        flash(err.message, "error")
    for problem in err.problems:
        flash(problem, "error")


def flash_form_errors(form: Any) -> None:
    """Every validation error of a form that is not shown on its page (a button form)."""
    for errors in form.errors.values():
        for e in errors:
            flash(e, "error")


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

    @app.errorhandler(Refusal)
    def _refusal(err: Refusal) -> Any:
        # a refusal no view turned into a message: its own page (403, 409, 400); a 403 says
        # what abort(403) says (the role may not), whichever rule refused
        db.session.rollback()
        detail = str(err.message) if err.message and not err.as_page else None
        return _error_page(err.status, detail)

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
