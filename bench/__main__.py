"""``python -m bench [NAME ...]``: run the benchmarks, print the figures, write
bench/results/*.json.

Each benchmark is a module ``bench/bench_<name>.py`` (plus the household list in
``households_list.py``) with ``add_arguments(parser)`` (optional), ``run(args) -> dict`` and
``report(result) -> list[str]``.  With no NAME every benchmark runs.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sqlite3
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

from bench.data import ROOT

RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, object]:
    """Enough to compare runs: the figures are only comparable on like machines."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": version("SQLAlchemy"), "flask": version("Flask"),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def benchmarks() -> dict[str, Any]:
    found = {"households_list": importlib.import_module("bench.households_list")}
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        found[path.stem.removeprefix("bench_")] = importlib.import_module(f"bench.{path.stem}")
    return found


def main() -> None:
    modules = benchmarks()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*",
                        help=f"benchmarks to run (default: all): {', '.join(modules)}")
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    args = parser.parse_args()
    unknown = set(args.names) - set(modules)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    for name in args.names or list(modules):
        started = datetime.now(timezone.utc)
        result = modules[name].run(args)
        result.update(date=started.isoformat(timespec="seconds"), machine=machine())
        print()
        for line in modules[name].report(result):
            print(line)
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{name}-{started:%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n",
                       encoding="utf-8")
        print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
