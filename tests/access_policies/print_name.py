"""The print spelling (印刷用名) of a case: recorded by the township reviewer or a county user."""
from __future__ import annotations

from typing import Any


def cells(h: Any) -> dict[str, list[Any]]:
    return {
        "households.print_name": [
            h.Cell("POST", lambda c: f"/households/{h.CASE(c)}/print-name",
                   h.allowed({"reviewer", "county"}, 302),
                   data=lambda c: {"print_name": "吉祥", "reason": "户主姓名中的“𠮷”无法打印"}),
            h.Cell("POST", lambda c: f"/households/{h.CASE(c)}/print-name",
                   h.allowed({"reviewer", "county"}, 302),
                   data=lambda c: {"print_name": "吉祥", "reason": "生僻字"},
                   case_state="passed", name="passed"),
        ],
    }
