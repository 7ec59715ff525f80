"""Enterprise accounts: log-in, lock-out, server-side sessions, activation with printed codes, and the fence
between staff and enterprise pages (an app.url_map walk both ways)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from gaoxin.models import AuditEntry, Contact, EnterpriseAccount, EnterpriseSession, Role, utcnow
from gaoxin.models.portal import ActivationCode
from gaoxin.services import portal_accounts

from .conftest import PASSWORD, text_of
from .test_permissions import _sample_value

NEW_PASSWORD = "Qiye-mima-2026"


def _audit(db, action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


# Log-in, log-out, lock-out -------------------------------------------------------------------------------

def test_an_enterprise_account_logs_in_sees_its_portal_and_the_log_in_is_audited(client, db, make_account, login_enterprise):
    account = make_account()
    login_enterprise(client, account)
    page = client.get("/e/")
    assert page.status_code == 200
    assert "我的事项" in text_of(page) and account.enterprise.name in text_of(page)
    entry = _audit(db, "portal_login")[-1]
    assert entry.user_id is None and entry.username == f"企业:{account.login_name}"
    assert entry.object_type == "EnterpriseAccount" and entry.object_id == str(account.id)


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer_and_are_audited(client, db, make_account):
    account = make_account()
    wrong = client.post("/e/login", data={"login_name": account.login_name, "password": "Wrong-pass-1"})
    unknown = client.post("/e/login", data={"login_name": "nobody-here", "password": "Wrong-pass-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误。" in text_of(wrong) and "用户名或密码错误。" in text_of(unknown)
    assert [e.result for e in _audit(db, "portal_login_failed")] == ["failed", "failed"]
    assert client.get("/e/").status_code == 302


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_told_so(client, db, make_account):
    account = make_account()
    for _ in range(5):
        client.post("/e/login", data={"login_name": account.login_name, "password": "Wrong-pass-1"})
    locked = client.post("/e/login", data={"login_name": account.login_name, "password": PASSWORD})
    assert locked.status_code == 401 and "账号已锁定" in text_of(locked)
    assert db.session.get(EnterpriseAccount, account.id).locked_until is not None
    assert _audit(db, "portal_lockout")


def test_a_disabled_account_cannot_log_in(client, make_account):
    account = make_account(active=False)
    response = client.post("/e/login", data={"login_name": account.login_name, "password": PASSWORD})
    assert response.status_code == 401 and "已停用" in text_of(response)


def test_logging_out_ends_the_server_side_session_for_good(client, db, make_account, login_enterprise):
    account = make_account()
    login_enterprise(client, account)
    cookie = client.get_cookie("gaoxin_session")
    response = client.post("/e/logout")
    assert response.status_code == 302 and response.headers["Location"].startswith("/e/login")
    assert db.session.scalars(select(EnterpriseSession.ended_at)).all()[0] is not None
    client.set_cookie("gaoxin_session", cookie.value)  # a captured cookie replayed
    assert client.get("/e/").status_code == 302
    assert _audit(db, "portal_logout")


def test_disabling_an_account_ends_its_open_session(client, db, make_account, login_enterprise, make_user):
    account = make_account()
    login_enterprise(client, account)
    portal_accounts.set_active(db.session.get(EnterpriseAccount, account.id), False, make_user(Role.clerk))
    db.session.commit()
    assert client.get("/e/").status_code == 302


def test_an_idle_portal_session_ends(client, db, app, make_account, login_enterprise):
    account = make_account()
    login_enterprise(client, account)
    row = db.session.scalars(select(EnterpriseSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["GAOXIN_IDLE_MINUTES"] + 1)
    db.session.commit()
    response = client.get("/e/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/e/login")
    assert "长时间未操作" in text_of(client.get(response.headers["Location"]))


def test_the_password_change_keeps_this_session_and_ends_the_others(app, client, db, make_account, login_enterprise):
    account = make_account()
    other = app.test_client()
    login_enterprise(other, account)
    login_enterprise(client, account)
    bad = client.post("/e/password", data={"current": "Wrong-pass-1", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert bad.status_code == 422 and "当前密码不正确" in text_of(bad)
    response = client.post("/e/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/e/").status_code == 200
    assert other.get("/e/").status_code == 302
    assert db.session.get(EnterpriseAccount, account.id).check_password(NEW_PASSWORD)
    assert _audit(db, "portal_password_changed")


# The fence between staff and enterprises ---------------------------------------------------------------

def _requests(app, prefix_filter):
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not prefix_filter(rule.endpoint):
            continue
        values = {arg: _sample_value(rule._converters.get(arg)) for arg in rule.arguments}
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)


#: Public pages every visitor reaches (the receipt lookup, the salon sign-up, the health check, static files).
PUBLIC = {"static", "ops.healthz", "ops.readyz", "salons.signup"}


def _is_portal(endpoint):
    return endpoint.split(".", 1)[0] in {"portal"} or endpoint.startswith("portal_")


def _is_staff(endpoint):
    return not _is_portal(endpoint) and endpoint not in PUBLIC and not endpoint.startswith("public.")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_an_enterprise_account_gets_no_staff_page_or_partial(app, client, db, make_account, login_enterprise, htmx):
    """Every staff URL (its arguments filled with 1) answers 404 or sends the account to its portal; never 200."""
    login_enterprise(client, make_account())
    headers = {"HX-Request": "true"} if htmx else {}
    leaks, checked = [], 0
    for endpoint, method, url in _requests(app, _is_staff):
        response = client.open(url, method=method, headers=headers)
        checked += 1
        redirected_home = response.status_code == 302 and response.headers["Location"].startswith("/e/")
        if response.status_code != 404 and not redirected_home:
            leaks.append(f"{method} {url} ({endpoint}) → {response.status_code}")
    assert checked > 100
    assert not leaks, "staff endpoints that answered an enterprise account:\n" + "\n".join(leaks)
    # Still logged in: the walk did not log the account out, so every 404 above was really refused.
    assert client.get("/e/").status_code == 200
    denied = _audit(db, "access_denied")
    assert denied and all(e.user_id is None and e.username.startswith("企业:") for e in denied)


def test_staff_are_sent_to_their_home_from_the_staff_log_in_page_but_enterprises_to_the_portal(client, make_account, login_enterprise):
    login_enterprise(client, make_account())
    assert client.get("/").headers["Location"].startswith("/e/")
    assert client.get("/login").headers["Location"].startswith("/e/")


@pytest.mark.parametrize("role", [Role.clerk, Role.window, Role.dispatcher, Role.handler, Role.leader, Role.sysadmin])
def test_staff_get_no_enterprise_page(app, client, db, login_as, role):
    login_as(role)
    leaks = []
    for endpoint, method, url in _requests(app, _is_portal):
        if endpoint in {"portal.login", "portal.activate"}:
            continue  # the public log-in and activation forms
        response = client.open(url, method=method)
        if response.status_code != 404:
            leaks.append(f"{method} {url} ({endpoint}) → {response.status_code}")
    assert not leaks, "portal endpoints that answered staff:\n" + "\n".join(leaks)
    assert client.get("/").status_code == 200


# Activation with a printed code ------------------------------------------------------------------------

@pytest.fixture
def contact(db, make_enterprise):
    enterprise = make_enterprise(name="成都硅宝科技股份有限公司")
    contact = Contact(enterprise_id=enterprise.id, name="王经理", mobile="13912345678")
    db.session.add(contact)
    db.session.commit()
    return contact


def _activate(client, enterprise, code, login_name="wangjl", password=NEW_PASSWORD, confirm=None):
    return client.post("/e/activate", data={
        "credit_code": enterprise.credit_code, "code": code, "login_name": login_name,
        "password": password, "confirm": confirm or password})


def test_a_printed_code_activates_the_contacts_account_and_logs_it_in(client, db, contact, make_user):
    code = portal_accounts.issue_code(contact, make_user(Role.clerk))
    db.session.commit()
    # Typed in lower case with spaces instead of dashes: still the printed code.
    response = _activate(client, _enterprise(db, contact), code.lower().replace("-", " "))
    assert response.status_code == 302, text_of(response)
    assert client.get("/e/").status_code == 200
    account = db.session.scalars(select(EnterpriseAccount)).one()
    assert account.contact_id == contact.id and account.login_name == "wangjl" and account.check_password(NEW_PASSWORD)
    assert db.session.scalars(select(ActivationCode.used_at)).one() is not None
    assert _audit(db, "portal_activated") and _audit(db, "portal_code_issued")


def _enterprise(db, contact):
    from gaoxin.models import Enterprise

    return db.session.get(Enterprise, contact.enterprise_id)


def _state(db):
    """Everything an activation may change: accounts and codes as tuples."""
    accounts = db.session.execute(select(EnterpriseAccount.id, EnterpriseAccount.login_name,
                                         EnterpriseAccount.password_hash)).all()
    codes = db.session.execute(select(ActivationCode.id, ActivationCode.used_at, ActivationCode.account_id)).all()
    return accounts, codes


def test_a_used_code_is_refused_with_a_clear_message_and_nothing_changes(app, client, db, contact, make_user):
    code = portal_accounts.issue_code(contact, make_user(Role.clerk))
    db.session.commit()
    assert _activate(client, _enterprise(db, contact), code).status_code == 302
    before = _state(db)
    again = _activate(app.test_client(), _enterprise(db, contact), code, login_name="another", password="Other-pass-2026")
    assert again.status_code == 422 and "该激活码已经使用过" in text_of(again)
    assert 'value="another"' in again.get_data(as_text=True)
    assert _state(db) == before
    assert _audit(db, "portal_activation_failed")[-1].detail.endswith("used")


def test_an_expired_code_is_refused(client, db, contact, make_user):
    code = portal_accounts.issue_code(contact, make_user(Role.clerk))
    row = db.session.scalars(select(ActivationCode)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    before = _state(db)
    response = _activate(client, _enterprise(db, contact), code)
    assert response.status_code == 422 and "已过期" in text_of(response)
    assert _state(db) == before


def test_a_code_typed_with_another_enterprises_credit_code_is_refused(client, db, contact, make_user, make_enterprise):
    code = portal_accounts.issue_code(contact, make_user(Role.clerk))
    db.session.commit()
    other = make_enterprise()
    before = _state(db)
    response = _activate(client, other, code)
    assert response.status_code == 422 and "不属于此统一社会信用代码对应的企业" in text_of(response)
    assert _state(db) == before


def test_an_unknown_code_and_a_bad_credit_code_are_refused_beside_their_fields(client, db, contact):
    enterprise = _enterprise(db, contact)
    unknown = _activate(client, enterprise, "ABCD-EFGH-JKMN")
    assert unknown.status_code == 422 and "激活码不正确" in text_of(unknown)
    bad = client.post("/e/activate", data={"credit_code": "123", "code": "ABCD-EFGH-JKMN", "login_name": "wangjl",
                                           "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert bad.status_code == 422
    assert db.session.scalars(select(EnterpriseAccount)).all() == []


def test_a_new_code_sets_a_new_password_for_an_activated_account(client, db, contact, make_user):
    clerk = make_user(Role.clerk)
    first = portal_accounts.issue_code(contact, clerk)
    db.session.commit()
    assert _activate(client, _enterprise(db, contact), first).status_code == 302
    client.post("/e/logout")
    second = portal_accounts.issue_code(contact, clerk)
    db.session.commit()
    assert _activate(client, _enterprise(db, contact), second, password="Brand-new-2026").status_code == 302
    account = db.session.scalars(select(EnterpriseAccount)).one()
    assert account.check_password("Brand-new-2026")


def test_activation_and_log_in_are_rate_limited_per_address(client, db, contact):
    enterprise = _enterprise(db, contact)
    statuses = [_activate(client, enterprise, "ABCD-EFGH-JKMN").status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    logins = [client.post("/e/login", data={"login_name": "x-nobody", "password": "y"}).status_code for _ in range(11)]
    assert logins[-1] == 429
