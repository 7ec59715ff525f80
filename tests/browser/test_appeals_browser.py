"""Appeals in a real browser: the salon scene across three desks, intake errors, no-JavaScript use, a sign-for race.

The live app holds the demo categories (人才 → 科技人才局), today's salon "促进民营企业发展" and the demo
cases (tests/browser/conftest.py). Every appeal a test records is new, found by its receipt number.
"""
import itertools
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin.extensions import db
from gaoxin.models import AppealCategory, Enterprise, Salon, User
from gaoxin.services import appeals as appeal_service
from gaoxin.services.demo import DEMO_SALON, DEMO_USERS

from .helpers import allow_console_error, assert_accessible, login, submit, visit

ENTERPRISE = "成都迈普通信技术股份有限公司"
STAFF = {username: name for username, name, _, _ in DEMO_USERS}
RECEIPT = re.compile(r"SQ\d{8,}")
#: The inbox polls every 10 s; the issue allows 15 s from recording to arrival.
ARRIVAL_MS = 15_000
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def demo(live_app):
    """What the tests pick in the forms: the enterprise with its credit code, the salon's option text."""
    with live_app.app_context():
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == ENTERPRISE))
        salon = db.session.scalar(select(Salon).where(Salon.theme == DEMO_SALON["theme"]).order_by(Salon.id.desc()))
        assert enterprise is not None and salon is not None, "live_app lacks the demo enterprises or the demo salon"
        return SimpleNamespace(
            enterprise_id=enterprise.id, credit_code=enterprise.credit_code,
            salon_option=f"{salon.held_on:%Y-%m-%d} {salon.theme}",
        )


def unique(text):
    return f"{text}（浏览器测试{next(_counter)}）"


def receipt_on(page):
    """The receipt number in the appeal page's heading."""
    match = RECEIPT.search(page.get_by_role("heading", level=1).inner_text())
    assert match, f"no receipt number on {page.url}"
    return match.group(0)


def appeal_id_of(page):
    match = re.search(r"/appeals/(\d+)", page.url)
    assert match, f"not an appeal page: {page.url}"
    return int(match.group(1))


def record_in_app(live_app, content):
    """An appeal recorded by clerk_station for 迈普 in category 人才 (routed to 科技人才局), straight through the service."""
    with live_app.app_context():
        clerk = db.session.scalar(select(User).where(User.username == "clerk_station"))
        category = db.session.scalar(select(AppealCategory).where(AppealCategory.name == "人才"))
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == ENTERPRISE))
        appeal, _ = appeal_service.record(clerk, enterprise=enterprise, category=category,
                                          channel="building_station", content=content)
        db.session.commit()
        return appeal.id, appeal.receipt_no


def pick_enterprise_with_keyboard(page, query, name):
    """Type into the typeahead, ArrowDown to the first suggestion, Enter on it: the form holds the enterprise."""
    box = page.get_by_role("combobox", name="企业", exact=True)
    box.click()
    box.press_sequentially(query)
    suggestions = page.locator("#enterprise-suggestions")
    option = suggestions.get_by_role("button").first
    expect(option).to_contain_text(name)
    assert_accessible(page)  # the open list
    page.keyboard.press("ArrowDown")
    expect(option).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_have_value(name)
    expect(box).to_be_focused()
    expect(suggestions.get_by_role("button")).to_have_count(0)
    expect(page.locator("#enterprise_id")).not_to_have_value("")
    # Picking fetches the enterprise's contacts into the contact select.
    expect(page.get_by_label("联系人", exact=True).locator("option")).not_to_have_count(1)
    assert_accessible(page)


def open_action(page, title):
    """Open one <details> action form by its summary (works the same with and without JavaScript)."""
    summary = page.locator("summary").filter(has_text=re.compile(f"^{re.escape(title)}$"))
    summary.click()
    details = page.locator("details", has=summary)
    expect(details).to_have_attribute("open", "")
    return details


def panel_action(page, details, button):
    """Submit an action form inside the appeal panel; with JavaScript htmx swaps the panel in place."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/appeals/" in r.url) as response:
        details.get_by_role("button", name=button, exact=True).click()
    return response.value


def test_salon_scene(page, open_page, live_app, demo):
    clerk, handler, visitor = page, open_page(), open_page()
    reply_text = unique("已为企业新引进的三名博士办理人才公寓入住，请于下周一前往领取钥匙")
    note_text = unique("已电话联系企业人事负责人，核实博士学历材料")

    # B: the department handler has the inbox open before anything is recorded.
    login(handler, "handler")
    visit(handler, "/inbox")
    handler.evaluate("window.__sameDocument = true")

    # A: the clerk at the salon records the demand, picking the enterprise with the keyboard.
    login(clerk, "clerk_station")
    visit(clerk, "/appeals/new")
    pick_enterprise_with_keyboard(clerk, "迈普", ENTERPRISE)
    clerk.get_by_label("诉求类别", exact=True).select_option(label="人才")
    clerk.get_by_label("受理渠道", exact=True).select_option(label="高新沙龙")
    clerk.get_by_label("所属沙龙", exact=True).select_option(label=demo.salon_option)
    clerk.get_by_label("诉求内容", exact=True).fill(unique("公司新引进三名博士，希望了解人才公寓申请条件和办理流程"))
    response = submit(clerk, clerk.get_by_role("button", name="登记并转办"))

    assert response.status == 200 and "/appeals/" in clerk.url
    receipt = receipt_on(clerk)
    appeal_id = appeal_id_of(clerk)
    expect(clerk.get_by_role("status")).to_contain_text(f"诉求已登记，回执号 {receipt}")
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("待签收")
    expect(clerk.locator(".facts")).to_contain_text("高新沙龙（促进民营企业发展")
    expect(clerk.locator(".facts")).to_contain_text("科技人才局")

    # B: the appeal arrives in the open inbox by itself.
    row = handler.locator("#inbox-live tr").filter(has_text=receipt)
    row.wait_for(timeout=ARRIVAL_MS)
    assert handler.evaluate("window.__sameDocument === true"), "the inbox was reloaded"
    assert_accessible(handler)
    expect(row).to_contain_text(ENTERPRISE)
    expect(row).to_contain_text("待签收")

    # B signs for it in the row; htmx swaps just that row.
    with handler.expect_response(lambda r: r.url.endswith(f"/inbox/{appeal_id}/sign")) as signed:
        row.get_by_role("button", name=f"签收 {receipt}").click()
    assert signed.value.status == 200
    expect(row).to_contain_text("已签收，请及时办理。")
    expect(row).to_contain_text("办理中")
    expect(row.get_by_role("button", name=f"签收 {receipt}")).to_have_count(0)
    assert handler.evaluate("window.__sameDocument === true"), "signing reloaded the inbox"
    assert_accessible(handler)

    # B opens the appeal, replies, and adds an internal note.
    submit(handler, row.get_by_role("link", name=receipt, exact=True))
    expect(handler.locator(".facts")).to_contain_text(f"经办人 {STAFF['handler']}")
    reply = open_action(handler, "答复")
    reply.get_by_label("已解决", exact=True).check()
    reply.get_by_label("答复内容（企业可见）", exact=True).fill(reply_text)
    assert panel_action(handler, reply, "提交答复").status == 200
    panel = handler.locator("#appeal-panel")
    expect(panel).to_contain_text("已答复。")
    expect(panel.get_by_role("heading", level=1)).to_contain_text("已答复")
    expect(panel).to_contain_text(reply_text)
    assert_accessible(handler)
    note = open_action(handler, "内部备注（企业不可见）")
    note.get_by_label("内部备注", exact=True).fill(note_text)
    assert panel_action(handler, note, "添加备注").status == 200
    expect(handler.locator("#appeal-panel")).to_contain_text("已添加内部备注。")
    expect(handler.locator(".timeline")).to_contain_text(note_text)
    assert_accessible(handler)

    # A follows up with the enterprise: satisfied, so the appeal closes.
    visit(clerk, f"/appeals/{appeal_id}")
    follow_up = open_action(clerk, "回访")
    follow_up.get_by_label("满意", exact=True).check()
    follow_up.get_by_label("回访记录", exact=True).fill("企业对办理结果满意。")
    assert panel_action(clerk, follow_up, "记录回访").status == 200
    panel = clerk.locator("#appeal-panel")
    expect(panel).to_contain_text("回访已记录。")
    expect(panel.get_by_role("heading", level=1)).to_contain_text("已办结")
    assert_accessible(clerk)

    # C: the enterprise looks it up with the receipt and the credit code's last 6 characters.
    visit(visitor, "/track")
    visitor.get_by_label("回执号", exact=True).fill(receipt)
    visitor.get_by_label("统一社会信用代码后6位", exact=True).fill(demo.credit_code[-6:])
    submit(visitor, visitor.get_by_role("button", name="查询"))
    result = visitor.locator("section").filter(has=visitor.get_by_role("heading", name=re.compile(receipt)))
    expect(result.get_by_role("heading", level=2)).to_contain_text("已办结")
    expect(result).to_contain_text("已解决")
    expect(result).to_contain_text(reply_text)
    expect(result).to_contain_text(ENTERPRISE)
    html = visitor.content()
    for secret in (STAFF["handler"], STAFF["clerk_station"], note_text, "内部备注"):
        assert secret not in html, f"the public lookup shows {secret!r}"


def test_intake_bad_input_keeps_what_was_typed(page):
    login(page, "clerk_station")
    visit(page, "/appeals/new")
    pick_enterprise_with_keyboard(page, "mptx", ENTERPRISE)
    page.get_by_label("诉求类别", exact=True).select_option(label="人才")
    page.get_by_label("新联系人姓名", exact=True).fill("周晓明")

    response = submit(page, page.get_by_role("button", name="登记并转办"))

    assert response.status == 422
    assert page.url.endswith("/appeals/new")
    expect(page.get_by_role("alert")).to_contain_text("提交未成功")
    content = page.get_by_label("诉求内容", exact=True)
    expect(content).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#content-error")).to_have_text("请填写诉求内容。")
    expect(content).to_have_attribute("aria-describedby", re.compile(r"\bcontent-error\b"))
    expect(page.get_by_role("combobox", name="企业", exact=True)).to_have_value(ENTERPRISE)
    expect(page.locator("#enterprise_id")).not_to_have_value("")
    expect(page.get_by_text(f"已选择：{ENTERPRISE}")).to_be_visible()
    expect(page.get_by_label("诉求类别", exact=True).locator("option:checked")).to_have_text("人才")
    expect(page.get_by_label("新联系人姓名", exact=True)).to_have_value("周晓明")


def test_works_without_javascript(open_page, demo):
    clerk = open_page(java_script_enabled=False)
    handler = open_page(java_script_enabled=False)
    reply_text = unique("已与企业沟通，人才公寓申请材料已受理")

    # The clerk records an appeal, naming the enterprise in full (no typeahead without scripts) and finding
    # it with the 查找企业 button: its contacts are offered, the usual one chosen (issue 12, point 2).
    login(clerk, "clerk_station")
    visit(clerk, "/appeals/new")
    clerk.get_by_role("combobox", name="企业", exact=True).fill(ENTERPRISE)
    submit(clerk, clerk.get_by_role("button", name="查找企业"))
    expect(clerk.get_by_text(f"已选择：{ENTERPRISE}")).to_be_visible()
    contact = clerk.get_by_label("联系人", exact=True)
    expect(contact.locator("option:checked")).to_have_text(re.compile(r"\S+ 1\d\d\*\*\*\*\d{4}"))
    clerk.get_by_label("诉求类别", exact=True).select_option(label="人才")
    clerk.get_by_label("诉求内容", exact=True).fill(unique("希望了解高层次人才安家补贴的发放进度"))
    submit(clerk, clerk.get_by_role("button", name="登记并转办"))
    receipt = receipt_on(clerk)
    appeal_id = appeal_id_of(clerk)
    expect(clerk.get_by_role("status")).to_contain_text(f"诉求已登记，回执号 {receipt}")
    expect(clerk.locator(".facts")).to_contain_text(f"{ENTERPRISE}（{demo.credit_code}）")
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("待签收")

    # The handler signs for it from the inbox with the row's plain form: back to the inbox with a message.
    login(handler, "handler")
    visit(handler, "/inbox")
    submit(handler, handler.get_by_role("button", name=f"签收 {receipt}"))
    assert "/inbox" in handler.url
    signed = handler.get_by_role("status").filter(has_text="已签收诉求")
    expect(signed).to_have_text(f"已签收诉求 {receipt}。去办理")
    expect(handler.get_by_role("button", name=f"签收 {receipt}")).to_have_count(0)

    # … goes straight to the case from the confirmation (去办理), and replies through the <details> form.
    submit(handler, signed.get_by_role("link", name="去办理"))
    assert handler.url.endswith(f"/appeals/{appeal_id}")
    expect(handler.get_by_role("heading", level=1)).to_contain_text("办理中")
    reply = open_action(handler, "答复")
    reply.get_by_label("已解决", exact=True).check()
    reply.get_by_label("答复内容（企业可见）", exact=True).fill(reply_text)
    submit(handler, reply.get_by_role("button", name="提交答复"))
    assert handler.url.endswith(f"/appeals/{appeal_id}")
    expect(handler.get_by_role("status")).to_have_text("已答复。")
    expect(handler.get_by_role("heading", level=1)).to_contain_text("已答复")
    expect(handler.locator("main")).to_contain_text(reply_text)

    # The clerk follows up: satisfied closes it.
    visit(clerk, f"/appeals/{appeal_id}")
    follow_up = open_action(clerk, "回访")
    follow_up.get_by_label("满意", exact=True).check()
    submit(clerk, follow_up.get_by_role("button", name="记录回访"))
    assert clerk.url.endswith(f"/appeals/{appeal_id}")
    expect(clerk.get_by_role("status")).to_have_text("回访已记录。")
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("已办结")


def test_second_signer_told_who_has_it(open_page, live_app):
    appeal_id, receipt = record_in_app(live_app, unique("希望协调骨干子女就近入学"))
    first, second = open_page(), open_page()
    login(first, "handler")
    login(second, "handler2")
    visit(first, f"/appeals/{appeal_id}")
    visit(second, f"/appeals/{appeal_id}")

    with first.expect_response(lambda r: r.url.endswith(f"/appeals/{appeal_id}/sign")) as signed:
        first.get_by_role("button", name="签收", exact=True).click()
    assert signed.value.status == 200
    expect(first.locator("#appeal-panel").get_by_role("status")).to_have_text("已签收。")
    expect(first.get_by_role("heading", level=1)).to_contain_text("办理中")
    assert_accessible(first)

    allow_console_error(second, r"status of 409")
    with second.expect_response(lambda r: r.url.endswith(f"/appeals/{appeal_id}/sign")) as refused:
        second.get_by_role("button", name="签收", exact=True).click()
    assert refused.value.status == 409
    panel = second.locator("#appeal-panel")
    expect(panel.get_by_role("alert")).to_have_text(f"该诉求已由{STAFF['handler']}（科技人才局）签收，无需重复签收。")
    expect(panel.get_by_role("heading", level=1)).to_contain_text(f"{receipt} 办理中")
    expect(panel.get_by_role("button", name="签收", exact=True)).to_have_count(0)
    assert_accessible(second)


def test_every_action_field_has_its_own_label(open_page, live_app):
    appeal_id, _ = record_in_app(live_app, unique("希望了解人才公寓申请条件"))
    handler = open_page()
    login(handler, "handler")
    visit(handler, f"/appeals/{appeal_id}")
    handler.get_by_role("button", name="签收", exact=True).click()
    expect(handler.get_by_role("heading", level=1)).to_contain_text("办理中")
    for summary in handler.locator(".action-forms summary").all():
        summary.click()
    assert_accessible(handler)

    unlabelled = handler.locator(".action-forms").evaluate("""forms => Array.from(
        forms.querySelectorAll("textarea, select, input:not([type=hidden])"))
        .filter(control => control.labels.length === 0)
        .map(control => control.closest("details").querySelector("summary").textContent + " → " + control.name)""")

    assert unlabelled == []


# --------------------------------------------------------------------------- issue 12: the daily work


@pytest.fixture(scope="module")
def phrases(live_app):
    """Two canned replies of 科技人才局 (the demo handler's department)."""
    from gaoxin.models import Phrase, Unit

    with live_app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.name == "科技人才局"))
        texts = ["经核实，贵企业符合人才公寓申请条件。", "已电话联系企业人事负责人。"]
        existing = set(db.session.scalars(select(Phrase.text).where(Phrase.unit_id == unit.id)))
        db.session.add_all(Phrase(unit_id=unit.id, text=t, position=i) for i, t in enumerate(texts) if t not in existing)
        db.session.commit()
        return texts


def test_every_intake_mistake_shows_on_the_first_submit(page):
    login(page, "clerk_station")
    visit(page, "/appeals/new")
    response = submit(page, page.get_by_role("button", name="登记并转办"))
    assert response.status == 422
    expect(page.locator("#content-error")).to_have_text("请填写诉求内容。")
    expect(page.locator("#enterprise_query-error")).to_contain_text("请选择企业")
    expect(page.locator("#category_id-error")).to_have_text("请选择有效的诉求类别。")
    # The * of a required field sits on its label's line (drawn after the label's text).
    for field_id in ("category_id", "content", "enterprise_query"):
        label = page.locator(f"label[for={field_id}]")
        star = label.evaluate("l => getComputedStyle(l, '::after').content")
        assert "*" in star, field_id
        box = label.bounding_box()
        assert box["height"] < 40, f"the label of {field_id} wraps: {box}"
    assert_accessible(page)


def test_a_handler_inserts_a_canned_reply_with_and_without_javascript(open_page, live_app, phrases):
    appeal_id, _ = record_in_app(live_app, unique("希望了解人才公寓申请条件"))
    for javascript in (True, False):
        handler = open_page(java_script_enabled=javascript)
        login(handler, "handler")
        visit(handler, f"/appeals/{appeal_id}")
        if handler.get_by_role("button", name="签收", exact=True).count():
            handler.get_by_role("button", name="签收", exact=True).click()  # htmx swaps the panel in place
            expect(handler.get_by_role("heading", level=1)).to_contain_text("办理中")
        reply = open_action(handler, "答复")
        text = reply.get_by_label("答复内容（企业可见）", exact=True)
        text.fill("您好：")
        reply.get_by_label("常用语", exact=True).select_option(label=phrases[0])
        if javascript:
            with handler.expect_response(lambda r: r.url.endswith(f"/appeals/{appeal_id}/phrase")):
                reply.get_by_role("button", name="插入", exact=True).click()
        else:
            submit(handler, reply.get_by_role("button", name="插入", exact=True))
        text = handler.get_by_label("答复内容（企业可见）", exact=True)
        expect(text).to_have_value(f"您好：\n{phrases[0]}")
        assert_accessible(handler)


def test_the_dispatcher_merges_a_duplicate_and_the_home_page_lists_the_work(open_page, live_app):
    main_id, main_receipt = record_in_app(live_app, unique("同一事项：人才公寓"))
    duplicate_id, _ = record_in_app(live_app, unique("同一事项：人才公寓（重复）"))
    dispatcher = open_page()
    login(dispatcher, "dispatcher")
    visit(dispatcher, "/")
    expect(dispatcher.locator("#todo-queue .badge")).to_have_text(re.compile(r"^\d+$"))
    assert_accessible(dispatcher)
    visit(dispatcher, f"/appeals/{duplicate_id}")
    merge = open_action(dispatcher, "并案（重复诉求）")
    merge.get_by_label("主诉求回执号", exact=True).fill(main_receipt)
    assert panel_action(dispatcher, merge, "并入主诉求").status == 200
    panel = dispatcher.locator("#appeal-panel")
    expect(panel.get_by_role("heading", level=1)).to_contain_text("已并案")
    expect(panel.locator("#merged-into")).to_contain_text(main_receipt)
    assert_accessible(dispatcher)

    handler = open_page()
    login(handler, "handler")
    visit(handler, "/")
    count = handler.locator("#todo-sign .badge").inner_text()
    submit(handler, handler.locator("#todo-sign a.todo-count"))
    expect(handler.locator("#inbox-tabs a[aria-current=page] .badge")).to_have_text(count)
    assert_accessible(handler)
