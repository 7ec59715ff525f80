"""The enterprise registry in a real browser: search as you type (pinyin initials, Traditional characters),
the enterprise's file with masked mobiles, credit-code errors on the new-enterprise form, search without JavaScript.

Reads the demo enterprises (tests/browser/conftest.py); the enterprise the credit-code test types in is
refused, and the test checks that it was never created. Arrow keys work from the search box, and 行业门类/企业规模
may stay unfilled (that test registers a uniquely named enterprise).
"""
import itertools
import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from stdnum.cn import uscc

from gaoxin.extensions import db
from gaoxin.models import Enterprise
from gaoxin.registry_text import CREDIT_CODE_ALPHABET

from .helpers import assert_accessible, login, submit, visit

MAIPU = "成都迈普通信技术股份有限公司"
SHULIAN = "成都数联铭品科技有限公司"
NEW_NAME = "成都测试浏览器科技有限公司"
MASKED_MOBILE = re.compile(r"^1\d{2}\*{4}\d{4}$")
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def maipu(live_app):
    """迈普's id, credit code and contacts' full mobiles, read from the live app's database."""
    with live_app.app_context():
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == MAIPU))
        assert enterprise is not None, "live_app lacks the demo enterprises"
        mobiles = [c.mobile for c in enterprise.contacts if c.mobile]
        assert mobiles, f"{MAIPU} has no contact with a mobile in the demo data"
        return SimpleNamespace(id=enterprise.id, credit_code=enterprise.credit_code, mobiles=mobiles)


def search_as_you_type(page, query):
    """Type `query` into the registry search box (clearing it first); wait for htmx to swap in its results."""
    box = page.get_by_role("searchbox", name="企业名称、统一社会信用代码或拼音首字母")
    box.fill("")
    box.press_sequentially(query)
    results = page.locator("#results")
    # The caption names the query, so an earlier keystroke's results do not count.
    expect(results.locator("caption")).to_have_text(f"“{query}”的查询结果 · 第 1 页")
    expect(page).to_have_url(re.compile(re.escape("/enterprises?q=" + quote(query)) + "$"))  # hx-push-url
    assert_accessible(page)
    return box, results


def result_link(results, name):
    return results.get_by_role("row").filter(has_text=name).get_by_role("link", name=name, exact=True)


def assert_enterprise_file(page, maipu):
    """迈普's own page: its name, its credit code, and its contacts' mobiles masked (****)."""
    assert page.url.endswith(f"/enterprises/{maipu.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(MAIPU)
    expect(page.locator(".facts dd.code")).to_have_text(maipu.credit_code)
    mobiles = page.locator(".mobile .code")
    expect(mobiles).to_have_count(len(maipu.mobiles))
    for shown in mobiles.all_inner_texts():
        assert MASKED_MOBILE.fullmatch(shown.strip()), f"mobile not masked: {shown!r}"
    html = page.content()
    for mobile in maipu.mobiles:
        assert mobile not in html, f"the full mobile {mobile} is in the page"


def test_search_by_initials_and_traditional_then_open_the_file_with_the_keyboard(page, maipu):
    login(page, "clerk_station")
    visit(page, "/enterprises")

    # Traditional characters find the Simplified name.
    _, results = search_as_you_type(page, "邁普")
    expect(result_link(results, MAIPU)).to_be_visible()

    # Pinyin initials; the row shows the credit code too.
    box, results = search_as_you_type(page, "mptx")
    row = results.get_by_role("row").filter(has_text=MAIPU)
    expect(row).to_contain_text(maipu.credit_code)
    link = result_link(results, MAIPU)

    # Keyboard only: from the search box past 查询 to the first result, Enter opens it.
    box.focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="查询", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)

    assert_enterprise_file(page, maipu)


def test_arrow_down_from_the_search_box_then_enter_opens_the_enterprise(page, maipu):
    login(page, "clerk_station")
    visit(page, "/enterprises")
    box, results = search_as_you_type(page, "mptx")

    page.keyboard.press("ArrowDown")
    # app.js moves focus inside its keydown handler: no waiting needed, so fail fast when it does not.
    expect(result_link(results, MAIPU)).to_be_focused(timeout=1_000)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)

    assert_enterprise_file(page, maipu)


def _wrong_check_character(code):
    """The code with its 18th character replaced by another allowed one: only the check character is wrong."""
    return code[:17] + next(c for c in CREDIT_CODE_ALPHABET if c != code[17])


def test_bad_credit_code_is_named_beside_the_field_and_nothing_is_created(page, live_app, maipu):
    login(page, "clerk_station")
    visit(page, "/enterprises/new")
    name = page.get_by_label("企业名称", exact=True)
    code = page.get_by_label("统一社会信用代码", exact=True)
    contact = page.get_by_label("联系人姓名", exact=True)
    mobile = page.get_by_label("联系人手机", exact=True)
    name.fill(NEW_NAME)
    code.fill(_wrong_check_character(maipu.credit_code))
    contact.fill("周晓明")
    mobile.fill("13912345678")

    response = submit(page, page.get_by_role("button", name="登记企业", exact=True))

    assert response.status == 422
    assert page.url.endswith("/enterprises/new")
    expect(page.get_by_role("alert")).to_contain_text("提交未成功")
    error = page.locator("#credit_code-error")
    expect(error).to_have_text(f"统一社会信用代码校验位错误：第18位应为“{maipu.credit_code[17]}”。")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_attribute("aria-describedby", re.compile(r"\bcredit_code-error\b"))
    expect(page.locator("#name-error")).to_have_count(0)
    expect(page.locator("#contact_name-error")).to_have_count(0)
    expect(name).to_have_value(NEW_NAME)
    expect(contact).to_have_value("周晓明")
    expect(mobile).to_have_value("13912345678")

    # A letter GB 32100 leaves out (I) is named as a character the code may not use.
    code.fill(maipu.credit_code[:9] + "I" + maipu.credit_code[10:])
    response = submit(page, page.get_by_role("button", name="登记企业", exact=True))

    assert response.status == 422
    expect(error).to_have_text("统一社会信用代码含有不允许的字符“I”（不得使用 I、O、Z、S、V）。")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_value(NEW_NAME)
    expect(contact).to_have_value("周晓明")

    # Neither attempt registered the enterprise: searching for its name finds nothing.
    visit(page, "/enterprises?q=" + quote(NEW_NAME))
    expect(page.locator("#results")).to_contain_text(f"未找到与“{NEW_NAME}”相符的企业")
    expect(page.locator("#results table")).to_have_count(0)
    with live_app.app_context():
        assert db.session.scalar(select(Enterprise).where(Enterprise.name == NEW_NAME)) is None


def test_search_form_works_without_javascript(open_page):
    page = open_page(java_script_enabled=False)
    login(page, "clerk_station")
    visit(page, "/enterprises")

    page.get_by_role("searchbox", name="企业名称、统一社会信用代码或拼音首字母").fill("数联")
    response = submit(page, page.get_by_role("button", name="查询", exact=True))

    assert response.status == 200
    assert page.url.endswith("/enterprises?q=" + quote("数联"))
    results = page.locator("#results")
    expect(results.locator("caption")).to_have_text("“数联”的查询结果 · 第 1 页")
    expect(result_link(results, SHULIAN)).to_be_visible()
    expect(page.get_by_role("searchbox", name="企业名称、统一社会信用代码或拼音首字母")).to_have_value("数联")


def _new_credit_code(live_app):
    """A valid credit code no demo enterprise has (BT, "browser test", where the demo codes have MA)."""
    body = f"91510100BT{next(_counter):07d}"
    code = body + uscc.calc_check_digit(body)
    with live_app.app_context():
        assert db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code)) is None
    return code


def test_industry_and_size_may_stay_unfilled(page, live_app):
    name = f"成都浏览器测试未填行业科技有限公司{next(_counter)}"
    login(page, "clerk_station")
    visit(page, "/enterprises/new")
    page.get_by_label("企业名称", exact=True).fill(name)
    page.get_by_label("统一社会信用代码", exact=True).fill(_new_credit_code(live_app))
    expect(page.get_by_label("行业门类（GB/T 4754）", exact=True).locator("option:checked")).to_have_text("（未填写）")
    expect(page.get_by_label("企业规模", exact=True).locator("option:checked")).to_have_text("（未填写）")

    response = submit(page, page.get_by_role("button", name="登记企业", exact=True))

    assert response.status == 200, page.locator(".field .error").all_inner_texts()
    assert re.search(r"/enterprises/\d+$", page.url), page.url
    expect(page.get_by_role("status")).to_have_text(f"已登记企业：{name}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
