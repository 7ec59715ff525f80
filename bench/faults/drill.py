"""What every fault drill shares: a private PostgreSQL cluster and a private Redis (the shared ones on 5432 and
6379 are never touched), a database with the demo's people, the app under gunicorn as run.sh starts it, the
20 clients (intake desks recording appeals with an attachment, handlers reading their inbox) and the
reconciliation of what the clients were told against what the database and the file store hold."""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import percentile  # noqa: E402
from http_bench import Client, hidden_inputs, start_gunicorn, workers_of  # noqa: E402, F401

PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: What a user is shown while the database is away (errors.ERROR_TEXTS[503]).
UNAVAILABLE = "数据库暂时无法访问"
#: The longest any answer may take on a bad day (issue 14).
HANG_SECONDS = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*command, **kw):
    """initdb and pg_ctl refuse root: run them as the postgres system user when we are root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + [str(c) for c in command], check=True, capture_output=True, text=True, **kw)


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster in a temp dir on a free port; stop/start/kill it at will."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="gaoxin-pg-"))
        self.data, self.port = self.dir / "data", free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        as_postgres(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8")
        self.start()
        as_postgres(PG_BIN / "createdb", "-h", self.dir, "-p", self.port, "-U", "postgres", "gaoxin")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/gaoxin"

    def start(self):
        as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-l", self.dir / "server.log", "-o",
                    f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on", "start")

    def stop(self, mode="fast"):
        as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-m", mode, "stop")

    def ready(self):
        return subprocess.run([PG_BIN / "pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                              capture_output=True).returncode == 0

    def cleanup(self):
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server of the drill's own: no persistence, a temp dir, a free port."""

    def __init__(self):
        self.dir, self.port, self.process = Path(tempfile.mkdtemp(prefix="gaoxin-redis-")), free_port(), None
        self.start()

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no",
                                         "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    def cleanup(self):
        if self.process.poll() is None:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def flask(database, *args, env=None):
    """`flask <args>` against `database` (schema, demo data)."""
    subprocess.run([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "FLASK_APP": "app.py", "DATABASE_URL": database, **(env or {})})


def prepare(database, enterprises=300):
    """The schema by its migrations and the demo's people, units, categories and a small registry."""
    flask(database, "db", "upgrade")
    flask(database, "gaoxin", "demo", "--enterprises", str(enterprises))


def connect(database):
    """A DB-API connection: psycopg for PostgreSQL, sqlite3 for a file."""
    if database.startswith("sqlite"):
        import sqlite3

        return sqlite3.connect(database.split("///", 1)[1])
    import psycopg

    return psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def fixtures(database):
    conn = connect(database)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    unit = one("SELECT id FROM units WHERE name = '科技人才局'")
    category = one(f"SELECT id FROM appeal_categories WHERE lead_unit_id = {unit} ORDER BY position LIMIT 1")
    enterprises = [r[0] for r in conn.execute("SELECT id FROM enterprises ORDER BY id LIMIT 200")]
    conn.close()
    return {"category": category, "enterprises": enterprises}


def multipart(fields, files):
    """(body, content type) of a multipart/form-data request: fields {name: value}, files [(name, filename, bytes)]."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Log:
    """Every answer the clients got: (time since start, kind, status, seconds, shown the Chinese 503 page)."""

    def __init__(self):
        self.lock, self.started = threading.Lock(), time.monotonic()
        self.answers, self.receipts, self.tokens, self.died = [], {}, set(), []
        #: Requests the client sent again because the connection failed (http_bench.Client retries once).
        self.retried = 0

    def request(self, client, kind, method, path, body=None, headers=None):
        started, retried = time.monotonic(), client.retried
        try:
            status, data, _, response_headers = client.request(method, path, body, headers)
        except OSError as exc:  # the connection itself failed (a killed worker): status 0
            status, data, response_headers = 0, repr(exc), {}
        seconds = time.monotonic() - started
        with self.lock:
            self.answers.append((started - self.started, kind, status, seconds, status == 503 and UNAVAILABLE in data))
            self.retried += client.retried - retried
        return status, data, response_headers

    def report(self, ok=(200, 204, 302, 303)):
        """Print per kind counts and latencies; return (errors, errors that were not the Chinese 503, hangs)."""
        kinds = sorted({a[1] for a in self.answers})
        for kind in kinds:
            mine = [a for a in self.answers if a[1] == kind]
            times = [a[3] * 1000 for a in mine]
            errors = [a for a in mine if a[2] not in ok]
            print(f"  {kind:12} {len(mine):6} answers  p50 {percentile(times, 50):7.1f}  p99 {percentile(times, 99):7.1f}"
                  f"  max {max(times):7.1f} ms  errors {len(errors)} (status {sorted({a[2] for a in errors})})")
        errors = [a for a in self.answers if a[2] not in ok]
        return errors, [a for a in errors if not a[4]], [a for a in self.answers if a[3] > HANG_SECONDS]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def intake_desk(log, port, cookies, fx, stop, rng, pause=2.0, give_up=90):
    """A clerk recording appeals with a PDF attached. An error answer is retried with the same form (its
    submission token) as a clerk would press the button again, until a receipt or `give_up` seconds."""
    client = Client(port)
    client.cookies = dict(cookies)
    while not stop.is_set():
        status, page, _ = log.request(client, "intake form", "GET", "/appeals/new")
        if status != 200:
            stop.wait(1)
            continue
        fields, marker = intake_fields(page, fx, rng)
        with log.lock:
            log.tokens.add(fields["submission_token"])
        body, content_type = multipart(fields, [("files", "材料.pdf", PDF + marker.encode())])
        deadline = time.monotonic() + give_up
        while time.monotonic() < deadline:
            status, _, headers = log.request(client, "intake POST", "POST", "/appeals/new", body,
                                             {"Content-Type": content_type})
            if status == 303:
                receipt = _receipt(log, client, headers["Location"], deadline)
                if receipt:
                    with log.lock:
                        log.receipts.setdefault(receipt, []).append(fields["submission_token"])
                break
            time.sleep(1)
        stop.wait(pause)


def _receipt(log, client, location, deadline):
    path = re.sub(r"^https?://[^/]+", "", location)
    while time.monotonic() < deadline:
        status, shown, _ = log.request(client, "appeal page", "GET", path)
        if status == 200:
            found = re.search(r"SQ\d{15}", shown)
            return found.group(0) if found else None
        time.sleep(1)
    return None


def inbox_reader(log, port, cookies, stop, rng, pause=1.0):
    """A handler with the inbox open: the page, then its live check (htmx), now and then an appeal."""
    client = Client(port)
    client.cookies = dict(cookies)
    while not stop.is_set():
        status, page, _ = log.request(client, "inbox page", "GET", "/inbox")
        if status == 200:
            shown = re.findall(r'href="/appeals/(\d+)"', page)
            if shown:
                log.request(client, "appeal page", "GET", f"/appeals/{rng.choice(shown)}")
        stop.wait(pause)


def guarded(log, target, *args):
    try:
        target(log, *args)
    except Exception as exc:  # noqa: BLE001 - reported
        with log.lock:
            log.died.append(f"{target.__name__}: {exc!r}")


def log_in_all(port, users):
    sessions = {}
    for user in users:
        client = Client(port)
        client.log_in(user)
        sessions[user] = client.cookies
    return sessions


def start_load(log, port, fx, stop, clients=20, seed=14):
    """Half the clients record appeals, half read inboxes (handlers of 科技人才局, where the appeals go)."""
    sessions = log_in_all(port, ("clerk_station", "clerk_point", "handler", "handler2", "dept_lead"))
    clerks = [sessions["clerk_station"], sessions["clerk_point"]]
    handlers = [sessions["handler"], sessions["handler2"], sessions["dept_lead"]]
    threads = []
    for n in range(clients):
        rng = random.Random(seed * 1000 + n)
        if n % 2 == 0:
            args = (intake_desk, port, clerks[n // 2 % 2], fx, stop, rng)
        else:
            args = (inbox_reader, port, handlers[n // 2 % 3], stop, rng)
        thread = threading.Thread(target=guarded, args=(log, *args), daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def reconcile(database, data_dir, log):
    """Every receipt a client got is in the database once; every appeal of the run is whole (its register
    event, its attachment rows, each file present with its hash); no token made two appeals. Returns
    (problems, figures)."""
    import hashlib

    conn = connect(database)
    like = "故障演练诉求 %"
    mark = "?" if database.startswith("sqlite") else "%s"
    appeals = conn.execute(f"SELECT id, receipt_no, submission_token FROM appeals WHERE content LIKE {mark}",
                           (like,)).fetchall()
    events = dict(conn.execute("SELECT appeal_id, count(*) FROM events WHERE appeal_id IS NOT NULL GROUP BY appeal_id")
                  .fetchall())
    files = conn.execute("SELECT owner_id, sha256 FROM attachments WHERE owner_type = 'appeal'").fetchall()
    pending = conn.execute("SELECT count(*) FROM attachments WHERE owner_id IS NULL").fetchone()[0]
    conn.close()
    problems = []
    by_receipt, by_token = {}, {}
    for appeal_id, receipt, token in appeals:
        by_receipt.setdefault(receipt, []).append(appeal_id)
        by_token.setdefault(token, []).append(appeal_id)
    for receipt in log.receipts:
        if len(by_receipt.get(receipt, [])) != 1:
            problems.append(f"receipt {receipt} given to a client is in the database {len(by_receipt.get(receipt, []))}×")
    problems += [f"submission token made {len(ids)} appeals" for ids in by_token.values() if len(ids) > 1]
    attached = {}
    for owner, sha in files:
        attached.setdefault(owner, []).append(sha)
    referenced = set()
    for appeal_id, receipt, _ in appeals:
        if not events.get(appeal_id):
            problems.append(f"appeal {receipt} has no event (half-written)")
        if not attached.get(appeal_id):
            problems.append(f"appeal {receipt} has no attachment row (every drill appeal was sent with one)")
        for sha in attached.get(appeal_id, []):
            referenced.add(sha)
            path = Path(data_dir) / sha[:2] / sha[2:4] / sha
            if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                problems.append(f"appeal {receipt}: file {sha[:12]}… missing or not matching its hash")
    stored = [p for p in Path(data_dir).rglob("*") if p.is_file()] if Path(data_dir).exists() else []
    unreferenced = [p for p in stored if not p.name.startswith(".upload-") and p.name not in {s for _, s in files}]
    temporary = [p for p in stored if p.name.startswith(".upload-")]
    figures = {"appeals recorded": len(appeals), "receipts given": len(log.receipts),
               "files without a row": len(unreferenced), "temporary files left": len(temporary),
               "pending attachments (uploaded, form not completed)": pending}
    return problems, figures


def stop_server(server):
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass


class Site:
    """The app under gunicorn (as run.sh starts it) on a prepared database: a private PostgreSQL cluster unless
    `database` is given (an SQLite URL); uploads in `files` or a temp dir; `env` adds settings."""

    def __init__(self, database=None, files=None, env=None):
        self.pg = None if database else PrivatePostgres()
        self.database = database or self.pg.url
        self.files = Path(files or tempfile.mkdtemp(prefix="gaoxin-drill-files-"))
        where = f"private PostgreSQL on port {self.pg.port}" if self.pg else self.database
        print(f"{where}; preparing the schema and demo data …", flush=True)
        self.server = None
        try:
            prepare(self.database)
            self.fx = fixtures(self.database)
            self.port = free_port()
            self.log_path = self.files.parent / f"gunicorn-{self.port}.log"
            self.server = start_gunicorn("app:app", self.port, {
                "DATABASE_URL": self.database, "GAOXIN_SECRET_KEY": "drill", "GAOXIN_DATA_DIR": str(self.files),
                **(env or {})}, self.log_path)
        except BaseException:
            self.cleanup()
            raise

    def errors_logged(self):
        """What the workers wrote to stderr (warnings, tracebacks)."""
        return Path(str(self.log_path) + ".err").read_text()

    def stop(self, stop_event, threads):
        """End the load (each client finishes its request), then gunicorn."""
        stop_event.set()
        for thread in threads:
            thread.join(timeout=100)
        stop_server(self.server)

    def reconcile(self, log):
        """Print the reconciliation and any client that died; returns (problems, figures)."""
        if log.died:
            print("clients that died:", log.died[:5])
        problems, figures = reconcile(self.database, self.files, log)
        print("reconciliation:", ", ".join(f"{k} {v}" for k, v in figures.items()))
        for problem in problems[:20]:
            print("  ", problem)
        return problems, figures

    def cleanup(self):
        if self.server:
            stop_server(self.server)
        if self.pg:
            self.pg.cleanup()


def intake_fields(page, fx, rng):
    """The intake form's fields filled in as a drill appeal (content marked, no contact, a PDF to attach);
    returns (fields, the marker that makes content and file unique)."""
    fields = hidden_inputs(page, "intake-form")
    marker = f"{rng.random():.12f}"
    fields.update(enterprise_id=str(rng.choice(fx["enterprises"])), category_id=str(fx["category"]),
                  channel="building_station", content=f"故障演练诉求 {marker}：企业希望了解人才公寓申请条件。",
                  no_contact_reason="演练")
    return fields, marker


def verdict(promises):
    """Print each promise as kept or broken; exit 1 when any is broken."""
    broken = 0
    for text, kept in promises:
        print(f"  [{'ok' if kept else 'BROKEN'}] {text}")
        broken += not kept
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; CPU time of this process and its children "
          f"{sum(os.times()[:4]):.1f} s")
    sys.exit(1 if broken else 0)
