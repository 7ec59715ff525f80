"""The enterprise portal's own pages in a real browser, on a phone with JavaScript off (issue 11, part A): a clerk
prints an activation code from the enterprise page; the contact activates, reads 我的事项, a case with its
public timeline, the receipt and an application's notice, changes the password, logs out and in again; another
enterprise's case is a 404. Every page passes axe at 1280 and 375 px without sideways scrolling."""
import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin.extensions import db
from gaoxin.models import Appeal, Contact, Enterprise, Policy, PolicyItem, Unit, User
from gaoxin.services import applications as application_service

from .helpers import login, submit, visit
from .test_portal_scene import PHONE, e_submit, e_visit

ENTERPRISE = "成都硅宝科技股份有限公司"


def _accepted_application(live_app, enterprise_id):
    """An application of the enterprise, accepted at the window (so its 受理通知书 exists)."""
    with live_app.app_context():
        window = db.session.scalar(select(User).where(User.username == "window"))
        department = db.session.scalar(select(Unit).where(Unit.name == "科技人才局"))
        count = db.session.scalar(select(db.func.count()).select_from(Policy))
        policy = Policy(code=f"BT-PAGES-{count:04d}", title="门户页面测试政策", level="district", department=department,
                        max_amount=Decimal("300000.00"), review_days=20,
                        items=[PolicyItem(name="申报表", required=True, formats="pdf", position=0)])
        db.session.add(policy)
        db.session.flush()
        item = policy.items[0].id
        application, _ = application_service.save(
            window, enterprise=db.session.get(Enterprise, enterprise_id), policy=policy,
            declared_amount=Decimal("100000.00"), materials={item: ((), True)}, submit=True)
        application_service.check(application, window, decision="accept", marks={item: ("ok", "")})
        db.session.commit()
        return application.id


def test_an_enterprise_reads_its_cases_and_notices_on_a_phone_without_javascript(page, open_page, live_app):
    with live_app.app_context():
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == ENTERPRISE))
        enterprise_id, credit_code = enterprise.id, enterprise.credit_code
        contact = Contact(enterprise_id=enterprise_id, name="门户页面联系人", mobile="13911112222")
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
        appeal = db.session.scalar(select(Appeal).where(Appeal.enterprise_id == enterprise_id).order_by(Appeal.id))
        other = db.session.scalar(select(Appeal).where(Appeal.enterprise_id != enterprise_id).order_by(Appeal.id))
        appeal_id, receipt_no, other_id = appeal.id, appeal.receipt_no, other.id
    application_id = _accepted_application(live_app, enterprise_id)

    # The station clerk prints a code from the enterprise page.
    login(page, "clerk_station")
    visit(page, f"/enterprises/{enterprise_id}")
    page.get_by_label("为联系人生成激活码").select_option(value=str(contact_id))
    submit(page, page.get_by_role("button", name="生成激活码"))
    code = page.locator(".activation-code").inner_text()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code)

    phone = open_page(viewport=PHONE, java_script_enabled=False)
    e_visit(phone, "/e/login")
    e_submit(phone, phone.get_by_role("link", name="激活账号 / 重新设置密码"))
    phone.get_by_label("企业统一社会信用代码").fill(credit_code)
    phone.get_by_label("激活码").fill(code.lower())
    phone.get_by_label("登录名").fill("pages-contact")
    phone.get_by_label("设置密码").fill("Pages-2026-pass")
    phone.get_by_label("再次输入密码").fill("Pages-2026-pass")
    e_submit(phone, phone.get_by_role("button", name="激活并登录"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的事项")
    expect(phone.locator(".case-list")).to_contain_text(receipt_no)

    e_submit(phone, phone.get_by_role("link", name=re.compile(receipt_no)))
    expect(phone.locator("main")).to_contain_text("办理过程")
    e_submit(phone, phone.get_by_role("link", name="受理回执"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("企业诉求受理回执")
    expect(phone.locator("main")).not_to_contain_text("经办人")

    e_visit(phone, "/e/?kind=applications")
    e_submit(phone, phone.locator(".case-link").first)
    e_submit(phone, phone.get_by_role("link", name="受理通知书"))
    expect(phone.locator("main")).to_contain_text("决定予以受理")
    assert f"/e/applications/{application_id}/notice/acceptance" in phone.url

    e_visit(phone, f"/e/appeals/{other_id}", status=404)
    expect(phone.get_by_role("heading", level=1)).to_have_text("页面不存在")

    e_visit(phone, "/e/password")
    phone.get_by_label("当前密码", exact=True).fill("Pages-2026-pass")
    phone.get_by_label("新密码", exact=True).fill("Pages-2026-new!")
    phone.get_by_label("再次输入新密码", exact=True).fill("Pages-2026-new!")
    e_submit(phone, phone.get_by_role("button", name="保存新密码"))
    expect(phone.locator(".flashes")).to_contain_text("密码已修改")
    e_submit(phone, phone.get_by_role("button", name="退出"))
    expect(phone.locator(".flashes")).to_contain_text("您已安全退出")
    phone.get_by_label("登录名").fill("pages-contact")
    phone.get_by_label("密码", exact=True).fill("Pages-2026-new!")
    e_submit(phone, phone.get_by_role("button", name="登录"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的事项")

    # Back at the station: the account is listed as activated.
    visit(page, f"/enterprises/{enterprise_id}")
    expect(page.locator("#accounts-heading + table")).to_contain_text("pages-contact")
