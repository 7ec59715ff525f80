"""The zone's figures (数据看板): per department the counts, the three rates (三率) and the on-time rate over a
period, the same cut by category, channel and intake unit, a monthly trend, overdue work now, and
applications per policy. Reads only; raises nothing.

How the numbers are defined (the cohort of a period is the appeals dispatched in it, by their current lead
department; a returned appeal counts again where it is sent next):
- response rate 响应率 = signed within 1 working day / dispatched
- resolution rate 解决率 = replied 已解决 or 建议已采纳 / replied
- satisfaction rate 满意率 = 满意 + 基本满意 / followed up
- on-time closing rate 按时办结率 = replied by the due date / replied
- average working days to reply = mean of working days (dispatch day, reply day], China dates

How it stays fast: the counts come from the rollup (models.AppealRollup, kept by services.rollups in the same
transaction as every change of an appeal): the department table, the zone's total and the monthly trend from its
day rows summed in SQL by department and month; the cuts and the reply days from its month rows, each part-month
at the period's ends either read from the appeals or taken as its month row minus the days outside the period,
whichever reads fewer days (rollups.plan), one statement per figure. Average working days come from the per-day
reply weights (working days between two dates is W(end) - W(start), W the running count of working days under
the calendar in force now). "Overdue now" is a live count over the covering partial index ix_appeals_open_due,
returns a live indexed count; applications per policy read the period's applications alone
(ix_applications_submitted_figures).
"""
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone

from sqlalchemy import case, func, literal, or_, select

from ..extensions import db
from ..localtime import local_midnight
from ..models import (
    Appeal, AppealCategory, Application, Channel, Event, Policy, SupplementNotice, Unit, UnitKind,
)
from ..models.appeal import EFFECTIVE_DUE
from ..permissions import can
from ..workflow import DEPARTMENT_APPEAL_STATES, ApplicationOutcome
from . import rollups
from .calendar import today as china_today
from .calendar import working_calendar

#: (key, Chinese name, formula shown beside it)
RATES = [
    ("response", "响应率", "按时签收数 ÷ 派单数"),
    ("resolution", "解决率", "已解决及建议已采纳数 ÷ 已答复数"),
    ("satisfaction", "满意率", "满意及基本满意数 ÷ 已回访数"),
    ("on_time", "按时办结率", "按期答复数 ÷ 已答复数"),
]
RATE_FORMULAS = {key: formula for key, _, formula in RATES}
RATE_NAMES = {key: name for key, name, _ in RATES}

#: The counts of a row, in table order: (key, Chinese column title).
COUNTS = [
    ("dispatched", "派单数"), ("signed_on_time", "按时签收"), ("replied", "已答复"), ("resolved", "已解决/采纳"),
    ("followed_up", "已回访"), ("satisfied", "满意/基本满意"), ("replied_on_time", "按期答复"),
]
#: The channels the dashboard cuts by (the issue's five; phone shows when it has figures).
CHANNEL_ORDER = [c.value for c in Channel]


@dataclass(frozen=True)
class Rate:
    """A rate as numerator over denominator; no value when the denominator is 0 (shown as —)."""

    num: int
    den: int

    @property
    def value(self):
        return None if not self.den else self.num / self.den

    @property
    def text(self):
        return "—" if not self.den else f"{self.num / self.den * 100:.1f}%"

    def __str__(self):
        return self.text


@dataclass
class Row:
    """One line of a figures table: the group's name, its counts and its rates."""

    key: object
    name: str
    dispatched: int = 0
    signed_on_time: int = 0
    replied: int = 0
    resolved: int = 0
    followed_up: int = 0
    satisfied: int = 0
    replied_on_time: int = 0
    returned: int = 0
    overdue: int = 0
    workdays_sum: int = 0

    @property
    def response(self):
        return Rate(self.signed_on_time, self.dispatched)

    @property
    def resolution(self):
        return Rate(self.resolved, self.replied)

    @property
    def satisfaction(self):
        return Rate(self.satisfied, self.followed_up)

    @property
    def on_time(self):
        return Rate(self.replied_on_time, self.replied)

    @property
    def avg_workdays(self):
        return None if not self.replied else self.workdays_sum / self.replied

    @property
    def avg_workdays_text(self):
        value = self.avg_workdays
        return "—" if value is None else f"{value:.1f}"

    def add(self, other):
        for name in ("dispatched", "signed_on_time", "replied", "resolved", "followed_up", "satisfied",
                     "replied_on_time", "returned", "overdue", "workdays_sum"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Period:
    """A range of China dates [start, end], both included."""

    kind: str
    start: date
    end: date

    @property
    def label(self):
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def utc_bounds(self):
        """[lo, hi) in naive UTC, as the timestamps are stored."""
        lo = local_midnight(self.start).astimezone(timezone.utc).replace(tzinfo=None)
        hi = local_midnight(self.end + timedelta(days=1)).astimezone(timezone.utc).replace(tzinfo=None)
        return lo, hi


def period_for(kind, start=None, end=None, on=None):
    """This month, this year, or a custom range (already validated by the form)."""
    on = on or china_today()
    if kind == "year":
        return Period("year", date(on.year, 1, 1), date(on.year, 12, 31))
    if kind == "custom" and start and end:
        return Period("custom", start, end)
    first = on.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period("month", first, last)


# --------------------------------------------------------------------------- scope


def department_scope(user):
    """None when `user` sees every department, else the one department id they see (a department lead)."""
    if can(user, "figures.all_departments"):
        return None
    return user.unit_id


# --------------------------------------------------------------------------- aggregates


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class Cohort:
    """The period's cohort read once, in two statements: counts by (lead department, dispatch month), from which
    the department rows, the zone's total and the monthly trend are summed, and the reply weights by (lead
    department, day) from which the working days to reply are (see rollups.reply_weights)."""

    by_lead_month: dict  # {(lead id or None, 'YYYY-MM'): counts in COUNTS order}
    weights: list  # [(lead id or None, 'YYYY-MM-DD', n)]


_COUNT_NAMES = [name for name, _ in COUNTS]


def read_cohort(period, on=None):
    """The appeals dispatched in `period` (every department: the zone's total needs them), from the rollup's day
    rows, and for working days to reply its reply-day rows plus or minus a few days of appeals (rollups.plan)."""
    reading = rollups.plan(period.start, period.end, on or china_today())
    return Cohort(rollups.by_lead_and_month(db.session, period.start, period.end),
                  rollups.reply_weights(db.session, period.start, period.end, reading))


def _running_workdays(days):
    """{day: working days from the first of `days` up to and including day}: W, so that the working days in
    (a, b] are W(b) - W(a)."""
    if not days:
        return {}
    calendar = working_calendar()
    first, last = min(days), max(days)
    running, ordinal, d = 0, {}, first
    while d <= last:
        running += calendar.is_workday(d)
        ordinal[d] = running
        d += timedelta(days=1)
    return ordinal


def _sum_counts(parts):
    """{key: Row} from (key, counts tuple) pairs."""
    sums = {}
    for key, counts in parts:
        total = sums.get(key)
        sums[key] = list(counts) if total is None else [a + b for a, b in zip(total, counts)]
    return {key: Row(key=key, name="", **dict(zip(_COUNT_NAMES, counts))) for key, counts in sums.items()}


def _rows_by_lead(cohort):
    """{lead id: Row} with counts and working-day sums (None: the appeals waiting for re-dispatch)."""
    rows = _sum_counts((lead, counts) for (lead, _), counts in cohort.by_lead_month.items())
    days = {day for _, day, _ in cohort.weights}  # 'YYYY-MM-DD'
    ordinal = {d.isoformat(): w for d, w in _running_workdays({_as_date(d) for d in days}).items()}
    workdays = {}
    for lead, day, n in cohort.weights:
        workdays[lead] = workdays.get(lead, 0) + n * ordinal[day]
    for lead, row in rows.items():
        row.workdays_sum = workdays.get(lead, 0)
    return rows


def _returns(period):
    """{department id: returns (退单) it made in the period}."""
    lo, hi = period.utc_bounds()
    query = (select(Event.actor_unit_id, func.count()).where(Event.action == "return", Event.at >= lo, Event.at < hi)
             .group_by(Event.actor_unit_id))
    return dict(db.session.execute(query).all())


def _overdue_now(on):
    """{department id: its open appeals past their running deadline now}."""
    # The open states as literals ORed, so that SQLite sees the query inside the partial index
    # ix_appeals_open_due and reads the overdue range of its leading EFFECTIVE_DUE alone (covering: ~1 ms for
    # 7,000 overdue of 35,000 open appeals); grouping by `lead + 0` keeps SQLite's planner from preferring a scan
    # of ix_appeals_open_work for its lead order (7-30 ms). PostgreSQL plans both alike.
    lead = Appeal.lead_unit_id + 0
    open_now = or_(*(Appeal.state == literal(s.value, literal_execute=True) for s in DEPARTMENT_APPEAL_STATES))
    query = select(lead, func.count()).where(open_now, EFFECTIVE_DUE < on).group_by(lead)
    return dict(db.session.execute(query).all())


def open_and_overdue_now(on):
    """({department id: open appeals}, {department id: overdue ones}, {id: unit name}) for the monitoring
    scrape: two grouped queries on the (lead unit, state, due) indexes and the names of the units found."""
    open_states = [s.value for s in DEPARTMENT_APPEAL_STATES]
    open_now = dict(db.session.execute(select(Appeal.lead_unit_id, func.count())
                                       .where(Appeal.state.in_(open_states)).group_by(Appeal.lead_unit_id)).all())
    overdue = _overdue_now(on)
    ids = {unit_id for unit_id in (*open_now, *overdue) if unit_id is not None}
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}
    return open_now, overdue, names


def departments():
    """Active departments, by id."""
    return list(db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.department.value, Unit.active.is_(True)).order_by(Unit.id)))


@dataclass
class DepartmentTable:
    """The per-department table, the zone's total row and the ranking on each rate."""

    rows: list
    total: Row
    rankings: dict = field(default_factory=dict)


def by_department(period, department_id=None, on=None, cohort=None):
    """The per-department figures of `period` (one department for a lead), the zone total beside them."""
    on = on or china_today()
    cohort = cohort or read_cohort(period)
    by_lead = _rows_by_lead(cohort)
    returns, overdue = _returns(period), _overdue_now(on)
    units = departments()
    if department_id is not None:
        units = [u for u in units if u.id == department_id]
    rows = []
    for unit in units:
        row = by_lead.get(unit.id) or Row(key=unit.id, name="")
        row.name = unit.name
        row.returned, row.overdue = returns.get(unit.id, 0), overdue.get(unit.id, 0)
        rows.append(row)
    zone = Row(key=0, name="全区合计")
    for row in by_lead.values():
        zone.add(row)
    zone.returned, zone.overdue = sum(returns.values()), sum(overdue.values())
    rankings = {key: rank(rows, key) for key, _, _ in RATES}
    return DepartmentTable(rows=rows, total=zone, rankings=rankings)


def rank(rows, rate_key):
    """[(place, row, rate)] best first; rows whose rate has no denominator come last, unplaced."""
    with_value = [r for r in rows if getattr(r, rate_key).value is not None]
    without = [r for r in rows if getattr(r, rate_key).value is None]
    with_value.sort(key=lambda r: (-getattr(r, rate_key).value, -getattr(r, rate_key).den, r.name))
    ranked, place, previous = [], 0, None
    for index, row in enumerate(with_value, 1):
        value = getattr(row, rate_key).value
        if value != previous:
            place, previous = index, value
        ranked.append((place, row, getattr(row, rate_key)))
    return ranked + [(None, row, getattr(row, rate_key)) for row in without]


#: The rollup's dim of each cut.
_CUT_DIMS = {"c": "category", "h": "channel", "u": "unit"}


def read_cuts(period, department_id=None, on=None):
    """{cut: {category id | channel | intake unit id: counts}} of the period's cohort, in one statement: the
    rollup's month rows, plus or minus a few days of appeals at either end (rollups.plan)."""
    reading = rollups.plan(period.start, period.end, on or china_today())
    parts = {name: {} for name in _CUT_DIMS.values()}
    for (dim, value), counts in rollups.cut_sums(db.session, reading, department_id).items():
        parts[_CUT_DIMS[dim]][value if dim == "h" else int(value)] = counts
    return parts


def cut(dimension, period, department_id=None, parts=None):
    """The same counts and rates by category, channel or intake unit ('category' | 'channel' | 'unit')."""
    parts = read_cuts(period, department_id) if parts is None else parts
    grouped = _sum_counts(parts[dimension].items())
    if dimension == "category":
        names = dict(db.session.execute(select(AppealCategory.id, AppealCategory.name)).all())
        order = sorted(grouped, key=lambda k: names.get(k, ""))
    elif dimension == "channel":
        names = {c.value: c.title for c in Channel}
        order = [c for c in CHANNEL_ORDER if c in grouped or c != Channel.phone.value]
    else:
        names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(list(grouped) or [0]))).all())
        order = sorted(grouped, key=lambda k: -grouped[k].dispatched)
    rows = []
    for key in order:
        row = grouped.get(key) or Row(key=key, name="")
        row.name = names.get(key, str(key))
        rows.append(row)
    return rows


def monthly_trend(period, department_id=None, cohort=None):
    """[Row named YYYY-MM] for every month the period touches (dispatched and the rates)."""
    cohort = cohort or read_cohort(period)
    sums = _sum_counts((month, counts) for (lead, month), counts in cohort.by_lead_month.items()
                       if department_id is None or lead == department_id)
    months, d = [], period.start.replace(day=1)
    while d <= period.end:
        key = f"{d:%Y-%m}"
        row = sums.get(key) or Row(key=key, name="")
        row.name = key
        months.append(row)
        d = (d + timedelta(days=32)).replace(day=1)
    return months


def applications_by_policy(period, department_id=None):
    """Per policy, the applications submitted in the period: received, accepted, supplements asked (their
    notices), approved, amount approved and disbursed. Two grouped statements over the period's applications
    alone (ix_applications_submitted_figures, index-only), then the policies' names."""
    lo, hi = period.utc_bounds()
    in_period = [Application.submitted_at >= lo, Application.submitted_at < hi]
    if department_id is not None:
        policy_ids = list(db.session.scalars(select(Policy.id).where(Policy.department_id == department_id)))
        if not policy_ids:
            return []
        in_period.append(Application.policy_id.in_(policy_ids))
    approved = Application.outcome == ApplicationOutcome.approved.value
    sums = {r[0]: r for r in db.session.execute(
        select(Application.policy_id, func.count(), func.count(Application.accepted_on),
               func.sum(case((approved, 1), else_=0)),
               func.coalesce(func.sum(case((approved, Application.approved_amount), else_=None)), 0),
               func.coalesce(func.sum(Application.disbursed_amount), 0))
        .where(*in_period).group_by(Application.policy_id))}
    if not sums:
        return []
    supplements = dict(db.session.execute(
        select(Application.policy_id, func.count())
        .join(SupplementNotice, SupplementNotice.application_id == Application.id)
        .where(*in_period).group_by(Application.policy_id)).all())
    policies = db.session.execute(select(Policy.id, Policy.code, Policy.title).where(Policy.id.in_(list(sums)))
                                  .order_by(Policy.code))
    return [{"id": pid, "code": code, "title": title, "received": sums[pid][1], "accepted": sums[pid][2],
             "supplements": supplements.get(pid, 0), "approved": sums[pid][3], "amount_approved": sums[pid][4],
             "amount_disbursed": sums[pid][5]} for pid, code, title in policies]


@dataclass
class Dashboard:
    """Everything the dashboard page shows for one period and one scope."""

    period: Period
    department_id: int | None
    departments: DepartmentTable
    categories: list
    channels: list
    units: list
    trend: list
    policies: list


def dashboard(user, period):
    """The dashboard of `period` as `user` may see it."""
    scope = department_scope(user)
    on = china_today()
    cohort, parts = read_cohort(period, on), read_cuts(period, scope, on)
    return Dashboard(
        period=period, department_id=scope, departments=by_department(period, scope, cohort=cohort),
        categories=cut("category", period, scope, parts), channels=cut("channel", period, scope, parts),
        units=cut("unit", period, scope, parts), trend=monthly_trend(period, scope, cohort=cohort),
        policies=applications_by_policy(period, scope),
    )


def key_figures(user, on=None):
    """The few figures a home page shows: this month's dispatched and three rates, and overdue now, for the
    user's scope (the zone, or their department)."""
    on = on or china_today()
    period = period_for("month", on=on)
    scope = department_scope(user)
    table = by_department(period, scope, on=on)
    row = table.total if scope is None else (table.rows[0] if table.rows else Row(key=scope, name=""))
    return {"period": period, "row": row, "scope_name": "全区" if scope is None else (row.name or "本部门")}

