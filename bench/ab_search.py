"""Two versions of the app over HTTP, interleaved: registry search and typeahead, same fragments, same database.

    git archive main | tar -x -C /tmp/a; git archive HEAD | tar -x -C /tmp/b    # two trees to compare
    .venv/bin/python bench/ab_search.py --a /tmp/a --b /tmp/b --database postgresql+psycopg://…/gaoxin_zone_search

Each tree is started under gunicorn as run.sh starts it (http_bench.start_gunicorn; the tree's own code, this
checkout's virtualenv), both on the same database at the same time; every fragment (http_bench's, of real names)
goes to A and to B in alternating order, so that load from elsewhere hits both alike, and the two answers must be
identical. Prints the server's own time (gunicorn's %D) p50/p95/p99 per endpoint and side, and the workers' CPU.
"""
import argparse
import os
import signal
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_bench as hb  # noqa: E402
from common import percentile  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="a tree of the app (e.g. main's)")
    parser.add_argument("--b", required=True, help="another tree of the app")
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/gaoxin_bench_zone")
    parser.add_argument("--port", type=int, default=5741, help="A's port; B gets port + 1")
    parser.add_argument("--requests", type=int, default=400, help="per endpoint and side")
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    fragments = hb.fixtures(args.database)["fragments"]
    logdir = Path(tempfile.mkdtemp(prefix="ab-search-"))
    env = {"DATABASE_URL": args.database, "GAOXIN_SECRET_KEY": "bench-secret", "GAOXIN_DATA_DIR": str(logdir / "files")}
    sides = {"a": (args.a, args.port), "b": (args.b, args.port + 1)}
    load_before = os.getloadavg()
    servers = {k: hb.start_gunicorn("app:app", port, env, logdir / f"{k}.log", chdir=Path(tree))
               for k, (tree, port) in sides.items()}
    endpoints = ("/enterprises", "/enterprises/suggest")
    tags = {(k, e): [] for k in sides for e in endpoints}
    try:
        clients = {k: hb.Client(port) for k, (_, port) in sides.items()}
        for client in clients.values():
            client.log_in("handler")
        cpu_start = {k: {p: hb.cpu_seconds(p) for p in hb.workers_of(servers[k].pid)} for k in sides}
        for number, endpoint in enumerate(endpoints):
            for i in range(-args.warmup, args.requests):
                q = urllib.parse.quote(fragments[i % len(fragments)])
                bodies = {}
                for k in (("a", "b") if i % 2 == 0 else ("b", "a")):
                    tag = f"{k}{number}-{i}"
                    status, bodies[k], _, _ = clients[k].request("GET", hb.tagged(f"{endpoint}?q={q}", tag), headers=hb.HTMX)
                    if status != 200:
                        raise SystemExit(f"{k}: {endpoint}?q={q} answered {status}")
                    if i >= 0:
                        tags[k, endpoint].append(tag)
                if bodies["a"] != bodies["b"]:
                    raise SystemExit(f"A and B answered {endpoint}?q={q} differently")
        time.sleep(1.5)  # gunicorn writes its access log after the response
        cpu = {k: sum(hb.cpu_seconds(p) - cpu_start[k].get(p, 0) for p in hb.workers_of(servers[k].pid)) for k in sides}
        server = {k: hb.read_server_times(logdir / f"{k}.log") for k in sides}
    finally:
        for process in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    load_after = os.getloadavg()
    print(f"A = {args.a}, B = {args.b}; {args.requests} requests per endpoint and side, interleaved, every answer "
          f"identical; load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}")
    for endpoint in endpoints:
        for k in sides:
            ms = [server[k][t] for t in tags[k, endpoint] if t in server[k]]
            print(f"  {endpoint:22} {k.upper()}  server p50 {percentile(ms, 50):6.2f}  p95 {percentile(ms, 95):6.2f}  "
                  f"p99 {percentile(ms, 99):6.2f} ms (n={len(ms)})")
    per = len(endpoints) * (args.requests + args.warmup)
    for k in sides:
        print(f"  workers' CPU {k.upper()}: {cpu[k]:.2f} s, {cpu[k] * 1000 / per:.2f} ms per request")


if __name__ == "__main__":
    main()
