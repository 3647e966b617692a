"""Benchmark databases: built once with the demo builder, cached under ``bench/.data/``.

The cache key holds the household count, the seed and a digest of what shapes the data (the
demo builder and the migrations), so a changed schema or generator builds a fresh file.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from heating import create_app
from heating.core.db import writing
from heating.demo import build_demo
from heating.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", ROOT / "bench" / ".data"))
#: fixed keys: the cached file's keyed hashes must match the app that reads it
LOOKUP_KEY = "bench-lookup-key"
SECRET_KEY = "bench-secret-key"


def bench_app(path: Path) -> Flask:
    """The app as it runs in production (not TESTING), on one SQLite file."""
    return create_app({"HEATING_ENV": "test", "TESTING": False, "SECRET_KEY": SECRET_KEY,
                       "LOOKUP_KEY": LOOKUP_KEY, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def _digest() -> str:
    sources = [ROOT / "heating" / "demo.py", *sorted((ROOT / "migrations" / "versions")
                                                     .glob("*.py"))]
    h = hashlib.sha256()
    for source in sources:
        h.update(source.read_bytes())
    return h.hexdigest()[:10]


def database(households: int, seed: int = 1, rebuild: bool = False) -> Path:
    """Path of a migrated SQLite file holding the demo county with ``households`` cases."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ignore = DATA_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    path = DATA_DIR / f"households-{households}-seed{seed}-{_digest()}.sqlite3"
    if path.exists() and not rebuild:
        return path
    partial = path.with_suffix(".partial")
    for leftover in DATA_DIR.glob(partial.name + "*"):
        leftover.unlink()
    print(f"building {path.name} (once; later runs reuse it)")
    started = time.perf_counter()
    app = bench_app(partial)
    with app.app_context():
        upgrade()
        with writing():
            build_demo(households=households, seed=seed, echo=print)
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    partial.rename(path)
    print(f"built in {time.perf_counter() - started:.0f} s")
    return path
