"""Every path of the policy application workflow, driven through the views as the people who do it."""
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gaoxin.models import Application, Attachment, Event, Role, SupplementNotice, UnitKind
from gaoxin.services.calendar import today, working_calendar
from tests.conftest import log_in, text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" + b"\x00" * 64
HTML = b"<html><body>not a pdf</body></html>"


@pytest.fixture
def people(make_unit, make_user):
    """The window, a building station, the reviewing department, another department, the paying unit, a leader."""
    window = make_unit(UnitKind.window, name="一窗式政策申报和受理服务窗口")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    dept = make_unit(UnitKind.department, name="科技人才局")
    other = make_unit(UnitKind.department, name="发展规划局")
    paying = make_unit(UnitKind.department, name="财政金融局", is_paying_unit=True)
    return {
        "dept": dept, "other": other, "paying": paying, "station": station,
        "window": make_user(Role.window, unit=window, name="张丽"),
        "clerk": make_user(Role.clerk, unit=station, name="王小红"),
        "handler": make_user(Role.handler, unit=dept, name="刘洋"),
        "lead": make_user(Role.dept_lead, unit=dept, name="黄志强"),
        "other_handler": make_user(Role.handler, unit=other, name="钱多多"),
        "payer": make_user(Role.handler, unit=paying, name="周敏"),
        "leader": make_user(Role.leader, name="孙卫东"),
    }


@pytest.fixture
def policy(make_policy, people):
    """A district policy of the department: 5 required items (PDF only for the first) and one optional."""
    return make_policy(
        title="研发投入补贴", department=people["dept"], max_amount="500000.00", review_days=20,
        items=[("申报表", True, "pdf"), "营业执照", "审计报告", "研发费用明细", "知识产权证明", ("其他材料", False, "pdf,jpg,png")],
    )


def as_user(client, user):
    client.post("/logout")
    log_in(client, user.username)


def item_ids(policy):
    return [item.id for item in policy.items]


def intake_data(enterprise, policy, token="tok-1", amount="300,000.00", paper=(), absent=(), intent="submit", **extra):
    data = {"submission_token": token, "enterprise_id": enterprise.id, "policy_id": policy.id,
            "declared_amount": amount, "intent": intent, "contact_name": "张三", "contact_mobile": "13812345678"}
    for item_id in paper:
        data[f"paper-{item_id}"] = "1"
    for item_id in absent:
        data[f"absent-{item_id}"] = "1"
    data.update(extra)
    return data


def submitted(client, people, policy, enterprise, paper=None):
    """An application taken in at the window with every required item's paper copy (or only `paper`, the other
    required items marked 暂缺)."""
    as_user(client, people["window"])
    ids = item_ids(policy)
    paper = ids[:5] if paper is None else paper
    response = client.post("/applications/new", data=intake_data(
        enterprise, policy, paper=paper, absent=[i for i in ids[:5] if i not in paper]))
    assert response.status_code == 303, text_of(response)
    return _only_application()


def _only_application():
    """The application created last."""
    from gaoxin.extensions import db

    return db.session.scalar(select(Application).order_by(Application.id.desc()))


def check(client, application, marks, decision, reason=""):
    data = {"version": application.version, "decision": decision, "reason": reason}
    for item_id, (status, why) in marks.items():
        data[f"mark-{item_id}"] = status
        data[f"reason-{item_id}"] = why
    return client.post(f"/applications/{application.id}/check", data=data)


def all_ok(policy, **overrides):
    marks = {item.id: ("ok", "") for item in policy.items}
    marks.update(overrides)
    return marks


# --------------------------------------------------------------------------- intake


def test_window_saves_a_draft_resumes_it_and_submits_with_a_receipt_number(client, people, policy, make_enterprise, db):
    enterprise = make_enterprise(name="成都迈普通信技术股份有限公司")
    as_user(client, people["window"])
    page = client.get(f"/applications/new?policy={policy.id}")
    assert page.status_code == 200 and "研发投入补贴" in text_of(page) and "申报表" in text_of(page)
    ids = item_ids(policy)
    draft = client.post("/applications/new", data=intake_data(enterprise, policy, intent="draft", paper=ids[:2]))
    assert draft.status_code == 303 and "/edit" in draft.headers["Location"]
    application = _only_application()
    assert application.state == "draft" and application.receipt_no is None
    assert application.declared_amount == Decimal("300000.00")
    resumed = client.get(draft.headers["Location"])
    body = text_of(resumed)
    assert resumed.status_code == 200 and "300000.00" in resumed.get_data(as_text=True) and "纸质件已收（已登记）" in body
    done = client.post(draft.headers["Location"], data={
        **intake_data(enterprise, policy, paper=ids[2:5], amount="300000"), "version": application.version,
        "contact_name": "", "contact_mobile": ""})
    assert done.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "submitted" and application.submitted_at is not None
    assert application.receipt_no == f"SB{today():%Y%m%d}{application.id:07d}"
    page = text_of(client.get(done.headers["Location"]))
    assert application.receipt_no in page and "待形式审查" in page
    events = db.session.scalars(select(Event).where(Event.application_id == application.id)).all()
    public = [e.public_text for e in events if e.public]
    assert any(application.receipt_no in text for text in public)
    assert all("张丽" not in text for text in public)


def test_a_resubmitted_intake_form_creates_one_application(client, people, policy, make_enterprise, db):
    enterprise = make_enterprise()
    as_user(client, people["clerk"])
    data = intake_data(enterprise, policy, token="same", paper=item_ids(policy)[:5])
    first = client.post("/applications/new", data=data)
    second = client.post("/applications/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(Application.id))) == 1


@pytest.mark.parametrize("typed, expected", [
    ("1000", Decimal("1000.00")), ("1,000.50", Decimal("1000.50")), ("１０００", Decimal("1000.00")),
])
def test_amounts_as_clerks_type_them_are_accepted(client, people, policy, make_enterprise, db, typed, expected):
    as_user(client, people["clerk"])
    response = client.post("/applications/new", data=intake_data(make_enterprise(), policy, amount=typed, intent="draft"))
    assert response.status_code == 303
    assert _only_application().declared_amount == expected


@pytest.mark.parametrize("typed, message", [
    ("-5", "金额必须大于0。"),
    ("0", "金额必须大于0。"),
    ("1e3", "金额格式不正确"),
    ("一千元", "金额格式不正确"),
    ("12abc", "金额格式不正确"),
    ("10.555", "两位小数"),
    ("500,000.01", "金额不能超过该政策的最高额度¥500,000.00。"),
    ("", "请填写金额。"),
])
def test_bad_amounts_are_refused_and_everything_typed_is_kept(client, people, policy, make_enterprise, db, typed, message):
    enterprise = make_enterprise()
    as_user(client, people["clerk"])
    response = client.post("/applications/new", data=intake_data(
        enterprise, policy, amount=typed, contact_name="李四保留", paper=[item_ids(policy)[1]]))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in text_of(response) and "李四保留" in body and enterprise.name in body
    assert f'name="paper-{item_ids(policy)[1]}" value="1" checked' in body
    assert db.session.scalar(select(Application)) is None


def test_a_required_item_with_neither_file_nor_paper_is_named_beside_it(client, people, policy, make_enterprise, db):
    as_user(client, people["window"])
    ids = item_ids(policy)
    response = client.post("/applications/new", data=intake_data(make_enterprise(), policy, paper=ids[:2] + ids[3:5]))
    assert response.status_code == 422
    assert "“审计报告”是必交材料：请上传文件，或勾选“纸质件已收”；确实未带的，勾选“暂缺”。" in text_of(response)
    assert f'id="item-{ids[2]}-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Application)) is None


@pytest.mark.parametrize("content, filename", [(PNG, "申报表.png"), (HTML, "申报表.pdf")])
def test_a_file_of_the_wrong_type_for_its_item_is_refused(client, people, policy, make_enterprise, db, content, filename):
    as_user(client, people["window"])
    ids = item_ids(policy)
    data = intake_data(make_enterprise(), policy, paper=ids[1:5])
    data[f"file-{ids[0]}"] = (io.BytesIO(content), filename)
    response = client.post("/applications/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert f"“申报表”：文件“{filename}”的内容不是PDF格式" in text_of(response)
    assert db.session.scalar(select(Application)) is None


def test_uploaded_files_survive_a_failed_validation_and_are_attached_on_success(client, people, policy, make_enterprise, db):
    enterprise = make_enterprise()
    as_user(client, people["window"])
    ids = item_ids(policy)
    data = intake_data(enterprise, policy, amount="abc", paper=ids[1:5])
    data[f"file-{ids[0]}"] = (io.BytesIO(PDF), "申报表.pdf")
    failed = client.post("/applications/new", data=data, content_type="multipart/form-data")
    assert failed.status_code == 422 and "申报表.pdf" in text_of(failed)
    pending = db.session.scalar(select(Attachment))
    assert pending.owner_id is None and pending.item_key == str(ids[0])
    ok = client.post("/applications/new", data={
        **intake_data(enterprise, policy, paper=ids[1:5]), "attachment_ids": str(pending.id)})
    assert ok.status_code == 303
    application = _only_application()
    assert db.session.get(Attachment, pending.id).owner_id == application.id
    download = client.get(f"/applications/{application.id}/files/{pending.id}")
    assert download.status_code == 200 and download.data == PDF


def test_a_policy_that_closed_yesterday_cannot_be_applied_for(client, people, make_policy, make_enterprise, db):
    closed = make_policy(title="已截止的政策", department=people["dept"], opens=-60, closes=-1, items=["申报表"])
    as_user(client, people["window"])
    form = client.get("/applications/new")
    assert "已于" in text_of(form) and "截止" in text_of(form)
    response = client.post("/applications/new", data=intake_data(make_enterprise(), closed, paper=item_ids(closed)))
    assert response.status_code == 422
    assert f"已于{closed.closes_on:%Y年%-m月%-d日}截止" in text_of(response)
    assert db.session.scalar(select(Application)) is None


def test_a_policy_not_yet_open_says_so(client, people, make_policy, make_enterprise, db):
    later = make_policy(department=people["dept"], opens=5, closes=60, items=["申报表"])
    as_user(client, people["window"])
    response = client.post("/applications/new", data=intake_data(make_enterprise(), later, paper=item_ids(later)))
    assert response.status_code == 422 and "尚未开始" in text_of(response)


def test_the_contact_select_fragment_lists_the_enterprises_contacts(client, people, make_enterprise, db):
    from gaoxin.models import Contact

    enterprise = make_enterprise()
    db.session.add(Contact(enterprise_id=enterprise.id, name="赵经理", mobile="13900001111"))
    db.session.commit()
    as_user(client, people["clerk"])
    response = client.get(f"/applications/contact-options?enterprise_id={enterprise.id}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "赵经理 139****1111" in body


def test_the_checklist_fragment_follows_the_chosen_policy(client, people, policy):
    as_user(client, people["clerk"])
    response = client.get(f"/applications/checklist?policy_id={policy.id}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="checklist"' in body and "研发费用明细" in body


# --------------------------------------------------------------------------- the whole path


def test_supplement_resubmit_accept_approve_issue_and_disburse(client, people, policy, make_enterprise, db):
    enterprise = make_enterprise()
    ids = item_ids(policy)
    # Taken in with two of five required materials missing.
    application = submitted(client, people, policy, enterprise, paper=ids[:3])
    marks = all_ok(policy)
    marks[ids[3]] = ("missing", "")
    marks[ids[4]] = ("missing", "")
    marks[ids[2]] = ("faulty", "审计报告未盖章")
    assert check(client, application, marks, "supplement").status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "awaiting_supplement"
    notice = db.session.scalar(select(SupplementNotice))
    listed = {i["item"]: i for i in json.loads(notice.items_json)}
    assert set(listed) == {"审计报告", "研发费用明细", "知识产权证明"} and listed["审计报告"]["reason"] == "审计报告未盖章"
    printed = text_of(client.get(f"/applications/{application.id}/notice/supplement"))
    assert "补正材料一次性告知书" in printed and "研发费用明细" in printed and "知识产权证明" in printed
    assert "审计报告未盖章" in printed and application.receipt_no in printed and enterprise.name in printed

    # Resubmitting before everything listed came in is refused.
    early = client.post(f"/applications/{application.id}/resubmit", data={"version": application.version})
    assert early.status_code == 422 and "尚未补齐" in text_of(early)
    # The enterprise brings the rest: a file for one, paper for the others; nothing is deleted.
    data = {"version": application.version, f"file-{ids[3]}": (io.BytesIO(PDF), "研发费用明细.pdf"),
            f"paper-{ids[4]}": "1", f"paper-{ids[2]}": "1"}
    added = client.post(f"/applications/{application.id}/materials", data=data, content_type="multipart/form-data")
    assert added.status_code == 303
    application = db.session.get(Application, application.id)
    assert client.post(f"/applications/{application.id}/resubmit", data={"version": application.version}).status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "submitted"
    assert check(client, application, all_ok(policy), "accept").status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "accepted" and application.accepted_on == today()
    assert application.review_due_on == working_calendar().add_workdays(today(), 20)
    acceptance = text_of(client.get(f"/applications/{application.id}/notice/acceptance"))
    assert "受理通知书" in acceptance and "科技人才局" in acceptance

    # The department approves: not above the declared amount, nor the policy's maximum.
    as_user(client, people["handler"])
    review_list = text_of(client.get("/applications/review"))
    assert application.receipt_no in review_list and "19个工作日后到期" in review_list or "个工作日后到期" in review_list
    above = client.post(f"/applications/{application.id}/approve", data={"version": application.version, "amount": "300,000.01"})
    assert above.status_code == 422 and "核定金额不能超过申报金额¥300,000.00。" in text_of(above)
    letters = client.post(f"/applications/{application.id}/approve", data={"version": application.version, "amount": "二十万"})
    assert letters.status_code == 422 and "金额格式不正确" in text_of(letters)
    assert db.session.get(Application, application.id).state == "accepted"
    ok = client.post(f"/applications/{application.id}/approve", data={"version": application.version, "amount": "250000"})
    assert ok.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "approved" and application.approved_amount == Decimal("250000.00")

    # The paying unit sees nothing to pay before the result is handed out.
    as_user(client, people["payer"])
    assert application.receipt_no not in text_of(client.get("/applications/disbursements"))
    # The window issues the result.
    as_user(client, people["window"])
    assert client.post(f"/applications/{application.id}/issue-result", data={"version": application.version}).status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "result_issued"
    result = text_of(client.get(f"/applications/{application.id}/notice/result"))
    assert "审核结果通知书" in result and "¥250,000.00" in result and "贰拾伍万元整" in result

    # The paying unit disburses: not more than approved, not in the future.
    as_user(client, people["payer"])
    assert application.receipt_no in text_of(client.get("/applications/disbursements"))
    too_much = client.post(f"/applications/{application.id}/disburse", data={
        "version": application.version, "amount": "250000.01", "disbursed_on": today().isoformat()})
    assert too_much.status_code == 422 and "拨付金额不能超过核定金额¥250,000.00。" in text_of(too_much)
    future = client.post(f"/applications/{application.id}/disburse", data={
        "version": application.version, "amount": "250000", "disbursed_on": (today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "拨付日期不能晚于今天。" in text_of(future)
    paid = client.post(f"/applications/{application.id}/disburse", data={
        "version": application.version, "amount": "250,000.00", "disbursed_on": today().isoformat()})
    assert paid.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "disbursed" and application.disbursed_amount == Decimal("250000.00")
    page = text_of(client.get(f"/applications/{application.id}"))
    assert "已办结" in page and "资金已拨付¥250,000.00" in page
    # Files are never deleted: the supplement's file sits beside the history.
    assert db.session.scalar(select(func.count(Attachment.id))) == 1
    actions = db.session.scalars(select(Event.action).where(Event.application_id == application.id).order_by(Event.id)).all()
    assert actions == ["submit", "supplement", "add_materials", "resubmit", "accept", "approve",
                       "issue_result", "disburse"]


def test_acceptance_date_is_the_day_the_file_became_complete(client, people, policy, make_enterprise, db):
    ids = item_ids(policy)
    application = submitted(client, people, policy, make_enterprise(), paper=ids[:4])
    marks = all_ok(policy)
    marks[ids[4]] = ("missing", "")
    check(client, application, marks, "supplement")
    application = db.session.get(Application, application.id)
    client.post(f"/applications/{application.id}/materials", data={"version": application.version, f"paper-{ids[4]}": "1"})
    application = db.session.get(Application, application.id)
    client.post(f"/applications/{application.id}/resubmit", data={"version": application.version})
    # The enterprise completed its file three days ago; the window checks it today.
    notice = db.session.scalar(select(SupplementNotice))
    notice.completed_on = today() - timedelta(days=3)
    db.session.commit()
    application = db.session.get(Application, application.id)
    assert check(client, application, all_ok(policy), "accept").status_code == 303
    application = db.session.get(Application, application.id)
    assert application.accepted_on == today() - timedelta(days=3)
    assert application.review_due_on == working_calendar().add_workdays(today() - timedelta(days=3), 20)


def test_refuse_needs_a_reason_and_prints_the_refusal_notice(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    empty = check(client, application, all_ok(policy), "refuse", reason="")
    assert empty.status_code == 422 and "不予受理须说明理由。" in text_of(empty)
    assert check(client, application, all_ok(policy), "refuse", reason="企业注册地不在高新区").status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "refused"
    notice = text_of(client.get(f"/applications/{application.id}/notice/refusal"))
    assert "不予受理通知书" in notice and "企业注册地不在高新区" in notice
    for kind in ("acceptance", "result", "supplement", "nonsense"):
        assert client.get(f"/applications/{application.id}/notice/{kind}").status_code == 404
    public = db.session.scalar(select(Event.public_text).where(Event.application_id == application.id, Event.action == "refuse"))
    assert public == "不予受理：企业注册地不在高新区"


def test_accept_is_refused_while_an_item_is_flagged_or_a_required_one_is_empty(client, people, policy, make_enterprise, db):
    ids = item_ids(policy)
    application = submitted(client, people, policy, make_enterprise(), paper=ids[:4])
    flagged = check(client, application, all_ok(policy) | {ids[1]: ("faulty", "过期"), ids[4]: ("missing", "")}, "accept")
    assert flagged.status_code == 422 and "不能受理" in text_of(flagged)
    empty_ok = check(client, application, all_ok(policy), "accept")
    assert empty_ok.status_code == 422 and "“知识产权证明”既没有文件也没有纸质件，不能标记为齐全。" in text_of(empty_ok)
    no_reason = check(client, application, all_ok(policy) | {ids[4]: ("faulty", "")}, "supplement")
    assert no_reason.status_code == 422 and "请说明“知识产权证明”有什么问题。" in text_of(no_reason)
    assert db.session.get(Application, application.id).state == "submitted"


def test_a_supplement_notice_with_nothing_missing_or_faulty_is_refused(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    nothing = check(client, application, all_ok(policy), "supplement")
    assert nothing.status_code == 422 and "没有标记为缺少或有误的材料，无需补正" in text_of(nothing)
    assert db.session.scalar(select(SupplementNotice)) is None


def test_reject_then_issue_result_completes_the_application(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    check(client, application, all_ok(policy), "accept")
    application = db.session.get(Application, application.id)
    as_user(client, people["lead"])
    empty = client.post(f"/applications/{application.id}/reject", data={"version": application.version, "reason": ""})
    assert empty.status_code == 422 and "请说明审核不通过的理由。" in text_of(empty)
    assert client.post(f"/applications/{application.id}/reject", data={
        "version": application.version, "reason": "研发投入未达到申报门槛"}).status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "rejected" and application.outcome == "rejected"
    as_user(client, people["window"])
    client.post(f"/applications/{application.id}/issue-result", data={"version": application.version})
    application = db.session.get(Application, application.id)
    assert application.state == "result_issued"
    result = text_of(client.get(f"/applications/{application.id}/notice/result"))
    assert "审核不通过" in result and "研发投入未达到申报门槛" in result
    assert "已办结" in text_of(client.get(f"/applications/{application.id}"))
    # No money on a rejection; and the paying unit never sees it.
    as_user(client, people["payer"])
    assert client.get(f"/applications/{application.id}").status_code == 404


def test_department_sends_back_to_supplement_then_the_window_cannot_flag_what_it_passed(client, people, policy,
                                                                                         make_enterprise, db):
    ids = item_ids(policy)
    application = submitted(client, people, policy, make_enterprise())
    # First window notice: 知识产权证明 is faulty.
    check(client, application, all_ok(policy) | {ids[4]: ("faulty", "证书已过期")}, "supplement")
    application = db.session.get(Application, application.id)
    client.post(f"/applications/{application.id}/materials", data={
        "version": application.version, f"file-{ids[4]}": (io.BytesIO(PDF), "新证书.pdf")}, content_type="multipart/form-data")
    application = db.session.get(Application, application.id)
    client.post(f"/applications/{application.id}/resubmit", data={"version": application.version})
    application = db.session.get(Application, application.id)
    assert check(client, application, all_ok(policy), "accept").status_code == 303
    application = db.session.get(Application, application.id)
    # The department wants the audit report again.
    as_user(client, people["handler"])
    none = client.post(f"/applications/{application.id}/back", data={"version": application.version, "reason": "需补充"})
    assert none.status_code == 422 and "请选择需要补正的材料。" in text_of(none)
    back = client.post(f"/applications/{application.id}/back", data={
        "version": application.version, "item_ids": [ids[2]], "reason": "审计报告须为2025年度"})
    assert back.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.state == "awaiting_supplement"
    notice = db.session.scalars(select(SupplementNotice).order_by(SupplementNotice.id)).all()[-1]
    assert notice.issued_by_stage == "department" and json.loads(notice.items_json)[0]["item"] == "审计报告"
    assert "审计报告须为2025年度" in text_of(client.get(f"/applications/{application.id}/notice/supplement?notice={notice.id}"))
    as_user(client, people["window"])
    client.post(f"/applications/{application.id}/materials", data={
        "version": application.version, f"file-{ids[2]}": (io.BytesIO(PDF), "2025审计报告.pdf")}, content_type="multipart/form-data")
    application = db.session.get(Application, application.id)
    client.post(f"/applications/{application.id}/resubmit", data={"version": application.version})
    application = db.session.get(Application, application.id)
    # A second window notice repeating 知识产权证明 from the first — unchanged since it was passed — is refused.
    repeat = check(client, application, all_ok(policy) | {ids[4]: ("faulty", "证书不清晰")}, "supplement")
    assert repeat.status_code == 422
    assert "“知识产权证明”自上次审查以来没有补充或更换材料" in text_of(repeat)
    # Something never flagged and unchanged since the first check could have been listed then: refused too.
    late = check(client, application, all_ok(policy) | {ids[1]: ("missing", "")}, "supplement")
    assert late.status_code == 422 and "“营业执照”自上次审查以来没有补充或更换材料" in text_of(late)
    assert db.session.scalar(select(func.count(SupplementNotice.id))) == 2
    # The item whose file changed may be flagged again.
    again = check(client, application, all_ok(policy) | {ids[2]: ("faulty", "缺少审计机构签章")}, "supplement")
    assert again.status_code == 303
    assert db.session.scalar(select(func.count(SupplementNotice.id))) == 3


def test_a_stale_page_cannot_overwrite_newer_work(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    stale = application.version
    check(client, application, all_ok(policy), "accept")
    as_user(client, people["handler"])
    response = client.post(f"/applications/{application.id}/approve", data={"version": stale, "amount": "1000"})
    assert response.status_code == 409 and "已被他人更新" in text_of(response)
    assert db.session.get(Application, application.id).state == "accepted"


def test_an_action_in_the_wrong_state_is_a_409_with_the_reason(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    response = client.post(f"/applications/{application.id}/issue-result", data={"version": application.version})
    assert response.status_code == 409 and "当前状态“待形式审查”不能执行“出件”。" in text_of(response)


def test_htmx_action_returns_only_the_panel(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    data = {"version": application.version, "decision": "accept"}
    data.update({f"mark-{i}": "ok" for i in item_ids(policy)})
    response = client.post(f"/applications/{application.id}/check", data=data, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="application-panel"' in body
    assert "已受理（待部门审查）" in body and response.headers["HX-Trigger"] == "applications-changed"
    full = client.get(f"/applications/{application.id}")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]
    as_user(client, people["handler"])
    fragment = client.get(f"/applications/{application.id}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="approve-amount"' in body and "核定金额（元）" in body


def test_an_htmx_action_leaves_no_message_for_the_next_page(client, people, policy, make_enterprise, db):
    """The panel shows the message once; the next full page must not show it again (a stale flash)."""
    application = submitted(client, people, policy, make_enterprise())
    client.get(f"/applications/{application.id}")  # the intake's own message is shown and gone
    data = {"version": application.version, "decision": "accept"}
    data.update({f"mark-{i}": "ok" for i in item_ids(policy)})
    response = client.post(f"/applications/{application.id}/check", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "已受理，已转部门审查。" in text_of(response)
    with client.session_transaction() as session:
        assert session.get("_flashes", []) == []
    for path in ("/applications/", f"/applications/{application.id}"):
        page = client.get(path)
        assert page.status_code == 200
        assert 'class="flashes"' not in page.get_data(as_text=True), path
        assert "已受理，已转部门审查。" not in text_of(page), path


# --------------------------------------------------------------------------- who sees what


def test_other_departments_application_its_notices_and_files_are_404(client, people, policy, make_enterprise, db):
    ids = item_ids(policy)
    as_user(client, people["window"])
    data = intake_data(make_enterprise(), policy, paper=ids[1:5])
    data[f"file-{ids[0]}"] = (io.BytesIO(PDF), "申报表.pdf")
    client.post("/applications/new", data=data, content_type="multipart/form-data")
    application = _only_application()
    check(client, application, all_ok(policy), "accept")
    attachment = db.session.scalar(select(Attachment))
    for user in (people["other_handler"], people["payer"]):
        as_user(client, user)
        for path in (f"/applications/{application.id}", f"/applications/{application.id}/notice/acceptance",
                     f"/applications/{application.id}/files/{attachment.id}"):
            assert client.get(path).status_code == 404, (user.name, path)
        assert client.get(f"/applications/{application.id}", headers={"HX-Request": "true"}).status_code == 404
        assert client.post(f"/applications/{application.id}/approve", data={"amount": "1"}).status_code == 404
        assert application.receipt_no not in text_of(client.get("/applications/"))
    as_user(client, people["handler"])
    assert client.get(f"/applications/{application.id}/files/{attachment.id}").status_code == 200


def test_intake_units_see_their_own_and_the_window_sees_all(client, people, policy, make_enterprise, make_user, db):
    other_station = make_user(Role.clerk, name="另一站点")
    ids = item_ids(policy)
    as_user(client, people["clerk"])
    client.post("/applications/new", data=intake_data(make_enterprise(), policy, token="a", paper=ids[:5]))
    mine = _only_application()
    assert client.get(f"/applications/{mine.id}").status_code == 200
    as_user(client, other_station)
    assert client.get(f"/applications/{mine.id}").status_code == 404
    for user in (people["window"], people["leader"], people["handler"]):
        as_user(client, user)
        assert mine.receipt_no in text_of(client.get("/applications/")), user.name


def test_a_department_does_not_see_drafts(client, people, policy, make_enterprise, db):
    as_user(client, people["clerk"])
    client.post("/applications/new", data=intake_data(make_enterprise(), policy, intent="draft"))
    draft = _only_application()
    as_user(client, people["handler"])
    assert client.get(f"/applications/{draft.id}").status_code == 404


@pytest.mark.parametrize("role_key, path, status", [
    ("leader", "/applications/new", 403),
    ("handler", "/applications/new", 403),
    ("clerk", "/applications/review", 403),
    ("window", "/applications/disbursements", 403),
    ("handler", "/applications/disbursements", 403),
    ("payer", "/applications/disbursements", 200),
    ("handler", "/applications/review", 200),
    ("leader", "/applications/", 200),
])
def test_pages_by_role(client, people, role_key, path, status):
    as_user(client, people[role_key])
    assert client.get(path).status_code == status


def test_the_leader_reads_but_cannot_act(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    as_user(client, people["leader"])
    page = client.get(f"/applications/{application.id}")
    assert page.status_code == 200 and "形式审查（" not in text_of(page)
    response = check(client, application, all_ok(policy), "accept")
    assert response.status_code == 403
    assert db.session.get(Application, application.id).state == "submitted"


def test_review_list_flags_overdue_applications_in_working_days(client, people, policy, make_enterprise, db):
    application = submitted(client, people, policy, make_enterprise())
    check(client, application, all_ok(policy), "accept")
    application = db.session.get(Application, application.id)
    calendar = working_calendar()
    application.review_due_on = calendar.add_workdays(today(), -3)
    db.session.commit()
    as_user(client, people["handler"])
    page = text_of(client.get("/applications/review"))
    assert "已超期3个工作日" in page
    assert application.receipt_no in text_of(client.get("/applications/review?overdue=1"))
    fragment = client.get("/applications/review?state=approved", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and application.receipt_no not in text_of(fragment)


def test_lists_page_fifty_at_a_time(client, people, policy, make_application, db):
    for _ in range(51):
        make_application(policy=policy, intake=people["window"])
    as_user(client, people["window"])
    first = client.get("/applications/")
    body = first.get_data(as_text=True)
    assert body.count('href="/applications/') - body.count('href="/applications/new') >= 50
    assert 'rel="next"' in body
    second = client.get("/applications/?page=2")
    assert 'rel="next"' not in second.get_data(as_text=True) and 'rel="prev"' in second.get_data(as_text=True)
