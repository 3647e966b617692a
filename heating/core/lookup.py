"""Keyed hashes (HMAC-SHA256) of ID and bank numbers: for lookups, uniqueness and audit rows,
so that the full number never has to be compared, logged or audited in the clear."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def keyed_hash(kind: str, value: str, key: str | None = None) -> str:
    """Hex HMAC of ``kind:value``; ``kind`` separates ID numbers from bank accounts."""
    secret = key if key is not None else current_app.config["LOOKUP_KEY"]
    message = f"{kind}:{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
