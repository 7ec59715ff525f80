"""The dashboard's rollup (models.AppealRollup): kept in the same transaction as every change of an appeal,
rebuilt from the appeals on demand, and read for a period as full months plus the days at either end.

How it stays correct:
- Every appeal contributes to a few rows, a pure function of its own columns (`contribution`): its dispatch
  day's row, its dispatch month's category, channel and intake-unit rows, and its reply day's row.
- After each flush, for every appeal inserted, updated or deleted, the contribution of the values it had
  before (SQLAlchemy's attribute history; the columns counted keep their old value, `active_history`) is
  taken away and that of the values it has now is added. The sums wait in the session and are written just
  before COMMIT, in key order (one UPSERT that adds, so two transactions never deadlock on them and never
  lose each other's counts), in the same transaction: a rollback writes nothing.
- Two people changing one appeal cannot both count: the appeal's version column makes the second UPDATE
  fail (StaleDataError) and roll back with its sums.
- Nothing writes appeals outside the ORM (no bulk UPDATE); the benchmark generators that INSERT rows
  directly call `rebuild()` afterwards, as `flask gaoxin rollup-rebuild` does for repairs.
- Working days to reply are not stored: the reply-day rows let the page count them with the calendar in
  force when it is read, so entering a holiday notice changes nothing here.

How a period is read (`plan`): its full months from the month rows; each part-month at either end either from the
appeals themselves, or as its whole month row minus the days of that month outside the period, whichever has
fewer days to read (none after today). Each figure is one statement (the rows UNION ALL the days added or
taken away, summed in SQL), so it sees one state of the database even when it subtracts.
"""
import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import (
    Date, String, and_, case, cast, delete, event, func, insert, inspect, literal, literal_column, select, text,
    type_coerce, union_all,
)
from sqlalchemy.orm import Session

from ..database import dialect_insert
from ..models import Appeal, AppealRollup, ReplyOutcome, Satisfaction

CST = timezone(timedelta(hours=8))
#: The counts of a rollup row, in figures.COUNTS order.
COUNTS = ("dispatched", "signed_on_time", "replied", "resolved", "followed_up", "satisfied", "replied_on_time")
#: The appeal columns a contribution reads.
WATCHED = ("dispatched_at", "lead_unit_id", "category_id", "channel", "recording_unit_id", "signed_in_time",
           "replied_at", "reply_outcome", "replied_in_time", "satisfaction")
GOOD_OUTCOMES = (ReplyOutcome.resolved.value, ReplyOutcome.adopted.value)
CONTENT = (Satisfaction.satisfied.value, Satisfaction.basically.value)
#: session.info key: {row key: [count deltas]} not yet written.
_PENDING = "gaoxin.rollups.pending"


def china_day(moment):
    """The China date of a timestamp (aware, or naive UTC as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CST).date()


def _plain(value):
    return getattr(value, "value", value)


def contribution(values):
    """[(row key, counts)] of one appeal given its WATCHED values; a key is (grain, day, lead, dim, value)."""
    dispatched_at = values["dispatched_at"]
    if dispatched_at is None:
        return []
    day = china_day(dispatched_at)
    month = day.replace(day=1)
    lead = values["lead_unit_id"] or 0
    replied = values["replied_at"] is not None
    satisfaction = _plain(values["satisfaction"])
    counts = (1, int(values["signed_in_time"] is True), int(replied),
              int(replied and _plain(values["reply_outcome"]) in GOOD_OUTCOMES), int(satisfaction is not None),
              int(satisfaction in CONTENT), int(replied and values["replied_in_time"] is True))
    parts = [(("d", day, lead, "a", ""), counts),
             (("m", month, lead, "c", str(values["category_id"])), counts),
             (("m", month, lead, "h", str(_plain(values["channel"]))), counts),
             (("m", month, lead, "u", str(values["recording_unit_id"])), counts)]
    if replied:
        parts.append((("m", month, lead, "r", china_day(values["replied_at"]).isoformat()), (0, 0, 1, 0, 0, 0, 0)))
    return parts


def _values(appeal, before):
    """The WATCHED values of `appeal` now, or as they were in the database before this flush."""
    if not before:
        return {name: getattr(appeal, name) for name in WATCHED}
    state = inspect(appeal)
    values = {}
    for name in WATCHED:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
        elif history.unchanged:
            values[name] = history.unchanged[0]
        else:
            values[name] = None
    return values


def _changed(appeal):
    state = inspect(appeal)
    return any(state.attrs[name].history.has_changes() for name in WATCHED)


def _add(pending, parts, sign):
    for key, counts in parts:
        total = pending[key]
        for i, n in enumerate(counts):
            total[i] += sign * n


@event.listens_for(Session, "after_flush")
def _note_changes(session, flush_context):
    """Sum what this flush changes (history still holds the values before it)."""
    pending = None
    for obj in session.new:
        if isinstance(obj, Appeal):
            pending = pending or session.info.setdefault(_PENDING, defaultdict(lambda: [0] * len(COUNTS)))
            _add(pending, contribution(_values(obj, before=False)), 1)
    for obj in session.dirty:
        if isinstance(obj, Appeal) and _changed(obj):
            pending = pending or session.info.setdefault(_PENDING, defaultdict(lambda: [0] * len(COUNTS)))
            _add(pending, contribution(_values(obj, before=True)), -1)
            _add(pending, contribution(_values(obj, before=False)), 1)
    for obj in session.deleted:
        if isinstance(obj, Appeal):
            pending = pending or session.info.setdefault(_PENDING, defaultdict(lambda: [0] * len(COUNTS)))
            _add(pending, contribution(_values(obj, before=True)), -1)


@event.listens_for(Session, "before_commit")
def _write_on_commit(session):
    # Flush first (commit would flush after this hook): the appeals' own UPDATEs take their row locks, with
    # their version check, before the rollup's rows are locked.
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    rows = [dict(zip(("grain", "dispatched_on", "lead_unit_id", "dim", "value"), key), **dict(zip(COUNTS, counts)))
            for key, counts in sorted(pending.items()) if any(counts)]
    if rows:
        add(session, rows)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)


@functools.cache
def _upsert(dialect):
    """The UPSERT statement that adds a row's counts, built and compiled once per worker and dialect."""
    table = AppealRollup.__table__
    statement = dialect_insert(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.grain, table.c.dispatched_on, table.c.lead_unit_id, table.c.dim, table.c.value],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTS},
    )


def add(session, rows):
    """Add these counts to the rollup's rows (creating missing ones), in the order given: one statement built
    once and executed for every row in one call (psycopg sends them together). A statement with the rows'
    values written into it was built and compiled again on every commit: ~1.8 ms of CPU per intake."""
    statement = _upsert(session.get_bind().dialect.name)
    session.connection().execute(statement, rows)


# --------------------------------------------------------------------------- rebuild from the appeals


def _day_sql(column, dialect):
    if dialect == "sqlite":
        return func.date(column, "+8 hours")
    return cast(column + text("interval '8 hours'"), Date)


def _month_sql(column, dialect):
    if dialect == "sqlite":
        return func.strftime("%Y-%m-01", column, "+8 hours")
    return cast(func.date_trunc("month", column + text("interval '8 hours'")), Date)


def _day_text_sql(column, dialect):
    if dialect == "sqlite":
        return func.date(column, "+8 hours")
    return func.to_char(column + text("interval '8 hours'"), "YYYY-MM-DD")


def count_columns(table):
    """The seven counts as SQL aggregates over `table` (the appeals), in COUNTS order."""
    replied = table.c.replied_at.is_not(None)
    return [
        func.count(),
        func.sum(case((table.c.signed_in_time.is_(True), 1), else_=0)),
        func.count(table.c.replied_at),
        func.sum(case((and_(replied, table.c.reply_outcome.in_(GOOD_OUTCOMES)), 1), else_=0)),
        func.count(table.c.satisfaction),
        func.sum(case((table.c.satisfaction.in_(CONTENT), 1), else_=0)),
        func.sum(case((and_(replied, table.c.replied_in_time.is_(True)), 1), else_=0)),
    ]


def rebuild_selects(dialect, appeals=Appeal.__table__):
    """The SELECTs that compute every rollup row from the appeals, one per kind of row, each yielding
    (grain, dispatched_on, lead_unit_id, dim, value, *counts)."""
    t = appeals
    lead = func.coalesce(t.c.lead_unit_id, 0)
    day, month = _day_sql(t.c.dispatched_at, dialect), _month_sql(t.c.dispatched_at, dialect)
    dispatched = t.c.dispatched_at.is_not(None)
    counts = count_columns(t)
    selects = [select(literal("d"), day, lead, literal("a"), literal(""), *counts).where(dispatched)
               .group_by(day, lead)]
    for dim, column in (("c", t.c.category_id), ("h", t.c.channel), ("u", t.c.recording_unit_id)):
        as_text = cast(column, String(20))
        selects.append(select(literal("m"), month, lead, literal(dim), as_text, *counts).where(dispatched)
                       .group_by(month, lead, as_text))
    reply_day = _day_text_sql(t.c.replied_at, dialect)
    zero = literal(0)
    selects.append(select(literal("m"), month, lead, literal("r"), reply_day, zero, zero, func.count(), zero, zero,
                          zero, zero).where(dispatched, t.c.replied_at.is_not(None)).group_by(month, lead, reply_day))
    return selects


def fill(connection):
    """Empty the rollup and compute it again from the appeals (one INSERT … SELECT per kind of row)."""
    table = AppealRollup.__table__
    if connection.dialect.name == "postgresql":
        # Commits that add to the rollup wait until the rebuild commits, and the rebuild reads every change
        # committed before it took the lock: nothing counted twice or lost.
        connection.execute(text("LOCK TABLE appeal_rollups IN EXCLUSIVE MODE"))
    connection.execute(delete(table))
    columns = ["grain", "dispatched_on", "lead_unit_id", "dim", "value", *COUNTS]
    for query in rebuild_selects(connection.dialect.name):
        connection.execute(insert(table).from_select(columns, query))


def rebuild(session):
    """Rebuild the rollup in the session's transaction (the caller commits); returns the number of rows."""
    session.info.pop(_PENDING, None)
    fill(session.connection())
    return session.scalar(select(func.count()).select_from(AppealRollup))


def recomputed(session):
    """{row key: counts} as the appeals give them now (what `rebuild` would write), for checks."""
    dialect = session.get_bind().dialect.name
    rows = {}
    for query in rebuild_selects(dialect):
        for r in session.execute(query):
            rows[_key(r)] = tuple(int(v or 0) for v in r[5:])
    return rows


def stored(session):
    """{row key: counts} in the rollup table, rows whose counts are all 0 left out."""
    query = select(*[getattr(AppealRollup, c) for c in ("grain", "dispatched_on", "lead_unit_id", "dim", "value")],
                   *[getattr(AppealRollup, c) for c in COUNTS])
    return {_key(r): tuple(r[5:]) for r in session.execute(query) if any(r[5:])}


def _key(r):
    day = r[1] if isinstance(r[1], date) else date.fromisoformat(str(r[1])[:10])
    return (r[0], day, int(r[2]), r[3], str(r[4]))


# --------------------------------------------------------------------------- reading a period


def split(start, end):
    """The full calendar months inside [start, end] (by their first day) and the day ranges left at either end."""
    first = start if start.day == 1 else (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    months, edges, d = [], [], first
    while True:
        following = (d + timedelta(days=32)).replace(day=1)
        if following - timedelta(days=1) > end:
            break
        months.append(d)
        d = following
    if not months:
        return [], [(start, end)] if start <= end else []
    if start < months[0]:
        edges.append((start, months[0] - timedelta(days=1)))
    after = (months[-1] + timedelta(days=32)).replace(day=1)
    if after <= end:
        edges.append((after, end))
    return months, edges


def _month_end(day):
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _days_to_read(first, last, on):
    """How many days of [first, last] can hold dispatched appeals (none after `on`, today)."""
    return max(0, (min(last, on) - first).days + 1)


@dataclass(frozen=True)
class Plan:
    """How a period is read: the rollup's month rows of `months` (by their first day), plus (sign 1) or minus
    (sign -1) the appeals dispatched in each range of `days` [(first day, last day, sign)], read from the
    appeals themselves."""

    months: tuple
    days: tuple


def plan(start, end, on):
    """The cheapest reading of [start, end] that is exactly right: its full calendar months, and each part-month
    at either end either read from the appeals as it is, or as its whole month minus the days of that month
    outside the period, whichever has fewer days to read (days after `on`, today, hold nothing: the current
    month is its month row minus nothing). A year from the 3rd of a month to the 2nd of this one reads two days
    of appeals instead of 30."""
    full, edges = split(start, end)
    months, ranges = list(full), []
    pieces = []
    for first, last in edges:  # an edge without full months beside it may span two months: cut it at the 1st
        while first <= last:
            piece_end = min(last, _month_end(first))
            pieces.append((first, piece_end))
            first = piece_end + timedelta(days=1)
    for first, last in pieces:
        month_first, month_last = first.replace(day=1), _month_end(first)
        outside = [r for r in ((month_first, first - timedelta(days=1)), (last + timedelta(days=1), month_last))
                   if r[0] <= r[1]]
        if sum(_days_to_read(a, b, on) for a, b in outside) < _days_to_read(first, last, on):
            months.append(month_first)
            ranges += [(a, b, -1) for a, b in outside]
        else:
            ranges.append((first, last, 1))
    return Plan(tuple(sorted(months)), tuple(ranges))


def _utc_bounds(first, last):
    """[lo, hi) in naive UTC of the China dates [first, last]."""
    lo = datetime.combine(first, time.min, tzinfo=CST).astimezone(timezone.utc).replace(tzinfo=None)
    hi = datetime.combine(last + timedelta(days=1), time.min, tzinfo=CST).astimezone(timezone.utc).replace(tzinfo=None)
    return lo, hi


def _signed(expressions, sign):
    return [e if sign > 0 else -e for e in expressions]


def _date_text(column, dialect):
    """A DATE column as 'YYYY-MM-DD' text (the reply-day rows keep their day in `value` as text)."""
    if dialect == "sqlite":
        return type_coerce(column, String)  # stored as that text already
    return func.to_char(column, "YYYY-MM-DD")


def _month_text(column, dialect):
    if dialect == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(column, "YYYY-MM")


def by_lead_and_month(session, start, end):
    """{(lead id or None, 'YYYY-MM'): counts} of the appeals dispatched in [start, end], from the day rows: one
    statement, at most departments × months rows (the department table, the zone's total and the trend)."""
    t = AppealRollup.__table__
    month = _month_text(t.c.dispatched_on, session.get_bind().dialect.name)
    query = (select(t.c.lead_unit_id, month, *[func.sum(t.c[c]) for c in COUNTS])
             .where(t.c.grain == "d", t.c.dim == "a", t.c.dispatched_on >= start, t.c.dispatched_on <= end)
             .group_by(t.c.lead_unit_id, month))
    return {(r[0] or None, r[1]): tuple(int(v) for v in r[2:]) for r in session.connection().execute(query)
            if r[2]}


def reply_weights(session, start, end, reading):
    """[(lead id or None, 'YYYY-MM-DD', n)] for working days to reply: for each day, the replies made that day by
    the appeals dispatched in [start, end] minus those appeals replied that were dispatched that day, so that the
    working days from dispatch to reply, summed, are Σ n × W(day), W the running count of working days. One
    statement (one snapshot): the day rows, the reply-day rows of the months `reading` takes and the appeals of
    its day ranges."""
    dialect = session.get_bind().dialect.name
    t, a = AppealRollup.__table__, Appeal.__table__
    lead, day, n = "lead", "day", "n"
    parts = [
        select(t.c.lead_unit_id.label(lead), _date_text(t.c.dispatched_on, dialect).label(day), (-t.c.replied).label(n))
        .where(t.c.grain == "d", t.c.dim == "a", t.c.dispatched_on >= start, t.c.dispatched_on <= end,
               t.c.replied != 0)]
    if reading.months:
        parts.append(select(t.c.lead_unit_id.label(lead), t.c.value.label(day), t.c.replied.label(n))
                     .where(t.c.grain == "m", t.c.dispatched_on.in_(reading.months), t.c.dim == "r"))
    reply_day = _day_text_sql(a.c.replied_at, dialect)
    for first, last, sign in reading.days:
        lo, hi = _utc_bounds(first, last)
        a_lead = func.coalesce(a.c.lead_unit_id, 0)
        parts.append(select(a_lead.label(lead), reply_day.label(day), _signed([func.count()], sign)[0].label(n))
                     .where(a.c.dispatched_at >= lo, a.c.dispatched_at < hi, a.c.replied_at.is_not(None))
                     .group_by(a_lead, reply_day))
    every = union_all(*parts).subquery()
    query = select(every.c[lead], every.c[day], func.sum(every.c[n])).group_by(every.c[lead], every.c[day])
    return [(r[0] or None, r[1], int(r[2])) for r in session.connection().execute(query) if r[2]]


#: The appeal column of each cut's rows.
_CUT_COLUMNS = {"c": "category_id", "h": "channel", "u": "recording_unit_id"}


def cut_sums(session, reading, department_id=None):
    """{(dim, value): counts} for the cuts 'c' / 'h' / 'u' of the period `reading` describes (of one lead
    department, or all): its month rows plus or minus its day ranges' appeals, summed in one statement."""
    t, a = AppealRollup.__table__, Appeal.__table__
    names = [f"n{i}" for i in range(len(COUNTS))]
    parts = []
    if reading.months:
        counts = [t.c[c].label(n) for c, n in zip(COUNTS, names)]
        query = (select(t.c.dim.label("dim"), t.c.value.label("value"), *counts)
                 .where(t.c.grain == "m", t.c.dispatched_on.in_(reading.months), t.c.dim.in_(tuple(_CUT_COLUMNS))))
        if department_id is not None:
            query = query.where(t.c.lead_unit_id == department_id)
        parts.append(query)
    for first, last, sign in reading.days:
        lo, hi = _utc_bounds(first, last)
        keys = [a.c[name] for name in _CUT_COLUMNS.values()]
        conditions = [a.c.dispatched_at >= lo, a.c.dispatched_at < hi]
        if department_id is not None:
            conditions.append(a.c.lead_unit_id == department_id)
        # One pass over the range's appeals (index-only), grouped finely, then summed for each cut.
        groups = (select(*keys, *[c.label(n) for c, n in zip(_signed(count_columns(a), sign), names)])
                  .where(*conditions).group_by(*keys).cte(f"edge{len(parts)}"))
        for dim, column in _CUT_COLUMNS.items():
            value = cast(groups.c[column], String(20))
            parts.append(select(literal_column(f"'{dim}'").label("dim"), value.label("value"),
                                *[func.sum(groups.c[n]).label(n) for n in names]).group_by(value))
    if not parts:
        return {}
    every = union_all(*parts).subquery()
    query = (select(every.c.dim, every.c.value, *[func.sum(every.c[n]) for n in names])
             .group_by(every.c.dim, every.c.value))
    return {(r[0], r[1]): tuple(int(v or 0) for v in r[2:]) for r in session.connection().execute(query)
            if any(r[2:])}
