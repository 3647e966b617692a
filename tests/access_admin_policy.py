"""The access-matrix cells of the admin screens (filled in with the admin screens)."""
from __future__ import annotations

from typing import Any, Callable


def ADMIN_POLICY(admin_only: Callable[..., Any]) -> dict[str, list[Any]]:  # noqa: N802
    from tests.test_access_matrix import Cell
    return {"admin.users": [Cell("GET", lambda c: "/admin/users", admin_only())]}
