"""Redaction of ID and bank numbers in free text (log lines, audit summaries).

Anything that looks like an 18-character ID number or a 15–19 digit account number is
replaced by its mask; a safety net under the rule that such numbers are never logged.
"""
from __future__ import annotations

import logging
import re

from heating.core.masking import mask_bank, mask_id

_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9]{15,19}(?![0-9])")
# URL-encoded or full-width spellings are normalised by the app before use; in logs we also
# catch digits split by spaces (as typed on a card): 4 groups of 4+ digits
_SPACED = re.compile(r"(?<![0-9])(?:[0-9]{4}[ -]){3,4}[0-9]{1,4}(?![0-9])")


def redact(text: str) -> str:
    text = _ID.sub(lambda m: mask_id(m.group(0).upper()), text)
    text = _SPACED.sub(lambda m: mask_bank(re.sub(r"[ -]", "", m.group(0))), text)
    return _LONG_DIGITS.sub(lambda m: mask_bank(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message so no full ID or bank number reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root and the server loggers."""
    flt = RedactingFilter()
    for name in ("", "werkzeug", "gunicorn.access", "gunicorn.error", "heating"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(flt)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(flt)
