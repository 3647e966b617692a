"""``python -m bench``: run every benchmark, print the figures, write bench/results/*.json."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from bench import households_list
from bench.data import ROOT, database

RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, object]:
    """Enough to compare runs: the figures are only comparable on like machines."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": version("SQLAlchemy"), "flask": version("Flask"),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=30, help="timed requests per page")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--database", type=Path, help="measure this SQLite file instead (a "
                        "copy with an index added, say); it must hold the demo county")
    args = parser.parse_args()

    started = datetime.now(timezone.utc)
    path = (args.database.resolve() if args.database
            else database(args.households, args.seed, rebuild=args.rebuild))
    result = households_list.run(path, reps=args.reps)
    result.update(date=started.isoformat(timespec="seconds"), machine=machine(),
                  database=path.name)
    print()
    for line in households_list.report(result):
        print(line)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"households_list-{started:%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
