"""Issue 8 (等保 2.0 level 3): 三员分立 on accounts, password resets, sessions, the log-in oracle, password age and reuse."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gaoxin.filters import local_time
from gaoxin.models import AuditEntry, Role, UnitKind, User, UserSession, utcnow
from gaoxin.services import accounts
from tests.conftest import PASSWORD, log_in, text_of
from tests.test_migrations import empty_database_url  # noqa: F401 - the scratch database fixture

ADMIN_IP = "10.8.0.9"
USER_IP = "10.20.3.4"


def shown_password(response):
    match = re.search(r'<code class="one-time-password">([^<]+)</code>', response.get_data(as_text=True))
    assert match, text_of(response)
    return match.group(1)


def open_sessions(db, user):
    return db.session.scalar(
        select(func.count(UserSession.id)).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )


def change(client, current, new):
    return client.post("/password", data={"current": current, "new": new, "confirm": new})


def login_from(client, username, password, ip):
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip})


# 1. 三员分立 -------------------------------------------------------------------------------------


def test_sysadmin_creates_an_account_without_roles_even_when_roles_are_posted(client, login_as, make_unit, db):
    login_as(Role.sysadmin)
    unit = make_unit(UnitKind.zone, name="管委会")
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="roles"' not in form and "角色由安全管理员" in text_of(client.get("/admin/users/new"))
    response = client.post("/admin/users/new", data={
        "username": "sunwd", "name": "孙卫东", "unit_id": unit.id, "roles": ["leader"],
    })
    assert response.status_code == 200 and "用户已创建" in text_of(response)
    user = db.session.scalar(select(User).where(User.username == "sunwd"))
    assert user.roles == frozenset()
    assert "管委会领导" not in db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "user_created"))


def test_sysadmin_cannot_add_a_role_to_an_existing_account(client, login_as, make_user, db):
    login_as(Role.sysadmin)
    user = make_user(Role.clerk, name="王小红")
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert 'name="roles"' not in page and "楼宇站/服务点工作人员" in text_of(client.get(f"/admin/users/{user.id}/edit"))
    response = client.post(f"/admin/users/{user.id}/edit", data={
        "name": "王小红", "unit_id": user.unit_id, "roles": ["clerk", "leader"],
    })
    assert response.status_code == 303
    assert db.session.get(User, user.id).roles == {Role.clerk}
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(["user_updated", "roles_changed"]))).all()


def test_only_the_secadmin_grants_a_business_role_to_a_new_account(app, client, login_as, make_user, make_unit, db):
    login_as(Role.sysadmin)
    unit = make_unit(UnitKind.department, name="科技人才局")
    client.post("/admin/users/new", data={"username": "liuyang", "name": "刘洋", "unit_id": unit.id})
    user = db.session.scalar(select(User).where(User.username == "liuyang"))
    assert client.post(f"/admin/security/users/{user.id}/roles", data={"roles": ["handler"]}).status_code == 403
    security = app.test_client()
    log_in(security, make_user(Role.secadmin).username)
    assert security.post(f"/admin/security/users/{user.id}/roles", data={"roles": ["handler"]}).status_code == 303
    assert db.session.get(User, user.id).roles == {Role.handler}


@pytest.mark.parametrize("roles", [["secadmin", "leader"], ["sysadmin", "clerk"], ["auditor", "dispatcher"]])
def test_no_admin_account_can_be_given_a_business_role(client, login_as, make_user, db, roles):
    login_as(Role.secadmin)
    target = make_user(Role.sysadmin)
    response = client.post(f"/admin/security/users/{target.id}/roles", data={"roles": roles})
    assert response.status_code == 200 and "不能与业务角色同时授予" in text_of(response)
    assert db.session.get(User, target.id).roles == {Role.sysadmin}


def test_a_reset_password_only_opens_the_forced_change_and_the_user_is_told_who_reset_it(
        app, client, login_as, make_user, db):
    admin = login_as(Role.sysadmin, name="张建", username="sysadmin_zj")
    user = make_user(Role.leader)
    password = shown_password(client.post(f"/admin/users/{user.id}/reset-password"))
    stored = db.session.get(User, user.id)
    assert stored.password_reset_by_id == admin.id and stored.password_reset_at is not None
    theirs = app.test_client()
    assert log_in(theirs, user.username, password).status_code == 302
    for path in ("/", "/appeals", "/enterprises", "/admin/users"):
        response = theirs.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/password"), path
    assert theirs.get("/appeals", headers={"HX-Request": "true"}).headers["HX-Redirect"].endswith("/password")
    page = text_of(theirs.get("/password"))
    when = local_time(stored.password_reset_at)
    assert f"您的密码已于 {when} 由 张建（sysadmin_zj）重置" in page
    assert "如非您本人申请" in page
    assert change(theirs, password, "Leader-pass-2027").status_code == 302
    assert theirs.get("/").status_code == 200
    assert "您的密码已于" not in text_of(theirs.get("/password"))


def test_the_auditor_is_shown_a_reset_followed_by_a_log_in_from_the_resetting_admins_address(
        app, client, login_as, make_user, db):
    admin = login_as(Role.sysadmin)
    taken_over = make_user(Role.leader, username="leader_a")
    honest = make_user(Role.handler, username="handler_b")
    since = utcnow() - timedelta(minutes=1)
    otp_a = shown_password(client.post(f"/admin/users/{taken_over.id}/reset-password", environ_base={"REMOTE_ADDR": ADMIN_IP}))
    otp_b = shown_password(client.post(f"/admin/users/{honest.id}/reset-password", environ_base={"REMOTE_ADDR": ADMIN_IP}))
    assert login_from(app.test_client(), "leader_a", otp_a, ADMIN_IP).status_code == 302
    assert login_from(app.test_client(), "handler_b", otp_b, USER_IP).status_code == 302
    flagged = accounts.suspicious_resets(since)
    assert [(f.reset.user_id, f.reset.object_id, f.login.user_id, f.login.ip) for f in flagged] == [
        (admin.id, str(taken_over.id), taken_over.id, ADMIN_IP)
    ]
    assert flagged[0].login.at >= flagged[0].reset.at
    assert accounts.suspicious_resets(utcnow() + timedelta(minutes=1)) == []


# 2. A password change ends the user's other sessions ---------------------------------------------


@pytest.mark.parametrize("forced", [False, True])
def test_changing_ones_password_ends_every_other_session_of_that_user(app, make_user, db, forced):
    user = make_user(Role.handler, must_change_password=forced)
    here, elsewhere = app.test_client(), app.test_client()
    log_in(here, user.username)
    log_in(elsewhere, user.username)
    assert open_sessions(db, user) == 2
    assert change(here, PASSWORD, "New-pass-2027").status_code == 302
    assert open_sessions(db, user) == 1
    gone = elsewhere.get("/")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert here.get("/").status_code == 200


# 7. No oracle for the existence of a user name ---------------------------------------------------


def test_unknown_user_wrong_password_and_locked_account_get_the_same_answer(client, make_user, db):
    free = make_user(Role.clerk)
    locked = make_user(Role.clerk)
    answers = [log_in(client, locked.username, "Wrong-pass-2026") for _ in range(5)]
    assert db.session.get(User, locked.id).is_locked()
    answers += [
        log_in(client, locked.username, "Wrong-pass-2026"),
        log_in(client, free.username, "Wrong-pass-2026"),
        log_in(client, "nobody", "Wrong-pass-2026"),
    ]
    assert {a.status_code for a in answers} == {401}
    assert {text_of(a) for a in answers} == {text_of(answers[-1])}
    assert "用户名或密码错误。" in text_of(answers[-1]) and "锁定" not in text_of(answers[-1])


def test_the_lock_is_told_only_to_someone_who_gave_the_right_password(client, make_user):
    user = make_user(Role.clerk)
    for _ in range(5):
        log_in(client, user.username, "Wrong-pass-2026")
    assert "账号已锁定" not in text_of(log_in(client, user.username, "Wrong-pass-2026"))
    assert "账号已锁定" in text_of(log_in(client, user.username, PASSWORD))


def test_every_refused_log_in_runs_one_password_hash_check_of_the_same_cost(client, make_user, monkeypatch):
    free = make_user(Role.clerk)
    locked = make_user(Role.clerk, locked_until=utcnow() + timedelta(minutes=10))
    checked = []
    real = accounts.check_password_hash

    def counting(pwhash, password):
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    for username in ("nobody", free.username, locked.username):
        checked.clear()
        log_in(client, username, "Wrong-pass-2026")
        assert len(checked) == 1, username
        # The dummy hash of an unknown user is made with the same method and cost as the real ones.
        assert checked[0].split("$")[0] == free.password_hash.split("$")[0], username


# 8. Password policy over time --------------------------------------------------------------------


def test_the_same_initial_password_cannot_be_kept(app, client, login_as, make_user, db):
    user = make_user(Role.clerk, must_change_password=True)
    with pytest.raises(accounts.PasswordRefused, match="不能与当前密码相同"):
        accounts.change_password(user, PASSWORD)
    db.session.rollback()
    login_as(Role.sysadmin)
    otp = shown_password(client.post(f"/admin/users/{user.id}/reset-password"))
    theirs = app.test_client()
    log_in(theirs, user.username, otp)
    kept = change(theirs, otp, otp)
    assert kept.status_code == 200 and "新密码不能与当前密码相同。" in text_of(kept)
    assert db.session.get(User, user.id).must_change_password


def test_none_of_the_last_five_passwords_can_be_used_again(client, make_user, db):
    user = make_user(Role.handler)
    log_in(client, user.username)
    passwords = [PASSWORD] + [f"Chosen-pass-{n}x" for n in range(1, 6)]
    for before, after in zip(passwords, passwords[1:]):
        assert change(client, before, after).status_code == 302, after
    for old in passwords[:-1]:
        refused = change(client, passwords[-1], old)
        assert refused.status_code == 200 and "不能与最近 5 次使用过的密码相同" in text_of(refused), old
    stored = db.session.get(User, user.id)
    assert stored.check_password(passwords[-1])
    assert change(client, passwords[-1], "Chosen-pass-6x").status_code == 302
    # Six changes on, the first password has left the history.
    assert change(client, "Chosen-pass-6x", PASSWORD).status_code == 302


def test_a_password_older_than_the_maximum_age_must_be_changed(client, make_user, db):
    user = make_user(Role.handler, password_changed_at=utcnow() - timedelta(days=91))
    assert log_in(client, user.username).status_code == 302
    response = client.get("/")
    assert response.headers["Location"].endswith("/password")
    page = text_of(client.get("/password"))
    assert "超过 90 天" in page
    assert change(client, PASSWORD, "Fresh-pass-2027").status_code == 302
    assert client.get("/").status_code == 200
    assert utcnow() - db.session.get(User, user.id).password_changed_at < timedelta(minutes=1)


def test_the_maximum_age_is_configurable(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "GAOXIN_PASSWORD_MAX_AGE_DAYS", 30)
    old = make_user(Role.handler, password_changed_at=utcnow() - timedelta(days=31))
    young = make_user(Role.handler, password_changed_at=utcnow() - timedelta(days=29))
    log_in(client, old.username)
    assert client.get("/").headers["Location"].endswith("/password")
    client.post("/logout")
    log_in(client, young.username)
    assert client.get("/").status_code == 200


def test_the_maximum_age_comes_from_the_environment(monkeypatch, tmp_path):
    from gaoxin import config

    monkeypatch.delenv("GAOXIN_PASSWORD_MAX_AGE_DAYS", raising=False)
    monkeypatch.setenv("GAOXIN_SECRET_KEY", "x")
    assert config.from_environment(tmp_path)["GAOXIN_PASSWORD_MAX_AGE_DAYS"] == 90
    monkeypatch.setenv("GAOXIN_PASSWORD_MAX_AGE_DAYS", "45")
    assert config.from_environment(tmp_path)["GAOXIN_PASSWORD_MAX_AGE_DAYS"] == 45


def test_the_security_page_states_the_password_policy_over_time(client, login_as):
    login_as(Role.secadmin)
    page = text_of(client.get("/admin/security"))
    assert "不能与最近 5 次使用过的密码相同" in page and "90 天" in page


def test_demo_accounts_still_skip_the_forced_first_change(client, db):
    from gaoxin.services import demo

    demo.create_units()
    demo.create_users()
    db.session.commit()
    assert log_in(client, "handler", demo.DEMO_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200



def test_create_admins_still_makes_three_separate_admins_who_must_change_their_password(app, client, db):
    result = app.test_cli_runner().invoke(args=["gaoxin", "create-admins"])
    assert result.exit_code == 0, result.output
    admins = db.session.scalars(select(User).order_by(User.username)).all()
    assert [(u.username, u.roles, u.must_change_password) for u in admins] == [
        ("auditor", {Role.auditor}, True), ("secadmin", {Role.secadmin}, True), ("sysadmin", {Role.sysadmin}, True),
    ]
    password = re.search(r"sysadmin\s+(\S+)", result.output).group(1)
    log_in(client, "sysadmin", password)
    assert client.get("/admin/units").headers["Location"].endswith("/password")
    kept = change(client, password, password)
    assert "新密码不能与当前密码相同。" in text_of(kept)

def test_migration_0003_dates_existing_passwords_from_the_upgrade_and_downgrades(empty_database_url, tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from gaoxin import create_app
    from gaoxin.extensions import db as database

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "GAOXIN_DATA_DIR": str(tmp_path)})
    with app.app_context():
        upgrade(revision="0002_application_outcome_enum")
        database.session.execute(text(
            "INSERT INTO units (id, name, kind, is_paying_unit, active, created_at) "
            "VALUES (1, '企业服务中心', 'dispatch_centre', false, true, '2025-01-01 00:00:00')"))
        database.session.execute(text(
            "INSERT INTO users (id, username, name, unit_id, password_hash, must_change_password, active, "
            "failed_logins, created_at) VALUES (1, 'old', '老用户', 1, 'x', false, true, 0, '2025-01-01 00:00:00')"))
        database.session.commit()
        started = utcnow()
        upgrade(revision="0003_password_policy")
        changed_at = database.session.scalar(select(User.password_changed_at).where(User.id == 1))
        assert changed_at >= started - timedelta(seconds=5)
        assert "used_passwords" in inspect(database.engine).get_table_names()
        database.session.commit()
        downgrade(revision="0002_application_outcome_enum")
        assert "used_passwords" not in inspect(database.engine).get_table_names()
        columns = {c["name"] for c in inspect(database.engine).get_columns("users")}
        assert not columns & {"password_changed_at", "password_reset_at", "password_reset_by_id"}
        assert database.session.execute(text("SELECT username FROM users")).scalar() == "old"
        database.session.commit()
        database.session.remove()
        database.engine.dispose()
