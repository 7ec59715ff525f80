"""Prometheus multiprocess mode under gunicorn as run.sh starts it (2 workers, 4 threads): the requests that
both workers answered add up in one scrape."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine

from gaoxin.extensions import db
from tests.test_ops import series

ROOT = Path(__file__).resolve().parent.parent
BATCH = 40


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    request = urllib.request.Request(url, headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def test_two_gunicorn_workers_counts_add_up_in_one_scrape(tmp_path):
    database = f"sqlite:///{tmp_path / 'gaoxin.sqlite'}"
    engine = create_engine(database)
    db.metadata.create_all(engine)
    engine.dispose()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database, "GAOXIN_SECRET_KEY": "t", "GAOXIN_DATA_DIR": str(tmp_path / "f"),
           "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    log = open(tmp_path / "gunicorn.log", "wb")  # a pipe nobody reads would fill up and stall the workers
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        before = series(_get(base + "/metrics")[1], "gaoxin_http_requests_total")
        # The second worker may still be loading the app: send batches until both have answered some.
        sent, deadline = 0, time.monotonic() + 60
        with ThreadPoolExecutor(16) as pool:
            while sent == 0 or (len(list(shared.glob("counter_*.db"))) < 2 and time.monotonic() < deadline):
                statuses = list(pool.map(lambda _: _get(base + "/healthz")[0], range(BATCH)))
                assert statuses == [200] * BATCH
                sent += BATCH
        body = _get(base + "/metrics")[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    key = 'endpoint="ops.healthz",method="GET",status="200"'
    workers = {path.name for path in shared.glob("counter_*.db")}
    assert len(workers) == 2, f"both workers should have answered: {workers}; sent {sent}"
    assert series(body, "gaoxin_http_requests_total")[key] == before[key] + sent
    assert series(body, "gaoxin_http_request_duration_seconds_count")['endpoint="ops.healthz",method="GET"'] \
        == before[key] + sent
