"""Drill: PostgreSQL stopped and started again while 20 clients record appeals and read inboxes.

    .venv/bin/python bench/faults/pg_restart.py                 # 30 s of load, 8 s outage, 40 s after
    .venv/bin/python bench/faults/pg_restart.py --down 20 --after 60

A private cluster (initdb in a temp dir, a free port), the schema by migrations and the demo's people, then
gunicorn as run.sh starts it (--workers 2 --threads 4). Half the clients record appeals with a PDF (an
error is retried with the same form, as a clerk presses again), half read the inbox and open appeals.
PostgreSQL is stopped (fast shutdown: every session cut) and started again; the app is never restarted.

Promises checked: every error answer during the outage is the Chinese 503 page; no answer takes more than
10 s; every kind of request succeeds again within 30 s of PostgreSQL accepting connections; every receipt a
client got is in the database once; every appeal of the run has its event and its attachment with the file.
"""
import argparse
import threading
import time

import drill


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=float, default=30, help="seconds of load before the stop")
    parser.add_argument("--down", type=float, default=8, help="seconds PostgreSQL stays down")
    parser.add_argument("--after", type=float, default=40, help="seconds of load after the start")
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    site = drill.Site()
    try:
        log, stop = drill.Log(), threading.Event()
        threads = drill.start_load(log, site.port, site.fx, stop, clients=args.clients)
        time.sleep(args.before)
        stopped = time.monotonic() - log.started
        site.pg.stop("fast")
        print(f"t={stopped:5.1f} s  PostgreSQL stopped (fast: every session cut)")
        time.sleep(args.down)
        site.pg.start()
        back = time.monotonic() - log.started
        print(f"t={back:5.1f} s  PostgreSQL accepting connections again")
        time.sleep(args.after)
        site.stop(stop, threads)
        errors, not_503, hangs = log.report()
        kinds = {a[1] for a in log.answers}
        recovered = {}
        for kind in kinds:
            ok_after = [a[0] for a in log.answers if a[1] == kind and a[0] >= back and a[2] in (200, 204, 302, 303)]
            recovered[kind] = (min(ok_after) - back) if ok_after else float("inf")
        # By the time each request started: one in flight when PostgreSQL stopped started a little before.
        during = [a for a in errors if stopped - drill.HANG_SECONDS <= a[0] <= back + 30]
        print(f"errors: {len(errors)} ({len(during)} of them started between 10 s before the stop and 30 s after the start), "
              f"not the Chinese 503: {len(not_503)}, answers over {drill.HANG_SECONDS} s: {len(hangs)}")
        print("recovered after PostgreSQL came back: " +
              ", ".join(f"{k} {v:.1f} s" for k, v in sorted(recovered.items())))
        problems, _ = site.reconcile(log)
        drill.verdict([
            ("the outage was seen (some request answered 503)", bool(during)),
            ("no error while PostgreSQL was up (outside the outage's window)", len(errors) == len(during)),
            ("every error answer was the Chinese 503 page", not not_503),
            (f"no answer took more than {drill.HANG_SECONDS} s", not hangs),
            ("every kind of request worked again within 30 s, without restarting the app",
             max(recovered.values()) <= 30),
            ("every receipt is in the database once; every appeal whole (event, attachment, file)", not problems),
            ("no client thread died", not log.died),
        ])
    finally:
        site.cleanup()


if __name__ == "__main__":
    main()
