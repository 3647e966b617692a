"""Locale and time zone selection, and local display of UTC times."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, session

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LANGUAGE_NAMES = {"zh_Hans_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The language chosen with the switch, else Simplified Chinese (not the browser's)."""
    if not has_request_context():  # CLI commands: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def local(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC-aware datetime shown in Beijing time."""
    if dt is None:
        return ""
    return dt.astimezone(LOCAL_TZ).strftime(fmt)


def local_today() -> "datetime.date":  # type: ignore[name-defined]
    return datetime.now(LOCAL_TZ).date()
