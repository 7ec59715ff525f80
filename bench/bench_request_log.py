"""The request log's and metrics' cost on the cheapest request, the inbox's unchanged poll (a 204): the same
polls timed in-process with the hooks (request id, JSON line, SQL counter, Prometheus counters) and with them
taken off, alternating in rounds so that load from elsewhere hits both alike.

    .venv/bin/python bench/bench_request_log.py --polls 2000
"""
import argparse
import html
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import percentile  # noqa: E402
from gaoxin import create_app, logs  # noqa: E402
from gaoxin.extensions import db  # noqa: E402


def build(tmp):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/log.sqlite", "SECRET_KEY": "bench",
                      "GAOXIN_DATA_DIR": f"{tmp}/files", "WTF_CSRF_ENABLED": False})
    from gaoxin.services import demo

    with app.app_context():
        db.create_all()
        demo.create_units()
        demo.create_users()
        db.session.commit()
    return app


def poll_url(client):
    from gaoxin.services.demo import DEMO_PASSWORD

    client.post("/login", data={"username": "handler", "password": DEMO_PASSWORD})
    page = client.get("/inbox").text
    live = html.unescape(re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', page).group(1))
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)
    return f"{live}&since={since}"


def timed(client, url, count):
    """[(wall ms, CPU ms)] of `count` polls; CPU time is what the machine's load does not inflate."""
    times = []
    for _ in range(count):
        started, cpu = time.perf_counter(), time.thread_time()
        response = client.get(url, headers={"HX-Request": "true"})
        times.append(((time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000))
        assert response.status_code == 204, response.status_code
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=2000, help="per side")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    logs.configure(stream=io.StringIO())  # the lines are written, to memory instead of a terminal
    with tempfile.TemporaryDirectory() as tmp:
        app = build(tmp)
        client = app.test_client()
        url = poll_url(client)
        hooks = (app.before_request_funcs[None], logs._start), (app.after_request_funcs[None], logs._finish)
        with_hooks, without = [], []
        cpu = time.process_time()
        timed(client, url, 200)  # warm-up
        for _ in range(args.rounds):
            with_hooks += timed(client, url, args.polls // args.rounds)
            for functions, hook in hooks:
                functions.remove(hook)
            without += timed(client, url, args.polls // args.rounds)
            for functions, hook in hooks:
                functions.insert(0, hook)
        cpu = time.process_time() - cpu
    medians = {}
    for name, values in (("with log+metrics", with_hooks), ("without", without)):
        wall, cpu_ms = [w for w, _ in values], [c for _, c in values]
        medians[name] = percentile(wall, 50), percentile(cpu_ms, 50)
        print(f"{name:>17}: wall p50 {medians[name][0]:.3f} ms  p95 {percentile(wall, 95):.3f} ms; "
              f"CPU p50 {medians[name][1]:.3f} ms  mean {sum(cpu_ms) / len(cpu_ms):.3f} ms  ({len(values)} polls)")
    added_wall = medians["with log+metrics"][0] - medians["without"][0]
    added_cpu = medians["with log+metrics"][1] - medians["without"][1]
    print(f"added at p50: {added_wall * 1000:.0f} µs wall, {added_cpu * 1000:.0f} µs CPU; total CPU {cpu:.1f} s; "
          f"load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
