"""State machines for appeals and policy applications, and the working-day calendar for deadlines."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import chinese_calendar


class WorkflowError(Exception):
    """Raised when an action is not allowed; the message is shown to the user as is."""


def _coerce(enum_cls, value, kind: str):
    # Callers pass raw strings read from the database or a form; turn a bad value
    # into a user-facing error instead of a bare ValueError.
    try:
        return enum_cls(value)
    except ValueError:
        raise WorkflowError(f"未知的{kind}“{value}”。") from None


def _refusal(state_title: str, action_title: str) -> WorkflowError:
    return WorkflowError(f"当前状态“{state_title}”不能执行“{action_title}”。")


# --------------------------------------------------------------------------- labelled enums


class LabelledEnum(str, enum.Enum):
    """A string enum whose members carry their Chinese title and badge CSS class, declared with the class.

    After its members a subclass lists `__titles__` (every member → its Chinese title) and may list
    `__css_classes__` (member → CSS class of its badge; the others get ""), as Indico's enums do. Both are
    keyed by value; inside the class body a member's name still means its value, so `{draft: "草稿"}` works.
    A member is its value for every other purpose: `str(m)`, `f"{m}"`, `m == "x"` and hashing all treat it
    as the string stored in the database, so a member and its value find the same dict entry.
    """

    __titles__: dict[str, str] = {}
    __css_classes__: dict[str, str] = {}

    # Deliberately shadows str.title: templates want the Chinese label, and the
    # capitalising str method is meaningless for these codes.
    @property
    def title(self) -> str:  # type: ignore[override]
        """Chinese label of the member."""
        return type(self).__titles__[self.value]

    @property
    def css_class(self) -> str:
        """CSS class of the member's badge (`status-ok`, `status-warn`, `status-bad`), or ""."""
        return type(self).__css_classes__.get(self.value, "")

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, title) of every member in declaration order, for a form's choices."""
        return [(m.value, m.title) for m in cls]

    def __str__(self) -> str:
        return self.value

    def __hash__(self) -> int:
        # Enum hashes the member name; the value's hash keeps `m in {"x"}` true where name and value differ.
        return str.__hash__(self)


class StateEnum(LabelledEnum):
    """A LabelledEnum of states; `__final__` lists the states a case never leaves (default: none)."""

    __final__: frozenset[str] = frozenset()

    @property
    def is_open(self) -> bool:
        """Still alive: some action can move it on (not one of the class's `__final__` states)."""
        return self.value not in type(self).__final__


# --------------------------------------------------------------------------- appeals


class AppealState(StateEnum):
    """Where an appeal (诉求) is in its life."""

    registered = "registered"
    awaiting_dispatch = "awaiting_dispatch"
    dispatched = "dispatched"
    in_progress = "in_progress"
    replied = "replied"
    closed = "closed"
    withdrawn = "withdrawn"

    __titles__ = {
        registered: "已登记",
        awaiting_dispatch: "待派单",
        dispatched: "待签收",
        in_progress: "办理中",
        replied: "已答复",
        closed: "已办结",
        withdrawn: "已撤回",
    }
    __css_classes__ = {
        awaiting_dispatch: "status-warn",
        dispatched: "status-warn",
        replied: "status-ok",
        closed: "status-ok",
    }
    __final__ = frozenset({closed, withdrawn})

    @property
    def with_department(self) -> bool:
        """The lead department has work to do on it: sign for it (dispatched) or handle it (in_progress)."""
        return self in (AppealState.dispatched, AppealState.in_progress)

    @property
    def is_answered(self) -> bool:
        """The department has replied (replied, or closed after the follow-up)."""
        return self in (AppealState.replied, AppealState.closed)


#: Chinese titles by state (derived from AppealState.__titles__; prefer `state.title`).
APPEAL_STATE_LABELS: dict[AppealState, str] = {s: s.title for s in AppealState}

OPEN_APPEAL_STATES: frozenset[AppealState] = frozenset(s for s in AppealState if s.is_open)
#: States in which the lead department still has work to do, in declaration order (queues, partial indexes).
DEPARTMENT_APPEAL_STATES: tuple[AppealState, ...] = tuple(s for s in AppealState if s.with_department)
#: States in which the department's answer stands, in declaration order (the 已答复 tab, partial indexes).
ANSWERED_APPEAL_STATES: tuple[AppealState, ...] = tuple(s for s in AppealState if s.is_answered)


class AppealAction(LabelledEnum):
    """Something a user does to an appeal; each one becomes a timeline event."""

    route = "route"
    queue = "queue"
    dispatch = "dispatch"
    sign = "sign"
    return_ = "return"
    assign = "assign"
    note = "note"
    extend_request = "extend_request"
    extend_approve = "extend_approve"
    extend_refuse = "extend_refuse"
    supervise = "supervise"
    co_opinion = "co_opinion"
    reply = "reply"
    follow_up_satisfied = "follow_up_satisfied"
    follow_up_unsatisfied = "follow_up_unsatisfied"
    withdraw = "withdraw"
    merge = "merge"

    __titles__ = {
        route: "登记派单",
        queue: "转调度中心",
        dispatch: "派单",
        sign: "签收",
        return_: "退单",
        assign: "指派",
        note: "内部备注",
        extend_request: "申请延期",
        extend_approve: "同意延期",
        extend_refuse: "不同意延期",
        supervise: "督办",
        co_opinion: "协办意见",
        reply: "答复",
        follow_up_satisfied: "回访满意",
        follow_up_unsatisfied: "回访不满意",
        withdraw: "撤回",
        merge: "并案",
    }


#: Chinese titles by action (derived from AppealAction.__titles__; prefer `action.title`).
APPEAL_ACTION_LABELS: dict[AppealAction, str] = {a: a.title for a in AppealAction}


def _build_appeal_transitions() -> dict[tuple[AppealState, AppealAction], AppealState]:
    S, A = AppealState, AppealAction
    table = {
        (S.registered, A.route): S.dispatched,
        (S.registered, A.queue): S.awaiting_dispatch,
        (S.awaiting_dispatch, A.dispatch): S.dispatched,
        # Re-dispatch: the dispatcher may move a case to another department before it
        # is signed for, or take it back from the department handling it (DOMAIN.md diagram).
        (S.dispatched, A.dispatch): S.dispatched,
        (S.in_progress, A.dispatch): S.dispatched,
        (S.dispatched, A.sign): S.in_progress,
        (S.dispatched, A.return_): S.awaiting_dispatch,
        (S.in_progress, A.return_): S.awaiting_dispatch,
        (S.in_progress, A.assign): S.in_progress,
        (S.in_progress, A.extend_request): S.in_progress,
        (S.in_progress, A.extend_approve): S.in_progress,
        (S.in_progress, A.extend_refuse): S.in_progress,
        (S.dispatched, A.supervise): S.dispatched,
        (S.in_progress, A.supervise): S.in_progress,
        # Co-handlers work from dispatch on, beside the lead department (设置页: "协办部门同时收到").
        (S.dispatched, A.co_opinion): S.dispatched,
        (S.in_progress, A.co_opinion): S.in_progress,
        (S.in_progress, A.reply): S.replied,
        (S.replied, A.follow_up_satisfied): S.closed,
        # The first unsatisfied follow-up reopens (重办); appeal_next_state closes it
        # instead when the case was already reopened once.
        (S.replied, A.follow_up_unsatisfied): S.in_progress,
    }
    # 并案: a duplicate still being worked ends like a withdrawn one — closed without an answer of its own
    # (the main case's reply reaches it); Appeal.merged_into_id tells the two apart.
    for s in (S.awaiting_dispatch, S.dispatched, S.in_progress):
        table[(s, A.merge)] = S.withdrawn
    for s in OPEN_APPEAL_STATES:
        table[(s, A.note)] = s
        table[(s, A.withdraw)] = S.withdrawn
    return table


APPEAL_TRANSITIONS: dict[tuple[AppealState, AppealAction], AppealState] = _build_appeal_transitions()


def appeal_next_state(
    state: AppealState | str, action: AppealAction | str, *, reopened_before: bool = False
) -> AppealState:
    """Return the state an appeal moves to, or raise WorkflowError if the action is not allowed."""
    state = _coerce(AppealState, state, "诉求状态")
    action = _coerce(AppealAction, action, "诉求操作")
    try:
        nxt = APPEAL_TRANSITIONS[(state, action)]
    except KeyError:
        raise _refusal(state.title, action.title) from None
    # 重办 is allowed once: a second unsatisfied follow-up ends the case so it cannot loop forever.
    if action is AppealAction.follow_up_unsatisfied and reopened_before:
        return AppealState.closed
    return nxt


def appeal_actions(state: AppealState | str) -> list[AppealAction]:
    """List the actions allowed on an appeal in the given state, in declaration order."""
    state = _coerce(AppealState, state, "诉求状态")
    return [a for a in AppealAction if (state, a) in APPEAL_TRANSITIONS]


# --------------------------------------------------------------------------- applications


class ApplicationState(StateEnum):
    """Where a policy application (政策兑现申报) is in its life."""

    draft = "draft"
    submitted = "submitted"
    awaiting_supplement = "awaiting_supplement"
    refused = "refused"
    accepted = "accepted"
    approved = "approved"
    rejected = "rejected"
    result_issued = "result_issued"
    disbursed = "disbursed"

    __titles__ = {
        draft: "草稿",
        submitted: "待形式审查",
        awaiting_supplement: "待补正",
        refused: "不予受理",
        accepted: "已受理（待部门审查）",
        approved: "审核通过",
        rejected: "审核不通过",
        result_issued: "已出件",
        disbursed: "已拨付",
    }
    __css_classes__ = {
        submitted: "status-warn",
        awaiting_supplement: "status-warn",
        refused: "status-bad",
        approved: "status-ok",
        rejected: "status-bad",
        result_issued: "status-ok",
        disbursed: "status-ok",
    }
    # result_issued stays open: an approved result still waits for the money (a rejected one is
    # complete, which services.applications.is_complete tells from the outcome).
    __final__ = frozenset({refused, disbursed})


#: Chinese titles by state (derived from ApplicationState.__titles__; prefer `state.title`).
APPLICATION_STATE_LABELS: dict[ApplicationState, str] = {s: s.title for s in ApplicationState}


class ApplicationOutcome(LabelledEnum):
    """The department's decision on an application (实质审查), kept after the state moves on to result_issued."""

    approved = "approved"
    rejected = "rejected"

    __titles__ = {approved: "审核通过", rejected: "审核不通过"}
    __short_titles__ = {approved: "通过", rejected: "不通过"}
    __css_classes__ = {approved: "status-ok", rejected: "status-bad"}

    @property
    def short_title(self) -> str:
        """The outcome in two or three characters, beside a state (已出件（通过）)."""
        return type(self).__short_titles__[self.value]


class ApplicationAction(LabelledEnum):
    """Something a user does to a policy application."""

    submit = "submit"
    supplement = "supplement"
    resubmit = "resubmit"
    accept = "accept"
    refuse = "refuse"
    approve = "approve"
    reject = "reject"
    back_to_supplement = "back_to_supplement"
    issue_result = "issue_result"
    disburse = "disburse"

    __titles__ = {
        submit: "提交申报",
        supplement: "一次性告知补正",
        resubmit: "补正后提交",
        accept: "受理",
        refuse: "不予受理",
        approve: "审核通过",
        reject: "审核不通过",
        back_to_supplement: "退回补正",
        issue_result: "出件",
        disburse: "拨付",
    }


#: Chinese titles by action (derived from ApplicationAction.__titles__; prefer `action.title`).
APPLICATION_ACTION_LABELS: dict[ApplicationAction, str] = {a: a.title for a in ApplicationAction}

_S, _A = ApplicationState, ApplicationAction
APPLICATION_TRANSITIONS: dict[tuple[ApplicationState, ApplicationAction], ApplicationState] = {
    (_S.draft, _A.submit): _S.submitted,
    (_S.submitted, _A.supplement): _S.awaiting_supplement,
    (_S.awaiting_supplement, _A.resubmit): _S.submitted,
    (_S.submitted, _A.accept): _S.accepted,
    (_S.submitted, _A.refuse): _S.refused,
    (_S.accepted, _A.approve): _S.approved,
    (_S.accepted, _A.reject): _S.rejected,
    (_S.accepted, _A.back_to_supplement): _S.awaiting_supplement,
    # Both outcomes are handed out at the window; the outcome itself is stored on the
    # application, because result_issued no longer tells approved from rejected.
    (_S.approved, _A.issue_result): _S.result_issued,
    (_S.rejected, _A.issue_result): _S.result_issued,
    (_S.result_issued, _A.disburse): _S.disbursed,
}
del _S, _A


def application_next_state(
    state: ApplicationState | str, action: ApplicationAction | str, *, approved: bool = False
) -> ApplicationState:
    """Return the state an application moves to, or raise WorkflowError; pass approved=True to disburse."""
    state = _coerce(ApplicationState, state, "申报状态")
    action = _coerce(ApplicationAction, action, "申报操作")
    try:
        nxt = APPLICATION_TRANSITIONS[(state, action)]
    except KeyError:
        raise _refusal(state.title, action.title) from None
    # Defaults to refusing: money must never go out on a rejected application because
    # a caller forgot to pass the outcome.
    if action is ApplicationAction.disburse and not approved:
        raise WorkflowError("审核未通过的申报不能拨付。")
    return nxt


def application_actions(
    state: ApplicationState | str, *, approved: bool | None = None
) -> list[ApplicationAction]:
    """List the actions allowed on an application; approved=False hides disburse after a rejection."""
    state = _coerce(ApplicationState, state, "申报状态")
    actions = [a for a in ApplicationAction if (state, a) in APPLICATION_TRANSITIONS]
    if approved is False:
        actions = [a for a in actions if a is not ApplicationAction.disburse]
    return actions


# --------------------------------------------------------------------------- background jobs


class JobState(StateEnum):
    """Where a background job (后台任务) is: queued → running → done, or failed with its reason."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    __titles__ = {queued: "排队中", running: "运行中", done: "已完成", failed: "失败"}
    __css_classes__ = {queued: "status-warn", running: "status-warn", done: "status-ok", failed: "status-bad"}
    __final__ = frozenset({done, failed})


class JobKind(LabelledEnum):
    """What a background job does."""

    registry_import = "registry_import"
    export = "export"
    recompute_due_dates = "recompute_due_dates"
    overdue_check = "overdue_check"
    due_reminders = "due_reminders"
    integrity_check = "integrity_check"
    cleanup = "cleanup"

    __titles__ = {
        registry_import: "导入企业名录",
        export: "后台导出",
        recompute_due_dates: "重新计算办理期限",
        overdue_check: "超期检查",
        due_reminders: "到期提醒",
        integrity_check: "完整性检查",
        cleanup: "清理过期导出文件",
    }


class NoticeKind(LabelledEnum):
    """Why a department got an in-app notice (部门提醒)."""

    overdue = "overdue"
    due_soon = "due_soon"

    __titles__ = {overdue: "已超期", due_soon: "即将到期"}
    __css_classes__ = {overdue: "status-bad", due_soon: "status-warn"}


# --------------------------------------------------------------------------- working days
#
# Three sources, in order: the admin's local overrides; chinesecalendar's official schedule (2004 to the
# last year the installed package knows); for a later year, the State Council's notice once the admin has
# entered it (the year is then "confirmed" as a whole), else the statutory holidays computed by rule
# (全国年节及纪念日放假办法, as amended by State Council decree 795, in force from 2025) — and every date in
# such a year is provisional (预计): the notice's swapped working days (调休) cannot be known in advance.


@functools.lru_cache(maxsize=1)
def known_years() -> range:
    """Return the years chinesecalendar has official holiday schedules for."""
    # Same bounds chinese_calendar itself validates against; read from its data so a
    # package upgrade extends the range without a code change.
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


@functools.lru_cache(maxsize=8192)
def _official_workday(d: date) -> bool | None:
    # Cached because inbox pages ask "due in N working days" for every row; None means
    # the year has no official schedule and the caller must fall back.
    if d.year not in known_years():
        return None
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return None


def _as_date(d: date) -> date:
    # datetime is a subclass of date; normalise so cache keys and overrides match.
    return d.date() if isinstance(d, datetime) else d


#: The statutory holidays in the order the decree lists them (its article 2).
HOLIDAY_NAMES = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


def _lunar_day(year: int, month: int, day: int) -> date:
    """The Gregorian date of lunar `month`/`day` in the lunar year that begins in `year`."""
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    """The day of the 清明 solar term in `year` (4 or 5 April)."""
    from lunar_python import Solar

    solar = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def statutory_days(year: int) -> list[tuple[date, str]]:
    """The statutory holiday days of `year` as (day, holiday name), by the rule in force from 2025.

    元旦 1 January; 春节 four days, lunar New Year's Eve to the third day of the first lunar month; 清明节 the
    day of the solar term; 劳动节 1–2 May; 端午节 the fifth of the fifth lunar month; 中秋节 the fifteenth of
    the eighth; 国庆节 1–3 October.
    """
    new_year = _lunar_day(year, 1, 1)
    return sorted([
        (date(year, 1, 1), "元旦"),
        *((new_year + timedelta(days=k), "春节") for k in range(-1, 3)),
        (_qingming(year), "清明节"),
        (date(year, 5, 1), "劳动节"), (date(year, 5, 2), "劳动节"),
        (_lunar_day(year, 5, 5), "端午节"),
        (_lunar_day(year, 8, 15), "中秋节"),
        *((date(year, 10, k), "国庆节") for k in (1, 2, 3)),
    ])


@functools.lru_cache(maxsize=64)
def rule_holidays(year: int) -> dict[date, str]:
    """Every day of `year` off by rule: the statutory days, plus a make-up weekday (补假) for each one that
    falls on a Saturday or Sunday or on another holiday, given on the first free weekdays after it (article
    6 of the decree). Swapped working days (调休) are not known until the State Council's notice."""
    days: dict[date, str] = {}
    owed: list[tuple[date, str]] = []
    for day, name in statutory_days(year):
        if day in days or day.weekday() >= 5:
            owed.append((day, name))
        days.setdefault(day, name)
    for day, name in owed:
        d = day + timedelta(days=1)
        while d in days or d.weekday() >= 5:
            d += timedelta(days=1)
        days[d] = f"{name}补假"
    return dict(sorted(days.items()))


def provisional_reason(year: int) -> str:
    """Why a date in `year` is only 预计 (provisional), in Chinese."""
    return (f"{year}年国务院放假通知尚未录入：该年的节假日暂按法定规则推算（元旦、春节、清明、劳动节、端午、中秋、"
            f"国庆及补假），调休上班日未计入，期限可能变动。")


def missing_schedule_warning(years: Iterable[int]) -> str | None:
    """Return a Chinese warning naming years whose holiday notice is not entered yet, or None."""
    ys = sorted(set(years))
    if not ys:
        return None
    names = "、".join(f"{y}年" for y in ys)
    return (f"{names}的法定节假日安排尚未录入：相关期限暂按法定节假日规则推算并显示为“预计”（调休上班日未计入），"
            f"请系统管理员录入国务院办公厅的放假通知以确认该年。")


class WorkingCalendar:
    """Chinese working-day calendar with local overrides, used for every deadline."""

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 notices: Mapping[int, Mapping[date, bool]] | None = None):
        """Create a calendar; overrides map a date to True (working day) or False (holiday); notices map a
        confirmed year to its notice's days (holidays False, swapped working days True)."""
        self.overrides: dict[date, bool] = {_as_date(k): bool(v) for k, v in (overrides or {}).items()}
        self.notices: dict[int, dict[date, bool]] = {
            int(y): {_as_date(k): bool(v) for k, v in days.items()} for y, days in (notices or {}).items()}

    def is_workday(self, d: date) -> bool:
        """Tell whether d is a working day: override, else official schedule, else the confirmed notice,
        else the statutory holidays by rule; Monday–Friday for the rest."""
        d = _as_date(d)
        if d in self.overrides:
            return self.overrides[d]
        official = _official_workday(d)
        if official is not None:
            return official
        notice = self.notices.get(d.year)
        if notice is not None:
            return notice.get(d, d.weekday() < 5)
        # The rule is the one in force from 2025: it stands in only for years after the package's data.
        if d.year >= known_years().stop and d in rule_holidays(d.year):
            return False
        return d.weekday() < 5

    def add_workdays(self, start: date, n: int) -> date:
        """Return the n-th working day after start (start not counted; negative n counts back)."""
        d = _as_date(start)
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_workday(d):
                remaining -= 1
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Count working days in (start, end]; negative when end is before start."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        d = start
        while d < end:
            d += timedelta(days=1)
            if self.is_workday(d):
                count += 1
        return count

    def unknown_years(self, start: date, end: date) -> set[int]:
        """Return the years in [start.year, end.year] that have no official holiday schedule."""
        lo, hi = sorted((start.year, end.year))
        known = known_years()
        return {y for y in range(lo, hi + 1) if y not in known}

    def is_confirmed(self, year: int) -> bool:
        """Whether `year`'s holidays are certain: chinesecalendar knows it, or its notice was entered."""
        return year in known_years() or year in self.notices

    def provisional_years(self, start: date, end: date) -> set[int]:
        """The years in [start.year, end.year] whose holidays are only computed by rule."""
        return {y for y in self.unknown_years(start, end) if y not in self.notices}

    def is_provisional(self, d: date | None) -> bool:
        """Whether a due date `d` is only 预计: its year is neither known nor confirmed."""
        return d is not None and not self.is_confirmed(_as_date(d).year)

    def provisional_note(self, d: date | None) -> str | None:
        """Why the due date `d` is 预计, or None when it is certain."""
        return provisional_reason(_as_date(d).year) if self.is_provisional(d) else None

    missing_schedule_warning = staticmethod(missing_schedule_warning)
