"""Files the system issues or receives, kept under STORAGE_DIR: written once under a new random
name (never over an existing file), read-only, and referred to by their path relative to
STORAGE_DIR (the database keeps the path and, where it matters, a SHA-256)."""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from flask import current_app


def store_new(data: bytes, folder: str, stem: str, ext: str) -> str:
    """Write ``data`` as ``{folder}/{stem}-{random}.{ext}``; returns the relative path."""
    relative = f"{folder}/{stem}-{secrets.token_hex(8)}.{ext}"
    path = Path(current_app.config["STORAGE_DIR"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o440)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return relative


class StorageError(RuntimeError):
    """A stored file is missing or no longer matches its SHA-256: never serve it."""


def read_checked(relative: str | None, sha256: str | None, what: str) -> bytes:
    """The stored bytes, only if they still match the SHA-256 recorded when they were kept;
    ``what`` names the file in the error (no personal data: a serial or a batch number)."""
    path = Path(current_app.config["STORAGE_DIR"]) / (relative or "")
    try:
        data = path.read_bytes()
    except OSError:
        raise StorageError(f"{what}: stored file missing") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StorageError(f"{what}: stored file does not match its SHA-256")
    return data
