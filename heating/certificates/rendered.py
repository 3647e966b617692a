"""What every renderer returns, and the strings a document prints from its data."""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any


@dataclass(frozen=True)
class Rendered:
    """A PDF and the characters its font could not draw (each once, in order of first
    appearance); they print as a box, so the caller logs them and tells the user."""
    pdf: bytes
    missing: tuple[str, ...] = ()


def printed_texts(data: Any) -> list[str]:
    """Every string in a data class, including those in its lists and nested data classes:
    what the missing-glyph check looks at."""
    out: list[str] = []
    for f in fields(data):
        value = getattr(data, f.name)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str):
                out.append(item)
            elif is_dataclass(item):
                out.extend(printed_texts(item))
    return out
