"""Deployment as deploy/ describes it: Debian's nginx, from deploy/nginx/gaoxin.conf, in front of two gunicorn
servers (gunicorn.conf.py) on one PostgreSQL database (started by tests/browser/nginx_site.py: TLS off, local
ports, and two more listeners with the same rules kept on server A or B).

Needs nginx (`apt-get install nginx`; test.sh installs it in CI) and PostgreSQL (PGHOST/PGPORT/PGUSER as
test.sh, database GAOXIN_NGINX_TEST_DB or gaoxin_test_nginx, recreated); without either it skips, and with
CI=true it fails.
"""
import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse
from types import SimpleNamespace

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
from .nginx_site import ROOT, TwoServers, nginx_path
from .test_appeals_browser import ENTERPRISE, appeal_id_of, pick_enterprise_with_keyboard, receipt_on, unique

#: A client address nginx sees that is not the gunicorn servers' peer (127.0.0.1): all of 127/8 is loopback.
CLIENT_ADDRESS = "127.0.0.9"
#: What a client writes in X-Forwarded-For to pass for someone else; the app must not believe it.
FORGED_ADDRESS = "203.0.113.7"
#: The inbox polls every 2 s; the issue allows 15 s from a change to its arrival on another desk.
LIVE_MS = 15_000


def _postgres_database():
    """A fresh database by scripts/pg_testdb.py, or a skip (a failure with CI=true) when PostgreSQL is not there."""
    server = [os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432"), os.environ.get("PGUSER", "postgres")]
    script = [sys.executable, str(ROOT / "scripts" / "pg_testdb.py")]
    if subprocess.run([*script, "--check", *server], capture_output=True).returncode:
        _unavailable(f"PostgreSQL is not reachable at {server[0]}:{server[1]}")
    name = os.environ.get("GAOXIN_NGINX_TEST_DB", "gaoxin_test_nginx")
    return subprocess.run([*script, "--create", *server, name], capture_output=True, text=True, check=True).stdout.strip()


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
    nginx = nginx_path() or _unavailable("nginx is not installed: apt-get install nginx")
    url = _postgres_database()
    tmp = tmp_path_factory.mktemp("nginx-site")
    servers = TwoServers(tmp, {"DATABASE_URL": url, "GAOXIN_SECRET_KEY": "nginx-test", "GAOXIN_DATA_DIR": str(tmp / "files"),
                               "GAOXIN_PROXY_COUNT": "1", "GAOXIN_RATELIMIT_STORAGE": "memory://",
                               "GAOXIN_WEB_WORKERS": "1", "GAOXIN_WEB_THREADS": "4"}).start(nginx)
    try:
        app = _upgrade_and_load(url, str(tmp / "files"))
        servers.wait()
        yield SimpleNamespace(app=app, balanced=servers.balanced, a=servers.url(servers.pinned[0]),
                              b=servers.url(servers.pinned[1]), logs=servers.server_logs, app_ports=servers.app_ports)
    finally:
        servers.stop()


def log_in_quietly(page, username):
    """Log in through the form's own request (CSRF token and all) without loading the page: the context
    keeps the session cookie. For the second and third desk; the log-in page is checked with the first."""
    form = page.request.get("/login").text()
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form).group(1)
    answer = page.request.post("/login", form={"csrf_token": token, "username": username, "password": demo.DEMO_PASSWORD},
                               max_redirects=0)
    assert answer.status == 302, f"log-in of {username}: {answer.status}"


def logged(site, *needles, timeout=10):
    """The two servers' access logs once every needle is in one of them (gunicorn writes a request's line
    after its response has gone, so a line may lag the answer the test already holds)."""
    deadline = time.monotonic() + timeout
    while True:
        texts = [log.read_text() for log in site.logs]
        if all(any(needle in text for text in texts) for needle in needles) or time.monotonic() > deadline:
            return texts
        time.sleep(0.1)


def _get(port, path, headers=None, source=CLIENT_ADDRESS):
    """One request to nginx from `source`: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response.status, response, response.read()


def test_record_on_one_server_sign_on_the_other_and_the_first_sees_it_live(site, open_page_at):
    watcher, clerk, signer = open_page_at(site.a), open_page_at(site.a), open_page_at(site.b)
    content = unique("公司新引进两名博士，希望了解人才公寓申请条件")

    # A: 科技人才局's lead keeps the 办理中 tab open.
    log_in_quietly(watcher, "dept_lead")
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
    log_in_quietly(signer, "handler2")
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
    log_a, log_b = logged(site, "POST /appeals/new", f"POST /inbox/{appeal_id}/sign")
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
    forwarded = f'xff="{FORGED_ADDRESS}, {CLIENT_ADDRESS}" rid='
    assert any(forwarded in text for text in logged(site, forwarded))


def test_static_files_come_from_nginx_compressed_and_cached_for_a_year(site):
    _, _, page = _get(site.balanced, "/login")
    css = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page).group(1).decode()

    status, response, _ = _get(site.balanced, css, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert response.getheader("Cache-Control") == IMMUTABLE
    assert response.getheader("Content-Encoding") == "gzip"
    status, response, _ = _get(site.balanced, "/static/css/app.css", {"Accept-Encoding": "gzip"})
    assert status == 200 and response.getheader("Cache-Control") == "no-cache"
    # Each server's log is complete up to a request sent to it directly afterwards.
    markers = [f"/login?after=static-{port}" for port in site.app_ports]
    for port, marker in zip(site.app_ports, markers):
        assert _get(port, marker, source="127.0.0.1")[0] == 200
    texts = logged(site, *markers)
    assert all(marker in text for marker, text in zip(markers, texts))
    assert not any("/static/" in text for text in texts), "a static file was served by gunicorn"


def test_a_body_over_the_apps_limit_is_refused_by_nginx_in_chinese(site):
    conn = http.client.HTTPConnection("127.0.0.1", site.balanced, timeout=10)
    conn.putrequest("POST", "/appeals/new")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(site.app.config["MAX_CONTENT_LENGTH"] + 1))
    conn.endheaders()  # nginx answers from the header alone; the body is never sent
    response = conn.getresponse()
    assert response.status == 413
    assert "每次提交的文件合计不超过110 MB" in response.read().decode()


def test_the_balanced_listener_uses_both_servers(site):
    probes = [f"GET /login?probe={probe} " for probe in range(4)]
    for probe in probes:
        assert _get(site.balanced, probe.split()[1])[0] == 200
    served = [sum(probe in text for probe in probes) for text in logged(site, *probes)]
    assert sum(served) == 4 and min(served) >= 1, f"probes per server: {served}"
