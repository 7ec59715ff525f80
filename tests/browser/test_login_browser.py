"""Log in and out in a real browser: each role's home page, the wrong-password message, logout and the back button."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin.extensions import db
from gaoxin.models import User
from gaoxin.navigation import NAV_ITEMS
from gaoxin.permissions import can
from gaoxin.services.demo import DEMO_USERS

from .helpers import assert_accessible, login, logout, submit_login

DEMO = {username: (name, unit_name, roles) for username, name, unit_name, roles in DEMO_USERS}

#: Nav entries a role must never see, whatever pages exist by then (三员分立; the auditor only reads the log).
NEVER_IN_NAV = {
    "clerk_station": {"单位", "用户", "账号安全", "企业导入", "审计日志"},
    "handler": {"单位", "用户", "账号安全", "企业导入", "审计日志"},
    "auditor": {"企业档案", "诉求登记", "诉求", "调度中心", "部门收件箱", "政策申报", "单位", "用户", "账号安全", "企业导入"},
}


def expected_nav(live_app, username):
    """The nav labels the user may see among the pages registered so far, asked of permissions.can."""
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return [label for label, endpoint, action in NAV_ITEMS
                if endpoint in live_app.view_functions and (action is None or can(user, action))]


def nav_labels(page):
    """Each nav link's label, without the inbox's live badge that may have loaded after it."""
    links = page.get_by_role("navigation", name="主导航").get_by_role("link").all_inner_texts()
    return [text.split("\n")[0].strip() for text in links]


@pytest.mark.parametrize("username", ["clerk_station", "handler", "auditor"])
def test_each_role_logs_in_to_a_home_page_with_its_own_navigation(page, live_app, username):
    name, unit_name, roles = DEMO[username]

    login(page, username)

    assert page.url.endswith("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{name}")
    expect(page.locator(".site-header")).to_contain_text(f"{unit_name} · {name}")
    expect(page.locator("main")).to_contain_text(roles[0].title)
    labels = nav_labels(page)
    assert labels == expected_nav(live_app, username)
    assert "首页" in labels
    assert not NEVER_IN_NAV[username] & set(labels)
    if "部门收件箱" in labels:
        # The department's waiting work shows on its nav entry without opening the inbox.
        expect(page.locator("#inbox-badge")).to_contain_text("待办")


@pytest.mark.parametrize("known_user", [True, False], ids=["wrong-password", "unknown-user"])
def test_wrong_password_shows_one_message_and_keeps_the_username(page, make_live_user, known_user):
    username = make_live_user().username if known_user else "nobody_here"

    response = submit_login(page, username, "Wrong-pass-2026")

    assert response.status == 401
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    expect(page.get_by_label("用户名", exact=True)).to_have_value(username)
    expect(page.get_by_label("密码", exact=True)).to_have_value("")
    expect(page.get_by_role("button", name="退出")).to_have_count(0)


def test_logout_returns_to_login_and_back_does_not_show_the_home_page(page):
    name = DEMO["clerk_point"][0]
    home = login(page, "clerk_point")
    assert "no-store" in home.headers["cache-control"]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{name}")

    logout(page)

    assert "/login" in page.url
    expect(page.get_by_role("status")).to_contain_text("您已安全退出。")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")

    page.go_back()

    assert_accessible(page)
    assert "/login" in page.url
    expect(page.get_by_text(f"您好，{name}")).to_have_count(0)
    expect(page.get_by_role("button", name="退出")).to_have_count(0)
