"""Demo data (being written by a teammate)."""
from __future__ import annotations

from typing import Any, Callable


def build_demo(households: int, seed: int, echo: Callable[[str], Any]) -> None:
    raise NotImplementedError("demo data is not written yet")


def demo_logins() -> list[str]:
    return []
