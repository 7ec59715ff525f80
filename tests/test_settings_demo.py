"""The demo's routing rules and cases: DOMAIN.md's eight categories, and appeals in every state through the services."""
from collections import Counter

from sqlalchemy import func, select

from gaoxin.models import Appeal, AppealCategory, Enterprise, Event, Salon
from gaoxin.services import demo
from gaoxin.services.calendar import today
from gaoxin.services.enterprises import load_demo_enterprises


def test_the_demo_creates_categories_a_salon_and_appeals_in_every_state(db):
    demo.create_units()
    demo.create_users()
    load_demo_enterprises(30)
    appeals = demo.create_demo_cases()
    db.session.commit()

    rules = {c.name: (c.lead_unit.name if c.lead_unit else None, [u.name for u in c.co_units], c.handling_days)
             for c in db.session.scalars(select(AppealCategory))}
    assert rules["场地"] == ("投资服务局", ["规划建设局"], 10)
    assert rules["审批服务"] == ("政务服务中心", [], 3)
    assert rules["政策咨询"][0] is None and rules["其他"][0] is None
    assert len(rules) == 8

    salon = db.session.scalar(select(Salon).where(Salon.held_on == today()))  # the demo also has one next month
    assert (salon.theme, salon.venue, salon.held_on) == ("促进民营企业发展", "菁蓉汇", today())

    assert len(appeals) == 40
    states = Counter(db.session.scalars(select(Appeal.state)))
    assert set(states) == {"dispatched", "awaiting_dispatch", "in_progress", "replied", "closed", "withdrawn"}
    open_cases = select(Appeal).where(Appeal.state.in_(["dispatched", "in_progress"]))
    assert db.session.scalars(open_cases.where(Appeal.due_on < today())).first() is not None
    assert db.session.scalar(select(func.count()).where(Appeal.return_count > 0)) >= 1
    assert db.session.scalar(select(func.count()).where(Appeal.supervised_at.is_not(None))) >= 1
    assert db.session.scalar(select(func.count()).where(Appeal.salon_id == salon.id)) >= 5
    # Every case has its registration on the timeline, dated when the (backdated) case began.
    first_events = db.session.execute(
        select(Appeal.created_at, Event.at).join(Event, Event.appeal_id == Appeal.id).where(Event.action == "register")
    ).all()
    assert len(first_events) == 40
    assert all(abs((at - created).total_seconds()) < 60 for created, at in first_events)


def test_the_demo_has_an_enterprise_account_that_logs_in_and_sees_a_reply_to_rate(db, client):
    demo.create_units()
    demo.create_users()
    load_demo_enterprises(30)
    demo.create_demo_cases()
    demo.create_demo_enterprise_account()
    db.session.commit()

    login, enterprise_name, _ = demo.demo_enterprise_login()
    response = client.post("/e/login", data={"login_name": login, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].startswith("/e/")
    home = client.get("/e/").get_data(as_text=True)
    assert enterprise_name in home
    replied = db.session.scalar(select(Appeal).join(Enterprise, Enterprise.id == Appeal.enterprise_id)
                                .where(Enterprise.name == enterprise_name, Appeal.state == "replied"))
    assert replied is not None and f"/e/appeals/{replied.id}/rate" in client.get(f"/e/appeals/{replied.id}").get_data(as_text=True)
