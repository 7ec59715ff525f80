"""What an enterprise does online (issue 11, part B): raise an appeal, answer a supplement notice, rate a
reply, read its messages — through the portal's pages as the enterprise, with the staff side as it is."""
import io

import pytest
from sqlalchemy import func, select

from gaoxin.models import Appeal, Application, Attachment, AuditEntry, Event, PortalMessage, Role, UnitKind
from gaoxin.services import appeals as appeal_service
from gaoxin.services import applications as application_service
from tests.conftest import text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@pytest.fixture
def desk(make_unit, make_user, make_category):
    """A department with a handler, the service centre (where online appeals are recorded) and a category."""
    dept = make_unit(UnitKind.department, name="科技人才局")
    make_unit(UnitKind.dispatch_centre, name="企业服务中心")
    return {"dept": dept, "handler": make_user(Role.handler, unit=dept), "window": make_user(Role.window),
            "category": make_category(name="人才", lead_unit=dept)}


@pytest.fixture
def ent(make_account, login_enterprise, client):
    """A logged-in enterprise account (成都硅宝科技) and a second enterprise's account."""
    account = make_account()
    other = make_account()
    login_enterprise(client, account)
    return {"account": account, "enterprise": account.enterprise, "other": other}


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def reply(db, appeal, handler, text="已协调人才公寓，请于下周一办理入住。"):
    appeal = db.session.get(Appeal, appeal.id)
    appeal_service.sign(appeal, handler)
    appeal_service.reply(appeal, handler, outcome="resolved", text=text)
    db.session.commit()
    return appeal


# --------------------------------------------------------------------------- raise an appeal online


def test_enterprise_raises_an_appeal_online_routed_at_once_with_a_receipt(client, desk, ent, db):
    form = client.get("/e/appeals/new")
    assert form.status_code == 200 and "网上提诉求" in text_of(form)
    token = form.get_data(as_text=True).split('name="submission_token" type="hidden" value="')[1].split('"')[0]
    data = {"submission_token": token, "category_id": desk["category"].id, "content": "希望了解人才公寓申请条件。",
            "attachments": (io.BytesIO(PDF), "营业执照.pdf")}
    response = client.post("/e/appeals/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    appeal = db.session.scalar(select(Appeal))
    assert appeal.channel == "online" and appeal.enterprise_id == ent["enterprise"].id
    assert appeal.state == "dispatched" and appeal.lead_unit_id == desk["dept"].id
    assert appeal.contact_id == ent["account"].contact_id
    assert db.session.scalar(select(Attachment.owner_id).where(Attachment.owner_type == "appeal")) == appeal.id
    receipt = text_of(client.get(response.headers["Location"]))
    assert appeal.receipt_no in receipt and "网上" in receipt and "科技人才局" in receipt
    # The same form sent again (double click, reload) shows the same appeal and creates nothing.
    again = client.post("/e/appeals/new", data={**data, "attachments": (io.BytesIO(PDF), "营业执照.pdf")},
                        content_type="multipart/form-data")
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert count(db, Appeal) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "portal_appeal_raised")) is not None


def test_an_online_appeal_without_category_or_content_keeps_what_was_typed_and_records_nothing(client, desk, ent, db):
    response = client.post("/e/appeals/new", data={"submission_token": "t-1", "category_id": "", "content": "已经写好的一段话"})
    page = text_of(response)
    assert response.status_code == 422 and "请选择诉求类别。" in page and "已经写好的一段话" in page
    response = client.post("/e/appeals/new", data={"submission_token": "t-1", "category_id": desk["category"].id,
                                                   "content": " "})
    assert response.status_code == 422 and "请填写诉求内容。" in text_of(response)
    assert count(db, Appeal) == 0


def test_an_attachment_that_is_not_an_accepted_type_is_refused_and_nothing_recorded(client, desk, ent, db):
    response = client.post("/e/appeals/new", data={
        "submission_token": "t-2", "category_id": desk["category"].id, "content": "附件有误的诉求",
        "attachments": (io.BytesIO(b"MZ\x90\x00 not a document"), "说明.pdf")}, content_type="multipart/form-data")
    page = text_of(response)
    assert response.status_code == 422 and "的内容不是" in page and "附件有误的诉求" in page
    assert count(db, Appeal) == 0 and count(db, Attachment) == 0


# --------------------------------------------------------------------------- satisfaction


def test_enterprise_rates_a_reply_satisfied_and_the_appeal_closes_once(client, desk, ent, make_appeal, db):
    appeal = reply(db, make_appeal(category=desk["category"], enterprise=ent["enterprise"]), desk["handler"])
    rate_url = f"/e/appeals/{appeal.id}/rate"
    assert rate_url in client.get(f"/e/appeals/{appeal.id}").get_data(as_text=True), "the case page offers 评价答复"
    page = client.get(rate_url)
    assert page.status_code == 200 and "已协调人才公寓" in text_of(page)
    response = client.post(f"/e/appeals/{appeal.id}/rate", data={"version": appeal.version, "satisfaction": "satisfied"})
    assert response.status_code == 303
    db.session.expire_all()
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "closed" and appeal.satisfaction == "satisfied" and appeal.followed_up_at is not None
    # A second satisfaction on the same reply is refused, nothing changed.
    again = client.post(f"/e/appeals/{appeal.id}/rate", data={"version": appeal.version, "satisfaction": "unsatisfied",
                                                              "comment": "改主意了"})
    assert again.status_code == 409 and "该答复已评价过，不能重复评价。" in text_of(again)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).satisfaction == "satisfied"


def test_unsatisfied_reopens_once_to_the_same_department_and_needs_a_reason(client, desk, ent, make_appeal, db):
    appeal = reply(db, make_appeal(category=desk["category"], enterprise=ent["enterprise"]), desk["handler"])
    missing = client.post(f"/e/appeals/{appeal.id}/rate", data={"version": appeal.version, "satisfaction": "unsatisfied"})
    assert missing.status_code == 422 and "请说明不满意的原因" in text_of(missing)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).state == "replied"
    response = client.post(f"/e/appeals/{appeal.id}/rate", data={
        "version": appeal.version, "satisfaction": "unsatisfied", "comment": "公寓位置太远"})
    assert response.status_code == 303
    db.session.expire_all()
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.state == "in_progress" and appeal.reopened and appeal.lead_unit_id == desk["dept"].id
    comment = db.session.scalar(select(Event.comment).where(Event.appeal_id == appeal.id,
                                                            Event.action == "follow_up_unsatisfied"))
    assert "公寓位置太远" in comment
    # The department replies again; a second 不满意 closes it (reopen once).
    appeal_service.reply(appeal, desk["handler"], outcome="explained", text="已说明可选房源。")
    db.session.commit()
    client.post(f"/e/appeals/{appeal.id}/rate", data={"version": appeal.version, "satisfaction": "unsatisfied",
                                                     "comment": "仍不满意"})
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).state == "closed"


def test_rating_before_a_reply_is_refused(client, desk, ent, make_appeal, db):
    appeal = make_appeal(category=desk["category"], enterprise=ent["enterprise"])
    assert f"/e/appeals/{appeal.id}/rate" not in client.get(f"/e/appeals/{appeal.id}").get_data(as_text=True)
    response = client.post(f"/e/appeals/{appeal.id}/rate", data={"version": appeal.version, "satisfaction": "satisfied"})
    assert response.status_code == 409 and "答复后才能评价" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).satisfaction is None


# --------------------------------------------------------------------------- supplement


@pytest.fixture
def sent_back(desk, ent, make_policy, make_application, db):
    """An application of the enterprise sent back with a notice naming 营业执照 (missing) only."""
    policy = make_policy(department=desk["dept"], items=("申报表", "营业执照", "审计报告"))
    application = make_application(policy=policy, enterprise=ent["enterprise"], intake=desk["window"])
    items = {i.name: i for i in policy.items}
    marks = {i.id: ("ok", "") for i in policy.items}
    marks[items["营业执照"].id] = ("missing", "")
    application_service.check(application, desk["window"], decision="supplement", marks=marks)
    db.session.commit()
    return application, items


def test_enterprise_uploads_the_item_the_notice_names_and_the_window_checks_it_again(client, desk, ent, sent_back, db):
    application, items = sent_back
    assert f"/e/applications/{application.id}/supplement" in client.get(
        f"/e/applications/{application.id}").get_data(as_text=True), "the case page offers 补交材料"
    page = client.get(f"/e/applications/{application.id}/supplement")
    assert page.status_code == 200 and "营业执照" in text_of(page) and "审计报告" not in text_of(page)
    response = client.post(f"/e/applications/{application.id}/supplement", data={
        "version": application.version, f"item_{items['营业执照'].id}": (io.BytesIO(PDF), "营业执照.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.state == "submitted"
    files = application_service.attachments_by_item(application.id)
    assert [a.filename for a in files[items["营业执照"].id]] == ["营业执照.pdf"]
    # The window accepts as before.
    application_service.check(application, desk["window"], decision="accept",
                              marks={i.id: ("ok", "") for i in items.values()})
    db.session.commit()
    assert db.session.get(Application, application.id).state == "accepted"


def test_an_item_not_named_in_the_notice_is_refused_with_a_message_and_nothing_changes(client, desk, ent, sent_back, db):
    application, items = sent_back
    version = application.version
    response = client.post(f"/e/applications/{application.id}/supplement", data={
        "version": version, f"item_{items['审计报告'].id}": (io.BytesIO(PDF), "审计报告.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "“审计报告”不在一次性告知书所列的补正材料中，无需补交。" in text_of(response)
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.state == "awaiting_supplement" and application.version == version
    assert count(db, Attachment) == 0


def test_supplement_when_none_is_asked_is_refused(client, desk, ent, make_application, make_policy, db):
    application = make_application(policy=make_policy(department=desk["dept"]), enterprise=ent["enterprise"])
    response = client.post(f"/e/applications/{application.id}/supplement", data={"version": application.version})
    assert response.status_code == 409 and "不需要补正材料" in text_of(response)


# --------------------------------------------------------------------------- messages


def test_changes_leave_messages_with_an_unread_count_marked_read_when_seen(client, desk, ent, make_appeal, sent_back, db):
    appeal = reply(db, make_appeal(category=desk["category"], enterprise=ent["enterprise"]), desk["handler"])
    kinds = set(db.session.scalars(select(PortalMessage.kind).where(PortalMessage.enterprise_id == ent["enterprise"].id)))
    assert kinds == {"signed", "replied", "supplement"}
    home = client.get("/e/messages")
    assert "已答复" in text_of(home) and appeal.receipt_no in text_of(home) and "需补正材料" in text_of(home)
    assert db.session.scalar(select(func.count()).select_from(PortalMessage).where(PortalMessage.read_at.is_(None))) == 0
    assert "条未读" not in text_of(client.get("/e/messages"))


def test_the_unread_count_shows_in_the_portal_menu(client, desk, ent, make_appeal, db):
    reply(db, make_appeal(category=desk["category"], enterprise=ent["enterprise"]), desk["handler"])
    page = text_of(client.get("/e/appeals/new"))
    assert "消息 2 条未读" in page


# --------------------------------------------------------------------------- isolation


def test_another_enterprises_cases_are_404_on_every_action_url_and_audited(client, desk, ent, make_appeal,
                                                                          make_application, make_policy, db):
    theirs = reply(db, make_appeal(category=desk["category"], enterprise=ent["other"].enterprise), desk["handler"])
    their_application = make_application(policy=make_policy(department=desk["dept"]), enterprise=ent["other"].enterprise)
    for url in (f"/e/appeals/{theirs.id}/received", f"/e/appeals/{theirs.id}/rate",
                f"/e/applications/{their_application.id}/supplement"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={"version": 1, "satisfaction": "satisfied"}).status_code in (404, 405), url
    db.session.expire_all()
    assert db.session.get(Appeal, theirs.id).state == "replied"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.result == "denied")) >= 3
    assert "已协调人才公寓" not in text_of(client.get("/e/messages"))


def test_staff_get_404_on_the_enterprise_action_pages(client, desk, login_as):
    login_as(Role.clerk)
    for url in ("/e/appeals/new", "/e/messages"):
        assert client.get(url).status_code == 404
