"""The zone on one server: open inboxes polling, intake desks recording, handlers signing, public lookups.

    .venv/bin/python bench/zone_load.py                          # the issue's load, 15 minutes
    .venv/bin/python bench/zone_load.py --minutes 2 --scale 0.5  # half of every group, 2 minutes

Starts the app as run.sh does (gunicorn --workers 2 --threads 4) on the bench database
(bench/gen_zone.py) and runs, with Python threads and keep-alive HTTP connections (not locust: one
dependency less; each simulated person is a thread that sleeps between actions):

- 300 open inboxes: each GET /inbox once, then the live check every 2 s (the page's hx-trigger) with
  the digest the page gave, redrawing the list when the check answers 200;
- 34 intake desks: each records an appeal a minute (GET /appeals/new, POST it), keeping its receipt;
- 100 handlers: every 60 s each opens the inbox, opens the first appeal and signs for one (POST
  /inbox/<id>/sign with the list's form);
- 60 public lookups a minute: POST /track with a recorded receipt (X-Forwarded-For varies: the app
  trusts one proxy here, as behind the zone's reverse proxy, so each enterprise has its own limit).

At the end: requests, errors, p50/p95/p99 per kind (pages and submits), and a reconciliation — every
receipt the desks were given must be in the database exactly once.
"""
import argparse
import os
import random
import re
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import percentile  # noqa: E402
from http_bench import (Client, bring_schema_up, fixtures, hidden_inputs, rss_mb, server_cpu_seconds,  # noqa: E402
                        start_gunicorn, workers_of)

HTMX = {"HX-Request": "true"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/gaoxin_bench_zone")
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every group's size")
    parser.add_argument("--port", type=int, default=5741)
    return parser.parse_args()


class Recorder:
    """Latencies and errors per kind of request, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times, self.errors, self.receipts = {}, {}, []

    def timed(self, kind, client, method, path, body=None, headers=None, ok=(200, 204, 302, 303)):
        status, data, elapsed, response_headers = client.request(method, path, body, headers)
        with self.lock:
            self.times.setdefault(kind, []).append(elapsed * 1000)
            if status not in ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1
        return status, data, response_headers


def signed_in(port, cookies):
    """A client carrying an existing log-in (one per account, made once: log-ins are rate limited and
    their password hashing is meant to be slow; the server does not mind several people on one session)."""
    client = Client(port)
    client.cookies = dict(cookies)
    return client


def inbox_watcher(rec, port, cookies, stop, rng):
    client = signed_in(port, cookies)
    time.sleep(rng.uniform(0, 30))  # the zone's staff do not all open the inbox in the same second
    _, page, _ = rec.timed("inbox page", client, "GET", "/inbox")
    live = re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)
    while not stop.is_set():
        time.sleep(2)
        status, body, _ = rec.timed("live check", client, "GET", f"{live}&since={since}", None, HTMX)
        if status == 200:
            found = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', body)
            since = found.group(1) if found else since


def intake_desk(rec, port, cookies, fx, stop, rng):
    client = signed_in(port, cookies)
    time.sleep(rng.uniform(0, 60))
    while not stop.is_set():
        _, page, _ = rec.timed("intake form", client, "GET", "/appeals/new")
        fields = hidden_inputs(page, "intake-form")
        fields.update(enterprise_id=str(rng.choice(fx["enterprises"])), category_id=str(fx["category"]),
                      channel="building_station", content=f"负载测试诉求 {rng.random():.8f}：企业希望了解人才公寓申请条件。",
                      contact_name="测试联系人", contact_mobile="13800138000")
        # Only the redirect to the recorded appeal counts: a 200 is the form back with a message.
        status, _, headers = rec.timed("intake POST", client, "POST", "/appeals/new", fields, ok=(303,))
        if status == 303:
            _, shown, _, _ = client.request("GET", re.sub(r"^https?://[^/]+", "", headers["Location"]))
            receipt = re.search(r"SQ\d{15}", shown)
            if receipt:
                with rec.lock:
                    rec.receipts.append(receipt.group(0))
        stop.wait(60)


def handler(rec, port, cookies, stop, rng):
    client = signed_in(port, cookies)
    time.sleep(rng.uniform(0, 60))
    while not stop.is_set():
        _, page, _ = rec.timed("inbox page", client, "GET", "/inbox")
        shown = re.findall(r'href="/appeals/(\d+)"', page)
        if shown:
            rec.timed("appeal page", client, "GET", f"/appeals/{rng.choice(shown)}")
        buttons = re.findall(r'formaction="(/inbox/\d+/sign)" name="version" value="(\d+)"', page)
        if buttons:
            action, version = rng.choice(buttons)
            fields = hidden_inputs(page, "inbox-actions")
            fields["version"] = version
            # 409 (someone was faster) is an answer, not an error.
            rec.timed("sign POST", client, "POST", action, fields, HTMX, ok=(200, 303, 409))
        stop.wait(60)


def public_lookups(rec, port, stop, per_minute, rng):
    client = Client(port)
    number = 0
    while not stop.is_set():
        with rec.lock:
            receipts = list(rec.receipts)
        if receipts:
            number += 1
            headers = {"X-Forwarded-For": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}
            _, page, _ = rec.timed("lookup form", client, "GET", "/track", None, headers)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            body = {"receipt_no": rng.choice(receipts), "code_tail": "000000"}
            if token:
                body["csrf_token"] = token.group(1)
            rec.timed("lookup POST", client, "POST", "/track", body, headers)
        stop.wait(60 / per_minute)


def guarded(rec, target, *args):
    """Run one simulated person; an exception ends it and counts as an error of its kind."""
    try:
        target(rec, *args)
    except Exception as exc:  # noqa: BLE001 - counted and reported
        with rec.lock:
            key = f"{target.__name__} died"
            rec.errors[key] = rec.errors.get(key, 0) + 1
            rec.last_error = repr(exc)


def reconcile(database, receipts):
    import psycopg

    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        found = dict(conn.execute("SELECT receipt_no, count(*) FROM appeals WHERE receipt_no = ANY(%s) "
                                  "GROUP BY receipt_no", (receipts,)).fetchall())
    missing = [r for r in receipts if r not in found]
    doubled = [r for r, n in found.items() if n != 1]
    return missing, doubled


def main():
    args = parse_args()
    bring_schema_up(args.database)
    fx = fixtures(args.database)
    import tempfile

    logdir = Path(tempfile.mkdtemp(prefix="zone-load-"))
    env = {"DATABASE_URL": args.database, "GAOXIN_SECRET_KEY": "bench-secret", "GAOXIN_DATA_DIR": str(logdir / "files"),
           "GAOXIN_PROXY_COUNT": "1"}
    server = start_gunicorn("app:app", args.port, env, logdir / "app.log")
    rec, stop, rng = Recorder(), threading.Event(), random.Random(15)
    sessions = {}
    for user in ("handler", "handler2", "dept_lead", "clerk_station", "clerk_point"):
        client = Client(args.port)
        client.log_in(user)
        sessions[user] = client.cookies
    handlers = [sessions[u] for u in ("handler", "handler2", "dept_lead")]
    clerks = [sessions[u] for u in ("clerk_station", "clerk_point")]
    groups = [(inbox_watcher, round(300 * args.scale), lambda n: (rng.choice(handlers),)),
              (intake_desk, round(34 * args.scale), lambda n: (rng.choice(clerks), fx)),
              (handler, round(100 * args.scale), lambda n: (rng.choice(handlers),))]
    threads = []
    load_before = os.getloadavg()
    cpu_before = server_cpu_seconds(server.pid)
    client_cpu, wall = time.process_time(), time.perf_counter()
    try:
        for target, count, extra in groups:
            for n in range(count):
                thread = threading.Thread(target=guarded, args=(rec, target, args.port, *extra(n), stop,
                                                                  random.Random(n)), daemon=True)
                threads.append(thread)
                thread.start()
        lookups = threading.Thread(target=public_lookups, args=(rec, args.port, stop, 60 * args.scale, rng),
                                   daemon=True)
        lookups.start()
        time.sleep(args.minutes * 60)
    finally:
        stop.set()
        wall, client_cpu = time.perf_counter() - wall, time.process_time() - client_cpu
        server_cpu = server_cpu_seconds(server.pid) - cpu_before
        rss = [round(rss_mb(pid)) for pid in workers_of(server.pid)]
        for thread in threads:
            thread.join(timeout=max(0.1, 30 / max(len(threads), 1)))

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    load_after = os.getloadavg()
    print(f"\n{args.minutes} min at scale {args.scale}; load average before {load_before[0]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f}")
    print(f"CPU over {wall:.0f} s: gunicorn workers {server_cpu:.1f} s ({server_cpu / wall:.2f} cores), this load "
          f"generator {client_cpu:.1f} s ({client_cpu / wall:.2f} cores); worker RSS after {rss} MB")
    for kind, values in sorted(rec.times.items()):
        print(f"{kind:13} {len(values):7} req  p50 {percentile(values, 50):7.1f}  p95 {percentile(values, 95):7.1f}  "
              f"p99 {percentile(values, 99):7.1f} ms  errors {rec.errors.get(kind, 0)}")
    for kind, n in rec.errors.items():
        if kind.endswith("died"):
            print(f"{kind}: {n} (last: {getattr(rec, 'last_error', '')})")
    missing, doubled = reconcile(args.database, rec.receipts)
    print(f"receipts given: {len(rec.receipts)}, missing in the database: {len(missing)}, present twice: {len(doubled)}")


if __name__ == "__main__":
    main()
