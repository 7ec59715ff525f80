"""Drill: the rate-limit Redis stopped and started again while the site is in use.

    .venv/bin/python bench/faults/redis_down.py

A private Redis (a free port, no persistence) as GAOXIN_RATELIMIT_STORAGE and a private PostgreSQL, gunicorn
as run.sh starts it, 10 of the clients of pg_restart.py, and three more that send public lookups (POST /track,
limited to 10 a minute per address) from one address. Redis is stopped for 30 s, then started again.

Promises checked: while Redis is down every page still answers (no error status at all), each worker logs the
fall-back warning once ("Rate limit storage unreachable"); the lookup limit still applies (counted per worker
in memory); after Redis is back the counters are in Redis again, so the limit is shared by the workers.
"""
import argparse
import re
import threading
import time

import drill

LOOKUP = {"receipt_no": "SQ202600000000001", "code_tail": "000000"}


def lookups(log, port, stop, headers):
    client = drill.Client(port)
    while not stop.is_set():
        status, page, _ = log.request(client, "lookup form", "GET", "/track", None, headers)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status == 200 and token:
            log.request(client, "lookup POST", "POST", "/track", {**LOOKUP, "csrf_token": token.group(1)}, headers)
        stop.wait(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=float, default=20)
    parser.add_argument("--down", type=float, default=30)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--after", type=float, default=45)
    args = parser.parse_args()

    import redis

    cache = drill.PrivateRedis()
    store = redis.Redis(port=cache.port, socket_timeout=1)
    site = None
    try:
        print(f"private Redis on port {cache.port}")
        site = drill.Site(env={"GAOXIN_RATELIMIT_STORAGE": f"redis://127.0.0.1:{cache.port}/0",
                               "GAOXIN_PROXY_COUNT": "1"})
        log, stop = drill.Log(), threading.Event()
        threads = drill.start_load(log, site.port, site.fx, stop, clients=args.clients)
        # Three people behind one address: more than the 10 lookups a minute it is allowed.
        threads += [threading.Thread(target=lookups, args=(log, site.port, stop, {"X-Forwarded-For": "10.9.9.9"}),
                                     daemon=True) for _ in range(3)]
        for thread in threads[-3:]:
            thread.start()
        time.sleep(args.before)
        counted_before = bool(store.keys("*"))
        limited_before = sum(1 for a in log.answers if a[1] == "lookup POST" and a[2] == 429)
        cache.stop()
        down_at = time.monotonic() - log.started
        print(f"t={down_at:5.1f} s  Redis stopped; limit counters in Redis before: {counted_before}")
        time.sleep(args.down)
        limited_down = sum(1 for a in log.answers if a[1] == "lookup POST" and a[2] == 429 and a[0] >= down_at)
        cache.start()
        up_at = time.monotonic() - log.started
        print(f"t={up_at:5.1f} s  Redis started again (empty)")
        deadline = time.monotonic() + args.after
        counted_after = False
        while time.monotonic() < deadline:
            counted_after = counted_after or bool(store.keys("*"))
            time.sleep(1)
        site.stop(stop, threads)
        errors, _, hangs = log.report(ok=(200, 204, 302, 303, 429))
        warnings = site.errors_logged().count("falling back to in-memory storage")
        print(f"errors (429 is an answer): {len(errors)}; answers over {drill.HANG_SECONDS} s: {len(hangs)}; "
              f"fall-back warnings logged: {warnings}; "
              f"lookups refused 429 before / while down: {limited_before} / {limited_down}")
        if log.died:
            print("clients that died:", log.died[:5])
        drill.verdict([
            ("the limits were counted in Redis before it stopped", counted_before),
            ("no request failed while Redis was down or after", not errors),
            (f"no answer took more than {drill.HANG_SECONDS} s", not hangs),
            ("the fall-back was logged once per worker (2 workers), not per request", 1 <= warnings <= 2),
            ("the lookup limit still applied while Redis was down (429 in memory)", limited_down > 0),
            ("the counters went back to Redis once it answered again", counted_after),
            ("no client thread died", not log.died),
        ])
    finally:
        cache.cleanup()
        if site:
            site.cleanup()


if __name__ == "__main__":
    main()
