"""All or nothing: a process killed (SIGKILL) in the middle of the bulk insert leaves no row of
the file behind — no case, event, audit row or import record — and the next run imports it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.households.imports.models import ImportRecord
from heating.households.models import CaseEvent, Household
from tests.fixtures import make_user
from tests.imports.helpers import grid, row, xlsx

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000
KILL_AT = 2500  # the second chunk: the first 2,000 cases, events and audit rows are written

#: the real CLI, with the row builder of the bulk insert slowed to a halt at row KILL_AT
SCRIPT = r"""
import sys, time
from pathlib import Path
from sqlalchemy import func, select
import heating.households.imports.services as s
from heating.extensions import db
from heating.households.models import Household
marker, path, user, kill_at = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
original, seen = s._household, [0]
def halting(*args, **kw):
    seen[0] += 1
    if seen[0] == kill_at:
        written = db.session.scalar(select(func.count()).select_from(Household))
        marker.write_text(str(written))
        time.sleep(300)
    return original(*args, **kw)
s._household = halting
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "import-households", path, "--as", user]
main()
"""


def _counts() -> dict[str, int]:
    """Rows the import could have written, read in a transaction that is then closed (an open
    one could hold SQLite's write lock, if an earlier test left this thread a writer)."""
    db.session.rollback()
    found = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
             for m in (Household, CaseEvent, ImportRecord)}
    found["audit"] = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("household.%") | AuditEvent.action.like("imports.%")))
    db.session.rollback()
    return found


def test_killed_mid_insert_leaves_nothing(app, db_url, world, tmp_path):
    make_user("clerk", world.village_a1, username="li")
    db.session.commit()
    before = _counts()
    path = tmp_path / "big.xlsx"
    path.write_bytes(xlsx(grid([row(n) for n in range(1, ROWS + 1)])))
    env = dict(os.environ, HEATING_ENV="test", DATABASE_URL=db_url, PYTHONPATH=str(ROOT),
               STORAGE_DIR=str(tmp_path / "storage"))
    marker, log = tmp_path / "marker", tmp_path / "child.log"
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, "-c", SCRIPT, str(marker), str(path), "li",
                                  str(KILL_AT)], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert child.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the import never reached the insert"
            time.sleep(0.05)
        assert int(marker.read_text()) == 2000  # inside its transaction, a chunk was written
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL, log.read_text()
    assert _counts() == before and before["Household"] == 0

    # the database is intact and the same file imports completely afterwards
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "import-households",
                           str(path), "--as", "li", "--only-problems"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    after = _counts()
    assert after["Household"] == after["CaseEvent"] == ROWS and after["ImportRecord"] == 1
