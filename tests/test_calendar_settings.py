"""Years the calendar package does not know: the State Council's notice entered as a whole, 预计 due dates until
then, the reminder from 1 November, and open cases' due dates recomputed when the calendar changes."""
from datetime import date

import pytest
from flask import g
from sqlalchemy import func, select

from gaoxin.models import Appeal, AuditEntry, CalendarNoticeDay, CalendarYear, Event, Role
from gaoxin.services import appeals as appeal_service
from gaoxin.services import calendar as calendar_service
from tests.conftest import log_in, text_of
from tests.test_dispatch_views import extension_requested
from tests.test_inbox_views import dept, record  # noqa: F401 (fixtures shared with the inbox tests)

NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（除夕、周五）至13日（周六）放假调休，共9天。2月14日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
五、端午节：6月9日（周三）放假，共1天。
六、中秋节：9月15日（周三）放假，共1天。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。"""


@pytest.fixture
def on(monkeypatch):
    """on(day): make `day` today in China for deadlines, the reminder and the recomputation."""
    def set_today(day):
        monkeypatch.setattr(calendar_service, "today", lambda: day)
        monkeypatch.setattr(appeal_service, "today", lambda: day)
        g.pop("working_calendar", None)
    return set_today


@pytest.fixture
def sysadmin(login_as):
    return login_as(Role.sysadmin)


def switch(client, user):
    """Log out whoever is logged in and log `user` in."""
    client.post("/logout")
    log_in(client, user.username)
    return user


def notice_post(client, text=NOTICE_2027, year="2027", confirm=False):
    data = {"year": year, "notice": text, ("confirm" if confirm else "preview"): "1"}
    return client.post("/settings/calendar/years", data=data)


def years(db):
    return db.session.scalar(select(func.count()).select_from(CalendarYear))


def test_a_pasted_notice_is_parsed_and_shown_before_anything_is_saved(client, db, sysadmin, on):
    on(date(2026, 12, 1))
    response = notice_post(client)
    assert response.status_code == 200
    page = text_of(response)
    assert "春节 2027-02-05 至 2027-02-13 9 2027-02-14（星期日）、2027-02-20（星期六）" in page
    assert "国庆节 2027-10-01 至 2027-10-07 7" in page and "已忽略不含安排的行：第1行、第2行" in page
    assert "确认2027年的安排并保存" in page
    assert years(db) == 0


def test_confirming_2027_saves_the_whole_year_and_due_dates_in_it_are_no_longer_provisional(client, db, sysadmin, on):
    on(date(2026, 12, 25))
    response = notice_post(client, confirm=True)
    assert response.status_code == 303
    entry = db.session.get(CalendarYear, 2027)
    assert entry.confirmed_by_id == sysadmin.id and "春节" in entry.notice
    days = {d.day: d.is_workday for d in db.session.scalars(select(CalendarNoticeDay))}
    assert days[date(2027, 2, 20)] is True and days[date(2027, 2, 13)] is False and len(days) == 35
    g.pop("working_calendar", None)
    calendar = calendar_service.working_calendar()
    assert calendar.is_workday(date(2027, 2, 20)) is True and not calendar.is_provisional(date(2027, 3, 1))
    page = text_of(client.get("/settings/calendar"))
    assert "2027年 已确认" in page and "2027年的法定节假日安排尚未录入" not in page
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "config_changed"))
    assert "确认2027年节假日安排：放假29天，调休上班6天" in audit.detail


@pytest.mark.parametrize(("text", "messages"), [
    ("一、元旦：1月1日至3日放假\n二、春节：2月13日至5日放假调休\n三、清明：4月x日放假\n四、foo：3月1日上班",
     ["第2行“二、春节：2月13日至5日放假调休”：放假范围的结束日期2027-02-05早于开始日期2027-02-13。",
      "第3行“三、清明：4月x日放假”：“4月x日放假”中没有可识别的日期。",
      "第4行“四、foo：3月1日上班”：未写明是哪个节日"]),
    ("端午节：2月30日放假", ["第1行“端午节：2月30日放假”：“2月30日放假”中有无效的日期。"]),
    ("国庆节：10月1日至7日放假。10月1日上班。", ["2027-10-01 既是放假日又是上班日。"]),
    ("元旦：1月1日放假", ["通知须整年录入，缺少：春节、清明节、劳动节、端午节、中秋节、国庆节。"]),
    ("这不是通知", ["没有识别出任何放假安排"]),
])
def test_a_notice_that_does_not_parse_names_each_failing_line_keeps_the_text_and_saves_nothing(
        client, db, sysadmin, on, text, messages):
    on(date(2026, 12, 1))
    for confirm in (False, True):
        response = notice_post(client, text, confirm=confirm)
        assert response.status_code == 422
        page = text_of(response)
        for message in messages:
            assert message in page
        assert "确认2027年的安排并保存" not in page
        assert text.splitlines()[0] in response.get_data(as_text=True)
    assert years(db) == 0


def test_a_year_the_package_knows_cannot_be_confirmed(client, db, sysadmin, on):
    on(date(2026, 12, 1))
    response = notice_post(client, NOTICE_2027.replace("2027", "2026"), year="2026", confirm=True)
    assert response.status_code == 422 and "请选择可录入的年份。" in text_of(response)
    assert years(db) == 0


def test_an_empty_notice_is_asked_for_beside_its_field(client, db, sysadmin, on):
    on(date(2026, 12, 1))
    response = notice_post(client, "  ", confirm=True)
    assert response.status_code == 422 and "请粘贴国务院办公厅放假通知的各行。" in text_of(response)


def test_confirming_a_year_recomputes_open_due_dates_with_a_timeline_event(client, db, dept, record, on, login_as):
    # On Mon 1 Feb 2027, by rule 5–10 Feb are off: 2, 3, 4, 11, 12 Feb → due Fri 12 Feb.
    on(date(2027, 2, 1))
    appeal = record()
    closed = record()
    closed.state = "withdrawn"
    db.session.commit()
    assert appeal.due_on == date(2027, 2, 12)
    # The notice: 5–13 Feb off, Sun 14 Feb worked → 2, 3, 4, 14, 15 Feb: due Mon 15 Feb.
    login_as(Role.sysadmin)
    response = notice_post(client, confirm=True)
    assert response.status_code == 303
    assert "重新计算了 1 件在办案件的期限" in text_of(client.get("/settings/calendar"))
    assert db.session.get(Appeal, appeal.id).due_on == date(2027, 2, 15)
    event = db.session.scalar(select(Event).where(Event.action == calendar_service.DUE_RECOMPUTED))
    assert event.appeal_id == appeal.id
    assert event.comment == "2027年节假日安排已确认：办理期限 2027-02-12 → 2027-02-15"
    assert event.public_text == "办理期限调整为2027-02-15（节假日安排变化）。"
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.appeal_id == closed.id,
                                                                           Event.action == "due_recomputed")) == 0


def test_changing_an_override_recomputes_open_due_dates(client, db, dept, record, on, login_as):
    on(date(2026, 12, 25))
    appeal = record()
    assert appeal.due_on == date(2027, 1, 4)  # 28–31 Dec, then 元旦 by rule, then Mon 4 Jan
    login_as(Role.sysadmin)
    response = client.post("/settings/calendar/overrides", data={"day": "2027-01-04", "is_workday": "0", "note": "停电"})
    assert response.status_code == 303
    assert db.session.get(Appeal, appeal.id).due_on == date(2027, 1, 5)
    assert "重新计算了 1 件在办案件的期限" in text_of(client.get("/settings/calendar"))
    client.post("/settings/calendar/overrides/2027-01-04/delete")
    assert db.session.get(Appeal, appeal.id).due_on == date(2027, 1, 4)
    comments = db.session.scalars(select(Event.comment).where(Event.action == "due_recomputed").order_by(Event.id)).all()
    assert comments == ["工作日调整：2027-01-04 改为放假：办理期限 2027-01-04 → 2027-01-05",
                        "删除工作日调整：2027-01-04：办理期限 2027-01-05 → 2027-01-04"]


def test_a_due_date_in_an_unconfirmed_year_shows_provisional_with_why_wherever_it_is_shown(
        client, db, dept, record, on, make_user):
    on(date(2026, 12, 25))
    appeal = record()
    reason = "2027年国务院放假通知尚未录入"
    log_in(client, dept["handler"].username)
    show = text_of(client.get(f"/appeals/{appeal.id}"))
    assert "办结 2027-01-04 预计 " + reason in show
    assert "预计" in text_of(client.get("/inbox")) and reason in text_of(client.get("/inbox"))
    extension_requested(appeal, dept["handler"], db, days=20, reason="需与市级部门会商")
    switch(client, dept["dispatcher"])
    extensions = text_of(client.get("/dispatch/extensions"))
    assert "预计" in extensions and reason in extensions
    switch(client, make_user(Role.sysadmin))
    categories = text_of(client.get("/settings/categories"))
    assert "今天登记：2027-01-04 预计" in categories
    notice_post(client, confirm=True)
    assert "预计" not in text_of(client.get("/settings/categories"))


def test_a_due_date_in_a_known_year_is_not_provisional(client, db, dept, record, on):
    on(date(2026, 11, 2))
    appeal = record()
    log_in(client, dept["handler"].username)
    assert "预计" not in text_of(client.get(f"/appeals/{appeal.id}"))


@pytest.mark.parametrize(("today", "shown"), [(date(2026, 10, 31), False), (date(2026, 11, 1), True),
                                              (date(2026, 12, 31), True)])
def test_from_1_november_the_dispatcher_and_the_sysadmin_are_reminded_of_next_year(
        client, db, dept, on, make_user, today, shown):
    on(today)
    reminder = "2027年的国务院节假日安排通知尚未录入"
    log_in(client, dept["dispatcher"].username)
    assert (reminder in text_of(client.get("/dispatch"))) is shown
    switch(client, make_user(Role.sysadmin))
    assert (reminder in text_of(client.get("/settings/categories"))) is shown
    assert (reminder in text_of(client.get("/settings/calendar"))) is shown


def test_the_reminder_goes_once_next_year_is_confirmed(client, db, dept, on, login_as):
    on(date(2026, 11, 20))
    login_as(Role.sysadmin)
    assert notice_post(client, confirm=True).status_code == 303
    switch(client, dept["dispatcher"])
    assert "国务院节假日安排通知尚未录入" not in text_of(client.get("/dispatch"))


@pytest.mark.parametrize("role", [Role.clerk, Role.dispatcher, Role.handler, Role.secadmin])
def test_only_the_system_admin_may_confirm_a_year(client, db, login_as, on, role):
    on(date(2026, 12, 1))
    login_as(role)
    assert notice_post(client, confirm=True).status_code == 403
    assert years(db) == 0
