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
