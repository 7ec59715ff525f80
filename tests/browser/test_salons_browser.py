"""A salon in a real browser: planned with 2 departments, one enterprise signing up on the public page and two
pasted, 3 appeals entered by keyboard, the live board in another context following each sign-for without a
reload, and the summary's counts, printed to one A4 page."""
import itertools
import re
import shutil
import subprocess

from playwright.sync_api import expect
from sqlalchemy import select

from gaoxin.extensions import db
from gaoxin.models import Appeal, Enterprise, User
from gaoxin.services import appeals as appeal_service

from .helpers import assert_accessible, login, submit, visit

_n = itertools.count(1)


def _enterprises(live_app, offset):
    with live_app.app_context():
        rows = db.session.scalars(select(Enterprise).order_by(Enterprise.id).offset(offset).limit(3))
        return [(e.name, e.credit_code) for e in rows]


def _act(live_app, salon_id, username, action, index):
    """A department works the salon's appeal number `index` through the services (another desk, another system)."""
    with live_app.app_context():
        appeal = db.session.scalars(select(Appeal).where(Appeal.salon_id == salon_id).order_by(Appeal.id)).all()[index]
        user = db.session.scalar(select(User).where(User.username == username))
        if action == "sign":
            appeal_service.sign(appeal, user)
        else:
            appeal_service.reply(appeal, user, outcome="resolved", text="已协调解决。")
        db.session.commit()


def test_a_salon_from_sign_up_to_its_printed_summary(page, open_page, live_app, tmp_path):
    n = next(_n)
    theme = f"促进民营企业发展（浏览器测试{n}）"
    (signed_name, signed_code), *pasted = _enterprises(live_app, 200 + n * 5)

    # The organiser of 经济运行局 plans the salon with two departments and publishes it.
    login(page, "organiser")
    visit(page, "/salons/new")
    page.get_by_label("沙龙主题").fill(theme)
    page.get_by_label("举办日期").fill("2026-12-20")
    page.get_by_label("地点").fill("菁蓉汇")
    page.get_by_label("科技人才局").check()
    page.get_by_label("财政金融局").check()
    submit(page, page.get_by_role("button", name="保存"))
    salon_id = int(re.search(r"/salons/(\d+)", page.url).group(1))
    submit(page, page.get_by_role("button", name="发布报名"))
    expect(page.locator(".flashes")).to_contain_text("已发布报名")

    # An enterprise signs up on the public page, without logging in.
    public = open_page()
    visit(public, f"/salons/{salon_id}/signup")
    public.get_by_label("企业名称").fill(signed_name)
    public.get_by_label("统一社会信用代码").fill(signed_code)
    public.get_by_label("联系人").fill("张经理")
    public.get_by_label("手机号码").fill("13912345678")
    public.get_by_label("希望反映的问题或建议").fill("希望了解人才公寓申请条件。")
    submit(public, public.get_by_role("button", name="提交报名"))
    expect(public.locator("main")).to_contain_text("报名已提交")

    # The organiser accepts it and pastes the two others.
    visit(page, f"/salons/{salon_id}")
    submit(page, page.get_by_role("button", name=f"接受{signed_name}的报名"))
    page.get_by_label("企业名单").fill("\n".join(name for name, _ in pasted))
    submit(page, page.get_by_role("button", name="添加名单"))
    expect(page.locator(".flashes")).to_contain_text("已添加2家企业")
    expect(page.locator("#participants-heading")).to_have_text("参会企业（3）")
    visit(page, f"/salons/{salon_id}/seating")
    expect(page.locator("main")).to_contain_text(signed_name)

    # The live board on the projector, in another context.
    board = open_page()
    login(board, "leader")
    visit(board, f"/salons/{salon_id}/board")
    board.evaluate("window.notReloaded = true")

    # A clerk enters 3 appeals by keyboard; the form is ready again after each.
    clerk = open_page()
    login(clerk, "clerk_station")
    visit(clerk, f"/salons/{salon_id}/entry")
    entries = [(signed_name, 1), (pasted[0][0], 2), (pasted[1][0], 1)]  # 1: 人才 → 科技人才局, 2: 融资 → 财政金融局
    for number, (name, downs) in enumerate(entries, start=1):
        field = clerk.get_by_label("参会企业")
        expect(field).to_be_focused()
        clerk.keyboard.type(name)
        clerk.keyboard.press("Tab")
        for _ in range(downs):
            clerk.keyboard.press("ArrowDown")
        clerk.keyboard.press("Tab")
        clerk.keyboard.type(f"沙龙现场诉求{number}：希望协调解决。")
        clerk.keyboard.press("Tab")
        clerk.keyboard.press("Enter")
        expect(clerk.locator("#entry-panel [role=status]")).to_contain_text(f"已登记：{name}")
        expect(clerk.get_by_label("参会企业")).to_have_value("")
        assert_accessible(clerk)
    expect(board.locator('[data-count="raised"]')).to_have_text("3")

    # Each department's sign-for shows on the board without a reload.
    for index, username in enumerate(["handler", "handler_fin", "handler"]):
        _act(live_app, salon_id, username, "sign", index)
        expect(board.locator('[data-count="signed"]')).to_have_text(str(index + 1))
    _act(live_app, salon_id, "handler", "reply", 0)
    expect(board.locator('[data-count="resolved"]')).to_have_text("1")
    assert board.evaluate("window.notReloaded") is True
    assert_accessible(board)

    # Held, then summarised: the summary's counts, printed on one A4 page.
    visit(page, f"/salons/{salon_id}")
    submit(page, page.get_by_role("button", name="标记为已举办"))
    page.get_by_label("总结说明").fill("三家企业提出诉求，两个部门现场对接。")
    submit(page, page.get_by_role("button", name="完成总结"))
    counts = {key: page.locator(f'.salon-summary [data-count="{key}"]') for key in
              ("enterprises", "departments", "raised", "signed", "replied", "resolved", "adopted")}
    for key, value in {"enterprises": 3, "departments": 2, "raised": 3, "signed": 3, "replied": 1, "resolved": 1,
                       "adopted": 0}.items():
        expect(counts[key]).to_have_text(str(value))

    page.emulate_media(media="print")
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(page.pdf(format="A4", print_background=False))
    page.emulate_media(media="screen")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), info
        assert re.search(r"Page size:.*\(A4\)", info), info
    else:
        assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
    if shutil.which("pdftotext"):
        text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
        assert theme.replace(" ", "") in text and "未办结事项（2）" in text


def test_the_dashboard_draws_its_charts_without_javascript(open_page):
    page = open_page(java_script_enabled=False)
    login(page, "leader")
    visit(page, "/dashboard/?period=year")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("table.figures-table tr.total").first).to_contain_text("全区合计")
    visit(page, "/dashboard/?period=custom&start=2026-10-01&end=2026-09-01", status=422)
    expect(page.locator("#end-error")).to_contain_text("结束日期不能早于开始日期")
