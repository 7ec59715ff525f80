"""Every path of the appeal state diagram, driven through the views as the people who do it."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from gaoxin.models import Appeal, Event, Attachment, Extension, Role, UnitKind
from tests.conftest import log_in, text_of


@pytest.fixture
def people(make_unit, make_user, make_category):
    """A department with two handlers and a lead, a co-handling department, a clerk, a dispatcher."""
    dept = make_unit(UnitKind.department, name="科技人才局")
    other = make_unit(UnitKind.department, name="发展规划局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    return {
        "dept": dept, "other": other, "station": station,
        "clerk": make_user(Role.clerk, unit=station, name="王小红"),
        "handler": make_user(Role.handler, unit=dept, name="刘洋"),
        "handler2": make_user(Role.handler, unit=dept, name="赵磊"),
        "lead": make_user(Role.dept_lead, unit=dept, name="黄志强"),
        "other_handler": make_user(Role.handler, unit=other, name="钱多多"),
        "dispatcher": make_user(Role.dispatcher, name="陈静"),
        "category": make_category(name="人才", lead_unit=dept),
        "unrouted": make_category(name="其他", lead_unit=None),
    }


def event_count(db, appeal):
    return len(db.session.scalars(select(Event.id).where(Event.appeal_id == appeal.id)).all())


def act(client, user, path, **data):
    client.post("/logout")
    log_in(client, user.username)
    return client.post(path, data=data)


def test_clerk_records_an_appeal_that_reaches_the_department_at_once(client, people, make_enterprise, db):
    enterprise = make_enterprise(name="成都迈普通信技术股份有限公司")
    log_in(client, people["clerk"].username)
    form = client.get("/appeals/new")
    assert "登记诉求" in text_of(form)
    response = client.post("/appeals/new", data={
        "submission_token": "tok-1", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "希望协调人才公寓。", "contact_name": "张三",
        "contact_mobile": "13812345678",
    })
    assert response.status_code == 303
    appeal = db.session.scalar(select(Appeal))
    assert appeal.state == "dispatched" and appeal.lead_unit_id == people["dept"].id
    assert appeal.receipt_no.startswith("SQ") and appeal.due_on is not None and appeal.sign_due_on is not None
    page = text_of(client.get(response.headers["Location"]))
    assert appeal.receipt_no in page and "待签收" in page and "138****5678" in page


def test_a_resubmitted_intake_form_creates_one_appeal(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    data = {"submission_token": "same-token", "enterprise_id": enterprise.id, "category_id": people["category"].id,
            "channel": "building_station", "content": "重复提交测试", "contact_name": "张三", "contact_mobile": "13812345678"}
    first = client.post("/appeals/new", data=data)
    second = client.post("/appeals/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(db.session.scalars(select(Appeal)).all()) == 1


def test_a_form_sent_again_with_mistakes_after_it_recorded_shows_the_appeal(client, people, make_enterprise, db):
    # Recorded, then the clerk went back, emptied the content and sent the same form again.
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    data = {"submission_token": "sent-twice", "enterprise_id": enterprise.id, "category_id": people["category"].id,
            "channel": "building_station", "content": "第一次提交", "contact_name": "张三", "contact_mobile": "13812345678"}
    first = client.post("/appeals/new", data=data)
    second = client.post("/appeals/new", data={**data, "content": ""})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert [a.content for a in db.session.scalars(select(Appeal))] == ["第一次提交"]


def test_a_form_with_a_file_sent_twice_stores_the_file_once(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"

    def send():
        return client.post("/appeals/new", data={
            "submission_token": "file-twice", "enterprise_id": enterprise.id, "category_id": people["category"].id,
            "channel": "building_station", "content": "带附件的诉求", "no_contact_reason": "企业仅留座机",
            "files": (io.BytesIO(pdf), "材料.pdf")}, content_type="multipart/form-data")
    first, second = send(), send()
    assert first.headers["Location"] == second.headers["Location"]
    appeal = db.session.scalar(select(Appeal))
    attachments = db.session.scalars(select(Attachment)).all()
    assert [(a.filename, a.owner_id) for a in attachments] == [("材料.pdf", appeal.id)]


def test_a_recorded_appeal_is_written_once_with_its_receipt_route_and_timeline(app, client, people, make_enterprise, db):
    from sqlalchemy import event

    co = people["other"]
    category = people["category"]
    category.co_units = [co]
    db.session.commit()
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    statements = []
    listener = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.post("/appeals/new", data={
            "submission_token": "once", "enterprise_id": enterprise.id, "category_id": category.id,
            "channel": "building_station", "content": "一次写入", "contact_name": "张三", "contact_mobile": "13812345678"})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 303
    # PostgreSQL: one INSERT of the appeal, already numbered (its id taken from the sequence) and routed.
    # SQLite has no sequence to ask: the INSERT gives the id, one UPDATE adds the receipt number and route.
    writes = [s.split(" ")[0] for s in statements if s.startswith(("INSERT INTO appeals ", "UPDATE appeals "))]
    assert writes == (["INSERT"] if db.engine.dialect.name == "postgresql" else ["INSERT", "UPDATE"])
    # No look-up by the token first: its unique index refuses a second appeal.
    assert not [s for s in statements if s.startswith("SELECT") and "submission_token =" in s]
    db.session.expire_all()
    appeal = db.session.scalar(select(Appeal))
    assert appeal.receipt_no.endswith(f"{appeal.id:07d}")
    assert (appeal.state, appeal.lead_unit_id, [c.unit_id for c in appeal.co_handlers]) == \
        ("dispatched", people["dept"].id, [co.id])
    events = db.session.scalars(select(Event).where(Event.appeal_id == appeal.id).order_by(Event.id)).all()
    assert [(e.action, e.to_state) for e in events] == [("register", "registered"), ("route", "dispatched")]
    assert appeal.receipt_no in events[0].public_text
    page = text_of(client.get(response.headers["Location"]))
    assert f"诉求已登记，回执号 {appeal.receipt_no}" in page and "发展规划局" in page


@pytest.mark.parametrize("content, message", [
    ("", "请填写诉求内容。"),
    ("长" * 5001, "诉求内容不能超过5000字。"),
])
def test_bad_content_is_refused_and_the_rest_is_kept(client, people, make_enterprise, db, content, message):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data={
        "submission_token": "t", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": content, "contact_name": "李四保留",
    })
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and "李四保留" in body and enterprise.name in body
    assert db.session.scalar(select(Appeal)) is None


def test_unknown_category_is_refused(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data={"submission_token": "t", "enterprise_id": enterprise.id,
                                                 "category_id": 99999, "channel": "building_station", "content": "x"})
    assert response.status_code == 422 and "请选择有效的诉求类别。" in text_of(response)
    assert db.session.scalar(select(Appeal)) is None


def test_script_and_htmx_attributes_in_content_are_shown_as_inert_text(client, people, make_appeal):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"],
                         content='<script>alert(1)</script><div hx-get="/logout">x</div>')
    log_in(client, people["clerk"].username)
    body = client.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and 'hx-get="/logout"' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_file_renamed_to_pdf_that_is_html_is_refused_and_typed_text_kept(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data={
        "submission_token": "t", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "附件测试内容",
        "files": (io.BytesIO(b"<html><body>not a pdf</body></html>"), "report.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "不是PDF、JPG、PNG、DOCX、XLSX格式" in text_of(response) and "附件测试内容" in text_of(response)
    assert db.session.scalar(select(Appeal)) is None


def test_a_good_pdf_survives_a_failed_validation_and_is_attached_on_success(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    failed = client.post("/appeals/new", data={
        "submission_token": "t2", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "", "files": (io.BytesIO(pdf), "申请表.pdf"),
    }, content_type="multipart/form-data")
    assert failed.status_code == 422 and "申请表.pdf" in text_of(failed)
    attachment = db.session.scalar(select(Attachment))
    ok = client.post("/appeals/new", data={
        "submission_token": "t2", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "补上内容", "attachment_ids": str(attachment.id),
        "no_contact_reason": "企业仅留座机 028-85123456",
    })
    assert ok.status_code == 303
    appeal = db.session.scalar(select(Appeal))
    download = client.get(f"/appeals/{appeal.id}/files/{attachment.id}")
    assert download.status_code == 200 and download.data == pdf
    import hashlib
    assert download.headers["X-Content-SHA256"] == hashlib.sha256(pdf).hexdigest()


def test_a_25_mb_file_is_refused(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    big = b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024)
    response = client.post("/appeals/new", data={
        "submission_token": "t", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "大文件", "files": (io.BytesIO(big), "big.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422 and "超过20MB" in text_of(response)
    assert db.session.scalar(select(Appeal)) is None


def test_full_path_sign_reply_follow_up_satisfied_closes(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    assert act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=appeal.version).status_code == 303
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "in_progress" and appeal.assignee_id == people["handler"].id and appeal.signed_in_time
    empty = client.post(f"/appeals/{appeal.id}/reply", data={"version": appeal.version, "outcome": "resolved", "text": ""})
    assert empty.status_code == 422 and "请填写答复内容。" in text_of(empty)
    assert client.post(f"/appeals/{appeal.id}/reply", data={
        "version": appeal.version, "outcome": "resolved", "text": "已协调人才公寓。"}).status_code == 303
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "replied" and appeal.reply_outcome == "resolved"
    assert act(client, people["clerk"], f"/appeals/{appeal.id}/follow-up", version=appeal.version,
               satisfaction="satisfied", comment="企业满意").status_code == 303
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "closed" and appeal.closed_at is not None


def test_unsatisfied_follow_up_reopens_once_to_the_same_department_then_closes(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=appeal.version)
    appeal = db.session.get(Appeal, appeal.id)
    client.post(f"/appeals/{appeal.id}/reply", data={"version": appeal.version, "outcome": "explained", "text": "解释"})
    appeal = db.session.get(Appeal, appeal.id)
    act(client, people["clerk"], f"/appeals/{appeal.id}/follow-up", version=appeal.version, satisfaction="unsatisfied")
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "in_progress" and appeal.reopened and appeal.lead_unit_id == people["dept"].id
    act(client, people["handler"], f"/appeals/{appeal.id}/reply", version=appeal.version, outcome="resolved", text="重办结果")
    appeal = db.session.get(Appeal, appeal.id)
    act(client, people["clerk"], f"/appeals/{appeal.id}/follow-up", version=appeal.version, satisfaction="unsatisfied")
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "closed"


def test_follow_up_before_reply_is_refused_with_409(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    version, events = appeal.version, event_count(db, appeal)
    log_in(client, people["clerk"].username)
    response = client.post(f"/appeals/{appeal.id}/follow-up", data={"version": appeal.version, "satisfaction": "satisfied"})
    # The recording unit may follow up, but not yet: the refusal is the workflow's (409), not a permission's.
    assert response.status_code == 409
    assert "当前状态“待签收”不能执行“回访满意”。" in text_of(response)
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "dispatched" and appeal.version == version and appeal.satisfaction is None
    assert event_count(db, appeal) == events


def test_no_rule_goes_to_the_dispatcher_who_dispatches_with_a_co_handler(client, people, make_appeal, db):
    appeal = make_appeal(category=people["unrouted"], recorder=people["clerk"])
    assert appeal.state == "awaiting_dispatch" and appeal.lead_unit_id is None
    response = act(client, people["dispatcher"], f"/appeals/{appeal.id}/dispatch", version=appeal.version,
                   lead_unit_id=people["dept"].id, co_unit_ids=[people["other"].id], handling_days=3)
    assert response.status_code == 303
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "dispatched" and appeal.lead_unit_id == people["dept"].id
    assert [c.unit_id for c in appeal.co_handlers] == [people["other"].id]
    # The lead cannot reply before the co-handler's opinion.
    act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=appeal.version)
    appeal = db.session.get(Appeal, appeal.id)
    early = client.post(f"/appeals/{appeal.id}/reply", data={"version": appeal.version, "outcome": "resolved", "text": "答复"})
    assert early.status_code == 409 and "发展规划局" in text_of(early)
    act(client, people["other_handler"], f"/appeals/{appeal.id}/opinion", text="同意协办")
    appeal = db.session.get(Appeal, appeal.id)
    ok = act(client, people["handler"], f"/appeals/{appeal.id}/reply", version=appeal.version, outcome="adopted", text="采纳")
    assert ok.status_code == 303 and db.session.get(Appeal, appeal.id).state == "replied"


def test_return_leaves_the_inbox_and_shows_reason_and_count(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    empty = act(client, people["handler"], f"/appeals/{appeal.id}/return", version=appeal.version, reason="")
    assert empty.status_code == 422 and "请说明退单理由。" in text_of(empty)
    act(client, people["handler"], f"/appeals/{appeal.id}/return", version=appeal.version, reason="属于规划事项",
        suggested_unit_id=people["other"].id)
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "awaiting_dispatch" and appeal.return_count == 1 and appeal.lead_unit_id is None
    # The department no longer sees it.
    assert client.get(f"/appeals/{appeal.id}").status_code == 404
    client.post("/logout")
    log_in(client, people["dispatcher"].username)
    page = text_of(client.get(f"/appeals/{appeal.id}"))
    assert "属于规划事项" in page and "建议转发展规划局" in page and "退单次数 1" in page


@pytest.mark.parametrize("days, message", [(0, "延期天数应为1至30个工作日。"), (100, "延期天数应为1至30个工作日。")])
def test_extension_days_out_of_range_are_refused(client, people, make_appeal, db, days, message):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=appeal.version)
    appeal = db.session.get(Appeal, appeal.id)
    response = client.post(f"/appeals/{appeal.id}/extend", data={"version": appeal.version, "days": days, "reason": "需要现场核查"})
    assert response.status_code == 422 and message in text_of(response)
    assert db.session.scalar(select(Extension)) is None


def test_approved_extension_moves_the_deadline_by_working_days(client, people, make_appeal, db):
    from gaoxin.services.calendar import working_calendar

    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=appeal.version)
    appeal = db.session.get(Appeal, appeal.id)
    before = appeal.due_on
    client.post(f"/appeals/{appeal.id}/extend", data={"version": appeal.version, "days": 3, "reason": "需要现场核查"})
    extension = db.session.scalar(select(Extension))
    act(client, people["dispatcher"], f"/appeals/{appeal.id}/extensions/{extension.id}", decision="approve")
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.due_on == working_calendar().add_workdays(before, 3) and appeal.extended_days == 3


def test_a_stale_page_cannot_overwrite_newer_work(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    stale_version = appeal.version
    act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=stale_version)
    appeal = db.session.get(Appeal, appeal.id)
    response = client.post(f"/appeals/{appeal.id}/return", data={"version": stale_version, "reason": "旧页面"})
    assert response.status_code == 409 and "已被他人更新" in text_of(response)
    assert db.session.get(Appeal, appeal.id).state == "in_progress"


def test_second_signer_is_told_who_has_it(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    version = appeal.version
    act(client, people["handler"], f"/appeals/{appeal.id}/sign", version=version)
    signed_version, events = db.session.get(Appeal, appeal.id).version, event_count(db, appeal)
    response = act(client, people["handler2"], f"/appeals/{appeal.id}/sign", version=version)
    assert response.status_code == 409
    assert "该诉求已由刘洋（科技人才局）签收，无需重复签收。" in text_of(response)
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.assignee_id == people["handler"].id and appeal.version == signed_version
    assert event_count(db, appeal) == events


def test_withdraw_with_reason(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    response = act(client, people["clerk"], f"/appeals/{appeal.id}/withdraw", version=appeal.version,
                   reason="企业已自行解决")
    assert response.status_code == 303
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "withdrawn" and appeal.closed_at is not None
    event = db.session.scalar(select(Event).where(Event.appeal_id == appeal.id, Event.action == "withdraw"))
    assert event.comment == "企业已自行解决" and event.actor_id == people["clerk"].id
    # The reason is on the appeal page, for the recording unit and for the dispatcher.
    page = text_of(client.get(response.headers["Location"]))
    assert "已撤回" in page and "企业已自行解决" in page
    client.post("/logout")
    log_in(client, people["dispatcher"].username)
    assert "企业已自行解决" in text_of(client.get(f"/appeals/{appeal.id}"))


def test_supervise_and_note_are_recorded_on_the_timeline(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    act(client, people["dispatcher"], f"/appeals/{appeal.id}/supervise", version=appeal.version, comment="请加快")
    act(client, people["handler"], f"/appeals/{appeal.id}/note", text="内部备注内容")
    actions = db.session.scalars(select(Event.action).where(Event.appeal_id == appeal.id)).all()
    assert {"register", "route", "supervise", "note"} <= set(actions)
    assert db.session.get(Appeal, appeal.id).supervised_at is not None


def test_htmx_action_returns_only_the_panel(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    response = client.post(f"/appeals/{appeal.id}/sign", data={"version": appeal.version}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="appeal-panel"' in body and "办理中" in body
    assert response.headers["HX-Trigger"] == "appeals-changed"
    assert "已签收。" in text_of(response)


def test_an_htmx_action_leaves_no_message_for_the_next_page(client, people, make_appeal, db):
    """The panel shows the message once; the next full page must not show it again (a stale flash)."""
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    response = client.post(f"/appeals/{appeal.id}/sign", data={"version": appeal.version}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "已签收。" in text_of(response)
    with client.session_transaction() as session:
        assert session.get("_flashes", []) == []
    for path in ("/inbox", f"/appeals/{appeal.id}"):
        page = client.get(path)
        assert page.status_code == 200
        assert 'class="flashes"' not in page.get_data(as_text=True) and "已签收。" not in text_of(page), path


def test_other_departments_appeal_its_receipt_and_files_are_404(client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["other_handler"].username)
    for path in (f"/appeals/{appeal.id}", f"/appeals/{appeal.id}/receipt", f"/appeals/{appeal.id}/files/1"):
        assert client.get(path).status_code == 404
    assert client.post(f"/appeals/{appeal.id}/sign", data={"version": appeal.version}).status_code == 404


def test_enterprise_page_lists_its_appeals_with_status(client, people, make_appeal, make_enterprise):
    enterprise = make_enterprise(name="成都锐成芯微科技股份有限公司")
    appeal = make_appeal(category=people["category"], recorder=people["clerk"], enterprise=enterprise)
    log_in(client, people["clerk"].username)
    page = text_of(client.get(f"/enterprises/{enterprise.id}"))
    assert appeal.receipt_no in page and "待签收" in page
    # Another department does not see it in the enterprise's file either.
    client.post("/logout")
    log_in(client, people["other_handler"].username)
    assert appeal.receipt_no not in text_of(client.get(f"/enterprises/{enterprise.id}"))


def test_every_mistake_in_the_intake_is_reported_at_once(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data={
        "submission_token": "t", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "", "contact_name": "周晓明", "contact_mobile": "12345",
    })
    page = text_of(response)
    assert response.status_code == 422
    assert "请填写诉求内容。" in page and "手机号码应为11位数字" in page
    assert 'value="周晓明"' in response.get_data(as_text=True) and 'value="12345"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Appeal)) is None


def test_a_return_through_htmx_answers_with_the_panel_although_the_case_left_the_department(
        client, people, make_appeal, db):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    response = client.post(f"/appeals/{appeal.id}/return", headers={"HX-Request": "true"},
                           data={"version": appeal.version, "reason": "属于规划事项"})
    assert response.status_code == 200 and "已退回调度中心。" in text_of(response)
    assert db.session.get(Appeal, appeal.id).state == "awaiting_dispatch"
    # Seen once, right after acting; afterwards the case is outside the department's sight.
    assert client.get(f"/appeals/{appeal.id}").status_code == 404


def test_a_return_by_plain_form_goes_back_to_the_inbox_without_a_refusal_in_the_audit_log(
        client, people, make_appeal, db):
    from gaoxin.models import AuditEntry

    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    response = act(client, people["handler"], f"/appeals/{appeal.id}/return", version=appeal.version,
                   reason="属于规划事项")
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox")
    assert "已退回调度中心。" in text_of(client.get("/inbox"))
    # The department's own return is not an attempt on a case outside its sight.
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "access_denied")) is None


@pytest.mark.parametrize("version", [None, "", "abc"])
def test_an_action_without_a_readable_version_is_refused_and_changes_nothing(client, people, make_appeal, db, version):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    data = {"reason": "属于规划事项"} if version is None else {"reason": "属于规划事项", "version": version}
    response = act(client, people["handler"], f"/appeals/{appeal.id}/return", **data)
    assert response.status_code == 409 and "页面已过期或不完整，请刷新页面后重试。" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).state == "dispatched"


def test_intake_for_a_deregistered_enterprise_warns_the_clerk_before_and_after_recording(client, people, make_enterprise, db):
    enterprise = make_enterprise(name="成都已注销测试有限公司", status="注销")
    log_in(client, people["clerk"].username)
    form = text_of(client.get(f"/appeals/new?enterprise={enterprise.id}"))
    assert "注意：该企业登记状态为“注销”" in form
    response = client.post("/appeals/new", data={
        "submission_token": "deregistered-1", "enterprise_id": enterprise.id, "category_id": people["category"].id,
        "channel": "building_station", "content": "注销企业的遗留事项。", "contact_name": "张三",
        "contact_mobile": "13812345678"}, follow_redirects=True)
    page = text_of(response)
    assert "诉求已登记" in page and "该企业登记状态为“注销”，请核实企业是否仍在经营。" in page
