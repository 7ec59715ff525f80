"""Drill: `kill -9` of one gunicorn worker every 30 s while 20 clients record appeals and read inboxes.

    .venv/bin/python bench/faults/kill_worker.py                # 3 minutes, a kill every 30 s
    .venv/bin/python bench/faults/kill_worker.py --minutes 5 --every 20

Same set-up as pg_restart.py (a private PostgreSQL, gunicorn as run.sh starts it, the same 20 clients). A
worker killed mid-request drops its connections: the client sees the connection fail (status 0), and the
intake desk presses again with the same form. Promises checked: gunicorn replaced every killed worker; no
appeal twice (per receipt, per submission token); every appeal whole (its event, its attachment row, the file
with its hash); every receipt a client got is in the database. Reported, not a failure: files stored by a
request killed before its row was committed (the README's "a file without a row is harmless"; content-
addressed, so a retry reuses them) and temporary upload files left by a kill mid-write; attachment rows
uploaded by an intake that was killed before its appeal was saved (the intake commits uploads first so that a
form sent back never loses them; such a row has its file and no owner, and nothing shows it).
"""
import argparse
import os
import signal
import threading
import time

import drill


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--every", type=float, default=30, help="seconds between kills")
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    site = drill.Site()
    kills, respawned = [], []
    try:
        log, stop = drill.Log(), threading.Event()
        threads = drill.start_load(log, site.port, site.fx, stop, clients=args.clients)
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() + args.every < end:
            time.sleep(args.every)
            workers = drill.workers_of(site.server.pid)
            victim = workers[len(kills) % len(workers)]
            os.kill(victim, signal.SIGKILL)
            kills.append(victim)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                now = drill.workers_of(site.server.pid)
                if len(now) == len(workers) and victim not in now:
                    respawned.append(time.monotonic())
                    break
                time.sleep(0.2)
            print(f"t={time.monotonic() - log.started:5.1f} s  killed worker {victim}; workers now "
                  f"{drill.workers_of(site.server.pid)}")
        time.sleep(max(0, end - time.monotonic()))
        site.stop(stop, threads)
        errors, _, hangs = log.report()
        dropped = [a for a in errors if a[2] == 0]
        print(f"client errors: {len(errors)} of {len(log.answers)} answers ({len(dropped)} connections dropped twice, "
              f"{len(errors) - len(dropped)} error statuses); requests whose connection a kill dropped, sent again by the "
              f"client: {log.retried}; answers over {drill.HANG_SECONDS} s: {len(hangs)} (load, see below)")
        problems, figures = site.reconcile(log)
        drill.verdict([
            (f"gunicorn replaced every killed worker ({len(respawned)} of {len(kills)})",
             bool(kills) and len(respawned) == len(kills)),
            ("no duplicate appeal (a dropped intake sent again keeps its token); every receipt in the database once; "
             "every appeal whole (event, attachment, file)", not problems),
            ("appeals were recorded throughout", figures["appeals recorded"] > 0),
            ("no client thread died", not log.died),
        ])
    finally:
        site.cleanup()


if __name__ == "__main__":
    main()
