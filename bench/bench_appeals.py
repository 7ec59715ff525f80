"""Server time of the department inbox and the dispatcher pages at 1,000,000 appeals (run gen_appeals.py first).

    .venv/bin/python bench/bench_appeals.py --db sqlite
    .venv/bin/python bench/bench_appeals.py --db postgresql

Times each request around the Flask test client's get() (routing, queries, rendering; no network),
logged in as a handler of the busiest department and as the dispatcher, every page in turn, --requests
rounds; prints p50/p95 per page (wall time, and the app process's CPU time) and writes them to
bench/out/bench_appeals-<db>.json. Target: p95 <= 50 ms.
"""
import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench.gen_appeals import OUT, PG, SQLITE_PATH  # noqa: E402
from common import check_rows, percentile  # noqa: E402

#: What every row of a measured page holds: the inbox's row id, the dispatcher tables' receipt link.
INBOX_ROW = '<tr id="inbox-row-'
DISPATCH_ROW = '<th scope="row"><a href="/appeals/'
#: The nav badge is one number, shown (not hidden) when there is work waiting.
BADGE = '<span id="inbox-badge" class="badge hot"'

TARGET_MS = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print each SQL statement of one request per page")
    return parser.parse_args()


def database_url(kind):
    if kind == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    return f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"


def pages(db):
    """(who, label, url, marker) for every page measured, with filter values taken from the data; `marker` is
    in every row the page must render (None: the poll, whose answer is an empty 204)."""
    from gaoxin.models import Appeal, AppealCategory, Enterprise, Unit
    from gaoxin.services.calendar import today

    unit = db.session.query(Unit).filter_by(name="科技人才局").one()
    talent = db.session.query(AppealCategory).filter_by(name="人才").one()
    enterprise = (db.session.query(Enterprise).join(Appeal, Appeal.enterprise_id == Enterprise.id)
                  .filter(Appeal.lead_unit_id == unit.id, Appeal.state == "in_progress").first())
    fragment = enterprise.name[2:4]
    day = today()
    month_ago = (day - timedelta(days=30)).isoformat()
    year_ago = (day - timedelta(days=365)).isoformat()
    handler = [
        ("待签收", "/inbox?tab=sign", INBOX_ROW),
        ("办理中", "/inbox?tab=progress", INBOX_ROW),
        ("协办", "/inbox?tab=cohandle", INBOX_ROW),
        ("督办", "/inbox?tab=supervised", INBOX_ROW),
        ("超期", "/inbox?tab=overdue", INBOX_ROW),
        ("已答复", "/inbox?tab=replied", INBOX_ROW),
        ("已答复 第20页", "/inbox?tab=replied&page=20", INBOX_ROW),
        ("办理中 + 类别", f"/inbox?tab=progress&category={talent.id}", INBOX_ROW),
        (f"办理中 + 企业“{fragment}”", f"/inbox?tab=progress&q={fragment}", INBOX_ROW),
        ("办理中 + 只看超期", "/inbox?tab=progress&overdue=1", INBOX_ROW),
        ("办理中 + 近30天登记", f"/inbox?tab=progress&from={month_ago}", INBOX_ROW),
        ("办理中 按登记时间", "/inbox?tab=progress&sort=-created", INBOX_ROW),
        ("已答复 + 类别 + 近一年", f"/inbox?tab=replied&category={talent.id}&from={year_ago}", INBOX_ROW),
        (f"已答复 + 企业“{fragment}”", f"/inbox?tab=replied&q={fragment}", INBOX_ROW),
        ("轮询（无变化，204）", None, None),
        ("导航角标", "/inbox/badge?poll=1", BADGE),
    ]
    dispatcher = [
        ("待派单", "/dispatch", DISPATCH_ROW),
        ("待派单 只看退回", "/dispatch?returned=1", DISPATCH_ROW),
        ("延期申请", "/dispatch/extensions", DISPATCH_ROW),
        ("超期督办 按部门", "/dispatch/overdue", DISPATCH_ROW),
        ("超期督办 按超期时间", "/dispatch/overdue?sort=due", DISPATCH_ROW),
        ("超期督办 一个部门", f"/dispatch/overdue?unit={unit.id}", DISPATCH_ROW),
    ]
    return [("handler", *page) for page in handler] + [("dispatcher", *page) for page in dispatcher]


def poll_url(client):
    """The live region's URL with the digest the page has: what an idle open inbox sends every 10 s."""
    import re

    body = client.get("/inbox?tab=progress").get_data(as_text=True)
    url = re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', body).group(1)
    return f"{url}&since={since}"


def percentiles(times):
    return percentile(times, 50), percentile(times, 95)


def timed_get(client, url, headers, marker):
    """(wall ms, this process's CPU ms, status) of one request: the CPU share is the app's own work (on
    SQLite all of the server's work; on PostgreSQL the database's work is not in it). A page must render at
    least one row (`marker`); the poll (no marker) must answer 204, nothing changed."""
    started, started_cpu = time.perf_counter(), time.process_time()
    response = client.get(url, headers=headers)
    wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
    if response.status_code != (200 if marker else 204):
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    if marker:
        check_rows(response.get_data(as_text=True), marker, url)
    return wall, cpu, response.status_code


def measure(targets, n, warmup):
    """Time every page n times, round-robin (a burst of load elsewhere on the machine then spreads over
    all pages instead of spoiling a few); returns one figures dict per target."""
    for client, url, headers, _ in targets:
        for _ in range(warmup):
            client.get(url, headers=headers)
    samples = [([], []) for _ in targets]
    for _ in range(n):
        for (client, url, headers, marker), (wall, cpu) in zip(targets, samples):
            w, c, _ = timed_get(client, url, headers, marker)
            wall.append(w)
            cpu.append(c)
    figures = []
    for wall, cpu in samples:
        p50, p95 = percentiles(wall)
        cpu50, cpu95 = percentiles(cpu)
        figures.append({"p50": p50, "p95": p95, "max": max(wall), "cpu_p50": cpu50, "cpu_p95": cpu95})
    return figures


def explain(app, client, url):
    from sqlalchemy import event

    from gaoxin.extensions import db

    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters, time.perf_counter()))

    event.listen(engine, "before_cursor_execute", record)
    client.get(url)
    event.remove(engine, "before_cursor_execute", record)
    print(f"--- {url}: {len(statements)} statements")
    for statement, parameters, _ in statements:
        print(" ".join(statement.split())[:300], parameters if len(str(parameters)) < 200 else "")


def main():
    args = parse_args()
    from gaoxin import create_app
    from gaoxin.extensions import db
    from gaoxin.services.demo import DEMO_PASSWORD

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.db), "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        plan = pages(db)
        db.session.remove()
    clients = {}
    for username in ("handler", "dispatcher"):
        clients[username] = app.test_client()
        response = clients[username].post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]

    results = []
    print(f"{args.db}: {args.requests} requests per page after {args.warmup} warm-up; milliseconds; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'page':<34}{'p50':>8}{'p95':>8}{'max':>8}{'cpu p50':>9}{'cpu p95':>9}")
    targets = []
    for who, label, url, marker in plan:
        client, headers = clients[who], None
        if url is None:
            url, headers = poll_url(client), {"HX-Request": "true"}
        if args.explain:
            explain(app, client, url)
        targets.append((client, url, headers, marker))
    for (who, label, _, _), (_, url, _, _), figures in zip(plan, targets, measure(targets, args.requests, args.warmup)):
        results.append({"who": who, "page": label, "url": url, **figures})
        flag = "" if figures["p95"] <= TARGET_MS else "  > target"
        print(f"{label:<34}{figures['p50']:8.1f}{figures['p95']:8.1f}{figures['max']:8.1f}"
              f"{figures['cpu_p50']:9.1f}{figures['cpu_p95']:9.1f}{flag}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"bench_appeals-{args.db}.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    worst = max(r["p95"] for r in results)
    print(f"worst p95 {worst:.1f} ms (target {TARGET_MS} ms); load average now {os.getloadavg()[0]:.2f}")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
