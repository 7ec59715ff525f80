"""Logging in and out: lockout, one message for unknown users, server-side logout, idle time-out."""
from datetime import timedelta

from sqlalchemy import select

from gaoxin.models import AuditEntry, Role, User, UserSession
from tests.conftest import PASSWORD, log_in, text_of


def test_staff_logs_in_and_sees_their_unit_on_the_home_page(client, make_user):
    user = make_user(Role.handler, name="刘洋")
    response = log_in(client, user.username)
    assert response.status_code == 302
    page = text_of(client.get("/"))
    assert "您好，刘洋" in page
    assert user.unit.name in page


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user):
    user = make_user(Role.clerk)
    wrong = text_of(log_in(client, user.username, "Wrong-pass-2026"))
    unknown = text_of(log_in(client, "nobody", "Wrong-pass-2026"))
    assert "用户名或密码错误。" in wrong
    assert "用户名或密码错误。" in unknown


def test_five_failures_lock_the_account_even_for_the_right_password(client, make_user, db):
    user = make_user(Role.clerk)
    for _ in range(5):
        log_in(client, user.username, "Wrong-pass-2026")
    response = log_in(client, user.username, PASSWORD)
    assert response.status_code == 401
    assert "账号已锁定" in text_of(response)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == user.id)).all()
    assert actions.count("login_failed") >= 5 and "lockout" in actions


def test_a_cookie_captured_before_logout_is_refused_afterwards(app, client, make_user):
    user = make_user(Role.clerk)
    log_in(client, user.username)
    captured = client.get_cookie("gaoxin_session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("gaoxin_session", captured)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_idle_session_ends_and_htmx_gets_a_redirect_header(client, make_user, db):
    user = make_user(Role.clerk)
    log_in(client, user.username)
    login_session = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    login_session.last_seen_at = login_session.last_seen_at - timedelta(minutes=31)
    db.session.commit()
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")
    follow = client.get("/login")
    assert "长时间未操作" in text_of(follow)


def test_initial_password_must_be_changed_and_policy_is_enforced(client, make_user, db):
    user = make_user(Role.clerk, must_change_password=True)
    log_in(client, user.username)
    assert client.get("/").headers["Location"].endswith("/password")
    weak = client.post("/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert "密码至少10位" in text_of(weak)
    classes = client.post("/password", data={"current": PASSWORD, "new": "alllowercase", "confirm": "alllowercase"})
    assert "至少三类" in text_of(classes)
    ok = client.post("/password", data={"current": PASSWORD, "new": "New-pass-2027", "confirm": "New-pass-2027"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert db.session.get(User, user.id).must_change_password is False


def test_disabled_users_next_request_is_logged_out(client, make_user, db):
    user = make_user(Role.clerk)
    log_in(client, user.username)
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_open_redirect_after_login_is_refused(client, make_user):
    user = make_user(Role.clerk)
    response = client.post("/login?next=https://evil.example/", data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_readyz_checks_the_database_and_healthz_only_the_process(client):
    assert client.get("/readyz").json["checks"]["database"] == "ok"
    assert client.get("/healthz").json == {"status": "ok", "message": "进程正常"}


def test_pages_send_a_strict_content_security_policy(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)
    assert " style=" not in response.get_data(as_text=True)


def test_unknown_page_is_a_chinese_404(client, login_as):
    login_as(Role.clerk)
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in text_of(response)
