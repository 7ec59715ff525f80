"""Issue 12, as clerks and handlers work all day: the intake says everything at once, offers the usual contact,
never files under another name silently; receipts print the public address; co-handlers start at dispatch;
the handler reveals the contact's mobile; the auditor reads the log in Chinese; the demo has every state."""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from gaoxin.models import Appeal, AuditEntry, Contact, Enterprise, Role, UnitKind
from tests.conftest import log_in, text_of


@pytest.fixture
def people(make_unit, make_user, make_category):
    dept = make_unit(UnitKind.department, name="科技人才局")
    co = make_unit(UnitKind.department, name="财政金融局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站", phone="028-85180001")
    return {
        "dept": dept, "co": co, "station": station,
        "clerk": make_user(Role.clerk, unit=station, name="王小红"),
        "handler": make_user(Role.handler, unit=dept, name="刘洋"),
        "co_handler": make_user(Role.handler, unit=co, name="周敏"),
        "dispatcher": make_user(Role.dispatcher, name="陈静"),
        "category": make_category(name="人才", lead_unit=dept),
        "co_category": make_category(name="融资", lead_unit=dept, co_units=[co]),
    }


def body(response):
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- 1. every mistake at once


def test_an_empty_intake_reports_enterprise_category_and_content_on_the_first_submit(client, people, db):
    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data={"submission_token": "t-empty", "channel": "building_station",
                                                 "content": ""})
    page = text_of(response)
    assert response.status_code == 422
    assert "请填写诉求内容。" in page
    assert "请选择企业" in page
    assert "请选择有效的诉求类别。" in page
    assert db.session.scalar(select(Appeal)) is None


def test_required_fields_are_marked_and_the_star_is_drawn_on_the_labels_line(app, client, people):
    log_in(client, people["clerk"].username)
    html = body(client.get("/appeals/new"))
    for field_id in ("enterprise_query", "category_id", "content", "channel"):
        field = re.search(rf'<div class="field required[^"]*">\s*<label for="{field_id}">', html)
        assert field is not None, field_id
    # No separate star element after the label (a block label pushed it onto a line of its own).
    assert 'class="req"' not in html
    css = (Path(app.static_folder) / "css" / "app.css").read_text(encoding="utf-8")
    assert ".field.required > label::after" in css
    assert 'value="None"' not in html and 'aria-describedby="None"' not in html


# --------------------------------------------------------------------------- 2. contacts


def test_finding_the_enterprise_without_javascript_offers_its_contacts_with_the_usual_one_chosen(
        client, people, make_enterprise, make_appeal, db):
    enterprise = make_enterprise(name="成都迈普通信技术股份有限公司", contact_name="张经理", contact_mobile="13812345678")
    usual = Contact(enterprise_id=enterprise.id, name="李会计", mobile="13900001111")
    db.session.add(usual)
    db.session.commit()
    earlier = make_appeal(enterprise=enterprise, category=people["category"], recorder=people["clerk"])
    earlier.contact_id = usual.id
    db.session.commit()

    log_in(client, people["clerk"].username)
    response = client.post("/appeals/new", data={"submission_token": "t-find", "intent": "find",
                                                 "enterprise_query": "迈普通信", "channel": "building_station",
                                                 "content": "还没写完"})
    html = body(response)
    assert response.status_code == 200
    assert "已选择：" in text_of(response) and "成都迈普通信技术股份有限公司" in text_of(response)
    assert re.search(rf'<option selected value="{usual.id}">李会计 139\*\*\*\*1111</option>', html)
    assert "张经理 138****5678" in text_of(response)
    assert "还没写完" in html and "请选择有效的诉求类别" not in html
    assert db.session.scalar(select(Appeal).where(Appeal.id != earlier.id)) is None


def test_the_htmx_contact_list_preselects_the_usual_contact(client, people, make_enterprise):
    enterprise = make_enterprise(contact_name="张经理", contact_mobile="13812345678")
    log_in(client, people["clerk"].username)
    html = body(client.get(f"/appeals/contact-options?enterprise_id={enterprise.id}", headers={"HX-Request": "true"}))
    contact = enterprise.contacts[0]
    assert f'<option selected value="{contact.id}">' in html


def test_an_appeal_without_a_contact_with_a_mobile_needs_a_reason(client, people, make_enterprise, db):
    enterprise = make_enterprise()
    log_in(client, people["clerk"].username)
    data = {"submission_token": "t-nocontact", "enterprise_id": enterprise.id, "category_id": people["category"].id,
            "channel": "building_station", "content": "希望了解人才公寓。"}
    refused = client.post("/appeals/new", data=data)
    assert refused.status_code == 422 and "确实无法提供的，请填写原因" in text_of(refused)
    assert db.session.scalar(select(Appeal)) is None

    ok = client.post("/appeals/new", data={**data, "no_contact_reason": "企业仅留座机 028-85123456"})
    assert ok.status_code == 303
    appeal = db.session.scalar(select(Appeal))
    assert appeal.no_contact_reason == "企业仅留座机 028-85123456"
    assert "企业仅留座机 028-85123456" in text_of(client.get(f"/appeals/{appeal.id}"))


# --------------------------------------------------------------------------- 3. an existing credit code


def test_a_new_enterprise_whose_code_is_on_file_shows_the_registry_entry_to_confirm(client, people, make_enterprise, db):
    existing = make_enterprise(name="成都迈普通信技术股份有限公司")
    log_in(client, people["clerk"].username)
    data = {"submission_token": "t-code", "new_enterprise_name": "完全不同的新公司名称有限公司",
            "new_credit_code": existing.credit_code, "category_id": people["category"].id, "channel": "building_station",
            "content": "希望了解人才公寓。", "contact_name": "张三", "contact_mobile": "13812345678"}
    shown = client.post("/appeals/new", data=data)
    assert shown.status_code == 422
    assert "已在档案中登记为“成都迈普通信技术股份有限公司”" in text_of(shown)
    assert f'name="enterprise_id" value="{existing.id}"' in body(shown)
    assert db.session.scalar(select(Appeal)) is None
    assert db.session.scalar(select(Enterprise).where(Enterprise.name == "完全不同的新公司名称有限公司")) is None

    confirmed = client.post("/appeals/new", data={**data, "enterprise_id": existing.id})
    assert confirmed.status_code == 303
    assert db.session.scalar(select(Appeal)).enterprise_id == existing.id


# --------------------------------------------------------------------------- 4. receipts


def test_the_receipt_prints_the_configured_address_the_counters_phone_and_the_clerk(
        app, client, people, make_enterprise, make_appeal):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["clerk"].username)
    app.config["GAOXIN_PUBLIC_URL"] = "https://gxt.example.gov.cn"
    try:
        page = text_of(client.get(f"/appeals/{appeal.id}/receipt"))
    finally:
        app.config["GAOXIN_PUBLIC_URL"] = ""
    assert "https://gxt.example.gov.cn/track" in page
    assert "localhost" not in page
    assert "028-85180001" in page and "经办人：王小红" in page


# --------------------------------------------------------------------------- 5. co-handlers from dispatch


def test_co_handlers_see_the_case_and_give_their_opinion_before_the_lead_signs(client, people, make_appeal, db):
    appeal = make_appeal(category=people["co_category"], recorder=people["clerk"])
    assert appeal.state == "dispatched"
    log_in(client, people["co_handler"].username)
    tab = text_of(client.get("/inbox?tab=cohandle"))
    assert appeal.receipt_no in tab
    page = client.get(f"/appeals/{appeal.id}")
    assert "提交协办意见" in text_of(page)
    response = client.post(f"/appeals/{appeal.id}/opinion", data={"text": "同意，可按人才政策办理。"})
    assert response.status_code == 303
    db.session.refresh(appeal)
    assert appeal.state == "dispatched" and appeal.co_handlers[0].opinion == "同意，可按人才政策办理。"


# --------------------------------------------------------------------------- 7. mobile and 去办理


def test_the_handler_reveals_the_contacts_full_mobile_on_the_appeal_page_and_it_is_audited(
        client, people, make_enterprise, make_appeal, db):
    enterprise = make_enterprise(contact_name="张经理", contact_mobile="13812345678")
    appeal = make_appeal(category=people["category"], recorder=people["clerk"], enterprise=enterprise)
    appeal.contact_id = enterprise.contacts[0].id
    db.session.commit()
    log_in(client, people["handler"].username)
    page = text_of(client.get(f"/appeals/{appeal.id}"))
    assert "138****5678" in page and "13812345678" not in page and "显示完整号码" in page
    revealed = client.post(f"/appeals/{appeal.id}/reveal-mobile", headers={"HX-Request": "true"})
    assert revealed.status_code == 200 and "13812345678" in body(revealed)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mobile_revealed"))
    assert entry.user_id == people["handler"].id and appeal.receipt_no in entry.detail


@pytest.mark.parametrize("role, status", [(Role.leader, 403), (Role.handler, 404)])
def test_who_may_not_reveal_the_mobile_is_refused_and_nothing_is_recorded(
        client, people, make_enterprise, make_appeal, make_user, make_unit, db, role, status):
    enterprise = make_enterprise(contact_name="张经理", contact_mobile="13812345678")
    appeal = make_appeal(category=people["category"], recorder=people["clerk"], enterprise=enterprise)
    appeal.contact_id = enterprise.contacts[0].id
    db.session.commit()
    log_in(client, make_user(role, unit=make_unit(UnitKind.department) if role is Role.handler else None).username)
    response = client.post(f"/appeals/{appeal.id}/reveal-mobile")
    assert response.status_code == status and "13812345678" not in body(response)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mobile_revealed")) is None


def test_signing_in_the_inbox_links_straight_to_the_case(client, people, make_appeal):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    log_in(client, people["handler"].username)
    row = client.post(f"/inbox/{appeal.id}/sign", data={"version": appeal.version, "tab": "sign"},
                      headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert re.search(rf'<a href="/appeals/{appeal.id}">去办理</a>', body(row))

    other = make_appeal(category=people["category"], recorder=people["clerk"])
    plain = client.post(f"/inbox/{other.id}/sign", data={"version": other.version, "tab": "sign"},
                        follow_redirects=True)
    assert re.search(rf'<a href="/appeals/{other.id}">去办理</a>', body(plain))


# --------------------------------------------------------------------------- 10. the audit log in Chinese


def test_the_audit_log_names_refused_actions_objects_and_users_in_chinese(client, people, make_user, make_appeal):
    appeal = make_appeal(category=people["category"], recorder=people["clerk"])
    outsider = make_user(Role.clerk, name="赵越界")
    log_in(client, outsider.username)
    assert client.get("/inbox").status_code == 403
    assert client.get(f"/appeals/{appeal.id}").status_code == 404
    client.post("/logout")
    log_in(client, make_user(Role.auditor).username)
    page = text_of(client.get("/audit?action=access_denied"))
    assert "查看部门收件箱（inbox.view）" in page
    assert f"诉求 {appeal.receipt_no}" in page
    assert "赵越界" in page


# --------------------------------------------------------------------------- 13. demo data


def test_the_demo_has_policy_applications_in_every_state_and_a_merged_duplicate(db):
    from collections import Counter

    from gaoxin.models import Application, Phrase
    from gaoxin.services import demo
    from gaoxin.services.enterprises import load_demo_enterprises
    from gaoxin.workflow import ApplicationState

    demo.create_units()
    demo.create_users()
    load_demo_enterprises(30)
    demo.create_demo_policies()
    demo.create_demo_cases()
    demo.create_demo_daily_work()
    db.session.commit()
    states = Counter(db.session.scalars(select(Application.state)))
    assert set(states) == set(ApplicationState)
    assert db.session.scalar(select(Appeal).where(Appeal.merged_into_id.is_not(None))) is not None
    assert len(db.session.scalars(select(Phrase)).all()) >= 3


def test_the_system_admin_sets_a_counters_telephone_for_its_receipts(client, people, make_user, db):
    log_in(client, make_user(Role.sysadmin).username)
    station = people["station"]
    response = client.post(f"/admin/units/{station.id}/edit", data={
        "name": station.name, "kind": "building_station", "phone": "028-85189999"})
    assert response.status_code in (302, 303)
    db.session.refresh(station)
    assert station.phone == "028-85189999"
