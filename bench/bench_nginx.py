"""The deployed shape under load: nginx (deploy/nginx/gaoxin.conf) in front of two gunicorn servers (gunicorn.conf.py)
on one PostgreSQL database, as tests/browser/test_nginx_two_servers.py starts them.

    .venv/bin/python bench/gen_zone.py --dbname gaoxin_bench_zone         # once (or a smaller zone, see README)
    .venv/bin/python bench/bench_nginx.py --clients 8 --seconds 20

Each client logs in as 科技人才局's handler and, for `--seconds` after a warm-up, asks one page again and again
through nginx's balanced listener: the department inbox (待签收, 50 rows), then its live check when nothing
changed (204, what 300 open inboxes send every 2 s). The live check is also asked of server A directly, so
that what nginx adds shows. Printed per run: requests per second, client p50/p95/p99, the statuses, CPU time
per request of gunicorn (masters and workers), nginx and the PostgreSQL backends serving this database, and
the load average before and after: on a machine shared with other work every figure is inflated by it.
"""
import argparse
import html
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import OUT, check_rows, percentile  # noqa: E402
from http_bench import HTMX, Client, bring_schema_up, cpu_seconds  # noqa: E402

from tests.browser.nginx_site import TwoServers, nginx_path  # noqa: E402

USER = "handler"
INBOX = "/inbox?tab=sign"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/gaoxin_bench_zone")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, each with its own connection")
    parser.add_argument("--seconds", type=float, default=20, help="measured time per run")
    parser.add_argument("--warmup", type=int, default=10, help="requests per client before measuring")
    return parser.parse_args()


def backend_pids(database):
    """PostgreSQL backends connected to the bench database (the servers' pools)."""
    import psycopg

    name = database.rsplit("/", 1)[1]
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres") as conn:
        return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass  # ended meanwhile
    return total


def live_request(client):
    """The live check the inbox page would send next, with the digest it holds: 204 while nothing changes."""
    page = client.request("GET", INBOX)[1]
    live = html.unescape(re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', page).group(1))
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)
    return f"{live}&since={since}"


def run(name, port, path_of, args, servers, database, expect_status):
    """`args.clients` clients asking path_of(client) on `port` for args.seconds; the figures as a dict."""
    samples, statuses, errors = [], {}, []
    lock = threading.Lock()
    ready, go = threading.Barrier(args.clients + 1), threading.Event()
    window = {}

    def client_loop():
        try:
            client = Client(port)
            client.log_in(USER)
            path = path_of(client)
            for _ in range(args.warmup):
                status, body, _, _ = client.request("GET", path, headers=HTMX if "live" in path else None)
            if status != expect_status:
                raise AssertionError(f"{name}: {path} answered {status}, not {expect_status}")
            if expect_status == 200:
                check_rows(body, 'id="inbox-row-', f"{name}: {path}")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            ready.abort()
            return
        ready.wait()
        go.wait()
        while time.perf_counter() < window["end"]:
            status, _, elapsed, _ = client.request("GET", path, headers=HTMX if "live" in path else None)
            with lock:
                samples.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client_loop) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    pids = servers.pids()
    backends = backend_pids(database)
    load_before = os.getloadavg()
    cpu_before = {"gunicorn": cpu_of(pids["gunicorn"]), "nginx": cpu_of(pids["nginx"]), "postgres": cpu_of(backends)}
    started = time.perf_counter()
    window["end"] = started + args.seconds
    go.set()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{name}: {errors[0]!r}") from errors[0]
    wall = time.perf_counter() - started
    # Backends that appeared during the run count from zero.
    cpu_after = {"gunicorn": cpu_of(servers.pids()["gunicorn"]), "nginx": cpu_of(pids["nginx"]),
                 "postgres": cpu_of(set(backends) | set(backend_pids(database)))}
    n = len(samples)
    return {
        "run": name, "requests": n, "req_per_s": n / wall, "statuses": statuses,
        "p50_ms": percentile(samples, 50) * 1000, "p95_ms": percentile(samples, 95) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "cpu_ms_per_request": {k: (cpu_after[k] - cpu_before[k]) / n * 1000 for k in cpu_before},
        "load_before": load_before, "load_after": os.getloadavg(),
    }


def main():
    args = parse_args()
    nginx = nginx_path()
    if not nginx:
        raise SystemExit("nginx is not installed: apt-get install nginx")
    bring_schema_up(args.database)
    folder = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    servers = TwoServers(folder, {"DATABASE_URL": args.database, "GAOXIN_SECRET_KEY": "bench-secret",
                                  "GAOXIN_DATA_DIR": str(folder / "files"), "GAOXIN_PROXY_COUNT": "1"})
    servers.start(nginx)
    results = []
    try:
        servers.wait()
        plan = [("inbox via nginx", servers.balanced, lambda client: INBOX, 200),
                ("live check via nginx", servers.balanced, live_request, 204),
                ("live check, server A direct", servers.app_ports[0], live_request, 204)]
        for name, port, path_of, status in plan:
            results.append(run(name, port, path_of, args, servers, args.database, status))
            print(f"  {name}: {results[-1]['requests']} requests", flush=True)
    finally:
        servers.stop()
    workers = os.environ.get("GAOXIN_WEB_WORKERS", "2"), os.environ.get("GAOXIN_WEB_THREADS", "4")
    print(f"\n{args.clients} clients, {args.seconds:.0f} s each; two servers of {workers[0]} workers × {workers[1]} threads "
          f"behind one nginx, {args.database.rsplit('/', 1)[1]}, {os.cpu_count()} cores")
    print(f"{'run':30} {'req/s':>7} {'p50/p95/p99 ms':>22} {'CPU ms/request: gunicorn nginx postgres':>41} "
          f"{'load before → after':>22}  statuses")
    for r in results:
        cpu = r["cpu_ms_per_request"]
        print(f"{r['run']:30} {r['req_per_s']:7.1f} {r['p50_ms']:7.1f} {r['p95_ms']:6.1f} {r['p99_ms']:6.1f}   "
              f"{cpu['gunicorn']:17.2f} {cpu['nginx']:6.2f} {cpu['postgres']:8.2f}        "
              f"{r['load_before'][0]:5.2f} → {r['load_after'][0]:5.2f}  {r['statuses']}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_nginx.json").write_text(json.dumps(results, indent=1))
    print(f"wrote {OUT / 'bench_nginx.json'} (logs in {folder})")


if __name__ == "__main__":
    main()
