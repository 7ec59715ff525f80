"""The enterprise's own window in a real browser, three desks at once (issue 11): a station clerk records an
appeal for 成都硅宝科技 and hands over the activation code; the contact activates on a phone, sees the case and
raises a second appeal online; the department replies to both; the enterprise reads the replies on reload,
rates one 不满意 (it reopens) and one 满意; an application sent back for supplement is completed online and
accepted at the window. Every enterprise page passes axe at 1280 and 375 px without sideways scrolling."""
import itertools
import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin.extensions import db
from gaoxin.models import Appeal, Application, Contact, Enterprise, Policy, PolicyItem, Unit, User
from gaoxin.services import appeals as appeal_service
from gaoxin.services import applications as application_service

from .helpers import assert_accessible, login, submit, visit

ENTERPRISE = "成都硅宝科技股份有限公司"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PHONE = {"width": 375, "height": 740}
_n = itertools.count(1)


def at_both_widths(page):
    """axe at 1280 and at 375 px, and nothing wider than the screen at 375 px; ends at 375 px."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 375 px"


def e_visit(page, path, status=200):
    response = visit(page, path, status)
    at_both_widths(page)
    return response


def e_submit(page, locator):
    response = submit(page, locator)
    at_both_widths(page)
    return response


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _department_replies(live_app, appeal_id, text):
    """科技人才局 signs for and answers the appeal (another desk: its own pages are tested elsewhere)."""
    with live_app.app_context():
        appeal = db.session.get(Appeal, appeal_id)
        handler = db.session.scalar(select(User).where(User.unit_id == appeal.lead_unit_id, User.active.is_(True))
                                    .order_by(User.id))
        if appeal.state != "in_progress":
            appeal_service.sign(appeal, handler)
        appeal_service.reply(appeal, handler, outcome="resolved", text=text)
        db.session.commit()


def _sent_back_application(live_app, enterprise_id, n):
    """A policy application of the enterprise, taken in at the window and sent back: 营业执照 is missing."""
    with live_app.app_context():
        window = _user("window")
        department = db.session.scalar(select(Unit).where(Unit.name == "科技人才局"))
        policy = Policy(code=f"BT-PORTAL-{n:03d}", title=f"高新技术企业认定奖励（门户测试{n}）", level="district",
                        department=department, max_amount=Decimal("300000.00"), review_days=20)
        policy.items = [PolicyItem(name=name, required=True, formats="pdf,jpg,png", position=i)
                        for i, name in enumerate(("申报表", "营业执照"))]
        db.session.add(policy)
        db.session.flush()
        items = {item.name: item.id for item in policy.items}
        application, _ = application_service.save(
            window, enterprise=db.session.get(Enterprise, enterprise_id), policy=policy,
            declared_amount=Decimal("100000.00"), materials={items["申报表"]: ((), True)},
            absent={items["营业执照"]}, submit=True)
        application_service.check(application, window, decision="supplement",
                                  marks={items["申报表"]: ("ok", ""), items["营业执照"]: ("missing", "")})
        db.session.commit()
        return application.id, application.receipt_no, items


def test_the_enterprise_scene(page, open_page, live_app):
    n = next(_n)
    mobile = f"139{n:08d}"

    # Desk 1: the station clerk records an appeal for 成都硅宝科技 with a new contact.
    login(page, "clerk_station")
    visit(page, "/appeals/new")
    page.get_by_role("combobox", name="企业", exact=True).fill(ENTERPRISE)
    submit(page, page.get_by_role("button", name="查找企业"))
    page.get_by_label("诉求类别", exact=True).select_option(label="人才")
    page.get_by_label("联系人", exact=True).select_option(value="")
    page.get_by_label("新联系人姓名", exact=True).fill(f"周经理{n}")
    page.get_by_label("新联系人手机", exact=True).fill(mobile)
    page.get_by_label("诉求内容", exact=True).fill(f"公司新引进三名博士，希望了解人才公寓申请条件（门户{n}）。")
    submit(page, page.get_by_role("button", name="登记并转办"))
    first_receipt = re.search(r"SQ\d{15}", page.get_by_role("heading", level=1).inner_text()).group(0)
    with live_app.app_context():
        first = db.session.scalar(select(Appeal).where(Appeal.receipt_no == first_receipt))
        first_id, enterprise_id = first.id, first.enterprise_id
        credit_code = first.enterprise.credit_code
        contact_id = db.session.scalar(select(Contact.id).where(Contact.mobile == mobile))

    # On the enterprise page the clerk prints the contact's activation code and hands it over.
    visit(page, f"/enterprises/{enterprise_id}")
    page.get_by_label("为联系人生成激活码").select_option(str(contact_id))
    submit(page, page.get_by_role("button", name="生成激活码"))
    code = page.locator(".activation-code").inner_text()

    # Desk 2: the contact, on a phone, activates the account with the code and the credit code.
    phone = open_page(viewport=PHONE)
    e_visit(phone, "/e/activate")
    phone.get_by_label("企业统一社会信用代码").fill(credit_code)
    phone.get_by_label("激活码").fill(code)
    phone.get_by_label("登录名").fill(f"guibao{n}")
    phone.get_by_label("设置密码").fill("Guibao-2026-pass")
    phone.get_by_label("再次输入密码").fill("Guibao-2026-pass")
    e_submit(phone, phone.get_by_role("button", name="激活并登录"))
    expect(phone.locator("main")).to_contain_text("我的事项")
    expect(phone.locator("main")).to_contain_text(first_receipt)

    # It raises a second appeal online, with an attachment: receipt at once, routed to the department.
    e_visit(phone, "/e/appeals/new")
    phone.get_by_label("诉求类别").select_option(label="人才")
    phone.get_by_label("诉求内容").fill(f"希望协调博士后工作站的场地（门户{n}）。")
    phone.get_by_label("附件（可选）").set_input_files(
        files=[{"name": "场地需求.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    e_submit(phone, phone.get_by_role("button", name="提交诉求"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("诉求回执")
    second_receipt = re.search(r"SQ\d{15}", phone.locator("main").inner_text()).group(0)
    expect(phone.locator(".facts")).to_contain_text("网上")
    with live_app.app_context():
        second_id = db.session.scalar(select(Appeal.id).where(Appeal.receipt_no == second_receipt))

    # The department replies to both; the enterprise reads the replies on reload.
    _department_replies(live_app, first_id, f"人才公寓可于下月申请（门户{n}）。")
    _department_replies(live_app, second_id, f"已协调菁蓉汇场地（门户{n}）。")
    e_visit(phone, "/e/messages")
    messages = phone.locator("main")
    expect(messages).to_contain_text(f"人才公寓可于下月申请（门户{n}）。")
    expect(messages).to_contain_text(f"已协调菁蓉汇场地（门户{n}）。")
    expect(phone.locator(".message.unread").first).to_be_visible()
    e_visit(phone, "/e/messages")
    expect(phone.locator(".message.unread")).to_have_count(0)

    # 不满意 on the first reply reopens it to the same department; 满意 on the second closes it.
    e_visit(phone, f"/e/appeals/{first_id}/rate")
    phone.get_by_role("radio", name="不满意").check()
    phone.get_by_label("意见（不满意时请说明原因）").fill("公寓离园区太远，希望另行协调。")
    e_submit(phone, phone.get_by_role("button", name="提交评价"))
    expect(phone.locator(".flashes")).to_contain_text("诉求已退回承办部门重新办理")
    e_visit(phone, f"/e/appeals/{second_id}/rate")
    phone.get_by_role("radio", name="满意", exact=True).check()
    e_submit(phone, phone.get_by_role("button", name="提交评价"))
    expect(phone.locator(".flashes")).to_contain_text("诉求已办结")
    e_visit(phone, f"/e/appeals/{second_id}/rate")
    expect(phone.get_by_role("alert")).to_contain_text("该答复已评价过，不能重复评价。")
    with live_app.app_context():
        assert db.session.get(Appeal, first_id).state == "in_progress"
        assert db.session.get(Appeal, second_id).state == "closed"

    # An application sent back for supplement: completed online, then accepted at the window (desk 3).
    application_id, application_receipt, items = _sent_back_application(live_app, enterprise_id, n)
    e_visit(phone, "/e/messages")
    expect(phone.locator("main")).to_contain_text("需补正材料")
    e_submit(phone, phone.get_by_role("link", name=re.compile(application_receipt)))
    expect(phone.locator("main")).to_contain_text("营业执照")
    phone.locator(f"#item-{items['营业执照']}").set_input_files(
        files=[{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    e_submit(phone, phone.get_by_role("button", name="上传补正材料"))
    expect(phone.locator(".flashes")).to_contain_text("补正材料已全部提交，窗口将重新审查")

    window = open_page()
    login(window, "window")
    visit(window, f"/applications/{application_id}")
    expect(window.locator("#application-panel")).to_contain_text("营业执照.pdf")
    window.get_by_role("button", name="受理", exact=True).click()
    expect(window.locator("#application-panel")).to_contain_text("已受理")
    assert_accessible(window)
    with live_app.app_context():
        assert db.session.get(Application, application_id).state == "accepted"
    e_visit(phone, "/e/messages")
    expect(phone.locator("main")).to_contain_text("已受理")
