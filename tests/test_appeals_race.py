"""Two people acting on the same case at once: exactly one wins, the others are told why."""
import threading

import pytest
from sqlalchemy import select

from gaoxin.models import Appeal, Event, Role, UnitKind
from tests.conftest import log_in


@pytest.mark.postgres_only
def test_twenty_concurrent_sign_requests_give_exactly_one_success(app, make_unit, make_user, make_category, make_appeal, db):
    dept = make_unit(UnitKind.department)
    appeal = make_appeal(category=make_category(lead_unit=dept))
    handlers = [make_user(Role.handler, unit=dept) for _ in range(20)]
    clients = []
    for handler in handlers:
        client = app.test_client()
        log_in(client, handler.username)
        clients.append(client)
    path, version = f"/appeals/{appeal.id}/sign", appeal.version
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def sign(i):
        barrier.wait()
        results[i] = clients[i].post(path, data={"version": version})

    threads = [threading.Thread(target=sign, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(303) == 1, statuses
    assert statuses.count(409) == 19, statuses
    losers = [r for r in results if r.status_code == 409]
    assert all("已由" in r.get_data(as_text=True) and "签收" in r.get_data(as_text=True) for r in losers)
    db.session.expire_all()
    stored = db.session.scalar(select(Appeal).where(Appeal.receipt_no.is_not(None)))
    assert stored.state == "in_progress"
    signs = db.session.scalars(select(Event).where(Event.appeal_id == appeal.id, Event.action == "sign")).all()
    assert len(signs) == 1 and signs[0].actor_id == stored.assignee_id


def _post_together(app, usernames, path, data):
    """Log each user in on its own client, then send the same form from all of them at the same instant."""
    clients = []
    for username in usernames:
        client = app.test_client()
        log_in(client, username)
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def post(i):
        barrier.wait()
        results[i] = clients[i].post(path, data=data)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres_only
def test_one_intake_form_sent_twice_at_once_records_one_appeal_and_shows_it_to_both(
        app, make_unit, make_user, make_category, make_enterprise, db):
    category = make_category(lead_unit=make_unit(UnitKind.department))
    enterprise = make_enterprise()
    station = make_unit(UnitKind.building_station)
    clerks = [make_user(Role.clerk, unit=station) for _ in range(2)]
    data = {"submission_token": "same-form-token-1", "enterprise_id": enterprise.id, "category_id": category.id,
            "channel": "building_station", "content": "两次同时提交的同一张表", "contact_name": "张三",
            "contact_mobile": "13800138000"}
    results = _post_together(app, [c.username for c in clerks], "/appeals/new", data)
    db.session.expire_all()
    appeals = db.session.scalars(select(Appeal).where(Appeal.submission_token == "same-form-token-1")).all()
    assert len(appeals) == 1
    assert [r.status_code for r in results] == [303, 303]
    assert {r.headers["Location"].split("?")[0] for r in results} == {f"/appeals/{appeals[0].id}"}


@pytest.mark.postgres_only
def test_one_application_form_sent_twice_at_once_submits_one_application(
        app, make_unit, make_user, make_enterprise, make_policy, db):
    from gaoxin.models import Application

    policy = make_policy(items=[])
    enterprise = make_enterprise()
    window = make_unit(UnitKind.window)
    clerks = [make_user(Role.window, unit=window) for _ in range(2)]
    data = {"submission_token": "same-form-token-2", "enterprise_id": enterprise.id, "policy_id": policy.id,
            "declared_amount": "1000", "intent": "submit", "contact_name": "李四", "contact_mobile": "13900139000"}
    results = _post_together(app, [c.username for c in clerks], "/applications/new", data)
    db.session.expire_all()
    applications = db.session.scalars(
        select(Application).where(Application.submission_token == "same-form-token-2")).all()
    assert len(applications) == 1 and applications[0].receipt_no
    assert [r.status_code for r in results] == [303, 303]
    assert {r.headers["Location"] for r in results} == {f"/applications/{applications[0].id}"}
