"""Background jobs at volume: the real consumer (`flask gaoxin worker`) on a private Redis and a fresh SQLite or
PostgreSQL database, 500 queued jobs (the hourly cleanup kind: a claim, one query, a finish) to done, and the
inbox header's unread-notice count over 200,000 notices (20 departments). Prints wall time, this process's CPU
time and the load average; the worker's CPU is measured from its /proc entry.

    .venv/bin/python bench/bench_jobs.py [--postgres] [--jobs 500]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from gaoxin import create_app  # noqa: E402
from gaoxin.extensions import db  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU of a process from /proc (clock ticks → seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_url(postgres, folder):
    if not postgres:
        return f"sqlite:///{folder / 'jobs.sqlite'}"
    from sqlalchemy import create_engine

    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "gaoxin_bench_jobs" WITH (FORCE)'))
        conn.execute(text("CREATE DATABASE gaoxin_bench_jobs ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' "
                          "LC_CTYPE 'C.UTF-8' TEMPLATE template0"))
    admin.dispose()
    return "postgresql+psycopg://postgres@127.0.0.1:5432/gaoxin_bench_jobs"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--jobs", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "", "--dir", str(folder)],
                             stdout=subprocess.DEVNULL)
    url = database_url(args.postgres, folder)
    queue_url = f"redis://127.0.0.1:{port}/0"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "GAOXIN_DATA_DIR": str(folder / "files"),
              "GAOXIN_JOBS_URL": queue_url}
    app = create_app(config)
    print(f"load average before: {os.getloadavg()}")
    with app.app_context():
        db.create_all()
        from gaoxin.models import Job
        from gaoxin.services import jobs
        from gaoxin.workflow import JobKind

        env = {**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": url, "GAOXIN_SECRET_KEY": "bench",
               "GAOXIN_DATA_DIR": str(folder / "files"), "GAOXIN_JOBS_URL": queue_url}
        worker = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "gaoxin", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        cpu0 = time.process_time()
        worker_cpu0 = cpu_seconds(worker.pid)
        started = time.perf_counter()
        for n in range(args.jobs):
            job, _ = jobs.submit(JobKind.cleanup, f"bench:{n}")
            db.session.commit()
            jobs.send(job)
        queued = time.perf_counter() - started
        while db.session.scalar(select(func.count()).select_from(Job).where(Job.state == "done")) < args.jobs:
            time.sleep(0.1)
        wall = time.perf_counter() - started
        print(f"{args.jobs} jobs queued in {queued:.1f} s, all done after {wall:.1f} s wall "
              f"({args.jobs / wall:.0f} jobs/s); this process CPU {time.process_time() - cpu0:.1f} s, "
              f"worker CPU {cpu_seconds(worker.pid) - worker_cpu0:.1f} s")
        worker.terminate()
        worker.wait(30)

        # The inbox header's count over 200,000 notices of 20 departments, 1 % unread.
        from gaoxin.models import Unit, UnitKind

        db.session.add_all([Unit(id=i, name=f"部门{i}", kind=UnitKind.department) for i in range(1, 21)])
        db.session.commit()
        notices = [{"unit_id": 1 + i % 20, "appeal_id": i, "kind": "overdue",
                    "due_on": date(2026, 1, 1) + timedelta(days=i % 300)} for i in range(200_000)]
        from gaoxin.models import DepartmentNotice

        db.session.execute(text("PRAGMA foreign_keys=OFF") if not args.postgres else
                           text("SET session_replication_role = replica"))
        db.session.execute(DepartmentNotice.__table__.insert(), [
            {**n, "created_at": jobs.utcnow(), "read_at": None if i % 100 == 0 else jobs.utcnow()}
            for i, n in enumerate(notices)])
        db.session.commit()
        if args.postgres:
            db.session.execute(text("ANALYZE department_notices"))
        timings = []
        for i in range(200):
            t = time.perf_counter()
            jobs.unread_count(1 + i % 20)
            timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        print(f"unread count over 200,000 notices: p50 {timings[100]:.2f} ms, p95 {timings[190]:.2f} ms")
        plan = "EXPLAIN QUERY PLAN " if not args.postgres else "EXPLAIN "
        for row in db.session.execute(text(
                plan + "SELECT count(*) FROM department_notices WHERE unit_id = 3 AND read_at IS NULL")):
            print("  plan:", " ".join(str(c) for c in row))
    print(f"load average after: {os.getloadavg()}")
    redis.terminate()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
