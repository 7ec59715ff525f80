"""The enterprise page (masked mobiles, audited reveal) and creating and editing an enterprise by hand."""
import re

import pytest
from sqlalchemy import func, select

from gaoxin.models import AuditEntry, Building, Enterprise, Role
from tests.conftest import text_of

MAIPU = "成都迈普通信技术股份有限公司"
MAIPU_CODE = "915101002019061633"
OTHER_CODE = "91510100MA61R7CM5N"
#: The same as OTHER_CODE with a wrong check character.
BAD_CHECK_CODE = "91510100MA61R7CM5H"


@pytest.fixture
def maipu(make_enterprise):
    return make_enterprise(MAIPU, MAIPU_CODE, legal_rep="王明", address="成都高新区九兴大道16号", industry="C",
                           size="large", contact_name="李娜", contact_mobile="13812345678")


def audit_actions(db, action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def enterprise_count(db):
    return db.session.scalar(select(func.count(Enterprise.id)))


def test_the_page_shows_identity_with_industry_section_and_size(client, login_as, maipu):
    login_as(Role.clerk)
    response = client.get(f"/enterprises/{maipu.id}")
    page = text_of(response)
    assert response.status_code == 200
    for text in (MAIPU, MAIPU_CODE, "王明", "成都高新区九兴大道16号", "C 制造业", "大型", "李娜"):
        assert text in page
    assert response.get_data(as_text=True).count("<h1") == 1


def test_the_mobile_is_masked_until_revealed(client, login_as, maipu):
    login_as(Role.clerk)
    page = text_of(client.get(f"/enterprises/{maipu.id}"))
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "显示完整号码" in page


def test_revealing_with_htmx_returns_the_number_cell_and_is_audited(client, login_as, maipu, db):
    user = login_as(Role.clerk)
    contact = maipu.contacts[0]
    response = client.post(f"/enterprises/{maipu.id}/contacts/{contact.id}/reveal", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and body.lstrip().startswith(f'<div id="mobile-{contact.id}"')
    assert "13812345678" in body and "显示完整号码" not in body
    [entry] = audit_actions(db, "mobile_revealed")
    assert entry.user_id == user.id and entry.object_type == "Contact" and entry.object_id == str(contact.id)


def test_revealing_without_javascript_renders_the_page_with_the_number(client, login_as, maipu, db):
    login_as(Role.window)
    contact = maipu.contacts[0]
    response = client.post(f"/enterprises/{maipu.id}/contacts/{contact.id}/reveal")
    page = text_of(response)
    assert "<html" in response.get_data(as_text=True)
    assert "13812345678" in page and MAIPU in page
    assert len(audit_actions(db, "mobile_revealed")) == 1


def test_the_leader_sees_the_masked_number_but_cannot_reveal_it(client, login_as, maipu, db):
    login_as(Role.leader)
    page = text_of(client.get(f"/enterprises/{maipu.id}"))
    assert "138****5678" in page and "显示完整号码" not in page
    contact = maipu.contacts[0]
    assert client.post(f"/enterprises/{maipu.id}/contacts/{contact.id}/reveal").status_code == 403
    assert audit_actions(db, "mobile_revealed") == []


def test_a_contact_of_another_enterprise_cannot_be_revealed_through_this_one(client, login_as, maipu, make_enterprise):
    other = make_enterprise(contact_name="赵六", contact_mobile="13900001111")
    login_as(Role.clerk)
    response = client.post(f"/enterprises/{maipu.id}/contacts/{other.contacts[0].id}/reveal")
    assert response.status_code == 404


def test_the_page_has_sections_for_appeals_and_applications(client, login_as, maipu):
    login_as(Role.clerk)
    body = client.get(f"/enterprises/{maipu.id}").get_data(as_text=True)
    assert '<h2 id="appeals-heading">诉求</h2>' in body and '<h2 id="applications-heading">政策申报</h2>' in body


def test_a_missing_enterprise_is_404_and_the_auditor_gets_403(client, login_as, maipu):
    login_as(Role.clerk)
    assert client.get("/enterprises/999999").status_code == 404
    client.post("/logout")
    login_as(Role.auditor)
    assert client.get(f"/enterprises/{maipu.id}").status_code == 403


# Creating by hand

def new_form(**overrides):
    data = {"name": "成都蓉光智能科技有限公司", "credit_code": OTHER_CODE, "legal_rep": "周杰", "address": "成都高新区天府三街",
            "building_id": "", "industry": "I", "size": "small", "contact_name": "陈静", "contact_mobile": "13900001111"}
    data.update(overrides)
    return data


def test_a_clerk_registers_an_enterprise_and_can_find_it_at_once(client, login_as, db):
    login_as(Role.clerk)
    building = Building(name="天府软件园")
    db.session.add(building)
    db.session.commit()
    response = client.post("/enterprises/new", data=new_form(building_id=str(building.id), contact_mobile="+86 139-0000-1111"))
    assert response.status_code == 303
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == OTHER_CODE))
    assert enterprise.building_id == building.id and enterprise.size == "small"
    assert [(c.name, c.mobile) for c in enterprise.contacts] == [("陈静", "13900001111")]
    assert response.headers["Location"].endswith(f"/enterprises/{enterprise.id}")
    assert len(audit_actions(db, "enterprise_created")) == 1
    assert "成都蓉光智能科技有限公司" in text_of(client.get("/enterprises?q=蓉光"))
    assert "成都蓉光智能科技有限公司" in text_of(client.get("/enterprises?q=rgzn"))


def value_of(body, name):
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', body) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', body)
    return match.group(1) if match else None


@pytest.mark.parametrize("overrides, message", [
    ({"credit_code": BAD_CHECK_CODE}, "统一社会信用代码校验位错误：第18位应为“N”。"),
    ({"credit_code": "9151010"}, "统一社会信用代码应为18位，当前为7位。"),
    ({"credit_code": "91510100MA61R7CMOI"}, "含有不允许的字符“O”"),
    ({"credit_code": ""}, "请填写统一社会信用代码。"),
    ({"name": ""}, "请填写企业名称。"),
    ({"name": "成都" + "很" * 99 + "有限公司"}, "企业名称不能超过100个字。"),
    ({"contact_mobile": "1381234"}, "手机号码应为11位数字，以1开头。"),
    ({"contact_name": ""}, "填写了手机号码，请同时填写联系人姓名。"),
])
def test_bad_input_keeps_what_was_typed_says_why_and_saves_nothing(client, login_as, db, overrides, message):
    login_as(Role.clerk)
    data = new_form(**overrides)
    response = client.post("/enterprises/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in text_of(response)
    assert "提交未成功" in text_of(response)
    for name in ("name", "credit_code", "legal_rep", "contact_mobile"):
        assert value_of(body, name) == data[name], name
    assert 'aria-invalid="true"' in body
    assert enterprise_count(db) == 0
    assert audit_actions(db, "enterprise_created") == []


def test_a_duplicate_code_names_and_links_the_registered_enterprise(client, login_as, maipu, db):
    login_as(Role.clerk)
    response = client.post("/enterprises/new", data=new_form(credit_code=MAIPU_CODE.lower()))
    assert response.status_code == 422
    assert f"该统一社会信用代码已登记：{MAIPU}" in text_of(response)
    assert f'href="/enterprises/{maipu.id}"' in response.get_data(as_text=True)
    assert enterprise_count(db) == 1


def test_a_handler_may_not_register_enterprises(client, login_as, db):
    login_as(Role.handler)
    assert client.get("/enterprises/new").status_code == 403
    assert client.post("/enterprises/new", data=new_form()).status_code == 403
    assert enterprise_count(db) == 0


def test_the_new_form_labels_every_input(client, login_as):
    login_as(Role.clerk)
    body = client.get("/enterprises/new").get_data(as_text=True)
    for field_id in ("name", "credit_code", "legal_rep", "address", "building_id", "industry", "size",
                     "contact_name", "contact_mobile"):
        assert f'<label for="{field_id}">' in body, field_id
    assert "I 信息传输、软件和信息技术服务业" in body and "style=" not in body and "<script>" not in body


# Editing

def edit_form(enterprise, **overrides):
    data = {"name": enterprise.name, "credit_code": enterprise.credit_code, "legal_rep": enterprise.legal_rep or "",
            "address": enterprise.address or "", "building_id": "", "industry": enterprise.industry or "",
            "size": enterprise.size or "", "version": str(enterprise.version)}
    data.update(overrides)
    return data


def test_an_edit_is_saved_audited_and_the_new_name_is_searchable(client, login_as, maipu, db):
    login_as(Role.dispatcher)
    form_page = client.get(f"/enterprises/{maipu.id}/edit").get_data(as_text=True)
    assert value_of(form_page, "version") == "1" and value_of(form_page, "name") == MAIPU
    response = client.post(f"/enterprises/{maipu.id}/edit", data=edit_form(maipu, name="成都迈普数联通信技术股份有限公司"))
    assert response.status_code == 303
    db.session.refresh(maipu)
    assert maipu.name == "成都迈普数联通信技术股份有限公司" and maipu.version == 2
    [entry] = audit_actions(db, "enterprise_updated")
    assert "企业名称" in entry.detail
    assert "成都迈普数联通信技术股份有限公司" in text_of(client.get("/enterprises?q=普数"))
    assert "未找到" in text_of(client.get("/enterprises?q=mptxjs"))


def test_an_edit_from_a_stale_page_is_refused_and_overwrites_nothing(client, login_as, maipu, db):
    login_as(Role.clerk)
    stale = edit_form(maipu, legal_rep="张三")
    assert client.post(f"/enterprises/{maipu.id}/edit", data=edit_form(maipu, legal_rep="李四")).status_code == 303
    response = client.post(f"/enterprises/{maipu.id}/edit", data=stale)
    assert response.status_code == 409
    assert "该企业信息已被他人修改，请刷新后重试" in text_of(response)
    assert value_of(response.get_data(as_text=True), "legal_rep") == "张三"
    db.session.refresh(maipu)
    assert maipu.legal_rep == "李四" and maipu.version == 2
    assert len(audit_actions(db, "enterprise_updated")) == 1


def test_an_edit_keeps_its_own_code_but_may_not_take_anothers(client, login_as, maipu, make_enterprise, db):
    other = make_enterprise("成都数联铭品科技有限公司", OTHER_CODE)
    login_as(Role.clerk)
    assert client.post(f"/enterprises/{maipu.id}/edit", data=edit_form(maipu, address="新地址")).status_code == 303
    db.session.refresh(maipu)
    response = client.post(f"/enterprises/{maipu.id}/edit", data=edit_form(maipu, credit_code=other.credit_code))
    assert response.status_code == 422
    assert "该统一社会信用代码已登记：成都数联铭品科技有限公司" in text_of(response)
    db.session.refresh(maipu)
    assert maipu.credit_code == MAIPU_CODE


def test_the_leader_may_read_but_not_edit(client, login_as, maipu):
    login_as(Role.leader)
    assert "修改企业信息" not in text_of(client.get(f"/enterprises/{maipu.id}"))
    assert client.get(f"/enterprises/{maipu.id}/edit").status_code == 403


def test_enterprise_file_lists_its_policy_applications(client, login_as, make_application, make_enterprise, make_user):
    from gaoxin.models import Role

    enterprise = make_enterprise(name="成都硅宝科技股份有限公司")
    window = make_user(Role.window)
    application = make_application(intake=window, enterprise=enterprise, declared="120000.50")
    login_as(window)
    page = text_of(client.get(f"/enterprises/{enterprise.id}"))
    assert application.receipt_no in page and application.policy.title in page and "¥120,000.50" in page
