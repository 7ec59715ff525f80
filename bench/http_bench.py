"""The app over HTTP against bare Flask, both under gunicorn as run.sh starts it, requests interleaved.

    .venv/bin/python bench/gen_zone.py                    # once: gaoxin_bench_zone (220k / 300k / 200k)
    .venv/bin/python bench/http_bench.py                  # every page, 300 requests each, one client
    .venv/bin/python bench/http_bench.py --pages inbox live --requests 1000 --clients 4
    .venv/bin/python bench/http_bench.py --profile inbox  # cProfile of the page in-process, top 30

Starts `gunicorn --workers 2 --threads 4` (run.sh's settings) twice on the same database: the real app
(app:app) and bench/reference_app.py, bare Flask rendering the same 50 rows in one query. Each client
sends A (the app), then B (the reference), A, B… so that whatever else the machine does costs both the
same. Printed per page: the client's p50/p95/p99 and the server's own time (gunicorn's access log, %D),
the reference's, the ratio (reference's mean time ÷ the app's: the share of bare Flask's speed the app
reaches), bytes, queries per request (counted in-process on the same code and data), then each side's
worker RSS and CPU seconds, and the load average before and after.

Pages: inbox (部门收件箱, 待签收 tab, as 刘洋 of 科技人才局), live (its poll when nothing changed: 204),
dispatch (the dispatcher's queue), applications (the window's list), appeal, application, home, search
(GET /enterprises?q= as htmx asks while typing, fragments of real names), suggest (the typeahead's
/enterprises/suggest?q=, the same fragments), intake (POST /appeals/new as a
building station's clerk; run last: every intake changes an inbox).
"""
import argparse
import cProfile
import html
import json
import os
import pstats
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import OUT, check_rows, percentile  # noqa: E402

PASSWORD = "Gaoxin@2026"  # services.demo.DEMO_PASSWORD: gen_zone.py makes the demo accounts
PAGES = ("inbox", "live", "dispatch", "applications", "appeal", "application", "home", "search", "suggest", "intake")
HTMX = {"HX-Request": "true"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/gaoxin_bench_zone")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--requests", type=int, default=300, help="per page and side (intake: a tenth)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients, each interleaving A and B")
    parser.add_argument("--port", type=int, default=5731, help="the app; the reference gets port + 1")
    parser.add_argument("--profile", choices=PAGES, help="only profile this page in-process (cProfile)")
    return parser.parse_args()


# --------------------------------------------------------------------------- processes


def start_gunicorn(target, port, env, log, chdir=ROOT):
    """gunicorn as run.sh starts it, with an access log that carries each request's own time (%D, µs)."""
    command = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
               "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
               "--chdir", str(chdir), "--access-logfile", str(log),
               "--access-logformat", "%(U)s?%(q)s %(s)s %(D)s", target]
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=open(str(log) + ".err", "w"), start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/hello" if "reference" in target else "/login")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{target} did not start; see {log}.err")


def workers_of(master):
    """Pids of the gunicorn master's worker processes."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(master):
    """CPU seconds of gunicorn so far: the master, the workers it has reaped (max_requests recycles them: their
    time is in the master's cutime/cstime) and the workers alive now."""
    fields = Path(f"/proc/{master}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return cpu_seconds(master) + reaped + sum(cpu_seconds(pid) for pid in workers_of(master))



# --------------------------------------------------------------------------- a client


class Client:
    """One keep-alive HTTP connection with a cookie jar, timing each request."""

    def __init__(self, port):
        self.port = port
        self.conn = HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}
        #: Requests sent again on a new connection after the first one failed (a restarted or killed worker).
        self.retried = 0

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None and not isinstance(body, bytes):  # bytes: already encoded, Content-Type given
            body = urllib.parse.urlencode(body, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, OSError):
                if attempt == 2:
                    raise
                self.retried += 1
                self.conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
                started = time.perf_counter()
        elapsed = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, data.decode("utf-8", "replace"), elapsed, dict(response.getheaders())

    def log_in(self, username):
        _, page, _, _ = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        status, _, _, headers = self.request("POST", "/login", {"csrf_token": token, "username": username,
                                                                 "password": PASSWORD})
        if status != 302:
            raise SystemExit(f"log-in of {username} answered {status}")


def hidden_inputs(page, form_id):
    """{name: value} of the hidden inputs of the form with this id."""
    form = re.search(r'<form[^>]*id="' + re.escape(form_id) + r'"[^>]*>(.*?)</form>', page, re.S).group(1)
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        name, value = re.search(r'\bname="([^"]+)"', tag), re.search(r'\bvalue="([^"]*)"', tag)
        if 'type="hidden"' in tag and name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


# --------------------------------------------------------------------------- what to request


def bring_schema_up(database):
    """Tables, columns and indexes the models have and the bench database lacks (it may be older than the
    code): created, columns added as nullable. The generator's rows stay; a stamp row appears with the first change."""
    from sqlalchemy import inspect, text

    from gaoxin import create_app
    from gaoxin.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        inspector = inspect(db.engine)
        with db.engine.begin() as conn:
            for table in db.metadata.sorted_tables:
                have = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in have:
                        kind = column.type.compile(dialect=db.engine.dialect)
                        conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
                        print(f"  added {table.name}.{column.name} ({kind})")
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            # Every unit gets its stamp row, as migration 0005 gives the units there are.
            conn.execute(text("INSERT INTO work_stamps (unit_id, version, changed_at) SELECT id, 0, now() FROM units "
                              "ON CONFLICT (unit_id) DO NOTHING"))
        # A column added without statistics made PostgreSQL walk the whole table for `merged_into_id = x`.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def fixtures(database):
    """Ids and texts the pages need, read from the bench database."""
    import psycopg

    url = database.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        def one(sql, *args):
            row = conn.execute(sql, args).fetchone()
            if row is None:  # zone_load.py signs for the department's waiting appeals as it goes
                raise SystemExit(f"the bench database has no row for: {sql}\nregenerate it: bench/gen_zone.py")
            return row[0]
        unit = one("SELECT id FROM units WHERE name = '科技人才局'")
        appeal = one("SELECT id FROM appeals WHERE lead_unit_id = %s AND state = 'dispatched' ORDER BY due_on, id "
                     "LIMIT 1", unit)
        window = one("SELECT id FROM units WHERE kind = 'window'")
        application = one("SELECT id FROM applications ORDER BY created_at DESC, id DESC LIMIT 1")
        category = one("SELECT id FROM appeal_categories WHERE lead_unit_id = %s ORDER BY position LIMIT 1", unit)
        # The same names (and search fragments) every run on the same database: a run's search p95 depended on
        # which 200 fragments it happened to draw.
        conn.execute("SELECT setseed(0.9)")
        names = [r[0] for r in conn.execute("SELECT name FROM enterprises ORDER BY random() LIMIT 200")]
        enterprises = [r[0] for r in conn.execute("SELECT id FROM enterprises ORDER BY random() LIMIT 200")]
    rng = random.Random(9)
    fragments = []
    for name in names:
        core = name.replace("有限公司", "").replace("成都", "").replace("四川", "")
        if len(core) >= 3:
            start = rng.randrange(0, len(core) - 2)
            fragments.append(core[start:start + rng.choice((2, 3))])
    return {"unit": unit, "appeal": appeal, "window": window, "application": application, "category": category,
            "fragments": fragments, "enterprises": enterprises}


def page_specs(fx):
    """page → (user, request maker for the app, request for the reference or None, row marker or None)."""
    unit = fx["unit"]
    quote = urllib.parse.quote
    return {
        "inbox": ("handler", lambda i: ("GET", "/inbox?tab=sign", None, {}),
                  f"/rows?kind=inbox&unit={unit}", 'id="inbox-row-'),
        "live": ("handler", None, "/hello", None),  # filled in after the inbox page gave its live URL
        "dispatch": ("dispatcher", lambda i: ("GET", "/dispatch", None, {}), "/rows?kind=queue", "/appeals/"),
        "applications": ("window", lambda i: ("GET", "/applications/", None, {}), "/rows?kind=applications",
                         "/applications/"),
        "appeal": ("handler", lambda i: ("GET", f"/appeals/{fx['appeal']}", None, {}), None, None),
        "application": ("window", lambda i: ("GET", f"/applications/{fx['application']}", None, {}), None, None),
        "home": ("handler", lambda i: ("GET", "/", None, {}), "/hello", None),
        "search": ("handler", lambda i: ("GET", f"/enterprises?q={quote(fx['fragments'][i % len(fx['fragments'])])}",
                                         None, HTMX), None, '<a href="/enterprises/'),
        "suggest": ("handler", lambda i: ("GET", f"/enterprises/suggest?q={quote(fx['fragments'][i % len(fx['fragments'])])}",
                                          None, HTMX), None, '<a href="/enterprises/'),
        "intake": ("clerk_station", None, None, None),
    }


# --------------------------------------------------------------------------- measuring


def read_server_times(log):
    """{request tag: server time in ms} from a gunicorn access log written with %D."""
    times = {}
    for line in Path(log).read_text().splitlines():
        match = re.search(r"[?&]_r=([a-z0-9-]+).* (\d+)$", line)
        if match:
            times[match.group(1)] = int(match.group(2)) / 1000
    return times


def tagged(path, tag):
    return f"{path}{'&' if '?' in path else '?'}_r={tag}"


def run_page(name, spec, app_port, ref_port, fx, args, results):
    user, make, ref_path, marker = spec
    samples = {"A": [], "B": []}
    statuses, sizes = {}, []
    lock = threading.Lock()
    count = max(args.requests // 10, 10) if name == "intake" else args.requests

    errors = []

    def worker(number):
        try:
            work(number)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def work(number):
        app = Client(app_port)
        app.log_in(user)
        ref = Client(ref_port) if ref_path else None
        maker = make
        if name == "live":
            page = app.request("GET", "/inbox?tab=sign")[1]
            live = html.unescape(re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', page).group(1))
            since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)
            maker = lambda i: ("GET", f"{live}&since={since}", None, HTMX)  # noqa: E731
        if name == "intake":
            maker = intake_maker(app, fx, number)
        for i in range(-args.warmup, count):
            tag = f"{name}-{number}-{i}"
            method, path, body, headers = maker(i)
            status, data, elapsed, _ = app.request(method, tagged(path, "a" + tag), body, headers)
            if ref:
                _, ref_data, ref_elapsed, _ = ref.request("GET", tagged(ref_path, "b" + tag))
            if i < 0:
                continue
            with lock:
                samples["A"].append(("a" + tag, elapsed))
                statuses[status] = statuses.get(status, 0) + 1
                sizes.append(len(data.encode()))
                if ref:
                    samples["B"].append(("b" + tag, ref_elapsed))
            if i == 0 and marker:
                check_rows(data, marker, f"{name}: {path}")
            if i == 0 and name == "live" and status != 204:
                raise AssertionError(f"live check answered {status}, not 204")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{name}: {errors[0]!r}") from errors[0]
    results[name] = {"samples": samples, "statuses": statuses, "bytes": sorted(sizes)[len(sizes) // 2] if sizes else 0,
                     "wall": time.perf_counter() - started}


def intake_maker(client, fx, number):
    """Each call fetches a fresh intake form (its one-time token) and returns the POST to time."""
    rng = random.Random(number)

    def make(i):
        page = client.request("GET", "/appeals/new")[1]
        fields = hidden_inputs(page, "intake-form")
        fields.update(enterprise_id=str(rng.choice(fx["enterprises"])), category_id=str(fx["category"]),
                      channel="building_station", content=f"基准测试诉求{number}-{i}：企业希望了解人才公寓申请条件。",
                      contact_name="测试联系人", contact_mobile="13800138000")
        return "POST", "/appeals/new", fields, {}
    return make


def queries_per_request(database, fx, specs, pages):
    """Count each page's SQL statements in-process (same code, same data; the client is Flask's)."""
    from sqlalchemy import event

    from gaoxin import create_app
    from gaoxin.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    counts = {}
    with app.app_context():
        counter = {"n": 0}
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: counter.__setitem__("n", counter["n"] + 1))
        for name in pages:
            user, make, _, _ = specs[name]
            if make is None:
                continue
            client = app.test_client()
            client.post("/login", data={"username": user, "password": PASSWORD})
            method, path, body, headers = make(0)
            client.open(path, method=method, headers=headers)
            counter["n"] = 0
            client.open(path, method=method, headers=headers)
            counts[name] = counter["n"]
    if "intake" in pages:
        counts["intake"] = len(intake_statements(database, fx, app=app))
    return counts


def test_client_intake(app, fx, number=0):
    """A test client logged in as the station clerk and a maker of intake POSTs (form fetched first, as
    intake_maker does over HTTP; CSRF on, as in production)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "username": "clerk_station", "password": PASSWORD})
    rng = random.Random(number)

    def make(i):
        fields = hidden_inputs(client.get("/appeals/new").get_data(as_text=True), "intake-form")
        fields.update(enterprise_id=str(rng.choice(fx["enterprises"])), category_id=str(fx["category"]),
                      channel="building_station", content=f"剖析诉求{number}-{i}：企业希望了解人才公寓申请条件。",
                      contact_name="测试联系人", contact_mobile="13800138000")
        return fields
    return client, make


def intake_statements(database, fx, app=None):
    """[(ms, statement)] of one whole intake POST (the user's session and roles included), after a first one."""
    from sqlalchemy import event

    from gaoxin import create_app
    from gaoxin.extensions import db

    app = app or create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    app.config.update(WTF_CSRF_ENABLED=True)
    client, make = test_client_intake(app, fx, number=99)
    assert client.post("/appeals/new", data=make(-1)).status_code == 303
    fields, log, started = make(0), [], {}
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, *args):
        started[conn] = time.perf_counter()

    def after(conn, cursor, statement, *args):
        log.append(((time.perf_counter() - started.pop(conn)) * 1000, " ".join(statement.split())))
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        response = client.post("/appeals/new", data=fields)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    assert response.status_code == 303, response.status_code
    return log


def profile(database, fx, specs, page):
    from gaoxin import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False})
    if page == "intake":
        return profile_intake(app, database, fx)
    user, make, _, _ = specs[page]
    client = app.test_client()
    client.post("/login", data={"username": user, "password": PASSWORD})
    if page == "live":
        inbox = client.get("/inbox?tab=sign").get_data(as_text=True)
        live = html.unescape(re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', inbox).group(1))
        since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', inbox).group(1)
        make = lambda i: ("GET", f"{live}&since={since}", None, HTMX)  # noqa: E731
    method, path, body, headers = make(0)
    for _ in range(20):
        client.open(path, method=method, headers=headers)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(100):
        client.open(path, method=method, headers=headers)
    profiler.disable()
    print(f"{page}: {(time.perf_counter() - started) * 10:.2f} ms per request in-process (with the profiler)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("gaoxin|jinja2/environment|flask_login|sqlalchemy/orm/session.py", 40)


def profile_intake(app, database, fx, count=100):
    """The intake POST in-process: each statement with its time, then CPU and wall per POST without and
    with cProfile (the form is fetched outside the timing, as over HTTP)."""
    for ms, statement in intake_statements(database, fx):
        print(f"{ms:7.2f} ms  {statement[:160]}")
    app.config.update(WTF_CSRF_ENABLED=True)
    client, make = test_client_intake(app, fx)
    for i in range(-20, 0):
        client.post("/appeals/new", data=make(i))
    walls, cpus = [], []
    for i in range(count):
        fields = make(i)
        wall, cpu = time.perf_counter(), time.process_time()
        assert client.post("/appeals/new", data=fields).status_code == 303
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    print(f"intake POST in-process, {count} requests: wall p50 {percentile(walls, 50):.2f} / p95 {percentile(walls, 95):.2f} ms, "
          f"CPU p50 {percentile(cpus, 50):.2f} / p95 {percentile(cpus, 95):.2f} ms; load average {os.getloadavg()[0]:.2f}")
    profiler = cProfile.Profile(time.process_time)
    for i in range(count, 2 * count):
        fields = make(i)
        profiler.enable()
        client.post("/appeals/new", data=fields)
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("gaoxin|flask/app|sqlalchemy/orm/session.py", 45)


def summary(values):
    ms = [v * 1000 for v in values]
    if not ms:
        return None
    return {"n": len(ms), "mean": sum(ms) / len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95),
            "p99": percentile(ms, 99)}


def main():
    args = parse_args()
    bring_schema_up(args.database)
    fx = fixtures(args.database)
    specs = page_specs(fx)
    if args.profile:
        profile(args.database, fx, specs, args.profile)
        return
    order = [p for p in PAGES if p in args.pages]  # intake last: it changes the inbox
    logdir = Path(tempfile.mkdtemp(prefix="http-bench-"))
    env = {"DATABASE_URL": args.database, "GAOXIN_SECRET_KEY": "bench-secret", "GAOXIN_DATA_DIR": str(logdir / "files")}
    load_before = os.getloadavg()
    app = start_gunicorn("app:app", args.port, env, logdir / "app.log")
    ref = start_gunicorn("reference_app:app", args.port + 1, env, logdir / "ref.log", chdir=ROOT / "bench")
    try:
        masters = {"A": app.pid, "B": ref.pid}
        rss_start = {k: [rss_mb(p) for p in workers_of(m)] for k, m in masters.items()}
        cpu_start = {k: server_cpu_seconds(m) for k, m in masters.items()}
        results = {}
        for name in order:
            run_page(name, specs[name], args.port, args.port + 1, fx, args, results)
            print(f"  {name}: done in {results[name]['wall']:.1f}s", flush=True)
        time.sleep(1.5)  # gunicorn writes its access log after the response
        rss_end = {k: [rss_mb(p) for p in workers_of(m)] for k, m in masters.items()}
        cpu_used = {k: server_cpu_seconds(m) - cpu_start[k] for k, m in masters.items()}
        server = {**read_server_times(logdir / "app.log"), **read_server_times(logdir / "ref.log")}
    finally:
        for process in (app, ref):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    load_after = os.getloadavg()
    queries = queries_per_request(args.database, fx, specs, order)

    report = {"clients": args.clients, "requests": args.requests, "load_before": load_before,
              "load_after": load_after, "rss_mb_start": rss_start, "rss_mb_end": rss_end, "cpu_seconds": cpu_used,
              "pages": {}}
    print(f"\n{args.clients} client(s), gunicorn --workers 2 --threads 4, {args.database.rsplit('/', 1)[1]}; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}")
    print(f"{'page':13} {'n':>5} {'client p50/p95/p99 ms':>22} {'server p50/p95':>15} {'ref p50/p95':>12} "
          f"{'ref srv p50':>11} {'ratio':>6} {'KB':>6} {'q/req':>5}  statuses")
    for name in order:
        r = results[name]
        a = summary([t for _, t in r["samples"]["A"]])
        b = summary([t for _, t in r["samples"]["B"]])
        sa = summary([server[tag] / 1000 for tag, _ in r["samples"]["A"] if tag in server])
        sb = summary([server[tag] / 1000 for tag, _ in r["samples"]["B"] if tag in server])
        ratio = b["mean"] / a["mean"] if b else None
        report["pages"][name] = {"client": a, "server": sa, "reference": b, "reference_server": sb, "ratio": ratio,
                                 "bytes": r["bytes"], "queries": queries.get(name), "statuses": r["statuses"],
                                 "req_per_s": len(r["samples"]["A"]) / r["wall"]}
        print(f"{name:13} {a['n']:5} {a['p50']:6.1f} {a['p95']:6.1f} {a['p99']:6.1f}   "
              f"{sa['p50'] if sa else float('nan'):6.2f} {sa['p95'] if sa else float('nan'):6.2f}  "
              f"{(b['p50'] if b else float('nan')):5.1f} {(b['p95'] if b else float('nan')):5.1f}  "
              f"{(sb['p50'] if sb else float('nan')):9.2f}  {ratio if ratio else float('nan'):5.2f} "
              f"{r['bytes'] / 1024:6.1f} {queries.get(name, '-')!s:>5}  {r['statuses']}")
    for side, label in (("A", "app"), ("B", "reference")):
        print(f"{label}: worker RSS {', '.join(f'{v:.0f}' for v in rss_start[side])} MB at start, "
              f"{', '.join(f'{v:.0f}' for v in rss_end[side])} MB after; CPU {cpu_used[side]:.1f} s in gunicorn (master and workers, recycled ones included)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "http_bench.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {OUT / 'http_bench.json'} (logs in {logdir})")


if __name__ == "__main__":
    main()
