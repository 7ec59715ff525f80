"""Drill: several processes writing appeals into one SQLite file (the embedded default), killed with SIGKILL.

    .venv/bin/python bench/faults/sqlite_writers.py                      # 4 writers, 90 s, a kill every 3 s or so
    .venv/bin/python bench/faults/sqlite_writers.py --writers 6 --seconds 120

Each writer is a process running the app (create_app on the file, WAL and busy timeout as in production) that
records appeals through the intake form with the Flask test client, one after another, and prints each
appeal's id once its request has committed (the redirect to it). The drill kills a random recording writer every --every seconds (on
average) at a random moment (most moments are inside a transaction: recording is nearly all database work) and starts a new one.

Promises checked: `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` finds nothing; every
appeal a writer was told was recorded is in the file, its receipt once; every appeal of the run is whole (its event, its
attachment row, the file); the journal mode is WAL.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import drill

WRITER = r'''
import random, re, sys
sys.path.insert(0, sys.argv[1])
from gaoxin import create_app
from gaoxin.extensions import db
sys.path.insert(0, sys.argv[1] + "/bench/faults")
import drill

app = create_app()
app.config["WTF_CSRF_ENABLED"] = False
fx = drill.fixtures(app.config["SQLALCHEMY_DATABASE_URI"])
rng = random.Random()
client = app.test_client()
client.post("/login", data={"username": "clerk_station", "password": "Gaoxin@2026"})
print("ready", flush=True)
while True:
    marker = f"{rng.random():.12f}"
    response = client.post("/appeals/new", data={
        "submission_token": f"w-{marker}", "enterprise_id": rng.choice(fx["enterprises"]),
        "category_id": fx["category"], "channel": "building_station", "no_contact_reason": "演练",
        "content": f"故障演练诉求 {marker}：企业希望了解人才公寓申请条件。",
        "files": (__import__("io").BytesIO(drill.PDF + marker.encode()), "材料.pdf")})
    if response.status_code == 303:
        print("ID", re.search(r"/appeals/(\d+)", response.headers["Location"]).group(1), flush=True)
    else:
        print("status", response.status_code, flush=True)
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--every", type=float, default=3, help="mean seconds between kills")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gaoxin-sqlite-drill-"))
    database = f"sqlite:///{work / 'gaoxin.sqlite'}"
    files = work / "files"
    env = {**os.environ, "DATABASE_URL": database, "GAOXIN_SECRET_KEY": "drill", "GAOXIN_DATA_DIR": str(files),
           "GAOXIN_PASSWORD_MAX_AGE_DAYS": "0"}
    log = drill.Log()
    statuses, lock, writers, kills, ready, committed = {}, threading.Lock(), [], 0, set(), []
    script = work / "writer.py"
    script.write_text(WRITER)

    def read(process):
        for line in process.stdout:
            line = line.strip()
            with lock:
                if line.startswith("ID "):
                    committed.append(int(line[3:]))
                elif line == "ready":
                    ready.add(process.pid)
                else:
                    statuses[line] = statuses.get(line, 0) + 1

    def spawn():
        process = subprocess.Popen([sys.executable, str(script), str(drill.ROOT)], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=read, args=(process,), daemon=True).start()
        writers.append(process)

    try:
        drill.prepare(database)
        for _ in range(args.writers):
            spawn()
        rng = random.Random(14)
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            time.sleep(rng.uniform(0.5, 2 * args.every - 0.5))
            # Only writers that are recording (started, logged in): a kill during start-up proves nothing.
            working = [w for w in writers if w.pid in ready and w.poll() is None]
            if not working:
                continue
            victim = rng.choice(working)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            writers.remove(victim)
            kills += 1
            spawn()
    finally:
        for process in writers:
            process.send_signal(signal.SIGKILL)
            process.wait()
    try:
        conn = drill.connect(database)
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        # The receipt of every appeal a writer was told was recorded (the redirect to it): each must be there.
        receipts = dict(conn.execute("SELECT id, receipt_no FROM appeals").fetchall())
        conn.close()
        for appeal_id in committed:
            log.receipts.setdefault(receipts.get(appeal_id, f"missing appeal {appeal_id}"), []).append(appeal_id)
        problems, figures = drill.reconcile(database, files, log)
        print(f"{args.writers} writers, {kills} killed with SIGKILL in {args.seconds:.0f} s; "
              f"answers other than a recorded appeal: {statuses or 'none'}")
        print(f"PRAGMA integrity_check: {integrity}; foreign_key_check: {len(foreign)} rows; journal_mode {journal}")
        print("reconciliation:", ", ".join(f"{k} {v}" for k, v in figures.items()))
        for problem in problems[:20]:
            print("  ", problem)
        drill.verdict([
            ("writers were killed", kills > 0),
            ("PRAGMA integrity_check is ok and no foreign key is broken", integrity == ["ok"] and not foreign),
            ("the file is in WAL mode", journal == "wal"),
            ("every appeal a writer was told was recorded is there, its receipt once; every appeal whole",
             not problems and figures["receipts given"] > 0),
        ])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
