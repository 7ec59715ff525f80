"""The dispatch centre through its views: the queue with returns, extension requests, the overdue list."""
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from gaoxin.models import Appeal, Extension, Role
from gaoxin.services import appeals as service
from gaoxin.services.calendar import today, working_calendar
from tests.conftest import log_in, text_of
from tests.test_inbox_views import dept, record, rows_of  # noqa: F401 (fixtures shared with the inbox tests)


def returned(appeal, user, db, reason="不属于本局职责", suggested=None):
    service.return_to_dispatch(appeal, user, reason=reason, suggested_unit=suggested)
    db.session.commit()
    return appeal


def extension_requested(appeal, handler, db, **request):
    """The handler signs for the appeal and asks for more working days."""
    service.sign(appeal, handler)
    extension = service.request_extension(appeal, handler, **request)
    db.session.commit()
    return appeal, extension


@contextmanager
def counting_queries(db):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_queue_shows_unrouted_and_returned_appeals_with_the_latest_reason(client, dept, record, db):
    unrouted = record("unrouted")
    twice = returned(record(), dept["handler"], db, reason="应由规划部门办理", suggested=dept["other"])
    service.dispatch(twice, dept["dispatcher"], lead_unit=dept["other"])
    db.session.commit()
    returned(twice, dept["other_handler"], db, reason="涉及人才政策，请转回", suggested=dept["unit"])
    still_routed = record()
    log_in(client, dept["dispatcher"].username)

    page = client.get("/dispatch")
    assert page.status_code == 200
    assert rows_of(page) == [unrouted.receipt_no, twice.receipt_no]
    assert still_routed.receipt_no not in page.get_data(as_text=True)
    text = text_of(page)
    assert "涉及人才政策，请转回" in text and "应由规划部门办理" not in text
    assert "2次" in text and "发展规划局" in text
    row = re.search(twice.receipt_no + r".*?</tr>", page.get_data(as_text=True), re.S).group(0)
    assert "科技人才局" in row  # the suggested department
    assert f'href="/appeals/{twice.id}"' in row
    assert rows_of(client.get("/dispatch?returned=1")) == [twice.receipt_no]


def test_queue_loads_return_reasons_in_one_query_for_the_page(client, dept, record, db):
    log_in(client, dept["dispatcher"].username)
    returned(record(), dept["handler"], db)
    client.get("/dispatch")
    # Each count right after a change: the tab counts are kept while nothing changes (the centre's stamp).
    returned(record(), dept["handler"], db)
    with counting_queries(db) as two:
        client.get("/dispatch")
    for _ in range(4):
        returned(record(), dept["handler"], db)
    with counting_queries(db) as six:
        page = client.get("/dispatch")
    assert len(rows_of(page)) == 6
    assert len(six) == len(two)


def test_dispatcher_approves_an_extension_and_the_deadline_moves_by_working_days(client, dept, record, db):
    appeal, extension = extension_requested(record(), dept["handler"], db, days=3, reason="需与市级部门会商")
    old_due = appeal.due_on
    log_in(client, dept["dispatcher"].username)

    page = client.get("/dispatch/extensions")
    text = text_of(page)
    assert appeal.receipt_no in text and "需与市级部门会商" in text and "3个工作日" in text and "科技人才局" in text
    expected = working_calendar().add_workdays(old_due, 3)
    assert expected.isoformat() in text
    action = f"/appeals/{appeal.id}/extensions/{extension.id}"
    assert f'action="{action}"' in page.get_data(as_text=True)

    response = client.post(action, data={"decision": "approve", "comment": "同意"})
    assert response.status_code == 303
    assert db.session.get(Appeal, appeal.id).due_on == expected
    assert db.session.get(Extension, extension.id).status == "approved"
    assert "没有待审批的延期申请" in text_of(client.get("/dispatch/extensions"))


def test_dispatcher_refuses_an_extension_and_the_deadline_stays(client, dept, record, db):
    appeal, extension = extension_requested(record(), dept["handler"], db, days=5, reason="材料未齐")
    old_due = appeal.due_on
    log_in(client, dept["dispatcher"].username)
    response = client.post(f"/appeals/{appeal.id}/extensions/{extension.id}", data={"decision": "refuse"})
    assert response.status_code == 303
    assert db.session.get(Appeal, appeal.id).due_on == old_due


def test_overdue_list_groups_by_department_and_offers_supervision(client, dept, record, db):
    mine = record()
    service.sign(mine, dept["handler"])
    mine.due_on = today() - timedelta(days=10)
    theirs = record("other_category")
    theirs.sign_due_on = today() - timedelta(days=3)
    on_time = record()
    db.session.commit()
    log_in(client, dept["dispatcher"].username)

    page = client.get("/dispatch/overdue")
    body = page.get_data(as_text=True)
    assert rows_of(page) == [mine.receipt_no, theirs.receipt_no]
    assert on_time.receipt_no not in body
    assert body.count('scope="rowgroup"') == 2
    text = text_of(page)
    assert re.search(r"办结已超期\d+个工作日", text) and re.search(r"签收已超期\d+个工作日", text)
    assert f'action="/appeals/{mine.id}/supervise"' in body
    assert rows_of(client.get(f"/dispatch/overdue?unit={dept['other'].id}")) == [theirs.receipt_no]

    response = client.post(f"/appeals/{mine.id}/supervise", data={"version": db.session.get(Appeal, mine.id).version})
    assert response.status_code == 303
    assert db.session.get(Appeal, mine.id).supervised_at is not None
    after = client.get("/dispatch/overdue")
    assert f'action="/appeals/{mine.id}/supervise"' not in after.get_data(as_text=True) and "已督办" in text_of(after)


def test_tabs_carry_counts(client, dept, record, db):
    record("unrouted")
    record("unrouted")
    late = record()
    late.sign_due_on = today() - timedelta(days=2)
    db.session.commit()
    log_in(client, dept["dispatcher"].username)
    text = text_of(client.get("/dispatch/overdue"))
    assert re.search(r"待派单 2", text) and re.search(r"延期申请 0", text) and re.search(r"超期督办 1", text)
    assert 'aria-current="page"' in client.get("/dispatch/extensions").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.clerk, Role.handler, Role.dept_lead, Role.window])
@pytest.mark.parametrize("path", ["/dispatch", "/dispatch/extensions", "/dispatch/overdue"])
def test_only_the_dispatcher_opens_the_dispatch_dept(client, login_as, role, path):
    login_as(role)
    assert client.get(path).status_code == 403
