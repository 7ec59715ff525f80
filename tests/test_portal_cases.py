"""我的事项 and the case pages of the enterprise portal, the staff side of enterprise accounts, and isolation:
an account sees its own enterprise's cases and notices, nothing internal, and nothing of another enterprise."""
import re

import pytest
from sqlalchemy import func, select

from gaoxin.models import AuditEntry, Contact, EnterpriseAccount, Event, Role, UnitKind
from gaoxin.models.portal import ActivationCode
from gaoxin.services import appeals as appeal_service
from gaoxin.services import applications as application_service

from .conftest import text_of

INTERNAL_NOTE = "内部备注：该企业去年有欠税记录，仅供内部参考"
REPLY = "已协调人才公寓两套，请于下周一前往科技人才局领取钥匙。"


@pytest.fixture
def world(db, make_unit, make_user, make_category, make_enterprise, make_account, make_appeal, make_policy):
    """Two enterprises with an account each; the first has a replied appeal (with an internal note and a
    co-handler's opinion) and an accepted application; the second an appeal and an application of its own."""
    department = make_unit(UnitKind.department, name="科技人才局")
    co_unit = make_unit(UnitKind.department, name="规划建设局")
    handler = make_user(Role.handler, unit=department, name="张经办")
    co_handler = make_user(Role.handler, unit=co_unit, name="李协办")
    clerk = make_user(Role.clerk, name="王登记")
    window = make_user(Role.window, name="赵窗口")
    category = make_category(name="人才", lead_unit=department, co_units=[co_unit])
    mine, other = make_enterprise(name="成都硅宝科技股份有限公司"), make_enterprise(name="成都别家科技有限公司")
    appeal = make_appeal(category=category, recorder=clerk, enterprise=mine, content="希望解决人才公寓。")
    appeal_service.sign(appeal, handler)
    appeal_service.add_note(appeal, handler, text=INTERNAL_NOTE)
    appeal_service.give_opinion(appeal, co_handler, text="协办意见：规划上无障碍")
    appeal_service.reply(appeal, handler, outcome="resolved", text=REPLY)
    policy = make_policy(title="高新技术企业认定奖励", items=("申报表",))
    application, _ = application_service.save(window, enterprise=mine, policy=policy, declared_amount=100000,
                                              materials={policy.items[0].id: ((), True)}, submit=True)
    application_service.check(application, window, decision="accept", marks={policy.items[0].id: ("ok", "")})
    other_appeal = make_appeal(category=category, recorder=clerk, enterprise=other, content="别家的诉求")
    other_application, _ = application_service.save(window, enterprise=other, policy=policy, declared_amount=50000,
                                                     materials={policy.items[0].id: ((), True)}, submit=True)
    db.session.commit()
    return {"mine": mine, "other": other, "appeal": appeal, "application": application, "other_appeal": other_appeal,
            "other_application": other_application, "account": make_account(enterprise=mine),
            "other_account": make_account(enterprise=other), "clerk": clerk, "handler": handler, "window": window}


def test_my_cases_lists_the_enterprises_appeals_and_applications_only(client, world, login_enterprise):
    login_enterprise(client, world["account"])
    appeals = text_of(client.get("/e/"))
    assert world["appeal"].receipt_no in appeals and "已答复" in appeals
    assert world["other_appeal"].receipt_no not in appeals
    applications = text_of(client.get("/e/?kind=applications"))
    assert world["application"].receipt_no in applications and "高新技术企业认定奖励" in applications
    assert world["other_application"].receipt_no not in applications


def test_the_appeal_page_shows_the_reply_and_public_timeline_and_nothing_internal(client, world, login_enterprise):
    login_enterprise(client, world["account"])
    page = text_of(client.get(f"/e/appeals/{world['appeal'].id}"))
    assert REPLY in page and "已解决" in page and "办理过程" in page
    for secret in (INTERNAL_NOTE, "协办意见", "张经办", "李协办", "王登记"):
        assert secret not in page
    receipt = client.get(f"/e/appeals/{world['appeal'].id}/receipt")
    assert receipt.status_code == 200 and world["appeal"].receipt_no in text_of(receipt)
    assert "王登记" not in text_of(receipt) and "经办人" not in text_of(receipt)
    assert "/appeals/" not in re.sub(r'href="/e/[^"]*"', "", receipt.get_data(as_text=True))


def test_the_application_page_lists_its_notices_to_print_without_staff_names(client, db, world, login_enterprise):
    login_enterprise(client, world["account"])
    page = client.get(f"/e/applications/{world['application'].id}")
    assert "受理通知书" in text_of(page)
    notice = client.get(f"/e/applications/{world['application'].id}/notice/acceptance")
    assert notice.status_code == 200 and "决定予以受理" in text_of(notice)
    assert "赵窗口" not in text_of(notice) and "经办人" not in text_of(notice)
    assert client.get(f"/e/applications/{world['application'].id}/notice/result").status_code == 404
    viewed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "portal_notice_viewed")).all()
    assert [(e.object_id, e.detail) for e in viewed] == [(str(world["application"].id), "acceptance")]


def _portal_urls(world, which):
    appeal, application = world[f"{which}appeal"], world[f"{which}application"]
    return [f"/e/appeals/{appeal.id}", f"/e/appeals/{appeal.id}/receipt", f"/e/applications/{application.id}",
            f"/e/applications/{application.id}/notice/acceptance"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_portal_url_with_another_enterprises_ids_is_404_leaks_nothing_and_is_audited(
        client, db, world, login_enterprise, htmx):
    login_enterprise(client, world["account"])
    headers = {"HX-Request": "true"} if htmx else {}
    for url in _portal_urls(world, "other_"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        body = text_of(response)
        assert "别家" not in body and world["other_appeal"].receipt_no not in body
    denied = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access_denied")).all()
    assert len(denied) == 4 and {e.detail for e in denied} == {"portal.case"}
    assert all(e.username == f"企业:{world['account'].login_name}" for e in denied)
    # Its own pages still answer: the 404s above were the isolation, not a broken route.
    assert all(client.get(url).status_code == 200 for url in _portal_urls(world, ""))


def test_a_missing_case_is_a_plain_404(client, world, login_enterprise):
    login_enterprise(client, world["account"])
    assert client.get("/e/appeals/999999").status_code == 404
    assert client.get("/e/applications/999999/notice/acceptance").status_code == 404


# The staff side of accounts ---------------------------------------------------------------------------

def test_a_clerk_prints_a_code_from_the_enterprise_page_and_the_contact_activates_with_it(
        app, client, db, world, login_as):
    mine = world["mine"]
    contact = Contact(enterprise_id=mine.id, name="陈主任", mobile="13700001111")
    db.session.add(contact)
    db.session.commit()
    login_as(world["clerk"])
    page = client.get(f"/enterprises/{mine.id}")
    assert "企业账号" in text_of(page) and "生成激活码" in text_of(page)
    slip = client.post(f"/enterprises/{mine.id}/accounts/code", data={"contact_id": contact.id})
    assert slip.status_code == 200 and "陈主任" in text_of(slip)
    code = re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", text_of(slip)).group(0)
    assert db.session.scalar(select(func.count()).select_from(ActivationCode)) == 1
    portal = app.test_client()
    activated = portal.post("/e/activate", data={"credit_code": mine.credit_code, "code": code, "login_name": "chenzr",
                                                 "password": "Chen-zhuren-2026", "confirm": "Chen-zhuren-2026"})
    assert activated.status_code == 302
    assert world["appeal"].receipt_no in text_of(portal.get("/e/"))
    listing = text_of(client.get(f"/enterprises/{mine.id}"))
    assert "chenzr" in listing and "已激活" in listing


def test_a_clerk_disables_an_account_and_its_session_ends(app, client, db, world, login_as, login_enterprise):
    portal = app.test_client()
    login_enterprise(portal, world["account"])
    login_as(world["clerk"])
    response = client.post(f"/enterprises/{world['mine'].id}/accounts/{world['account'].id}/disable")
    assert response.status_code == 302
    assert db.session.get(EnterpriseAccount, world["account"].id).active is False
    assert portal.get("/e/").status_code == 302
    assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "portal_account_disabled")).all()
    assert client.post(f"/enterprises/{world['mine'].id}/accounts/{world['account'].id}/enable").status_code == 302
    assert db.session.get(EnterpriseAccount, world["account"].id).active is True


def test_an_account_of_another_enterprise_cannot_be_disabled_through_this_enterprises_page(client, db, world, login_as):
    login_as(world["clerk"])
    response = client.post(f"/enterprises/{world['mine'].id}/accounts/{world['other_account'].id}/disable")
    assert response.status_code == 404
    assert db.session.get(EnterpriseAccount, world["other_account"].id).active is True


@pytest.mark.parametrize("role", [Role.handler, Role.dispatcher, Role.leader])
def test_only_station_point_and_window_clerks_manage_accounts(client, db, world, login_as, role):
    login_as(role)
    contact = world["mine"].contacts[0]
    assert client.post(f"/enterprises/{world['mine'].id}/accounts/code", data={"contact_id": contact.id}).status_code == 403
    assert client.post(f"/enterprises/{world['mine'].id}/accounts/{world['account'].id}/disable").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ActivationCode)) == 0
    assert db.session.get(EnterpriseAccount, world["account"].id).active is True
