"""Server time of the dashboard for a whole year over the appeals of gen_appeals.py (1,000,000 by default).

    .venv/bin/python bench/gen_appeals.py --db sqlite          # once
    .venv/bin/python bench/bench_dashboard.py --db sqlite
    .venv/bin/python bench/bench_dashboard.py --db postgresql
    .venv/bin/python bench/gen_applications.py --db sqlite     # once, for --applications
    .venv/bin/python bench/bench_dashboard.py --db sqlite --applications

Times GET /dashboard/?period=custom&start=<a year ago>&end=<today> around the Flask test client's get()
(routing, every query, rendering; no network) as the leader (every department) and as a department lead
(their department and the zone's total), the leader's page for the costliest kind of range (the 15th of a
month to the 14th eleven months later: two weeks at either end that the rollup's month rows do not give whole),
plus the leader's home page with its key figures; prints p50/p95 (wall and CPU in this process) with the load
average and writes bench/out/bench_dashboard-<db>.json. Target: p95 <= 200 ms.

--applications measures the same pages over gen_applications.py's database (200,000 applications, no
appeals): what the page's 政策申报兑现 table (applications per policy, submitted in the period) costs; each
policy's received count on the page is checked against a plain count of the applications.
"""
import argparse
import json
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench.gen_appeals import OUT, PG, SQLITE_PATH  # noqa: E402
from common import check_rows, percentile  # noqa: E402

TARGET_MS = 200
#: Every rendered dashboard has the zone's total row.
MARKER = "全区合计"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--applications", action="store_true",
                        help="over gen_applications.py's database: the applications per policy on the page")
    return parser.parse_args()


def database_url(kind, applications=False):
    if applications:
        import gen_applications

        path, pg = gen_applications.SQLITE_PATH, gen_applications.PG
    else:
        path, pg = SQLITE_PATH, PG
    if kind == "sqlite":
        return f"sqlite:///{path}"
    return f"postgresql+psycopg://{pg['user']}@{pg['host']}:{pg['port']}/{pg['dbname']}"


def main():
    args = parse_args()
    from sqlalchemy import func, select

    from gaoxin import create_app
    from gaoxin.extensions import db
    from gaoxin.models import Appeal, Application, Policy, Role, Unit, User
    from gaoxin.services import figures
    from gaoxin.services.calendar import today
    from gaoxin.services.demo import DEMO_PASSWORD

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.db, args.applications), "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        total = db.session.scalar(select(func.count(Appeal.id)))
        lead = db.session.scalar(select(User).join(Unit, User.unit_id == Unit.id).where(Unit.name == "科技人才局")
                                 .where(User.username == "dept_lead"))
        if lead is None or not lead.has_role(Role.dept_lead):
            raise SystemExit("no dept_lead demo user in the benchmark database: run gen_appeals.py first")
        end = today()
        start = end - timedelta(days=364)
        lo, hi = figures.Period("custom", start, end).utc_bounds()
        in_year = db.session.scalar(select(func.count(Appeal.id)).where(Appeal.dispatched_at >= lo,
                                                                        Appeal.dispatched_at < hi))
        # What the policies table must show: received per policy, counted plainly.
        received = dict(db.session.execute(
            select(Policy.code, func.count(Application.id)).join(Application, Application.policy_id == Policy.id)
            .where(Application.submitted_at >= lo, Application.submitted_at < hi).group_by(Policy.code)).all())
        applications = db.session.scalar(select(func.count(Application.id)))
        db.session.remove()
    if args.applications and not received:
        raise SystemExit("no applications submitted in the year: run gen_applications.py first")
    url = f"/dashboard/?period=custom&start={start}&end={end}"
    # The costliest range for the rollup: two weeks at either end read from the appeals (see rollups.plan).
    far = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    worst = f"/dashboard/?period=custom&start={far.replace(day=15)}&end={(far + timedelta(days=320)).replace(day=14)}"
    clients = {}
    for username in ("leader", "dept_lead"):
        clients[username] = app.test_client()
        response = clients[username].post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    targets = [("leader", "看板 全年 全部部门", url), ("dept_lead", "看板 全年 本部门+全区", url),
               ("leader", "看板 15日至14日 全部部门", worst), ("leader", "首页 本月关键数据", "/")]
    print(f"{args.db}: {total:,} appeals, {in_year:,} dispatched in the year; {applications:,} applications, "
          f"{sum(received.values()):,} submitted in the year; {args.requests} requests per page; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    results = []
    for who, label, target in targets:
        client = clients[who]
        for _ in range(args.warmup):
            client.get(target)
        walls, cpus = [], []
        for _ in range(args.requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(target)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - started_cpu) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{target}: HTTP {response.status_code}")
        if target != "/":
            body = response.get_data(as_text=True)
            check_rows(body, MARKER, target)
            if args.applications and target == url and who == "leader":
                check_policies(body, received, target)
        figures = {"p50": percentile(walls, 50), "p95": percentile(walls, 95), "max": max(walls), "best": min(walls),
                   "cpu_p50": percentile(cpus, 50)}
        results.append({"who": who, "page": label, "url": target, **figures})
        flag = "" if figures["p95"] <= TARGET_MS else "  > target"
        print(f"{label:<24}p50 {figures['p50']:7.1f}  p95 {figures['p95']:7.1f}  max {figures['max']:7.1f}  "
              f"best {figures['best']:7.1f}  cpu p50 {figures['cpu_p50']:7.1f}{flag}")
    print(f"load average {open('/proc/loadavg').read().strip()}")
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"bench_dashboard-{args.db}{'-applications' if args.applications else ''}.json"
    (OUT / name).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    worst = max(r["p95"] for r in results)
    print(f"worst p95 {worst:.1f} ms (target {TARGET_MS} ms)")
    return 0 if worst <= TARGET_MS else 1


def check_policies(body, received, what):
    """Every policy with applications in the year is on the page with its received count as the first cell."""
    for code, count in received.items():
        row = rf"<th scope=\"row\">{re.escape(code)} [^<]*</th><td>{count}</td>"
        if not re.search(row, body):
            raise AssertionError(f"{what}: policy {code} should show {count} received")


if __name__ == "__main__":
    sys.exit(main())
