"""The real consumer: `flask gaoxin worker` in its own process, on a private Redis started here (never the shared
one), runs queued jobs to done, retries a failing one and then marks it failed with its reason, and runs a job
sent twice once."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from gaoxin import create_app
from gaoxin.models import Job, Role
from gaoxin.services import jobs
from gaoxin.workflow import JobKind, JobState

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def private_redis(tmp_path):
    """redis-server on a free port with its files in a temp dir; stopped afterwards."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI always has it")
    port = _free_port()
    process = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        _wait_for(answers, 10, "the private redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def worker(app, private_redis, tmp_path):
    """`flask gaoxin worker` on the test database and the private Redis; yields the app that queues to it."""
    env = {**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "GAOXIN_SECRET_KEY": "test", "GAOXIN_DATA_DIR": app.config["GAOXIN_DATA_DIR"],
           "GAOXIN_JOBS_URL": private_redis, "GAOXIN_JOBS_RETRIES": "2", "GAOXIN_JOBS_RETRY_DELAY": "0",
           "GAOXIN_JOBS_WORKERS": "2"}
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "gaoxin", "worker"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    sender = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "GAOXIN_DATA_DIR", "SECRET_KEY")},
                         "TESTING": True, "GAOXIN_JOBS_URL": private_redis, "GAOXIN_JOBS_RETRY_DELAY": 0})
    try:
        yield sender
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
        with sender.app_context():
            from gaoxin.extensions import db

            db.engine.dispose()
        print((tmp_path / "worker.log").read_text()[-3000:])


def _state(db, job_id):
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_the_worker_process_runs_jobs_retries_a_failing_one_and_runs_a_duplicate_once(db, make_user, worker):
    user = make_user(Role.sysadmin)
    good, _ = jobs.submit(JobKind.cleanup, "worker:cleanup", user=user)
    bad, _ = jobs.submit(JobKind.export, "worker:broken", user=user,
                         params={"list": "no-such-list", "fmt": "csv", "args": {}})
    db.session.commit()
    assert _state(db, good.id).state == JobState.queued
    with worker.app_context():
        queue = worker.extensions["gaoxin_jobs"]
        queue.send(good.id)
        queue.send(good.id)  # the same message twice: the job still runs once
        queue.send(bad.id)
        again, created = jobs.submit(JobKind.cleanup, "worker:cleanup", user=user)
        assert (again.id, created) == (good.id, False)

    _wait_for(lambda: _state(db, good.id).state == JobState.done, 60, "the cleanup job to be done")
    _wait_for(lambda: _state(db, bad.id).state == JobState.failed, 60, "the broken job to fail")
    done, failed = _state(db, good.id), _state(db, bad.id)
    assert done.attempts == 1 and done.summary == "删除过期导出文件0个，清理0条旧的定时任务记录，0条无主附件记录及0个残留文件"
    assert failed.attempts == 3 and failed.reason == "没有名为“no-such-list”的列表，无法导出。"
    assert db.session.scalar(select(Job.id).where(Job.key == "worker:cleanup")) == good.id
