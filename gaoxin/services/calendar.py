"""Working days for deadlines: chinesecalendar, the confirmed State Council notices and the admin's overrides;
'today' in China time; reading a notice, confirming a year and recomputing open cases' due dates.

Raises CalendarRefused (with the form field it belongs beside) for a notice that does not parse, a year that
cannot be confirmed or a range that ends before it starts. Flushes, never commits.
"""
import re
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import func, select

from ..extensions import db
from ..localtime import local_today
from ..models import CalendarNoticeDay, CalendarOverride, CalendarYear
from ..workflow import HOLIDAY_NAMES, WorkingCalendar, known_years, missing_schedule_warning, provisional_reason

#: From this day of the year (1 November) the dispatcher and the system admin are reminded of next year's notice.
REMINDER_FROM = (11, 1)
#: The timeline action of a due date moved by a calendar change.
DUE_RECOMPUTED = "due_recomputed"


class CalendarRefused(Exception):
    """A calendar change the rules refuse; `field` names the form field the message belongs beside."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def today():
    """Today's date in China (deadlines are counted on China's calendar, not UTC)."""
    return local_today()


def load_calendar():
    """A WorkingCalendar read afresh from the database: the overrides and every confirmed year's notice."""
    overrides = dict(db.session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)).all())
    notices = {year: {} for year in db.session.scalars(select(CalendarYear.year))}
    for day, year, is_workday in db.session.execute(
            select(CalendarNoticeDay.day, CalendarNoticeDay.year, CalendarNoticeDay.is_workday)):
        notices.setdefault(year, {})[day] = is_workday
    return WorkingCalendar(overrides, notices)


def calendar_stamp():
    """What identifies the calendar's rows, in one small statement: the number of overrides and of confirmed
    years and the newest of each. Every change adds a row with a new time (an override is replaced by delete
    and add, a year by delete and confirm) or removes one (the count drops), so a changed calendar always
    gives a new stamp."""
    return tuple(db.session.execute(select(*stamp_columns())).one())


def stamp_columns():
    """calendar_stamp()'s columns, for a statement that reads them beside its own (the user loader's)."""
    return tuple(select(aggregate).scalar_subquery() for aggregate in (
        func.count(CalendarOverride.day), func.max(CalendarOverride.created_at),
        func.count(CalendarYear.year), func.max(CalendarYear.confirmed_at)))


def preload_stamp(stamp):
    """The calendar's stamp, read by the request's first statement: working_calendar() need not read it again."""
    g.calendar_stamp = stamp


#: engine → (stamp, WorkingCalendar): one calendar per worker and database, read again when the stamp moves,
#: so a change made through any worker is seen by every worker's next request.
_LOADED = weakref.WeakKeyDictionary()


def working_calendar():
    """The WorkingCalendar with the overrides and confirmed notices: checked once per request against the
    calendar's stamp (one indexed statement), loaded again only when the stamp moved."""
    if not has_app_context():
        return load_calendar()
    if "working_calendar" in g:
        return g.working_calendar
    engine, stamp = db.engine, g.pop("calendar_stamp", None) or calendar_stamp()
    loaded = _LOADED.get(engine)
    if loaded is not None and loaded[0] == stamp:
        calendar = loaded[1]
    else:
        # Kept even when this transaction's own change is in it: the stamp describes the rows, so after a
        # rollback the stamp read next no longer matches and the calendar is read again.
        calendar = load_calendar()
        _LOADED[engine] = (stamp, calendar)
    g.working_calendar = calendar
    return calendar


def forget_cached_calendar():
    """Drop the request's calendar: a change made in this request must be seen by the next reader."""
    if has_app_context():
        g.pop("working_calendar", None)
        g.pop("calendar_stamp", None)


def schedule_warning(start, end):
    """A warning when [start, end] crosses a year whose holidays are only computed by rule (neither known
    to chinesecalendar nor confirmed by its notice). An override does not confirm a year."""
    return missing_schedule_warning(sorted(working_calendar().provisional_years(start, end)))


def provisional_note(day):
    """Why a due date is 预计, or None when its year is certain (and for no date)."""
    if day is None or not working_calendar().is_provisional(day):
        return None
    return provisional_reason(day.year)


def reminder(on=None):
    """From 1 November: the reminder that next year's notice is not entered yet (None when it is, or earlier)."""
    on = on or today()
    if (on.month, on.day) < REMINDER_FROM:
        return None
    year = on.year + 1
    if working_calendar().is_confirmed(year):
        return None
    return (f"{year}年的国务院节假日安排通知尚未录入：{year}年的期限目前按法定节假日规则推算，显示为“预计”。"
            f"通知发布后请系统管理员在“工作日设置”中录入并确认{year}年。")


# --------------------------------------------------------------------------- reading the notice

_NUMBERING = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|\d+[、.．)）]|[（(][一二三四五六七八九十\d]+[)）])\s*")
# 2027年2月5日, 2月5日, 5日 (month carried over), 2027-02-05, 2027/2/5; a weekday note in brackets is skipped.
_DAY = re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?:(?P<m>\d{1,2})\s*月\s*)?(?P<d>\d{1,2})\s*日"
                  r"|(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})")
_NOTE = re.compile(r"[（(][^）)]*[）)]")
_CLAUSE = re.compile(r"[。；;]")
_LABEL = re.compile(r"([^：:\d]{1,20})[：:](.*)")
_RANGE_WORDS = re.compile(r"\s*(?:至|到|—|–|~|～|-)\s*$")


@dataclass
class ParsedNotice:
    """What a pasted notice says: holiday days and swapped working days, the ranges as read, the failures."""

    year: int
    #: day → (is_workday, holiday name)
    days: dict = field(default_factory=dict)
    #: (holiday name, first day, last day, number of days) for each holiday range, and the working days
    ranges: list = field(default_factory=list)
    workdays: list = field(default_factory=list)
    #: (line number, line text, reason) for each line that failed
    errors: list = field(default_factory=list)
    #: (line number, line text) skipped as not an arrangement (title, preamble, signature)
    skipped: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors and bool(self.days)


def _holiday_name(head):
    """The statutory holiday a line is about (元旦, 春节 …, 清明 without 节 too), or None."""
    for name in HOLIDAY_NAMES:
        if name.removesuffix("节") in head:
            return name
    return None


def _dates_in(text, year):
    """[(date or None, start index, end index)] in `text`, a month carried over to a bare '13日'."""
    found, month = [], None
    for m in _DAY.finditer(text):
        if m.group("iy"):
            y, mo, d = int(m.group("iy")), int(m.group("im")), int(m.group("id"))
        else:
            y = int(m.group("y")) if m.group("y") else year
            mo = int(m.group("m")) if m.group("m") else month
            d = int(m.group("d"))
        month = mo
        try:
            found.append((date(y, mo, d) if mo else None, m.start(), m.end()))
        except ValueError:
            found.append((None, m.start(), m.end()))
    return found


def parse_notice(year, text):
    """Read the State Council's notice for `year`, a line per holiday as published (e.g. "二、春节：2月5日（除夕、
    周五）至13日（周六）放假调休，共9天。2月14日（周日）、2月20日（周六）上班。"). Every line that names a holiday
    or a date must be understood; a line with neither (the title, the preamble) is skipped."""
    notice = ParsedNotice(year)
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        body = _NUMBERING.sub("", line)
        labelled = _LABEL.match(body)
        if labelled:
            name, arrangement = _holiday_name(labelled.group(1)), labelled.group(2)
        else:
            name, arrangement = _holiday_name(body[:8]), body
        if not _DAY.search(line) and not labelled and not _NUMBERING.match(line):
            # The title, the addressees, the preamble, the signature: no arrangement to read.
            notice.skipped.append((number, line))
            continue
        error = _read_line(notice, name, arrangement)
        if error:
            notice.errors.append((number, line, error))
    if not notice.errors:
        present = {name for name, *_ in notice.ranges}
        missing = [n for n in HOLIDAY_NAMES if n not in present]
        if not notice.days:
            notice.errors.append((0, "", "没有识别出任何放假安排。请粘贴通知中“一、元旦：…”至“七、国庆节：…”各行。"))
        elif missing:
            notice.errors.append((0, "", f"通知须整年录入，缺少：{'、'.join(missing)}。"))
    return notice


def _read_line(notice, name, text):
    """Add one line's holidays and working days to `notice`; returns the reason it failed, or None."""
    if name is None:
        return "未写明是哪个节日（应以“元旦：”“春节：”等开头）。"
    understood = False
    for clause in filter(None, (c.strip() for c in _CLAUSE.split(text))):
        clean = _NOTE.sub("", clause)
        dates = _dates_in(clean, notice.year)
        if not dates:
            if "放假" in clean or "上班" in clean:
                return f"“{clause}”中没有可识别的日期。"
            continue
        if any(d is None for d, *_ in dates):
            return f"“{clause}”中有无效的日期。"
        outside = [d for d, *_ in dates if d.year != notice.year]
        if "上班" in clean:
            if outside:
                return f"{outside[0]:%Y-%m-%d} 不在{notice.year}年内。"
            for d, *_ in dates:
                if notice.days.get(d, (True,))[0] is False:
                    return f"{d:%Y-%m-%d} 既是放假日又是上班日。"
                notice.days[d] = (True, name)
                notice.workdays.append((name, d))
            understood = True
        elif "放假" in clean or "休" in clean:
            first, last = dates[0][0], dates[-1][0]
            if len(dates) > 2 or (len(dates) == 2 and not _RANGE_WORDS.search(clean[dates[0][2]:dates[1][1]])):
                return f"“{clause}”应为一个日期或“某日至某日”的范围。"
            if last < first:
                return f"放假范围的结束日期{last:%Y-%m-%d}早于开始日期{first:%Y-%m-%d}。"
            if first.year != notice.year or last.year != notice.year:
                return f"放假日期不在{notice.year}年内。"
            if (last - first).days > 15:
                return f"放假范围{first:%m月%d日}至{last:%m月%d日}超过15天，请检查。"
            day = first
            while day <= last:
                if notice.days.get(day, (False,))[0] is True:
                    return f"{day:%Y-%m-%d} 既是放假日又是上班日。"
                notice.days[day] = (False, name)
                day += timedelta(days=1)
            notice.ranges.append((name, first, last, (last - first).days + 1))
            understood = True
        else:
            return f"“{clause}”未说明放假还是上班。"
    return None if understood else "没有识别出放假或上班的安排。"


def confirmable_years(on=None):
    """The years a notice may be entered for: after the last one chinesecalendar knows, up to next year."""
    on = on or today()
    first = known_years().stop
    return list(range(first, max(first, on.year + 1) + 1))


def confirm_year(year, text, user):
    """Confirm `year` as a whole from its notice (replacing an earlier entry). Returns (ParsedNotice, the
    calendar before the change): the caller queues the recomputation of open cases' due dates with it (a
    background job, services.jobs). Raises CalendarRefused."""
    from .audit import record

    if year in known_years():
        raise CalendarRefused(f"{year}年的节假日安排已由系统内置的官方数据提供，无需录入。", "year")
    if year not in confirmable_years():
        raise CalendarRefused(f"只能录入{'、'.join(str(y) for y in confirmable_years())}年的通知。", "year")
    notice = parse_notice(year, text)
    if not notice.ok:
        raise CalendarRefused("通知中有无法识别的内容，请按提示修改后重新解析。", "notice")
    before = load_calendar()
    existing = db.session.get(CalendarYear, year)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    entry = CalendarYear(year=year, notice=text.strip(), confirmed_by_id=user.id if user else None)
    entry.days = [CalendarNoticeDay(day=d, year=year, is_workday=w, name=n) for d, (w, n) in sorted(notice.days.items())]
    db.session.add(entry)
    db.session.flush()
    forget_cached_calendar()
    holidays = sum(1 for w, _ in notice.days.values() if not w)
    record("config_changed", entry,
           detail=f"确认{year}年节假日安排：放假{holidays}天，调休上班{len(notice.days) - holidays}天；"
                  f"在办案件的期限由后台任务重新计算")
    return notice, before


def recompute_due_dates(before, reason, actor=None):
    """Move the due dates of open cases that the calendar change moves; returns how many cases changed.

    Each due date still lies the same number of working days after today (China) as it did on the calendar
    `before` the change: a case keeps the time it had left. Dates today or earlier stay. Each moved case gets
    a timeline entry; the count is logged.
    """
    from ..models import Appeal, Application
    from ..workflow import ApplicationState, AppealState
    from . import work
    from .cases import add_event

    after, on = load_calendar(), today()

    def moved(day):
        if day is None or day <= on:
            return day
        return after.add_workdays(on, before.workdays_between(on, day))

    count = 0
    open_states = [s.value for s in AppealState if s.is_open]
    appeals = db.session.scalars(select(Appeal).where(
        Appeal.state.in_(open_states), (Appeal.due_on > on) | (Appeal.sign_due_on > on)))
    for appeal in appeals:
        due, sign_due = moved(appeal.due_on), moved(appeal.sign_due_on)
        if (due, sign_due) == (appeal.due_on, appeal.sign_due_on):
            continue
        parts = []
        if sign_due != appeal.sign_due_on:
            parts.append(f"签收期限 {appeal.sign_due_on:%Y-%m-%d} → {sign_due:%Y-%m-%d}")
        due_moved = due != appeal.due_on
        if due_moved:
            parts.append(f"办理期限 {appeal.due_on:%Y-%m-%d} → {due:%Y-%m-%d}")
        appeal.due_on, appeal.sign_due_on = due, sign_due
        work.touch(appeal)
        add_event(appeal, actor, DUE_RECOMPUTED, comment=f"{reason}：" + "；".join(parts),
                  public_text=f"办理期限调整为{due:%Y-%m-%d}（节假日安排变化）。" if due_moved else None)
        count += 1
    applications = db.session.scalars(select(Application).where(
        Application.state == ApplicationState.accepted.value, Application.review_due_on > on))
    for application in applications:
        due = moved(application.review_due_on)
        if due == application.review_due_on:
            continue
        add_event(application, actor, DUE_RECOMPUTED,
                  comment=f"{reason}：审查期限 {application.review_due_on:%Y-%m-%d} → {due:%Y-%m-%d}")
        application.review_due_on = due
        count += 1
    db.session.flush()
    current_app.logger.info("Calendar change (%s): due dates of %d open cases recomputed", reason, count)
    return count
