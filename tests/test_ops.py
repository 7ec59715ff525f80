"""Operations: JSON request logs with the request id (also on error pages), /metrics for allowed addresses
only, /healthz without the database and /readyz with it."""
import io
import json
import re

import pytest

from gaoxin import create_app, logs, metrics
from gaoxin.errors import ERROR_TEXTS, render_error
from gaoxin.models import Role

PROMETHEUS_LINE = re.compile(r'^(\w+)\{([^}]*)\} ([0-9.e+]+)$')


@pytest.fixture
def log_lines():
    """The JSON lines logged while the test runs (parsed), read from a stream of our own."""
    stream = io.StringIO()
    logs.configure(stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logs.configure()


def _request_lines(lines):
    return [line for line in lines if line["event"] == "request"]


def series(body, name):
    """{labels text: value} of one series in a Prometheus exposition."""
    found = {}
    for line in body.splitlines():
        match = PROMETHEUS_LINE.match(line)
        if match and match.group(1) == name:
            found[match.group(2)] = float(match.group(3))
    return found


def test_every_request_logs_one_json_line_with_who_what_and_how_long(client, login_as, log_lines):
    user = login_as(Role.handler)
    response = client.get("/inbox")
    assert response.status_code == 200

    line = _request_lines(log_lines())[-1]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["user_id"], line["unit_id"], line["endpoint"], line["status"]) == (
        user.id, user.unit_id, "inbox.index", 200)
    assert line["method"] == "GET" and line["path"] == "/inbox" and line["level"] == "info"
    assert line["duration_ms"] > 0 and line["queries"] > 0


def test_the_inbox_polls_fast_path_is_logged_with_its_user_and_one_query(client, login_as, log_lines):
    user = login_as(Role.handler)
    page = client.get("/inbox").text
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)

    poll = client.get(f"/inbox/live?tab=sign&page=1&poll=1&since={since}", headers={"HX-Request": "true"})

    assert poll.status_code == 204
    line = _request_lines(log_lines())[-1]
    assert (line["endpoint"], line["status"], line["user_id"], line["unit_id"], line["queries"]) == (
        "inbox.live", 204, user.id, user.unit_id, 1)
    assert line["request_id"] == poll.headers["X-Request-ID"]


def test_healthz_answers_without_the_database_and_readyz_checks_it(client, log_lines):
    assert client.get("/healthz").json == {"status": "ok", "message": "进程正常"}
    assert _request_lines(log_lines())[-1]["queries"] == 0
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"


def test_readyz_is_503_in_chinese_when_the_database_or_redis_is_unreachable(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "GAOXIN_DATA_DIR": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.sqlite"})
    # Set after create_app: Flask-Limiter's storage is one per process, and the other tests' app keeps memory://.
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert "数据库：无法连接" in response.json["message"] and "Redis：无法连接" in response.json["message"]


def test_readyz_pings_redis_when_the_rate_limits_use_it(app, client):
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/0"
    try:
        response = client.get("/readyz")
    finally:
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    assert response.json["checks"] == {"database": "ok", "redis": "ok", "jobs": "skipped"}  # tests run jobs at once
    assert client.get("/readyz").json["checks"]["redis"] == "skipped"


def test_the_request_id_of_a_trusted_proxy_is_kept_and_otherwise_made_here(app, client):
    assert client.get("/healthz", headers={"X-Request-ID": "from-client"}).headers["X-Request-ID"] != "from-client"
    app.config["GAOXIN_PROXY_COUNT"] = 1
    try:
        kept = client.get("/healthz", headers={"X-Request-ID": "nginx-4f1c2a"})
        forged = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1"})
    finally:
        app.config["GAOXIN_PROXY_COUNT"] = 0
    assert kept.headers["X-Request-ID"] == "nginx-4f1c2a"
    assert re.fullmatch(r"[0-9a-f]{16}", forged.headers["X-Request-ID"])


def test_a_not_found_page_shows_the_request_id_a_clerk_can_quote(client, login_as):
    login_as(Role.clerk)
    response = client.get("/appeals/999999999")
    assert response.status_code == 404
    assert f"请求编号 <span class=\"request-id\">{response.headers['X-Request-ID']}</span>" in response.text
    fragment = client.get("/appeals/999999999", headers={"HX-Request": "true"})
    assert f"（请求编号 {fragment.headers['X-Request-ID']}）" in fragment.text


@pytest.mark.parametrize("code", sorted(ERROR_TEXTS))
def test_every_error_page_shows_the_request_id(app, code):
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc123def4567890"
        body, status = render_error(code)
    assert status == code and "请求编号 <span class=\"request-id\">abc123def4567890</span>" in body
    assert ERROR_TEXTS[code][0] in body


def test_an_unexpected_error_is_one_json_line_with_its_traceback_and_the_page_shows_its_id(tmp_path, log_lines):
    app = create_app({"TESTING": False, "SECRET_KEY": "t", "GAOXIN_DATA_DIR": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})

    @app.get("/boom")
    def boom():
        raise RuntimeError("测试用的故障")

    response = app.test_client().get("/boom")
    assert response.status_code == 500 and "系统错误" in response.text
    request_id = response.headers["X-Request-ID"]
    assert request_id in response.text
    lines = log_lines()
    error = next(line for line in lines if line["event"] == "unhandled exception")
    assert error["request_id"] == request_id and error["level"] == "error"
    assert error["exception"][0]["exc_type"] == "RuntimeError"
    assert error["exception"][0]["exc_value"] == "测试用的故障"
    assert any(frame["name"] == "boom" for frame in error["exception"][0]["frames"])
    assert not any("locals" in frame for frame in error["exception"][0]["frames"])  # no form data, no passwords
    assert _request_lines(lines)[-1]["status"] == 500 and _request_lines(lines)[-1]["request_id"] == request_id


def test_metrics_count_requests_per_endpoint_and_open_and_overdue_appeals_per_department(
        client, make_appeal, make_category, make_unit, db):
    from gaoxin.models import UnitKind

    department = make_unit(UnitKind.department, name="科技人才局测试")
    category = make_category(lead_unit=department)
    appeals = [make_appeal(category=category) for _ in range(3)]
    # One of them is past its sign-for deadline: backdate it.
    from datetime import date

    appeals[0].sign_due_on = date(2020, 1, 2)
    appeals[0].due_on = date(2020, 1, 9)
    db.session.commit()
    before = series(client.get("/metrics").text, "gaoxin_http_requests_total")
    client.get("/healthz")
    client.get("/healthz")

    body = client.get("/metrics").text

    key = 'endpoint="ops.healthz",method="GET",status="200"'
    assert series(body, "gaoxin_http_requests_total")[key] == before.get(key, 0) + 2
    assert series(body, "gaoxin_http_request_duration_seconds_count")['endpoint="ops.healthz",method="GET"'] >= 2
    assert series(body, "gaoxin_open_appeals") == {'department="科技人才局测试"': 3.0}
    assert series(body, "gaoxin_overdue_appeals") == {'department="科技人才局测试"': 1.0}
    assert series(body, "gaoxin_scrape_errors")['collector="appeals"'] == 0


def test_metrics_are_refused_in_chinese_to_an_address_not_allowed(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert response.status_code == 403
    assert "10.20.30.40 不在允许读取监控指标的地址" in response.text
    assert "gaoxin_http_requests_total" not in response.text


def test_metrics_allow_takes_a_list_of_networks_and_names_a_bad_one():
    networks = metrics.allowed_networks("127.0.0.1/32, 10.8.0.0/16")
    assert metrics.may_read(networks, "10.8.3.4") and not metrics.may_read(networks, "10.9.0.1")
    assert not metrics.may_read(networks, "not-an-address")
    with pytest.raises(ValueError, match="“10.0.0.300/8” 不是地址或网段"):
        metrics.allowed_networks("127.0.0.1/32,10.0.0.300/8")


def test_a_failing_collector_is_reported_and_does_not_hide_the_others(client):
    def broken():
        raise RuntimeError("queue unreachable")

    metrics.register_collector("broken", broken)
    try:
        body = client.get("/metrics").text
    finally:
        metrics._collectors.pop("broken")
    errors = series(body, "gaoxin_scrape_errors")
    assert errors['collector="broken"'] == 1 and errors['collector="appeals"'] == 0
    assert "gaoxin_http_requests_total" in body
