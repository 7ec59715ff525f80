"""Server time of the application lists and the policy pages on the 200,000-application database.

    .venv/bin/python bench/gen_applications.py --db sqlite       # once: bench/out/applications.sqlite
    .venv/bin/python bench/bench_applications.py --db sqlite
    .venv/bin/python bench/gen_applications.py --db postgresql   # once: gaoxin_bench_applications
    .venv/bin/python bench/bench_applications.py --db postgresql

Each page is requested through the Flask test client as the user who works it, ~200 times after a
warm-up; the time is taken around the client's get (routing, permission checks, queries, template).
Target: p95 ≤ 50 ms. Without the applications pages (another area, built in parallel), the list
queries are timed through permissions.visible_applications instead, and the report says so.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import check_rows, percentile  # noqa: E402
from gen_applications import database_url, make_app  # noqa: E402

TARGET_MS = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    return parser.parse_args()


def measure(run, count, warmup):
    """Milliseconds of `count` calls of run() after `warmup` untimed ones; what each call returned is checked
    with run.check afterwards, outside the timed part."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - started) * 1000)
        run.check(result)
    return samples


def logged_in_client(app, username):
    from gaoxin.services.demo import DEMO_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"login as {username} failed"
    return client


#: What every row of a measured page holds.
APPLICATION_ROW = '<td><a href="/applications/'
POLICY_ROW = '<td><a href="/policies/'
STATE_COUNT_ROW = '<tr><th scope="row">'


def page(client, url, marker):
    """A callable that fetches `url`; its check insists on a 200 that rendered at least one row (`marker`)."""
    def run():
        return client.get(url)

    def check(response):
        assert response.status_code == 200, f"{url}: {response.status_code}"
        check_rows(response.get_data(as_text=True), marker, url)

    run.check = check
    return run


def query(app, username, build):
    """A callable that runs the query `build(user)` returns, as the page would (first 51 rows)."""
    from gaoxin.extensions import db
    from gaoxin.models import User

    def run():
        with app.app_context():
            user = db.session.query(User).filter_by(username=username).one()
            rows = list(db.session.scalars(build(user).limit(51)))
            db.session.remove()
        return rows

    def check(rows):
        assert rows, f"{username}: the list query found no rows"

    run.check = check
    return run


def scenarios(app):
    """(name, callable) for every page benchmarked; list queries stand in for missing pages."""
    from gaoxin.extensions import db
    from gaoxin.models import Application, Policy, Unit
    from sqlalchemy import func, select

    with app.app_context():
        busiest = db.session.execute(
            select(Application.policy_id, func.count()).group_by(Application.policy_id)
            .order_by(func.count().desc()).limit(1)).one()
        tech = db.session.scalar(select(Unit.id).where(Unit.name == "科技人才局"))
        policy_count = db.session.scalar(select(func.count(Policy.id)))
    window, handler, clerk = (logged_in_client(app, u) for u in ("window", "handler", "clerk_station"))
    out = []
    if "applications.index" in app.view_functions:
        out += [
            ("窗口：全部申报 GET /applications/", page(window, "/applications/", APPLICATION_ROW)),
            ("窗口：待形式审查 GET /applications/?state=submitted",
             page(window, "/applications/?state=submitted", APPLICATION_ROW)),
            ("窗口：第 20 页 GET /applications/?page=20", page(window, "/applications/?page=20", APPLICATION_ROW)),
            ("部门：待审查 GET /applications/review", page(handler, "/applications/review", APPLICATION_ROW)),
            ("部门：已超期 GET /applications/review?overdue=1",
             page(handler, "/applications/review?overdue=1", APPLICATION_ROW)),
            ("部门：全部 GET /applications/", page(handler, "/applications/", APPLICATION_ROW)),
        ]
    else:
        from gaoxin.permissions import visible_applications

        out += [
            ("窗口：全部申报（查询）", query(app, "window", lambda u: visible_applications(u).order_by(
                Application.created_at.desc(), Application.id.desc()))),
            ("部门：待审查（查询）", query(app, "handler", lambda u: visible_applications(u).where(
                Application.department_id == tech, Application.state == "accepted").order_by(
                Application.review_due_on, Application.id))),
        ]
    out += [
        (f"政策目录 GET /policies/（{policy_count} 项）", page(clerk, "/policies/", POLICY_ROW)),
        ("政策目录检索 GET /policies/?q=补贴&open=1", page(clerk, "/policies/?q=%E8%A1%A5%E8%B4%B4&open=1", POLICY_ROW)),
        (f"政策页与统计 GET /policies/{busiest[0]}（{busiest[1]} 件申报）",
         page(clerk, f"/policies/{busiest[0]}", STATE_COUNT_ROW)),
    ]
    return out


def main():
    args = parse_args()
    url = database_url(args.db, create=False)
    app = make_app(url)
    from gaoxin.extensions import db
    from gaoxin.models import Application

    with app.app_context():
        total = db.session.query(Application).count()
    print(f"{args.db}: {total} applications, {args.requests} requests each after {args.warmup} warm-up\n")
    print(f"{'':58} {'p50':>8} {'p95':>8} {'max':>8}")
    worst = 0
    for name, run in scenarios(app):
        samples = measure(run, args.requests, args.warmup)
        p95 = percentile(samples, 95)
        worst = max(worst, p95)
        flag = "" if p95 <= TARGET_MS else "  > target"
        print(f"{name:58} {percentile(samples, 50):7.1f}ms {p95:7.1f}ms {max(samples):7.1f}ms{flag}")
    # Other processes on the machine show up in p95: say how busy it was.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nworst p95 {worst:.1f} ms (target ≤ {TARGET_MS} ms); load average {load} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
