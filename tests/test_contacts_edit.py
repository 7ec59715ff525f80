"""Staff correct and remove an enterprise's contacts; every case keeps the contact it was recorded with."""
from sqlalchemy import func, select

from gaoxin.models import Appeal, AuditEntry, Contact, Role
from gaoxin.services import intake
from tests.conftest import text_of


def _enterprise_with_contact(make_enterprise, db):
    enterprise = make_enterprise(name="成都硅宝科技股份有限公司", contact_name="张三", contact_mobile="13812345678")
    return enterprise, enterprise.contacts[0]


def test_clerk_corrects_a_contact_and_the_old_case_still_names_the_contact_as_it_was(client, login_as, make_enterprise,
                                                                                     make_appeal, db):
    enterprise, contact = _enterprise_with_contact(make_enterprise, db)
    appeal = make_appeal(enterprise=enterprise)
    appeal.contact_id = contact.id
    db.session.commit()
    login_as(Role.clerk)
    page = client.get(f"/enterprises/{enterprise.id}")
    assert "修改/移除" in text_of(page)
    form = client.get(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit")
    assert form.status_code == 200 and "张三" in text_of(form)
    response = client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit", data={
        "name": "张三丰", "mobile": "139 0000 1111", "title": "财务总监", "version": contact.version})
    assert response.status_code == 303
    db.session.expire_all()
    old, new = db.session.get(Contact, contact.id), db.session.scalar(select(Contact).where(Contact.name == "张三丰"))
    assert old.removed_at is not None and old.replaced_by_id == new.id and old.name == "张三"
    assert new.mobile == "13900001111" and new.title == "财务总监"
    assert db.session.get(Appeal, appeal.id).contact.name == "张三"
    # Intake offers the corrected contact only.
    assert [c.name for c in db.session.get(type(enterprise), enterprise.id).contacts] == ["张三丰"]
    choices = intake.contact_choices(db.session.get(type(enterprise), enterprise.id))
    assert [label for _, label in choices][1:] == ["张三丰 139****1111"]
    assert db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "contact_updated")).endswith(
        "修改姓名、手机号码、职务")


def test_removed_contact_is_no_longer_offered_at_intake_but_stays_on_its_cases(client, login_as, make_enterprise,
                                                                              make_appeal, db):
    enterprise, contact = _enterprise_with_contact(make_enterprise, db)
    appeal = make_appeal(enterprise=enterprise)
    appeal.contact_id = contact.id
    db.session.commit()
    login_as(Role.window)
    response = client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/remove", data={"version": contact.version})
    assert response.status_code == 303
    assert "已移除联系人“张三”" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    enterprise = db.session.get(type(enterprise), enterprise.id)
    assert enterprise.contacts == []
    contact_picked, errors = intake.pick_contact(enterprise, contact_id=contact.id)
    assert contact_picked is None and errors == {"contact_id": "请选择该企业的联系人。"}
    assert db.session.get(Appeal, appeal.id).contact.name == "张三"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "contact_removed")) == 1


def test_bad_input_keeps_what_was_typed_and_changes_nothing(client, login_as, make_enterprise, db):
    enterprise, contact = _enterprise_with_contact(make_enterprise, db)
    login_as(Role.clerk)
    response = client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit", data={
        "name": "", "mobile": "12345", "title": "总经理办公室主任", "version": contact.version})
    page = text_of(response)
    assert response.status_code == 422 and "请填写联系人姓名。" in page and "手机号码应为11位数字" in page
    assert 'value="总经理办公室主任"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_of_two_clerks_editing_one_contact_the_second_is_told_and_nothing_overwritten(client, login_as, make_enterprise, db):
    enterprise, contact = _enterprise_with_contact(make_enterprise, db)
    login_as(Role.clerk)
    seen = contact.version
    first = client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit",
                        data={"name": "张三丰", "mobile": "13812345678", "version": seen})
    assert first.status_code == 303
    second = client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit",
                         data={"name": "张叁", "mobile": "13812345678", "version": seen})
    assert second.status_code == 409 and "该联系人已被他人修改或移除" in text_of(second)
    assert 'value="张叁"' in second.get_data(as_text=True) and "打开该联系人的最新信息" in text_of(second)
    removal = client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/remove", data={"version": seen})
    assert removal.status_code == 409
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Contact.name))) == ["张三", "张三丰"]
    assert db.session.scalar(select(Contact).where(Contact.name == "张三丰")).removed_at is None


def test_roles_without_enterprise_edit_cannot_touch_contacts(client, login_as, make_enterprise, db):
    enterprise, contact = _enterprise_with_contact(make_enterprise, db)
    login_as(Role.handler)
    assert client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/remove",
                       data={"version": contact.version}).status_code == 403
    assert "修改/移除" not in text_of(client.get(f"/enterprises/{enterprise.id}"))
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).removed_at is None


def test_the_portal_account_follows_a_corrected_contact_and_is_disabled_with_a_removed_one(client, login_as, make_account,
                                                                                          make_enterprise, db):
    from gaoxin.models import EnterpriseAccount

    enterprise, contact = _enterprise_with_contact(make_enterprise, db)
    account = make_account(contact=contact)
    login_as(Role.clerk)
    client.post(f"/enterprises/{enterprise.id}/contacts/{contact.id}/edit",
                data={"name": "张三丰", "mobile": "13812345678", "version": contact.version})
    db.session.expire_all()
    account = db.session.get(EnterpriseAccount, account.id)
    assert account.contact.name == "张三丰" and account.active
    response = client.post(f"/enterprises/{enterprise.id}/contacts/{account.contact_id}/remove",
                           data={"version": account.contact.version})
    assert response.status_code == 303
    db.session.expire_all()
    assert not db.session.get(EnterpriseAccount, account.id).active
