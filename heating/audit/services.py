"""``record()``: the one way anything is written to the audit log."""
from __future__ import annotations

import json
from typing import Any, Iterable

from flask import has_request_context, request
from sqlalchemy import insert

from heating.audit.models import AuditEvent
from heating.core.db import now_utc
from heating.core.redact import redact
from heating.extensions import db


def _dump(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    # the redaction pass is a safety net: callers already pass masks and hash prefixes
    return redact(json.dumps(values, ensure_ascii=False, sort_keys=True, default=str))


def record(action: str, object_type: str, object_id: Any, *, actor: Any,
           summary: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> AuditEvent:
    """Append one audit row (flushed with the caller's transaction, never committed here)."""
    if before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=redact(summary), before=_dump(before), after=_dump(after),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def record_many(action: str, object_type: str,
                items: Iterable[tuple[Any, str, dict[str, Any] | None, dict[str, Any] | None]],
                *, actor: Any) -> int:
    """``record()`` for many objects at once (one multi-row INSERT): the same rows, one per
    ``(object_id, summary, before, after)``.  For bulk moves such as a payout batch of
    20,000 cases, where building an ORM object per row would dominate the time."""
    ip = request.remote_addr if has_request_context() else None
    at = now_utc()
    rows = []
    for object_id, summary, before, after in items:
        if before is not None and after is not None:
            changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
            before = {k: before.get(k) for k in sorted(changed)}
            after = {k: after.get(k) for k in sorted(changed)}
        rows.append({"at": at, "actor_id": getattr(actor, "id", None),
                     "actor_name": getattr(actor, "username", None) or "system",
                     "action": action, "object_type": object_type,
                     "object_id": None if object_id is None else str(object_id),
                     "summary": redact(summary), "before": _dump(before),
                     "after": _dump(after), "ip": ip})
    if rows:
        db.session.execute(insert(AuditEvent), rows)
    return len(rows)
