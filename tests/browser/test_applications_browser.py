"""A policy application through the window, the department and the paying unit in a real browser, with the
supplement and result notices printed to PDF by Chromium and read back."""
import itertools
import re
import os
import shutil
import subprocess
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin.extensions import db
from gaoxin.models import Application, Enterprise, Policy, PolicyItem, Unit

from .helpers import assert_accessible, login, logout, submit, visit

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
REQUIRED = ["申报表", "营业执照", "审计报告", "研发费用明细", "知识产权证明"]
_codes = itertools.count(1)


@pytest.fixture
def live_policy(live_app):
    """A district policy of 科技人才局 with five required materials, open now; returns (id, item ids by name)."""
    with live_app.app_context():
        department = db.session.scalar(select(Unit).where(Unit.name == "科技人才局"))
        n = next(_codes)
        policy = Policy(code=f"BT-APP-{n:03d}", title=f"研发投入后补助（浏览器测试{n}）", level="district",
                        department=department, max_amount=Decimal("500000.00"), review_days=20)
        policy.items = [PolicyItem(name=name, required=True, formats="pdf,jpg,png", position=i)
                        for i, name in enumerate(REQUIRED)]
        db.session.add(policy)
        db.session.commit()
        return policy.id, {item.name: item.id for item in policy.items}


@pytest.fixture
def live_enterprise(live_app):
    with live_app.app_context():
        enterprise = db.session.scalar(select(Enterprise).order_by(Enterprise.id).offset(next(_codes) + 10))
        return enterprise.id, enterprise.name


def printed_text(page, tmp_path, name):
    """Print the current page to an A4 PDF with Chromium and return its text (pdftotext, else the print view)."""
    page.emulate_media(media="print")
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(page.pdf(format="A4", print_background=False))
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    elif os.environ.get("CI") == "true":
        pytest.fail("pdftotext (poppler-utils) is required in CI to read the printed notice")
    else:
        # Outside CI without poppler-utils, read the print view instead of the PDF (test.sh says so).
        text = page.locator("main").inner_text()
    page.emulate_media(media="screen")
    return "".join(text.split())


def panel(page):
    return page.locator("#application-panel")


def swap(page, button, expected):
    """Press an htmx button in the panel and wait for the swapped panel to say `expected`; check it with axe."""
    button.click()
    expect(panel(page)).to_contain_text(expected)
    assert_accessible(page)


def test_window_department_and_paying_unit_complete_an_application(page, live_app, live_policy, live_enterprise, tmp_path):
    policy_id, items = live_policy
    enterprise_id, enterprise_name = live_enterprise

    # The window takes it in with 2 of 5 required materials missing.
    login(page, "window")
    visit(page, "/applications/new")
    page.get_by_label("企业", exact=True).fill(enterprise_name[:6])
    page.locator(f'#enterprise-suggestions [data-pick-value="{enterprise_id}"]').click()
    expect(page.locator("#enterprise_id")).to_have_value(str(enterprise_id))
    page.get_by_label("申报政策").select_option(str(policy_id))
    expect(page.locator("#checklist")).to_contain_text("知识产权证明")
    assert_accessible(page)
    page.get_by_label("申报金额（元）").fill("300,000.00")
    for name in ("申报表", "营业执照", "审计报告"):
        page.locator(f'input[name="paper-{items[name]}"]').check()
    for name in ("研发费用明细", "知识产权证明"):
        page.locator(f'input[name="absent-{items[name]}"]').check()
    submit(page, page.get_by_role("button", name="提交申报"))
    expect(page.locator(".flashes")).to_contain_text("申报已提交")
    with live_app.app_context():
        application = db.session.scalar(select(Application).where(Application.policy_id == policy_id))
        application_id, receipt = application.id, application.receipt_no
    expect(page.get_by_role("heading", level=1)).to_contain_text(receipt)

    # Window check: the two missing items are preselected as missing; one notice lists both.
    swap(page, page.get_by_role("button", name="一次性告知补正"), "待补正")
    visit(page, f"/applications/{application_id}/notice/supplement")
    text = printed_text(page, tmp_path, "supplement")
    for expected in ("补正材料一次性告知书", receipt, enterprise_name, "研发费用明细", "知识产权证明", "一窗式政策申报和受理服务窗口"):
        assert expected in text, expected
    assert "审计报告" not in text

    # The enterprise brings the rest: a PDF for one, the paper copy of the other; then resubmit and accept.
    visit(page, f"/applications/{application_id}")
    expect(page.locator("details.action[open] summary")).to_have_text("补充材料（企业补交的文件或纸质件；已有文件不会删除）")
    page.locator(f'#m-file-{items["研发费用明细"]}').set_input_files(
        files=[{"name": "研发费用明细.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.locator(f'#application-panel input[name="paper-{items["知识产权证明"]}"]').check()
    swap(page, page.get_by_role("button", name="保存补充材料"), "材料已补充")
    expect(panel(page)).to_contain_text("研发费用明细.pdf")
    swap(page, page.get_by_role("button", name="补正材料已收齐，提交形式审查"), "待形式审查")
    swap(page, page.get_by_role("button", name="受理", exact=True), "已受理（待部门审查）")
    visit(page, f"/applications/{application_id}/notice/acceptance")
    expect(page.locator("main")).to_contain_text("科技人才局")
    logout(page)

    # The department approves an amount from its review list.
    login(page, "handler")
    visit(page, "/applications/review")
    submit(page, page.get_by_role("link", name=receipt))
    page.get_by_label("核定金额（元）").fill("250000")
    swap(page, page.get_by_role("button", name="审核通过", exact=True), "核定金额 ¥250,000.00")
    logout(page)

    # The window issues the result and prints the result notice.
    login(page, "window")
    visit(page, f"/applications/{application_id}")
    swap(page, page.get_by_role("button", name="出件", exact=True), "已出件")
    visit(page, f"/applications/{application_id}/notice/result")
    text = printed_text(page, tmp_path, "result")
    for expected in ("审核结果通知书", receipt, "审核通过", "¥250,000.00", "贰拾伍万元整"):
        assert expected in text, expected
    logout(page)

    # 财政金融局 records the disbursement.
    login(page, "handler_fin")
    visit(page, "/applications/disbursements")
    submit(page, page.get_by_role("link", name=receipt))
    page.get_by_label("拨付金额（元）").fill("250,000.00")
    swap(page, page.get_by_role("button", name="记录拨付"), "已拨付")
    expect(panel(page)).to_contain_text("已办结")
    with live_app.app_context():
        application = db.session.get(Application, application_id)
        assert application.state == "disbursed" and application.disbursed_amount == Decimal("250000.00")
        code_tail = db.session.get(Enterprise, enterprise_id).credit_code[-6:]
    logout(page)

    # The enterprise looks it up with the receipt and its credit code's last 6 characters.
    visit(page, "/track")
    page.get_by_label("回执号", exact=True).fill(receipt)
    page.get_by_label("统一社会信用代码后6位", exact=True).fill(code_tail.lower())
    submit(page, page.get_by_role("button", name="查询"))
    result = page.locator("section", has=page.get_by_role("heading", level=2, name=re.compile(receipt)))
    expect(result.get_by_role("heading", level=2)).to_contain_text("已拨付")
    expect(result).to_contain_text(enterprise_name)
    expect(result).to_contain_text("¥250,000.00")
    assert "张丽" not in page.content(), "the public lookup shows the window clerk's name"
