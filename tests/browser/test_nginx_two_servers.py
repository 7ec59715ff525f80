"""Deployment as deploy/ describes it: Debian's nginx, from deploy/nginx/gaoxin.conf, in front of two gunicorn
servers (gunicorn.conf.py) on one PostgreSQL database.

The site's config is the repository's template changed only where a test must: TLS off, local ports, the
upstream pointing at the two servers started here, the static folder of this checkout, and two more
listeners with the same rules whose upstream is one server each, so that a browser can be kept on A or B.
nginx runs with its own prefix, pid and logs and never touches the system's nginx or port 80.

Needs nginx (`apt-get install nginx`; test.sh installs it in CI) and PostgreSQL (PGHOST/PGPORT/PGUSER as
test.sh, database GAOXIN_NGINX_TEST_DB or gaoxin_test_nginx, recreated); without either it skips, and with
CI=true it fails.
"""
import copy
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import crossplane
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin import create_app
from gaoxin.extensions import db
from gaoxin.models import AuditEntry
from gaoxin.services import demo
from gaoxin.services.enterprises import load_demo_enterprises
from gaoxin.static_files import IMMUTABLE

from .conftest import _unavailable
from .helpers import login, submit, visit
from .test_appeals_browser import ENTERPRISE, appeal_id_of, pick_enterprise_with_keyboard, receipt_on, unique

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "gaoxin.conf"
#: A client address nginx sees that is not the gunicorn servers' peer (127.0.0.1): all of 127/8 is loopback.
CLIENT_ADDRESS = "127.0.0.9"
#: What a client writes in X-Forwarded-For to pass for someone else; the app must not believe it.
FORGED_ADDRESS = "203.0.113.7"
#: Seconds a server or nginx gets to answer after its start.
START_SECONDS = 30
#: The inbox polls every 2 s: the signed appeal shows on the other server's page well within this.
LIVE_MS = 8_000


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _nginx():
    path = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(path):
        _unavailable("nginx is not installed: apt-get install nginx")
    return path


def _postgres_database():
    """A fresh database by scripts/pg_testdb.py, or a skip (a failure with CI=true) when PostgreSQL is not there."""
    server = [os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432"), os.environ.get("PGUSER", "postgres")]
    script = [sys.executable, str(ROOT / "scripts" / "pg_testdb.py")]
    if subprocess.run([*script, "--check", *server], capture_output=True).returncode:
        _unavailable(f"PostgreSQL is not reachable at {server[0]}:{server[1]}")
    name = os.environ.get("GAOXIN_NGINX_TEST_DB", "gaoxin_test_nginx")
    return subprocess.run([*script, "--create", *server, name], capture_output=True, text=True, check=True).stdout.strip()


def _site_config(app_ports, listen):
    """The template's directives for a test: {listener port: upstream name} → the http-context directives."""
    parsed = crossplane.parse(str(TEMPLATE), check_ctx=False, single=True, comments=False)
    assert not parsed["errors"], parsed["errors"]
    directives = parsed["config"][0]["parsed"]
    out = []
    for directive in directives:
        if directive["directive"] == "upstream":
            template_upstream = directive
        elif directive["directive"] == "server" and any(d["directive"] == "return" for d in directive["block"]):
            continue  # the plain-HTTP redirect to HTTPS
        elif directive["directive"] == "server":
            site = directive
        else:
            out.append(directive)
    options = [d for d in template_upstream["block"] if d["directive"] != "server"]
    server_args = next(d for d in template_upstream["block"] if d["directive"] == "server")["args"][1:]

    def upstream(name, ports):
        servers = [{"directive": "server", "args": [f"127.0.0.1:{port}", *server_args]} for port in ports]
        return {"directive": "upstream", "args": [name], "block": servers + copy.deepcopy(options)}

    out.append(upstream(template_upstream["args"][0], app_ports))
    out += [upstream(f"gaoxin_{i}", [port]) for i, port in enumerate(app_ports)]
    site_body = [d for d in site["block"] if d["directive"] != "listen" and not d["directive"].startswith("ssl_")]
    for port, name in listen.items():
        body = copy.deepcopy(site_body)
        _rewrite(body, name)
        out.append({"directive": "server", "args": [], "block": [{"directive": "listen", "args": [f"127.0.0.1:{port}"]}, *body]})
    return out


def _rewrite(block, upstream_name):
    """proxy_pass → the named upstream; the static alias → this checkout's static folder."""
    for directive in block:
        if directive["directive"] == "proxy_pass":
            directive["args"] = [f"http://{upstream_name}"]
        elif directive["directive"] == "alias":
            directive["args"] = [f"{ROOT / 'gaoxin' / 'static'}/"]
        _rewrite(directive.get("block", []), upstream_name)


def _nginx_config(prefix, site):
    """A whole nginx.conf around the site: foreground, its own pid, logs and temp folders under `prefix`."""
    temp = {name: str(prefix / name) for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    http = [
        {"directive": "include", "args": ["/etc/nginx/mime.types"]},
        {"directive": "default_type", "args": ["application/octet-stream"]},
        {"directive": "access_log", "args": [str(prefix / "access.log")]},
        *({"directive": f"{name}_temp_path", "args": [path]} for name, path in temp.items()),
        *site,
    ]
    main = [
        {"directive": "daemon", "args": ["off"]},
        {"directive": "worker_processes", "args": ["1"]},
        {"directive": "pid", "args": [str(prefix / "nginx.pid")]},
        {"directive": "error_log", "args": [str(prefix / "error.log"), "warn"]},
        {"directive": "events", "args": [], "block": [{"directive": "worker_connections", "args": ["256"]}]},
        {"directive": "http", "args": [], "block": http},
    ]
    if os.geteuid() == 0:
        # Workers as root: the temp folders are under pytest's private (0700) tmp folder.
        main.insert(0, {"directive": "user", "args": ["root"]})
    return crossplane.build(main) + "\n"


def _wait_for(url, process, log):
    deadline = time.monotonic() + START_SECONDS
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {START_SECONDS} s:\n{log.read_text()[-3000:]}")


def _upgrade_and_load(url, data_dir):
    """`flask db upgrade` (in this process: the app is imported already), then units, the demo users (cheap
    password hashes, so logging in is fast), a few enterprises and the categories with their routing."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "nginx-test", "GAOXIN_DATA_DIR": data_dir,
                      "GAOXIN_PASSWORD_METHOD": "scrypt:1024:8:1"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        demo.create_units()
        demo.create_users()
        load_demo_enterprises(30)
        demo.create_demo_categories()
        db.session.commit()
        db.engine.dispose()
    return app


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """nginx on three ports (balanced, kept on A, kept on B) in front of gunicorn A and B on one database."""
    nginx = _nginx()
    url = _postgres_database()
    tmp = tmp_path_factory.mktemp("nginx-site")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1", "GAOXIN_SECRET_KEY": "nginx-test",
           "GAOXIN_DATA_DIR": str(tmp / "files"), "GAOXIN_PROXY_COUNT": "1", "GAOXIN_RATELIMIT_STORAGE": "memory://",
           "GAOXIN_WEB_WORKERS": "1", "GAOXIN_WEB_THREADS": "4"}
    processes = []

    def start(name, command, extra_env=None):
        log = tmp / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env={**env, **(extra_env or {})}, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        processes.append((process, log))
        return process, log

    # Everything starts at once: the servers do not touch the database before their first request.
    app_ports = [_free_port(), _free_port()]
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    servers = [start(f"gunicorn-{name}", [gunicorn, "-c", "gunicorn.conf.py", "app:app"],
                     {"GAOXIN_WEB_BIND": f"127.0.0.1:{port}"}) for name, port in zip("ab", app_ports)]
    balanced, on_a, on_b = _free_port(), _free_port(), _free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(_nginx_config(tmp, _site_config(app_ports, {balanced: "gaoxin_app", on_a: "gaoxin_0", on_b: "gaoxin_1"})))
    proxy = start("nginx", [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")])
    try:
        app = _upgrade_and_load(url, env["GAOXIN_DATA_DIR"])
        for port, (process, log) in zip(app_ports, servers):
            _wait_for(f"http://127.0.0.1:{port}", process, log)
        for port in (balanced, on_a, on_b):
            _wait_for(f"http://127.0.0.1:{port}", *proxy)
        yield SimpleNamespace(app=app, balanced=balanced, a=f"http://127.0.0.1:{on_a}", b=f"http://127.0.0.1:{on_b}",
                              logs=[log for _, log in servers])
    finally:
        for process, _ in processes:
            process.terminate()
        for process, log in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _get(port, path, headers=None, source=CLIENT_ADDRESS):
    """One request to nginx from `source`: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response.status, response, response.read()


def test_record_on_one_server_sign_on_the_other_and_the_first_sees_it_live(site, open_page_at):
    watcher, clerk, signer = open_page_at(site.a), open_page_at(site.a), open_page_at(site.b)
    content = unique("公司新引进两名博士，希望了解人才公寓申请条件")

    # A: 科技人才局's handler keeps the 办理中 tab open.
    login(watcher, "dept_lead")
    visit(watcher, "/inbox?tab=progress")
    watcher.evaluate("window.__sameDocument = true")

    # A: a station clerk records the appeal (人才 → 科技人才局).
    login(clerk, "clerk_station")
    visit(clerk, "/appeals/new")
    pick_enterprise_with_keyboard(clerk, "迈普", ENTERPRISE)
    clerk.get_by_label("诉求类别", exact=True).select_option(label="人才")
    clerk.get_by_label("诉求内容", exact=True).fill(content)
    submit(clerk, clerk.get_by_role("button", name="登记并转办"))
    receipt = receipt_on(clerk)
    appeal_id = appeal_id_of(clerk)

    # B: another handler of the department signs for it in the inbox.
    login(signer, "handler2")
    visit(signer, "/inbox")
    row = signer.locator("#inbox-live tr").filter(has_text=receipt)
    with signer.expect_response(lambda r: r.url.endswith(f"/inbox/{appeal_id}/sign")) as signed:
        row.get_by_role("button", name=f"签收 {receipt}").click()
    assert signed.value.status == 200
    expect(row).to_contain_text("已签收，请及时办理。")

    # A: the open 办理中 tab shows it by itself.
    arrived = watcher.locator("#inbox-live tr").filter(has_text=receipt)
    arrived.wait_for(timeout=LIVE_MS)
    expect(arrived).to_contain_text("办理中")
    assert watcher.evaluate("window.__sameDocument === true"), "the inbox was reloaded"

    # Each step ran where it was sent: the record on A, the sign-for on B.
    log_a, log_b = (log.read_text() for log in site.logs)
    assert "POST /appeals/new" in log_a and "POST /appeals/new" not in log_b
    assert f"POST /inbox/{appeal_id}/sign" in log_b and f"POST /inbox/{appeal_id}/sign" not in log_a


def test_audit_log_records_the_clients_address_not_a_forged_one(site):
    status, response, body = _get(site.balanced, "/login", {"X-Forwarded-For": FORGED_ADDRESS})
    assert status == 200
    token = re.search(rb'name="csrf_token"[^>]*?value="([^"]+)"', body)
    assert token, "no CSRF token on the log-in page"
    cookie = response.getheader("Set-Cookie").split(";")[0]
    form = urllib.parse.urlencode({"csrf_token": token.group(1).decode(), "username": "leader",
                                   "password": demo.DEMO_PASSWORD})
    conn = http.client.HTTPConnection("127.0.0.1", site.balanced, timeout=10, source_address=(CLIENT_ADDRESS, 0))
    conn.request("POST", "/login", form, {"Cookie": cookie, "X-Forwarded-For": FORGED_ADDRESS,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    assert answer.status == 302, answer.read().decode()[:500]

    with site.app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.username == "leader", AuditEntry.action == "login")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.ip == CLIENT_ADDRESS
        db.engine.dispose()
    # gunicorn's peer was nginx on 127.0.0.1; what nginx passed on ends with the address it saw.
    assert any(f'xff="{FORGED_ADDRESS}, {CLIENT_ADDRESS}" rid=' in log.read_text() for log in site.logs)


def test_static_files_come_from_nginx_compressed_and_cached_for_a_year(site):
    _, _, page = _get(site.balanced, "/login")
    css = re.search(rb'href="(/static/css/app\.css\?v=[^"]+)"', page).group(1).decode()

    status, response, _ = _get(site.balanced, css, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert response.getheader("Cache-Control") == IMMUTABLE
    assert response.getheader("Content-Encoding") == "gzip"
    status, response, _ = _get(site.balanced, css.split("?")[0], {"Accept-Encoding": "gzip"})
    assert status == 200 and response.getheader("Cache-Control") == "no-cache"
    assert not any("/static/" in log.read_text() for log in site.logs), "a static file was served by gunicorn"


def test_the_balanced_listener_uses_both_servers(site):
    for probe in range(4):
        assert _get(site.balanced, f"/login?probe={probe}")[0] == 200
    for log in site.logs:
        assert len(re.findall(r"GET /login\?probe=\d", log.read_text())) == 2
