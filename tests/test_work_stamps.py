"""Work stamps: every change to what a unit's inbox shows moves that unit's stamp, in the same transaction,
so that the inbox's live check may answer "nothing changed" from the stamp alone."""
import random
import re

import pytest
from sqlalchemy import event

from gaoxin.models import Role, UnitKind, WorkStamp
from gaoxin.services import appeals as service
from gaoxin.services import queues
from gaoxin.services.calendar import today
from gaoxin.workflow import WorkflowError
from tests.conftest import log_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def zone(make_unit, make_user, make_category):
    """Three departments (one co-handles 场地), a station clerk, a dispatcher and categories routed to each."""
    a = make_unit(UnitKind.department, name="科技人才局")
    b = make_unit(UnitKind.department, name="发展规划局")
    c = make_unit(UnitKind.department, name="财政金融局")
    station = make_unit(UnitKind.building_station, name="天府软件园楼宇企业服务站")
    return {
        "units": [a, b, c],
        "handlers": {u.id: make_user(Role.handler, unit=u) for u in (a, b, c)},
        "clerk": make_user(Role.clerk, unit=station),
        "dispatcher": make_user(Role.dispatcher),
        "categories": [make_category(name="人才", lead_unit=a), make_category(name="规划", lead_unit=b),
                       make_category(name="场地", lead_unit=b, co_units=[a]), make_category(name="其他", lead_unit=None)],
    }


def stamps(db):
    return {s.unit_id: s.version for s in db.session.query(WorkStamp)}


def inbox_view(user, day):
    """What a unit's inbox shows: every tab's counts and every tab's rows (ids, versions) with what a row prints."""
    rows = {}
    for tab in queues.INBOX_TABS:
        ids, _ = queues.inbox_page(user, tab, queues.InboxFilters(), 1, day)
        appeals = queues.load_appeals([i for i, _ in ids])
        rows[tab] = [(a.id, a.version, a.state, a.assignee_id, a.supervised_at, a.due_on,
                      tuple((c.unit_id, c.opinion_at) for c in a.co_handlers)) for a in appeals]
    return {k: int(v) for k, v in queues.inbox_counts(user, day).items()}, rows


def test_recording_an_appeal_moves_the_stamp_of_its_lead_and_co_handling_departments(zone, make_appeal, db):
    a, b, c = zone["units"]
    make_appeal(category=zone["categories"][2], recorder=zone["clerk"])
    centre = zone["dispatcher"].unit_id
    assert stamps(db) == {a.id: 1, b.id: 1, centre: 1}, "场地 is led by b and co-handled by a; c sees nothing"


def test_every_change_moves_the_dispatch_centres_stamp_and_its_counts_follow(zone, make_appeal, client, db):
    """The dispatcher's tabs (queue, extensions, overdue) span every unit: its counts, kept per stamp, must
    follow a change in any department."""
    a = zone["units"][0]
    dispatcher = zone["dispatcher"]
    log_in(client, dispatcher.username)

    def queue_badge():
        page = client.get("/dispatch").get_data(as_text=True)
        return int(re.search(r'待派单\s*<span class="badge[^"]*">(\d+)</span>', page).group(1))

    assert queue_badge() == 0
    appeal = make_appeal(category=zone["categories"][3], recorder=zone["clerk"])
    assert queue_badge() == 1
    before = stamps(db)[dispatcher.unit_id]
    service.dispatch(appeal, dispatcher, lead_unit=a)
    db.session.commit()
    assert stamps(db)[dispatcher.unit_id] == before + 1 and queue_badge() == 0
    service.return_to_dispatch(appeal, zone["handlers"][a.id], reason="不属于本部门职责")
    db.session.commit()
    assert queue_badge() == 1


def test_a_return_moves_the_stamp_of_the_department_it_leaves(zone, make_appeal, db):
    a, b, _ = zone["units"]
    appeal = make_appeal(category=zone["categories"][0], recorder=zone["clerk"])
    before = stamps(db)
    service.return_to_dispatch(appeal, zone["handlers"][a.id], reason="不属于本部门职责")
    db.session.commit()
    assert stamps(db)[a.id] == before[a.id] + 1
    service.dispatch(appeal, zone["dispatcher"], lead_unit=b)
    db.session.commit()
    after = stamps(db)
    assert after[b.id] == before[b.id] + 1 if b.id in before else after[b.id] == 1
    assert after[a.id] == before[a.id] + 1, "the dispatch to b is none of a's business"


def test_a_rolled_back_change_moves_no_stamp(zone, make_appeal, db):
    a = zone["units"][0]
    appeal = make_appeal(category=zone["categories"][0], recorder=zone["clerk"])
    before = stamps(db)
    service.sign(appeal, zone["handlers"][a.id])
    db.session.rollback()
    db.session.commit()
    assert stamps(db) == before


def test_the_live_check_answers_204_from_the_stamp_alone(client, zone, make_appeal, db, monkeypatch):
    a, b, _ = zone["units"]
    make_appeal(category=zone["categories"][0], recorder=zone["clerk"])
    log_in(client, zone["handlers"][a.id].username)
    page = client.get("/inbox").get_data(as_text=True)
    live = re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)
    assert 'hx-trigger="every 2s"' in page

    statements = []
    if db.engine.dialect.name == "postgresql":
        # On PostgreSQL the live check talks to psycopg directly (no SQLAlchemy events): count what the
        # driver's cursors send, which is every statement whoever sends it.
        import psycopg

        send = psycopg.Cursor.execute
        monkeypatch.setattr(psycopg.Cursor, "execute",
                            lambda cursor, sql, *a, **k: (statements.append(str(sql)), send(cursor, sql, *a, **k))[1])
        assert client.get(f"{live}&since={since}", headers=HTMX).status_code == 204
        monkeypatch.undo()
    else:
        listener = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"{live}&since={since}", headers=HTMX).status_code == 204
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    # The pool's liveness ping (";", pool_pre_ping) is not a query: it asks the server nothing.
    statements = [sql for sql in statements if sql.strip() != ";"]
    assert len(statements) == 1 and "work_stamps" in statements[0], (
        "one query (the session, its unit's stamp): no user loading, no counts, no list")

    # Another department's new appeal leaves this inbox alone; one of its own redraws it.
    make_appeal(category=zone["categories"][1], recorder=zone["clerk"])
    assert client.get(f"{live}&since={since}", headers=HTMX).status_code == 204
    newcomer = make_appeal(category=zone["categories"][0], recorder=zone["clerk"])
    update = client.get(f"{live}&since={since}", headers=HTMX)
    assert update.status_code == 200 and newcomer.receipt_no in update.get_data(as_text=True)


def test_whatever_changes_in_an_inbox_moves_its_stamp_over_a_random_day_of_work(zone, make_appeal, db):
    """A seeded random sequence of every appeal action; after each commit, a unit whose inbox (counts, rows,
    what a row prints) changed must have a new stamp — otherwise its open inbox would never redraw."""
    rng = random.Random(20261201)
    units, handlers, dispatcher = zone["units"], zone["handlers"], zone["dispatcher"]
    day = today()
    appeals = []

    def views():
        return {u.id: inbox_view(handlers[u.id], day) for u in units}

    def act(appeal):
        lead = handlers.get(appeal.lead_unit_id)
        state = appeal.state.value
        choice = rng.random()
        if state == "awaiting_dispatch":
            lead_unit = rng.choice(units)
            co = [u for u in units if u.id != lead_unit.id and rng.random() < 0.4]
            service.dispatch(appeal, dispatcher, lead_unit=lead_unit, co_units=co)
        elif state == "dispatched":
            if choice < 0.6:
                service.sign(appeal, lead)
            elif choice < 0.8:
                service.return_to_dispatch(appeal, lead, reason="不属于本部门职责")
            else:
                service.supervise(appeal, dispatcher)
        elif state == "in_progress":
            pending = [c for c in appeal.co_handlers if c.opinion_at is None]
            if pending and choice < 0.5:
                service.give_opinion(appeal, handlers[pending[0].unit_id], text="同意。")
            elif choice < 0.6:
                service.supervise(appeal, dispatcher)
            elif choice < 0.7:
                service.add_note(appeal, lead, text="已联系企业。")
            else:
                service.reply(appeal, lead, outcome="resolved", text="已办理。")
        elif state == "replied":
            service.follow_up(appeal, dispatcher, satisfaction=rng.choice(["satisfied", "unsatisfied"]))
        else:
            return False
        return True

    seen, seen_stamps = views(), stamps(db)
    changes = 0
    for step in range(120):
        if not appeals or rng.random() < 0.25:
            appeals.append(make_appeal(category=rng.choice(zone["categories"]), recorder=zone["clerk"]))
        else:
            appeal = rng.choice(appeals)
            try:
                if not act(appeal):
                    continue
            except WorkflowError:
                db.session.rollback()
                continue
            db.session.commit()
        now_stamps = stamps(db)
        now = views()
        for unit in units:
            if now[unit.id] != seen[unit.id]:
                changes += 1
                assert now_stamps.get(unit.id) != seen_stamps.get(unit.id), (
                    f"step {step}: the inbox of {unit.name} changed but its stamp did not")
        seen_stamps, seen = now_stamps, now
    assert changes > 60, "the sequence exercised the inboxes"


def test_a_poll_from_an_ended_session_is_sent_to_log_in_not_told_nothing_changed(client, zone, make_appeal):
    a = zone["units"][0]
    make_appeal(category=zone["categories"][0], recorder=zone["clerk"])
    log_in(client, zone["handlers"][a.id].username)
    page = client.get("/inbox").get_data(as_text=True)
    live = re.search(r'id="inbox-live"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    since = re.search(r'id="inbox-since" name="since" value="([0-9a-f]+)"', page).group(1)
    assert client.get(f"{live}&since={since}", headers=HTMX).status_code == 204
    with client.session_transaction() as cookie:
        token = cookie["_user_id"]
    client.post("/logout")
    with client.session_transaction() as cookie:
        cookie["_user_id"] = token  # a cookie kept from before the log-out
    after = client.get(f"{live}&since={since}", headers=HTMX)
    assert after.status_code != 204 and "/login" in after.headers.get("HX-Redirect", "")
