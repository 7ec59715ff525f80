"""The policy catalogue through its pages: browsing, the policy's figures, and managing policies and checklists."""
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gaoxin.models import Application, ApplicationItem, AuditEntry, Policy, PolicyItem, Role, UnitKind
from gaoxin.services import policies as service
from gaoxin.services.calendar import today
from tests.conftest import text_of

_codes = itertools.count(1)


@pytest.fixture
def depts(make_unit):
    return {
        "tech": make_unit(UnitKind.department, name="科技人才局"),
        "finance": make_unit(UnitKind.department, name="财政金融局"),
    }


@pytest.fixture
def make_policy(db, depts):
    """make_policy(title=..., department=<Unit>, opens=days from today, closes=days from today, items=[names])."""
    def make(title=None, department=None, level="district", opens=-10, closes=30, max_amount="500000.00",
             items=(), active=True, code=None, review_days=20):
        on = today()
        policy = Policy(
            code=code or f"GX-T-{next(_codes):03d}", title=title or f"测试政策{next(_codes)}", level=level,
            department=department or depts["tech"], max_amount=Decimal(max_amount), review_days=review_days,
            opens_on=None if opens is None else on + timedelta(days=opens),
            closes_on=None if closes is None else on + timedelta(days=closes), active=active,
            description="政策说明文字",
        )
        for position, name in enumerate(items):
            policy.items.append(PolicyItem(name=name, position=position, required=position == 0, formats="pdf,jpg"))
        db.session.add(policy)
        db.session.commit()
        return policy
    return make


@pytest.fixture
def make_application(db, make_enterprise, make_user):
    """make_application(policy, state, declared=..., approved=..., disbursed=...) → an Application row."""
    window = make_user(Role.window)

    def make(policy, state, declared="100000.00", approved=None, disbursed=None, outcome=None):
        application = Application(
            enterprise_id=make_enterprise().id, policy_id=policy.id, department_id=policy.department_id,
            declared_amount=Decimal(declared), state=state, intake_unit_id=window.unit_id, intake_by_id=window.id,
            approved_amount=None if approved is None else Decimal(approved),
            disbursed_amount=None if disbursed is None else Decimal(disbursed),
            outcome=outcome or ("approved" if approved is not None else None),
        )
        db.session.add(application)
        db.session.commit()
        return application
    return make


def policy_form(department, **overrides):
    data = {
        "code": "GX-NEW-01", "title": "新设立的研发补贴政策", "level": "district", "department_id": department.id,
        "opens_on": "2026-01-01", "closes_on": "2026-12-31", "max_amount": "500,000.00", "review_days": "20",
        "description": "说明", "active": "y",
    }
    data.update(overrides)
    return data


def edit_form(policy, **overrides):
    data = policy_form(
        policy.department, code=policy.code, title=policy.title, level=policy.level,
        opens_on=str(policy.opens_on or ""), closes_on=str(policy.closes_on or ""),
        max_amount=f"{policy.max_amount}", review_days=str(policy.review_days), version=str(policy.version),
    )
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- browsing


def test_clerk_browses_the_catalogue_with_level_department_amount_and_limit(client, login_as, make_policy, depts):
    make_policy(title="成都高新区支持企业研发投入补贴", code="GX-KJ-01", max_amount="1234567.00", review_days=15)
    make_policy(title="知识产权质押融资贴息", code="GX-CJ-01", department=depts["finance"], level="city")
    login_as(Role.clerk)
    page = text_of(client.get("/policies/"))
    assert "政策目录" in page
    assert "GX-KJ-01 成都高新区支持企业研发投入补贴 区级 科技人才局" in page
    assert "¥1,234,567.00" in page and "15个工作日" in page
    assert "GX-CJ-01 知识产权质押融资贴息 市级 财政金融局" in page
    assert "新增政策" not in page


@pytest.mark.parametrize("query, shown, hidden", [
    ({"q": "研发"}, "研发投入补贴", "质押融资"),
    ({"q": "gx-cj"}, "质押融资", "研发投入补贴"),
    ({"level": "city"}, "质押融资", "研发投入补贴"),
    ({"department": "finance"}, "质押融资", "研发投入补贴"),
    ({"open": "1"}, "研发投入补贴", "人才安居"),
])
def test_clerk_searches_by_title_code_level_department_and_open_now(client, login_as, make_policy, depts,
                                                                    query, shown, hidden):
    make_policy(title="成都高新区支持企业研发投入补贴", code="GX-KJ-01")
    make_policy(title="知识产权质押融资贴息", code="GX-CJ-01", department=depts["finance"], level="city")
    make_policy(title="人才安居住房补贴", code="GX-KJ-02", opens=-100, closes=-1)
    if "department" in query:
        query = {"department": depts[query["department"]].id}
    login_as(Role.clerk)
    page = text_of(client.get("/policies/", query_string=query))
    assert shown in page and hidden not in page


def test_search_from_htmx_gets_only_the_results(client, login_as, make_policy):
    make_policy(title="高新技术企业认定奖励")
    login_as(Role.window)
    response = client.get("/policies/?q=认定", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="results">') and "高新技术企业认定奖励" in body and "<h1>" not in body


@pytest.mark.parametrize("opens, closes, status", [
    (-10, 10, "申报中"), (0, 0, "申报中"), (None, None, "申报中"), (1, 30, "未开始"), (-30, -1, "已截止"),
])
def test_the_open_period_status_is_counted_on_todays_china_date(client, login_as, make_policy, opens, closes, status):
    policy = make_policy(title="状态测试政策", opens=opens, closes=closes)
    login_as(Role.clerk)
    row = text_of(client.get("/policies/", query_string={"q": "状态测试"}))
    assert status in row
    assert service.period_status(policy, today()).title == status
    assert status in text_of(client.get(f"/policies/{policy.id}"))


def test_a_closed_or_not_yet_open_policy_says_why_it_cannot_be_applied_for(client, login_as, make_policy):
    closed = make_policy(opens=-30, closes=-1)
    later = make_policy(opens=5, closes=30)
    login_as(Role.window)
    yesterday = today() - timedelta(days=1)
    assert f"该政策已于{yesterday.year}年{yesterday.month}月{yesterday.day}日截止申报" in text_of(
        client.get(f"/policies/{closed.id}"))
    assert "该政策尚未开始申报" in text_of(client.get(f"/policies/{later.id}"))


def test_the_policy_page_shows_description_and_checklist(client, login_as, make_policy):
    policy = make_policy(title="高新技术企业认定奖励", items=["营业执照副本", "知识产权证明"])
    login_as(Role.clerk)
    page = text_of(client.get(f"/policies/{policy.id}"))
    assert "政策说明文字" in page
    assert "1 营业执照副本 必需 PDF、JPG" in page and "2 知识产权证明 可选 PDF、JPG" in page


def test_the_policy_page_counts_applications_by_state_and_totals_the_money(client, login_as, make_policy,
                                                                        make_application):
    policy = make_policy()
    other = make_policy()
    make_application(policy, "submitted")
    make_application(policy, "submitted")
    make_application(policy, "accepted")
    make_application(policy, "approved", declared="800000.00", approved="600000.50")
    make_application(policy, "result_issued", declared="700000.00", approved="634567.00")
    make_application(policy, "disbursed", declared="100000.00", approved="99999.99", disbursed="99999.99")
    make_application(policy, "result_issued", outcome="rejected")
    make_application(other, "disbursed", approved="50000.00", disbursed="50000.00")

    figures = service.figures(policy)
    assert figures.total == 7
    assert {c.state: c.count for c in figures.counts if c.count} == {
        "submitted": 2, "accepted": 1, "approved": 1, "result_issued": 2, "disbursed": 1}
    assert figures.approved_total == Decimal("1334567.49") and isinstance(figures.approved_total, Decimal)
    assert figures.disbursed_total == Decimal("99999.99") and isinstance(figures.disbursed_total, Decimal)

    login_as(Role.clerk)
    page = text_of(client.get(f"/policies/{policy.id}"))
    assert "申报总数 7" in page and "审核通过金额 ¥1,334,567.49" in page and "已拨付金额 ¥99,999.99" in page
    assert "待形式审查 2" in page and "已出件 2" in page and "草稿 0" in page


def test_a_policy_without_applications_shows_zero_totals(client, login_as, make_policy):
    policy = make_policy()
    login_as(Role.clerk)
    page = text_of(client.get(f"/policies/{policy.id}"))
    assert "申报总数 0" in page and "审核通过金额 ¥0.00" in page and "已拨付金额 ¥0.00" in page


def test_an_inactive_policy_is_hidden_from_clerks_but_not_from_its_managers(client, login_as, make_policy, make_user,
                                                                          depts):
    policy = make_policy(title="已停用的政策", active=False)
    login_as(Role.clerk)
    assert "已停用的政策" not in text_of(client.get("/policies/"))
    assert client.get(f"/policies/{policy.id}").status_code == 404
    client.post("/logout")
    login_as(make_user(Role.dept_lead, unit=depts["tech"]))
    assert "已停用" in text_of(client.get(f"/policies/{policy.id}"))


def test_the_window_gets_an_apply_link_only_for_an_open_policy(client, login_as, make_policy, app):
    open_policy = make_policy()
    closed = make_policy(opens=-30, closes=-1)
    login_as(Role.window)
    link = f'href="/applications/new?policy={open_policy.id}"'
    assert (link in client.get(f"/policies/{open_policy.id}").get_data(as_text=True)) == (
        "applications.new" in app.view_functions)
    assert "申报此政策" not in text_of(client.get(f"/policies/{closed.id}"))


def test_nobody_outside_intake_gets_an_apply_link(client, login_as, make_policy):
    policy = make_policy()
    login_as(Role.sysadmin)
    assert "申报此政策" not in text_of(client.get(f"/policies/{policy.id}"))


# --------------------------------------------------------------------------- managing policies


def test_sysadmin_adds_a_policy_with_amount_in_full_width_digits(client, login_as, depts, db):
    login_as(Role.sysadmin)
    assert "科技人才局" in text_of(client.get("/policies/new"))
    response = client.post("/policies/new", data=policy_form(depts["tech"], code="gx-new-０１", max_amount="５０００００"))
    assert response.status_code == 303
    policy = db.session.scalar(select(Policy))
    assert policy.code == "GX-NEW-01" and policy.max_amount == Decimal("500000.00")
    assert response.headers["Location"].endswith(f"/policies/{policy.id}/edit")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "config_changed"))
    assert entry.object_type == "Policy" and "GX-NEW-01" in entry.detail


def test_amount_with_thousands_separator_and_cents_is_kept_exactly(client, login_as, depts, db):
    login_as(Role.sysadmin)
    client.post("/policies/new", data=policy_form(depts["tech"], max_amount="1,000.50"))
    assert db.session.scalar(select(Policy.max_amount)) == Decimal("1000.50")


@pytest.mark.parametrize("overrides, message", [
    ({"code": "GX-OLD-01"}, "政策编号 GX-OLD-01 已被“已有的政策”使用"),
    ({"opens_on": "2026-06-01", "closes_on": "2026-05-31"}, "申报截止日期不能早于开始日期"),
    ({"max_amount": "50万"}, "金额格式不正确"),
    ({"max_amount": "abc"}, "金额格式不正确"),
    ({"max_amount": "1e3"}, "金额格式不正确"),
    ({"max_amount": "0"}, "金额必须大于0"),
    ({"max_amount": "-5"}, "金额必须大于0"),
    ({"max_amount": "100.555"}, "金额最多保留两位小数"),
    ({"review_days": "0"}, "审查时限应为1至90个工作日"),
    ({"review_days": "91"}, "审查时限应为1至90个工作日"),
    ({"review_days": "二十"}, "请填写整数"),
    ({"closes_on": "2026/13/01"}, "日期格式应为“年-月-日”"),
    ({"title": ""}, "请填写政策名称"),
    ({"code": "政策一号"}, "政策编号只能包含字母、数字"),
    ({"level": "national"}, "请选择区级、市级或省级"),
])
def test_a_bad_new_policy_is_refused_in_chinese_and_keeps_what_was_typed(client, login_as, depts, make_policy, db,
                                                                         overrides, message):
    make_policy(title="已有的政策", code="GX-OLD-01")
    login_as(Role.sysadmin)
    data = policy_form(depts["tech"], description="这段说明应当保留", **overrides)
    response = client.post("/policies/new", data=data)
    page = text_of(response)
    assert response.status_code == 422
    assert message in page and "这段说明应当保留" in page
    assert db.session.scalar(select(func.count(Policy.id))) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"max_amount": "3000元整abc"}, "金额格式不正确"),
    ({"max_amount": "0"}, "金额必须大于0"),
    ({"review_days": "0"}, "审查时限应为1至90个工作日"),
    ({"code": "GX-OTHER"}, "已被"),
    ({"closes_on": "2000-01-01"}, "申报截止日期不能早于开始日期"),
])
def test_a_bad_edit_is_refused_and_changes_nothing(client, login_as, make_policy, db, overrides, message):
    policy = make_policy(title="原来的名称", max_amount="300000.00")
    make_policy(code="GX-OTHER")
    login_as(Role.sysadmin)
    response = client.post(f"/policies/{policy.id}/edit", data=edit_form(policy, title="改过的名称", **overrides))
    assert response.status_code == 422 and message in text_of(response)
    assert 'value="改过的名称"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert policy.title == "原来的名称" and policy.max_amount == Decimal("300000.00") and policy.version == 1


def test_sysadmin_edits_a_policy_and_the_change_is_audited(client, login_as, make_policy, depts, db):
    policy = make_policy(title="原来的名称")
    login_as(Role.sysadmin)
    form = client.get(f"/policies/{policy.id}/edit")
    assert form.status_code == 200 and 'value="原来的名称"' in form.get_data(as_text=True)
    response = client.post(f"/policies/{policy.id}/edit", data=edit_form(
        policy, title="新的名称", max_amount="600,000", department_id=depts["finance"].id))
    assert response.status_code == 303
    db.session.expire_all()
    assert policy.title == "新的名称" and policy.max_amount == Decimal("600000.00")
    assert policy.department_id == depts["finance"].id and policy.version == 2
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "config_changed")).all()[-1]
    assert "政策名称" in entry.detail and "最高金额" in entry.detail and "主管部门" in entry.detail


def test_a_stale_edit_is_refused_not_overwritten(client, login_as, make_policy, db):
    policy = make_policy(title="原来的名称")
    login_as(Role.sysadmin)
    seen = edit_form(policy)
    first = client.post(f"/policies/{policy.id}/edit", data={**seen, "title": "先保存的名称"})
    assert first.status_code == 303
    second = client.post(f"/policies/{policy.id}/edit", data={**seen, "title": "后保存的名称"})
    assert second.status_code == 409
    assert "该政策已被他人修改，您的修改没有保存" in text_of(second)
    assert 'value="后保存的名称"' in second.get_data(as_text=True)
    db.session.expire_all()
    assert policy.title == "先保存的名称" and policy.version == 2


def test_the_department_cannot_change_once_the_policy_has_applications(client, login_as, make_policy, depts,
                                                                       make_application, db):
    policy = make_policy()
    make_application(policy, "submitted")
    login_as(Role.sysadmin)
    response = client.post(f"/policies/{policy.id}/edit", data=edit_form(policy, department_id=depts["finance"].id))
    assert response.status_code == 422 and "该政策已有申报，不能更换主管部门" in text_of(response)
    db.session.expire_all()
    assert policy.department_id == depts["tech"].id


# --------------------------------------------------------------------------- who may manage


def test_department_lead_edits_their_own_departments_policy(client, login_as, make_user, make_policy, depts, db):
    policy = make_policy(title="原来的名称")
    login_as(make_user(Role.dept_lead, unit=depts["tech"]))
    assert "修改政策" in text_of(client.get(f"/policies/{policy.id}"))
    response = client.post(f"/policies/{policy.id}/edit", data=edit_form(policy, title="部门负责人改的名称"))
    assert response.status_code == 303
    db.session.expire_all()
    assert policy.title == "部门负责人改的名称"


def test_department_lead_cannot_edit_another_departments_policy(client, login_as, make_user, make_policy, depts, db):
    policy = make_policy(department=depts["finance"], title="财政的政策")
    login_as(make_user(Role.dept_lead, unit=depts["tech"]))
    assert "修改政策" not in text_of(client.get(f"/policies/{policy.id}"))
    assert client.get(f"/policies/{policy.id}/edit").status_code == 403
    response = client.post(f"/policies/{policy.id}/edit", data=edit_form(policy, title="越权修改"))
    assert response.status_code == 403
    assert client.post(f"/policies/{policy.id}/items", data={"new-name": "越权材料", "new-formats": "pdf",
                                                             "new-version": "1"}).status_code == 403
    db.session.expire_all()
    assert policy.title == "财政的政策" and policy.items == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "access_denied")) is not None


def test_department_lead_can_only_choose_their_own_department(client, login_as, make_user, depts, db):
    login_as(make_user(Role.dept_lead, unit=depts["tech"]))
    page = client.get("/policies/new").get_data(as_text=True)
    assert "科技人才局" in page and "财政金融局" not in page
    response = client.post("/policies/new", data=policy_form(depts["finance"]))
    assert response.status_code == 422 and "请从列表中选择您有权管理的部门" in text_of(response)
    assert client.post("/policies/new", data=policy_form(depts["tech"])).status_code == 303
    assert db.session.scalar(select(Policy.department_id)) == depts["tech"].id


@pytest.mark.parametrize("role", [Role.clerk, Role.window, Role.handler, Role.leader, Role.dispatcher])
def test_case_workers_browse_but_cannot_manage(client, login_as, make_policy, role, db):
    policy = make_policy(items=["营业执照副本"])
    login_as(role)
    assert client.get("/policies/").status_code == 200
    assert client.get(f"/policies/{policy.id}").status_code == 200
    assert client.get("/policies/new").status_code == 403
    assert client.get(f"/policies/{policy.id}/edit").status_code == 403
    assert client.post(f"/policies/{policy.id}/edit", data=edit_form(policy, title="越权")).status_code == 403
    item = policy.items[0]
    assert client.post(f"/policies/{policy.id}/items/{item.id}/delete", data={"version": "1"}).status_code == 403
    db.session.expire_all()
    assert policy.title != "越权" and len(policy.items) == 1


@pytest.mark.parametrize("role", [Role.secadmin, Role.auditor])
def test_security_and_audit_admins_do_not_see_the_catalogue(client, login_as, make_policy, role):
    policy = make_policy()
    login_as(role)
    assert client.get("/policies/").status_code == 403
    assert client.get(f"/policies/{policy.id}").status_code == 404


# --------------------------------------------------------------------------- the checklist


def item_data(prefix, version, **overrides):
    data = {f"{prefix}-name": "营业执照副本", f"{prefix}-required": "y", f"{prefix}-formats": ["pdf", "jpg"],
            f"{prefix}-note": "加盖公章", f"{prefix}-version": str(version)}
    data.update({f"{prefix}-{k}": v for k, v in overrides.items()})
    return data


def test_manager_adds_edits_reorders_and_removes_checklist_items(client, login_as, make_policy, db):
    policy = make_policy()
    login_as(Role.sysadmin)
    assert client.post(f"/policies/{policy.id}/items", data=item_data("new", 1)).status_code == 303
    assert client.post(f"/policies/{policy.id}/items", data=item_data(
        "new", 2, name="研发费用专项审计报告", required="", formats=["pdf", "xlsx"], note="")).status_code == 303
    db.session.expire_all()
    first, second = policy.items
    assert (first.name, first.required, first.formats, first.note) == ("营业执照副本", True, "pdf,jpg", "加盖公章")
    assert (second.name, second.required, second.formats, second.note) == ("研发费用专项审计报告", False, "pdf,xlsx", None)

    page = client.get(f"/policies/{policy.id}/edit").get_data(as_text=True)
    assert f'id="item{first.id}-name"' in page and f'id="item{second.id}-name"' in page

    response = client.post(f"/policies/{policy.id}/items/{second.id}", data=item_data(
        f"item{second.id}", 3, name="研发费用审计报告", formats=["pdf"]))
    assert response.status_code == 303
    assert client.post(f"/policies/{policy.id}/items/{second.id}/move",
                       data={"version": "4", "direction": "up"}).status_code == 303
    db.session.expire_all()
    assert [i.name for i in policy.items] == ["研发费用审计报告", "营业执照副本"]
    assert policy.items[0].required and policy.items[0].formats == "pdf"

    assert client.post(f"/policies/{policy.id}/items/{first.id}/delete", data={"version": "5"}).status_code == 303
    db.session.expire_all()
    assert [i.name for i in policy.items] == ["研发费用审计报告"] and policy.version == 6
    assert "营业执照副本" not in text_of(client.get(f"/policies/{policy.id}"))


@pytest.mark.parametrize("overrides, message", [
    ({"formats": []}, "请至少选择一种接受的文件格式"),
    ({"formats": ["exe"]}, "文件格式只能从列表中选择"),
    ({"name": ""}, "请填写材料名称"),
])
def test_a_bad_checklist_item_is_refused_and_keeps_what_was_typed(client, login_as, make_policy, db, overrides,
                                                                  message):
    policy = make_policy()
    login_as(Role.sysadmin)
    response = client.post(f"/policies/{policy.id}/items", data=item_data("new", 1, note="保留的说明", **overrides))
    assert response.status_code == 422
    assert message in text_of(response) and 'value="保留的说明"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert policy.items == [] and policy.version == 1


def test_a_stale_checklist_change_is_refused(client, login_as, make_policy, db):
    policy = make_policy(items=["营业执照副本"])
    item = policy.items[0]
    login_as(Role.sysadmin)
    assert client.post(f"/policies/{policy.id}/edit", data=edit_form(policy, title="别人先改了")).status_code == 303
    response = client.post(f"/policies/{policy.id}/items/{item.id}", data=item_data(f"item{item.id}", 1, name="过期的修改"))
    assert response.status_code == 409 and "该政策已被他人修改" in text_of(response)
    assert client.post(f"/policies/{policy.id}/items/{item.id}/delete", data={"version": "1"}).status_code == 409
    db.session.expire_all()
    assert [i.name for i in policy.items] == ["营业执照副本"]


def test_an_item_an_application_refers_to_cannot_be_removed(client, login_as, make_policy, make_application, db):
    policy = make_policy(items=["营业执照副本"])
    item = policy.items[0]
    application = make_application(policy, "submitted")
    db.session.add(ApplicationItem(application_id=application.id, item_id=item.id, paper_received=True))
    db.session.commit()
    login_as(Role.sysadmin)
    response = client.post(f"/policies/{policy.id}/items/{item.id}/delete", data={"version": "1"})
    assert response.status_code == 422 and "已有申报使用材料“营业执照副本”，不能删除" in text_of(response)
    db.session.expire_all()
    assert len(policy.items) == 1


def test_an_item_of_another_policy_is_not_found(client, login_as, make_policy):
    policy = make_policy()
    other = make_policy(items=["营业执照副本"])
    login_as(Role.sysadmin)
    response = client.post(f"/policies/{policy.id}/items/{other.items[0].id}/delete", data={"version": "1"})
    assert response.status_code == 404
