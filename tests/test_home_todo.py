"""The home page is a to-do list (issue 12, point 6): each role sees its counts and oldest items, and every
count is the number of rows on the list or tab it links to."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from gaoxin.models import Role, UnitKind
from gaoxin.services import appeals as service
from gaoxin.services.calendar import today
from tests.conftest import log_in, text_of


@pytest.fixture
def dept(make_unit, make_user, make_category):
    unit = make_unit(UnitKind.department, name="科技人才局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    return {
        "unit": unit, "station": station,
        "handler": make_user(Role.handler, unit=unit, name="刘洋"),
        "lead": make_user(Role.dept_lead, unit=unit, name="黄志强"),
        "clerk": make_user(Role.clerk, unit=station, name="王小红"),
        "dispatcher": make_user(Role.dispatcher, name="陈静"),
        "category": make_category(name="人才", lead_unit=unit),
        "unrouted": make_category(name="其他", lead_unit=None),
    }


def todo_item(response, key):
    """(count shown, link) of one to-do item."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<li class="todo-item" id="todo-{key}">\s*<a class="todo-count" href="([^"]+)">.*?'
                      rf'<span class="badge[^"]*">([^<]+)</span>', html, re.S)
    assert match, key
    return match.group(2), match.group(1).replace("&amp;", "&")


def rows_on(client, url):
    """How many cases the linked list or tab shows (one receipt link per row)."""
    html = client.get(url).get_data(as_text=True)
    return len(set(re.findall(r'href="/(?:appeals|applications)/(\d+)"', html)))


def test_the_home_page_no_longer_repeats_the_menu_as_tiles(client, dept):
    log_in(client, dept["handler"].username)
    html = client.get("/").get_data(as_text=True)
    assert 'class="tile"' not in html and "待办" in html


def test_a_handler_sees_counts_that_match_the_tabs_they_link_to(client, db, dept, make_appeal):
    waiting = [make_appeal(category=dept["category"], recorder=dept["clerk"]) for _ in range(3)]
    supervised = make_appeal(category=dept["category"], recorder=dept["clerk"])
    service.sign(supervised, dept["handler"])
    service.supervise(supervised, dept["dispatcher"])
    late = make_appeal(category=dept["category"], recorder=dept["clerk"])
    service.sign(late, dept["handler"])
    late.due_on = today() - timedelta(days=3)
    db.session.commit()

    log_in(client, dept["handler"].username)
    home = client.get("/")
    page = text_of(home)
    assert "待办 · 部门收件箱" in page
    for key, expected in (("sign", 3), ("supervised", 1), ("overdue", 1)):
        count, url = todo_item(home, key)
        assert int(count) == expected, key
        assert rows_on(client, url) == expected, key
    # The oldest items are listed with their receipt numbers.
    assert waiting[0].receipt_no in page and supervised.receipt_no in page


def test_a_handler_sees_what_is_due_within_two_working_days(client, db, dept, make_appeal):
    soon = make_appeal(category=dept["category"], recorder=dept["clerk"])
    service.sign(soon, dept["handler"])
    soon.due_on = today()
    db.session.commit()
    log_in(client, dept["handler"].username)
    home = client.get("/")
    count, url = todo_item(home, "soon")
    assert count == "1" and "tab=progress" in url and "sort=due" in url
    assert soon.receipt_no in text_of(home)


def test_a_clerk_sees_replies_waiting_for_the_follow_up(client, db, dept, make_appeal):
    replied = make_appeal(category=dept["category"], recorder=dept["clerk"])
    service.sign(replied, dept["handler"])
    service.reply(replied, dept["handler"], outcome="resolved", text="已办理。")
    make_appeal(category=dept["category"], recorder=dept["clerk"])
    db.session.commit()
    log_in(client, dept["clerk"].username)
    home = client.get("/")
    count, url = todo_item(home, "appeals-replied")
    assert count == "1" and rows_on(client, url) == 1
    assert replied.receipt_no in text_of(home)
    assert todo_item(home, "applications-awaiting_supplement")[0] == "0"


def test_the_dispatcher_sees_the_queue_returns_extensions_and_overdue(client, db, dept, make_appeal):
    queued = make_appeal(category=dept["unrouted"], recorder=dept["clerk"])
    returned = make_appeal(category=dept["category"], recorder=dept["clerk"])
    service.return_to_dispatch(returned, dept["handler"], reason="不属于本部门")
    db.session.commit()
    log_in(client, dept["dispatcher"].username)
    home = client.get("/")
    assert todo_item(home, "queue")[0] == "2"
    count, url = todo_item(home, "returned")
    assert count == "1" and url.endswith("returned=1")
    assert todo_item(home, "extensions")[0] == "0" and todo_item(home, "overdue")[0] == "0"
    assert queued.receipt_no in text_of(home) and returned.receipt_no in text_of(home)


def test_the_window_sees_applications_to_check_and_results_to_hand_out(client, make_user, make_application):
    window = make_user(Role.window, name="张丽")
    make_application(intake=window)
    log_in(client, window.username)
    home = client.get("/")
    count, url = todo_item(home, "applications-submitted")
    assert count == "1" and rows_on(client, url) == 1
    assert todo_item(home, "applications-approved")[0] == "0"


@pytest.mark.parametrize("who, key, category", [("handler", "sign", "category"), ("dispatcher", "queue", "unrouted")])
def test_the_kept_to_do_follows_every_change_and_only_then_is_worked_out_again(
        client, db, dept, make_appeal, who, key, category):
    """The department's and the dispatch centre's to-do are kept per work stamp: a repeat visit reads no case,
    and the next change shows at once."""
    log_in(client, dept[who].username)
    assert todo_item(client.get("/"), key)[0] == "0"
    first = make_appeal(category=dept[category], recorder=dept["clerk"])
    home = client.get("/")
    assert todo_item(home, key)[0] == "1" and first.receipt_no in text_of(home)
    statements = []
    listener = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert todo_item(client.get("/"), key)[0] == "1"
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # The to-do's counts select "1 FROM appeals" and its lists "appeals.id"; the leader's and dispatcher's key
    # figures (services/figures.py) are not part of it.
    todo_reads = [sql for sql in statements if "FROM appeals" in sql and ("SELECT 1" in sql or "appeals.id" in sql)]
    assert not todo_reads, "a repeat visit reads no appeal for the to-do"
    make_appeal(category=dept[category], recorder=dept["clerk"])
    assert todo_item(client.get("/"), key)[0] == "2"
