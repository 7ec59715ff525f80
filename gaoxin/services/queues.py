"""Work queues: the department inbox tabs and the dispatcher's lists — counts and pages, built on visible_appeals.

Pure query builders: nothing here writes. Pages fetch one row more than they show instead of counting,
and tab counts stop at a cap so that a department's ten years of closed cases cost no more than a
page (the indexes they rely on are listed in models/appeal.py).
"""
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Integer, and_, any_, bindparam, case, func, literal, literal_column, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased, joinedload, load_only, raiseload, selectinload

from ..extensions import db
from ..localtime import local_midnight
from ..models import (
    Appeal, AppealCategory, AppealCoHandler, Enterprise, Event, Extension, ExtensionStatus, Unit, UnitKind, User,
)
from ..models.appeal import EFFECTIVE_DUE
from ..permissions import visible_appeals
from ..workflow import ANSWERED_APPEAL_STATES, DEPARTMENT_APPEAL_STATES, AppealAction, AppealState
from . import work
from .enterprises import search_query
from .pages import PAGE_SIZE, fetch_page

#: Counts stop here and show as "9999+": nobody reads a larger number off a tab.
COUNT_CAP = 9999
#: Tabs of finished work count less far: a department's ten years of answers are "999+".
DONE_COUNT_CAP = 999
#: An enterprise filter that matches more enterprises than this uses the first ones and says so.
ENTERPRISE_MATCH_CAP = 500

#: States in which the lead department still has work to do (signing for it, or handling it).
ACTIVE_STATES = DEPARTMENT_APPEAL_STATES
#: States in which the department's answer stands (the 已答复 tab).
DONE_STATES = ANSWERED_APPEAL_STATES

#: Inbox tabs in display order: key → label.
INBOX_TABS = {
    "sign": "待签收",
    "progress": "办理中",
    "cohandle": "协办",
    "supervised": "督办",
    "overdue": "超期",
    "replied": "已答复",
}
#: Sort orders a user may pick: key → label ("" is the default: supervised first, then due date).
INBOX_SORTS = {
    "": "督办优先，按到期日",
    "due": "到期日由近到远",
    "-due": "到期日由远到近",
    "-created": "登记时间由新到旧",
}
#: The dispatcher's pages: key → (endpoint, label).
DISPATCH_TABS = {
    "queue": ("dispatch.index", "待派单"),
    "extensions": ("dispatch.extensions", "延期申请"),
    "overdue": ("dispatch.overdue", "超期督办"),
}
OVERDUE_SORTS = {"": "按部门", "due": "按超期时间"}

#: A department's return comment ends with its suggestion (services.appeals.return_to_dispatch).
_SUGGESTION = re.compile(r"^(?P<reason>.*)（建议转(?P<unit>[^（）]+)）$", re.S)


# --------------------------------------------------------------------------- filters


def _parse_date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_int(value):
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    # Beyond the integer columns PostgreSQL refuses the comparison (a 500): treat it as no filter.
    return number if number is None or -(2**31) <= number < 2**31 else None


@dataclass
class InboxFilters:
    """What the user narrowed a list to; parsed leniently (a bad value is ignored, never an error)."""

    category_id: int | None = None
    enterprise_text: str = ""
    enterprise_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    overdue_only: bool = False
    sort: str = ""
    notes: list = field(default_factory=list)

    @classmethod
    def parse(cls, args):
        """Build from a mapping of query-string values (request.args)."""
        sort = args.get("sort") or ""
        return cls(
            category_id=_parse_int(args.get("category")),
            enterprise_text=(args.get("q") or "").strip()[:100],
            enterprise_id=_parse_int(args.get("enterprise_id")),
            created_from=_parse_date(args.get("from")),
            created_to=_parse_date(args.get("to")),
            overdue_only=args.get("overdue") == "1",
            sort=sort if sort in INBOX_SORTS else "",
        )

    def as_args(self):
        """The query-string values that reproduce these filters (for links and the live region)."""
        args = {
            "category": self.category_id, "q": self.enterprise_text, "enterprise_id": self.enterprise_id,
            "from": self.created_from.isoformat() if self.created_from else None,
            "to": self.created_to.isoformat() if self.created_to else None,
            "overdue": "1" if self.overdue_only else None, "sort": self.sort,
        }
        return {k: v for k, v in args.items() if v not in (None, "")}

    @property
    def active(self):
        return bool(set(self.as_args()) - {"sort"})


def _utc_start_of(day):
    """Midnight in China on `day`, as a UTC timestamp (created_at is stored in UTC)."""
    return local_midnight(day).astimezone(timezone.utc)


def _apply_filters(query, filters, today, *, open_only=True):
    """Narrow a list; `open_only` says the list holds open appeals only (every inbox tab but 已答复), so
    that "overdue only" need not repeat the state condition (PostgreSQL misestimates the repetition)."""
    if filters.category_id:
        query = query.where(Appeal.category_id == filters.category_id)
    if filters.enterprise_id:
        query = query.where(Appeal.enterprise_id == filters.enterprise_id)
    elif filters.enterprise_text:
        query = query.where(Appeal.enterprise_id.in_(_enterprise_ids(filters)))
    if filters.created_from:
        query = query.where(Appeal.created_at >= _utc_start_of(filters.created_from))
    if filters.created_to:
        query = query.where(Appeal.created_at < _utc_start_of(filters.created_to + timedelta(days=1)))
    if filters.overdue_only:
        query = query.where(_past_deadline(today) if open_only else overdue_condition(today))
    return query


def _enterprise_ids(filters):
    """Ids of the enterprises whose name, credit code or initials match the text (materialised: a short
    IN list lets both databases drive the appeal query from ix_appeals_enterprise_created)."""
    _, query = search_query(filters.enterprise_text)
    ids = list(db.session.scalars(query.with_only_columns(Enterprise.id).order_by(Enterprise.id)
                                  .limit(ENTERPRISE_MATCH_CAP + 1)))
    if not ids:
        filters.notes.append(f"没有名称或代码含“{filters.enterprise_text}”的企业。")
    elif len(ids) > ENTERPRISE_MATCH_CAP:
        filters.notes.append(f"匹配的企业超过{ENTERPRISE_MATCH_CAP}家，只按前{ENTERPRISE_MATCH_CAP}家筛选，请输入更完整的名称。")
        ids = ids[:ENTERPRISE_MATCH_CAP]
    return ids


# --------------------------------------------------------------------------- conditions


def _state_is(*states):
    """state = 'a' [OR state = 'b'] with the values written into the SQL: the partial indexes
    ix_appeals_open_work and ix_appeals_done_replied serve a query only when SQLite can see, from
    literals, that its condition implies theirs (PostgreSQL proves it from parameters too)."""
    return or_(*(Appeal.state == literal(AppealState(state).value, literal_execute=True) for state in states))


def _open():
    """Still being worked (signing for it or handling it): the partial condition of ix_appeals_open_work."""
    return _state_is(*ACTIVE_STATES)


def _past_deadline(today):
    """Past the deadline running now (sign-for while dispatched, handling after); only meaningful when open."""
    return EFFECTIVE_DUE < today


def overdue_condition(today):
    """Open and past its handling deadline, or waiting to be signed for past the sign-for deadline."""
    return and_(_open(), _past_deadline(today))


def _inbox_condition(tab, unit_id, today):
    lead = Appeal.lead_unit_id == unit_id
    if tab == "sign":
        return and_(lead, _state_is(AppealState.dispatched))
    if tab == "progress":
        return and_(lead, _state_is(AppealState.in_progress))
    if tab == "cohandle":
        # Driven from the co-handler rows still waiting for this unit's opinion (a short list).
        pending = select(AppealCoHandler.appeal_id).where(
            AppealCoHandler.unit_id == unit_id, AppealCoHandler.opinion_at.is_(None))
        return and_(Appeal.id.in_(pending), _open())  # from dispatch on, beside the lead department
    if tab == "supervised":
        return and_(_open(), lead, Appeal.supervised_at.is_not(None))
    if tab == "overdue":
        return and_(lead, overdue_condition(today))
    if tab == "replied":
        return and_(lead, _state_is(*DONE_STATES))
    raise ValueError(tab)


def _order(tab, sort):
    if tab == "replied":
        # Years of answered cases: only the order ix_appeals_done_replied keeps is affordable.
        return (Appeal.replied_at.desc(), Appeal.id.desc())
    if sort == "due":
        return (Appeal.due_on, Appeal.id)
    if sort == "-due":
        return (Appeal.due_on.desc(), Appeal.id.desc())
    if sort == "-created":
        return (Appeal.created_at.desc(), Appeal.id.desc())
    # 督办 cases first (DOMAIN.md: "the department inbox shows it first"), then the nearest deadline.
    return (case((Appeal.supervised_at.is_not(None), 0), else_=1), Appeal.due_on, Appeal.id)


class Count(int):
    """A count that stopped at its cap: the number, and `more` when there were more ("999+")."""

    def __new__(cls, n, cap):
        count = super().__new__(cls, min(n, cap))
        count.more = n > cap
        return count

    def __str__(self):
        return f"{int(self)}+" if self.more else str(int(self))


def _capped_count(query, cap):
    """A scalar subquery: COUNT(*) of `query`, stopping at cap + 1 rows."""
    inner = query.with_only_columns(literal_column("1")).order_by(None).limit(cap + 1).subquery()
    return select(func.count()).select_from(inner).scalar_subquery()


def counts_capped(queries, caps=None):
    """{key: Count} for several queries in one round trip; `caps` maps a key to its cap (COUNT_CAP)."""
    caps = caps or {}
    keys = list(queries)
    row = db.session.execute(select(*[
        _capped_count(queries[k], caps.get(k, COUNT_CAP)).label(f"n_{i}") for i, k in enumerate(keys)
    ])).one()
    return {k: Count(n, caps.get(k, COUNT_CAP)) for k, n in zip(keys, row)}


def _page(query, order, page):
    """(rows of (id, version), has_next) for one page, fetching one row more instead of counting."""
    return fetch_page(query.with_only_columns(Appeal.id, Appeal.version).order_by(*order), page, rows=True)


# --------------------------------------------------------------------------- the department inbox


class StampedCache:
    """Results that hold as long as a unit's work stamp (services.work) and the day do: a unit's counts are
    counted once per change and per worker, not on every page. Bounded, shared by a worker's threads."""

    def __init__(self, size=1024):
        self.size, self._data, self._lock = size, {}, threading.Lock()

    def get_or_compute(self, key, compute):
        """compute() under `key`; a key of None (the unit has no stamp yet) is never cached."""
        if key is None:
            return compute()
        with self._lock:
            if key in self._data:
                return self._data[key]
        value = compute()
        with self._lock:
            if len(self._data) >= self.size:
                self._data.clear()
            self._data[key] = value
        return value


#: Inbox tab counts and badge counts by (what, unit, roles, stamp, day).
COUNTS = StampedCache()


def stamped_key(what, user, stamp, today):
    if stamp is None:
        return None
    return (what, user.unit_id, tuple(sorted(r.value for r in user.roles)), stamp, today)


def inbox_counts(user, today, stamp=None):
    """{tab: Count} for the user's unit, unfiltered and capped; with the unit's `stamp` (services.work.stamp)
    counted once per change of the unit's work (or of the day, which moves 超期)."""
    def count():
        base = visible_appeals(user)
        return counts_capped({tab: base.where(_inbox_condition(tab, user.unit_id, today)) for tab in INBOX_TABS},
                             {"replied": DONE_COUNT_CAP})
    return COUNTS.get_or_compute(stamped_key("inbox", user, stamp, today), count)


def inbox_page(user, tab, filters, page, today):
    """(rows of (id, version), has_next): one page of a tab, filtered and sorted."""
    query = _apply_filters(visible_appeals(user).where(_inbox_condition(tab, user.unit_id, today)), filters, today,
                           open_only=tab != "replied")
    return _page(query, _order(tab, filters.sort), page)


def badge_count(user, today, stamp=None):
    """What waits for the unit: appeals to sign for plus supervised ones (each counted once); with the
    unit's `stamp`, counted once per change."""
    def count():
        query = visible_appeals(user).where(
            _open(), Appeal.lead_unit_id == user.unit_id,
            or_(_state_is(AppealState.dispatched), Appeal.supervised_at.is_not(None)),
        )
        return counts_capped({"badge": query})["badge"]
    return COUNTS.get_or_compute(stamped_key("badge", user, stamp, today), count)


#: What a list row shows; everything else on an appeal stays unloaded (and raises if a template asks).
LIST_OPTIONS = (
    load_only(Appeal.id, Appeal.receipt_no, Appeal.enterprise_id, Appeal.category_id, Appeal.content, Appeal.state,
              Appeal.lead_unit_id, Appeal.assignee_id, Appeal.sign_due_on, Appeal.due_on, Appeal.supervised_at,
              Appeal.return_count, Appeal.created_at, Appeal.replied_at, Appeal.version),
    joinedload(Appeal.enterprise).options(load_only(Enterprise.id, Enterprise.name), raiseload("*")),
    joinedload(Appeal.category).options(load_only(AppealCategory.id, AppealCategory.name), raiseload("*")),
    joinedload(Appeal.lead_unit).options(load_only(Unit.id, Unit.name), raiseload("*")),
    joinedload(Appeal.assignee).options(load_only(User.id, User.name, User.unit_id), raiseload("*")),
    selectinload(Appeal.co_handlers).options(
        load_only(AppealCoHandler.unit_id, AppealCoHandler.opinion_at),
        joinedload(AppealCoHandler.unit).options(load_only(Unit.id, Unit.name), raiseload("*"))),
    raiseload("*"),
)


def load_appeals(ids):
    """The appeals with these ids, in this order, with what a list row shows."""
    if not ids:
        return []
    found = {a.id: a for a in db.session.scalars(select(Appeal).where(Appeal.id.in_(ids)).options(*LIST_OPTIONS))}
    return [found[i] for i in ids if i in found]


@dataclass(frozen=True, slots=True)
class Named:
    """A related record as a list row prints it: its id and name."""

    id: int | None
    name: str | None


@dataclass(frozen=True, slots=True)
class CoHandlerRow:
    """A co-handling department of a list row, and whether it has given its opinion."""

    unit_id: int
    unit: Named
    opinion_at: datetime | None


@dataclass(slots=True)
class AppealRow:
    """One appeal as the inbox and dispatcher lists show it, read in one query with just these columns:
    what load_appeals gives, without an ORM object per row (the ORM's identity map and joined eager loads
    were a quarter of the inbox's time). Templates read it like an Appeal (appeal.enterprise.name, …)."""

    id: int
    receipt_no: str
    content: str
    state: AppealState
    lead_unit_id: int | None
    assignee_id: int | None
    sign_due_on: date | None
    due_on: date | None
    supervised_at: datetime | None
    return_count: int
    created_at: datetime
    replied_at: datetime | None
    version: int
    merged_into_id: int | None
    enterprise: Named
    category: Named
    lead_unit: Named | None
    assignee: Named | None
    co_handlers: list = field(default_factory=list)

    @property
    def is_supervised(self):
        return self.supervised_at is not None

    @property
    def is_merged(self):
        return self.merged_into_id is not None


def _id_in(column, ids):
    """column IN ids; on PostgreSQL `= ANY(array)`, one parameter: the planner estimated a 50-value IN list
    value by value, 5 ms of planning for 1 ms of work (EXPLAIN ANALYZE, bench/README.md)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def list_rows(ids):
    """AppealRows for these ids, in this order: one query for the rows, one for the co-handlers of the page."""
    if not ids:
        return []
    lead, assignee = aliased(Unit), aliased(User)
    query = (
        select(Appeal.id, Appeal.receipt_no, Appeal.content, Appeal.state, Appeal.lead_unit_id, Appeal.assignee_id,
               Appeal.sign_due_on, Appeal.due_on, Appeal.supervised_at, Appeal.return_count, Appeal.created_at,
               Appeal.replied_at, Appeal.version, Appeal.merged_into_id, Appeal.enterprise_id, Enterprise.name,
               Appeal.category_id, AppealCategory.name, lead.name, assignee.name)
        .join(Enterprise, Enterprise.id == Appeal.enterprise_id)
        .join(AppealCategory, AppealCategory.id == Appeal.category_id)
        .outerjoin(lead, lead.id == Appeal.lead_unit_id)
        .outerjoin(assignee, assignee.id == Appeal.assignee_id)
        .where(_id_in(Appeal.id, ids))
    )
    found = {}
    for (id_, receipt, content, state, lead_id, assignee_id, sign_due, due, supervised, returns, created, replied,
         version, merged, enterprise_id, enterprise_name, category_id, category_name, lead_name,
         assignee_name) in db.session.execute(query):
        found[id_] = AppealRow(
            id_, receipt, content, state, lead_id, assignee_id, sign_due, due, supervised, returns, created, replied,
            version, merged, Named(enterprise_id, enterprise_name), Named(category_id, category_name),
            Named(lead_id, lead_name) if lead_id else None,
            Named(assignee_id, assignee_name) if assignee_id else None)
    co_handlers = db.session.execute(
        select(AppealCoHandler.appeal_id, AppealCoHandler.unit_id, Unit.name, AppealCoHandler.opinion_at)
        .join(Unit, Unit.id == AppealCoHandler.unit_id)
        .where(_id_in(AppealCoHandler.appeal_id, list(found))).order_by(AppealCoHandler.appeal_id, AppealCoHandler.unit_id))
    for appeal_id, unit_id, unit_name, opinion_at in co_handlers:
        found[appeal_id].co_handlers.append(CoHandlerRow(unit_id, Named(unit_id, unit_name), opinion_at))
    return [found[i] for i in ids if i in found]


class DueCounter:
    """The working calendar for a page of rows: working days from today to each deadline, each day
    looked at once per request however many rows share it (a case a year overdue is one walk, not fifty)."""

    def __init__(self, calendar, today):
        self.calendar, self.today = calendar, today
        self._offset = {today: 0}
        self._notes = {}
        self._lo = self._hi = today

    def _extend_to(self, day):
        while day > self._hi:
            nxt = self._hi + timedelta(days=1)
            self._offset[nxt] = self._offset[self._hi] + (1 if self.calendar.is_workday(nxt) else 0)
            self._hi = nxt
        while day < self._lo:
            # offset(d) counts working days in (today, d]; going back, the day we leave counts.
            prev = self._lo - timedelta(days=1)
            self._offset[prev] = self._offset[self._lo] - (1 if self.calendar.is_workday(self._lo) else 0)
            self._lo = prev

    def workdays_between(self, start, end):
        """Working days in (start, end], as WorkingCalendar.workdays_between."""
        self._extend_to(start)
        self._extend_to(end)
        return self._offset[end] - self._offset[start]

    def add_workdays(self, start, n):
        return self.calendar.add_workdays(start, n)

    def provisional_note(self, day):
        """The calendar's note for a deadline on a day whose holidays are not published yet (asked once per day)."""
        if day not in self._notes:
            self._notes[day] = self.calendar.provisional_note(day)
        return self._notes[day]


def category_choices():
    """(id, name) of the active categories, for a filter."""
    return db.session.execute(
        select(AppealCategory.id, AppealCategory.name).where(AppealCategory.active.is_(True))
        .order_by(AppealCategory.position, AppealCategory.id)
    ).all()


# --------------------------------------------------------------------------- the dispatcher


def dispatch_counts(user, today, *, overdue=None):
    """{page: Count} for the dispatcher's tabs; pass `overdue` when the page has already counted it. For a user
    of a dispatch centre, counted once per change of its work stamp (which every appeal's change raises,
    services.work.bump) and of the day; anyone else's are counted every time."""
    def count():
        queries = {
            "queue": visible_appeals(user).where(Appeal.state == AppealState.awaiting_dispatch),
            "extensions": _pending_extensions(user),
        }
        if overdue is None:
            queries["overdue"] = visible_appeals(user).where(overdue_condition(today))
        return counts_capped(queries)
    if user.unit.kind == UnitKind.dispatch_centre.value:
        what = "dispatch" if overdue is None else "dispatch-without-overdue"
        counts = dict(COUNTS.get_or_compute(stamped_key(what, user, work.stamp(user.unit_id), today), count))
    else:
        counts = count()
    if overdue is not None:
        counts["overdue"] = Count(overdue, COUNT_CAP)
    return counts


def queue_page(user, page, *, category_id=None, returned_only=False):
    """Appeals waiting for the dispatcher (no routing rule, or returned), oldest first."""
    query = visible_appeals(user).where(Appeal.state == AppealState.awaiting_dispatch)
    if category_id:
        query = query.where(Appeal.category_id == category_id)
    if returned_only:
        query = query.where(Appeal.return_count > 0)
    return _page(query, (Appeal.created_at, Appeal.id), page)


@dataclass
class ReturnNote:
    """The latest return of an appeal: the department, its reason and the department it suggested."""

    unit_name: str
    reason: str
    suggested: str | None
    at: datetime


def latest_returns(appeal_ids):
    """{appeal_id: ReturnNote} for the latest return of each appeal, in one query for the page."""
    if not appeal_ids:
        return {}
    latest = (select(func.max(Event.id)).where(Event.appeal_id.in_(appeal_ids), Event.action == AppealAction.return_.value)
              .group_by(Event.appeal_id))
    rows = db.session.execute(
        select(Event.appeal_id, Event.comment, Event.at, Unit.name)
        .outerjoin(Unit, Unit.id == Event.actor_unit_id).where(Event.id.in_(latest))
    )
    notes = {}
    for appeal_id, comment, at, unit_name in rows:
        match = _SUGGESTION.match(comment or "")
        reason, suggested = (match["reason"], match["unit"]) if match else (comment or "", None)
        notes[appeal_id] = ReturnNote(unit_name or "", reason, suggested, at)
    return notes


def _pending_extensions(user):
    """Pending requests on the appeals the user may see (no join when the user sees every appeal)."""
    query = select(Extension).where(Extension.status == ExtensionStatus.pending)
    visible = visible_appeals(user)
    if visible.whereclause is not None:
        query = query.where(Extension.appeal_id.in_(visible.with_only_columns(Appeal.id)))
    return query


def extensions_page(user, page):
    """(list of (appeal, extension), has_next): pending extension requests, oldest first."""
    query = _pending_extensions(user).with_only_columns(Extension.id).order_by(Extension.requested_at, Extension.id)
    ids, has_next = fetch_page(query, page)
    if not ids:
        return [], False
    extensions = {e.id: e for e in db.session.scalars(
        select(Extension).where(Extension.id.in_(ids)).options(
            raiseload(Extension.appeal),
            joinedload(Extension.requested_by).options(load_only(User.id, User.name), raiseload("*"))))}
    appeals = {a.id: a for a in load_appeals([e.appeal_id for e in extensions.values()])}
    return [(appeals[extensions[i].appeal_id], extensions[i]) for i in ids], has_next


def overdue_page(user, page, today, *, unit_id=None, sort=""):
    """Overdue appeals across departments, grouped by department (or most overdue first)."""
    query = visible_appeals(user).where(overdue_condition(today))
    if unit_id:
        query = query.where(Appeal.lead_unit_id == unit_id)
    order = (EFFECTIVE_DUE, Appeal.id) if sort == "due" else (Appeal.lead_unit_id, EFFECTIVE_DUE, Appeal.id)
    return _page(query, order, page)


def overdue_by_department(user, today):
    """[(unit, count)] of overdue appeals per lead department, in department order."""
    rows = db.session.execute(
        visible_appeals(user).where(overdue_condition(today))
        .with_only_columns(Appeal.lead_unit_id, func.count()).group_by(Appeal.lead_unit_id)
    ).all()
    counts = {unit_id: n for unit_id, n in rows}
    units = db.session.scalars(select(Unit).where(Unit.id.in_([u for u in counts if u is not None])).order_by(Unit.id))
    return [(unit, counts[unit.id]) for unit in units]
