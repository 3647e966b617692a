"""Files the system issues or receives, kept under STORAGE_DIR: written once under a new random
name (never over an existing file), read-only, and referred to by their path relative to
STORAGE_DIR (the database keeps the path and, where it matters, a SHA-256)."""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any, Callable

from flask import current_app
from flask_babel import lazy_gettext as _l


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


def read_kept_upload(relative: str, sha256: str | None,
                     refuse: Callable[[Any, str], Exception]) -> bytes:
    """An upload kept between its preview and its confirmation (household files, usage files),
    read again and checked against the SHA-256 taken at upload; otherwise ``refuse(message,
    code)`` is raised ("file_missing", "file_changed"), the message saying to upload again."""
    try:
        data = (Path(current_app.config["STORAGE_DIR"]) / relative).read_bytes()
    except OSError:
        raise refuse(_l("The uploaded file can no longer be found on the server. Upload it "
                        "again."), "file_missing") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise refuse(_l("The kept file does not match the upload. Upload it again."),
                     "file_changed")
    return data
