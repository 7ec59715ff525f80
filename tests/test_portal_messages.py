"""Messages to an enterprise are written with the transition they tell about, in its transaction, for the
changes the enterprise should hear about only."""
from sqlalchemy import func, select

from gaoxin.models import PortalMessage, Role, UnitKind
from gaoxin.services import appeals as appeal_service
from gaoxin.services import applications as application_service
from gaoxin.services import messages


def kinds(db, enterprise_id):
    return [m.kind for m in db.session.scalars(select(PortalMessage).where(PortalMessage.enterprise_id == enterprise_id)
                                               .order_by(PortalMessage.id))]


def test_sign_and_reply_leave_messages_with_the_public_text_only(make_unit, make_user, make_category, make_appeal, db):
    dept = make_unit(UnitKind.department)
    handler = make_user(Role.handler, unit=dept)
    appeal = make_appeal(category=make_category(lead_unit=dept))
    assert kinds(db, appeal.enterprise_id) == []  # registering and routing are the enterprise's own news
    appeal_service.sign(appeal, handler)
    appeal_service.add_note(appeal, handler, text="内部：先问问财政金融局")
    appeal_service.reply(appeal, handler, outcome="resolved", text="已协调解决。")
    db.session.commit()
    assert kinds(db, appeal.enterprise_id) == ["signed", "replied"]
    texts = " ".join(db.session.scalars(select(PortalMessage.text)))
    assert "已协调解决。" in texts and "内部" not in texts and handler.name not in texts
    assert messages.unread_count(appeal.enterprise_id) == 2


def test_a_rolled_back_transition_leaves_no_message(make_unit, make_user, make_category, make_appeal, db):
    dept = make_unit(UnitKind.department)
    appeal = make_appeal(category=make_category(lead_unit=dept))
    appeal_service.sign(appeal, make_user(Role.handler, unit=dept))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PortalMessage)) == 0


def test_application_supplement_accept_and_result_are_told(make_unit, make_user, make_policy, make_application, db):
    dept = make_unit(UnitKind.department)
    window, handler = make_user(Role.window), make_user(Role.handler, unit=dept)
    policy = make_policy(department=dept, items=("申报表",))
    application = make_application(policy=policy, intake=window)
    item = policy.items[0]
    application_service.check(application, window, decision="supplement", marks={item.id: ("faulty", "未盖章")})
    application_service.add_materials(application, window, materials={item.id: ((), True)})
    application_service.resubmit(application, window)
    application_service.check(application, window, decision="accept", marks={item.id: ("ok", "")})
    application_service.approve(application, handler, amount=application.declared_amount)
    application_service.issue_result(application, window)
    db.session.commit()
    assert kinds(db, application.enterprise_id) == ["supplement", "accepted", "result"]
    rows, has_next = messages.page(application.enterprise_id)
    assert not has_next and messages.mark_read(application.enterprise_id, rows) == 3
    db.session.commit()
    assert messages.unread_count(application.enterprise_id) == 0
