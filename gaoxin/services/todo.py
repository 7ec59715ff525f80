"""The home page's to-do list (待办): per role, the counts of what waits and its oldest items, each count
taken from the same query as the list or tab it links to, so that the two always agree. Nothing here writes."""
from dataclasses import dataclass, field

from ..extensions import db
from ..models import Appeal, Application, Enterprise, Role, UnitKind
from ..models.appeal import EFFECTIVE_DUE
from ..permissions import DEPARTMENT_ROLES, can, visible_appeals, visible_applications
from ..workflow import DEPARTMENT_APPEAL_STATES, AppealState, ApplicationState
from . import queues, work

#: A case is "due soon" when its running deadline is at most this many working days away (issue 12).
DUE_SOON_WORKDAYS = 2
#: How many of the oldest items each to-do shows.
OLDEST = 3


@dataclass
class TodoItem:
    """One line of the to-do list: what waits, how many, where the matching list is, and the oldest."""

    key: str
    title: str
    count: object
    url_endpoint: str
    url_args: dict = field(default_factory=dict)
    hot: bool = False
    oldest: list = field(default_factory=list)
    #: A sentence for items whose link is an ordering rather than a list of exactly these cases.
    note: str = ""


@dataclass
class TodoSection:
    """The to-do list of one role the user holds."""

    title: str
    items: list


@dataclass(frozen=True)
class Oldest:
    """An oldest item: its receipt number, enterprise, the date that makes it old, and its page."""

    receipt_no: str
    enterprise: str
    on: object
    endpoint: str
    id_arg: str
    id: int


def _appeals_oldest(ids, date_of):
    appeals = queues.load_appeals(ids[:OLDEST])
    return [Oldest(a.receipt_no, a.enterprise.name, date_of(a), "appeals.show", "appeal_id", a.id) for a in appeals]


def _department(user, day, calendar):
    """The department's to-do: depends only on what its inbox shows (the unit's work stamp), the roles, the
    day and the calendar, so it is worked out once per change of those per worker (queues.StampedCache),
    like the inbox's tab counts; a unit without a stamp yet is worked out every time."""
    stamp = work.stamp(user.unit_id)
    key = queues.stamped_key("home", user, stamp, day)
    return queues.COUNTS.get_or_compute(key and (*key, calendar), lambda: _department_items(user, day, calendar, stamp))


def _department_items(user, day, calendar, stamp):
    counts = queues.inbox_counts(user, day, stamp)
    soon_limit = calendar.add_workdays(day, DUE_SOON_WORKDAYS)
    due_soon = visible_appeals(user).where(
        Appeal.lead_unit_id == user.unit_id, Appeal.state.in_(DEPARTMENT_APPEAL_STATES), EFFECTIVE_DUE >= day, EFFECTIVE_DUE <= soon_limit)
    soon_count = queues.counts_capped({"soon": due_soon})["soon"]
    soon_ids = list(db.session.scalars(due_soon.with_only_columns(Appeal.id).order_by(EFFECTIVE_DUE, Appeal.id)
                                       .limit(OLDEST)))
    filters = queues.InboxFilters()

    def oldest(tab):
        rows, _ = queues.inbox_page(user, tab, filters, 1, day)
        return _appeals_oldest([appeal_id for appeal_id, _ in rows], lambda a: a.sign_due_on if tab == "sign" else a.due_on)

    items = [
        TodoItem("sign", "待签收", counts["sign"], "inbox.index", {"tab": "sign"}, hot=bool(counts["sign"]),
                 oldest=oldest("sign") if counts["sign"] else []),
        TodoItem("supervised", "督办", counts["supervised"], "inbox.index", {"tab": "supervised"},
                 hot=bool(counts["supervised"]), oldest=oldest("supervised") if counts["supervised"] else []),
        TodoItem("overdue", "超期", counts["overdue"], "inbox.index", {"tab": "overdue"}, hot=bool(counts["overdue"]),
                 oldest=oldest("overdue") if counts["overdue"] else []),
        TodoItem("soon", f"即将到期（{DUE_SOON_WORKDAYS}个工作日内）", soon_count, "inbox.index",
                 {"tab": "progress", "sort": "due"}, oldest=_appeals_oldest(soon_ids, lambda a: a.due_on),
                 note="链接为“办理中”按到期日排序，最前面的即是这些诉求。"),
        TodoItem("cohandle", "协办待提交意见", counts["cohandle"], "inbox.index", {"tab": "cohandle"},
                 oldest=oldest("cohandle") if counts["cohandle"] else []),
    ]
    return items


def _appeals_in_state(user, state, title, *, hot=False):
    query = visible_appeals(user).where(Appeal.state == state)
    count = queues.counts_capped({"n": query})["n"]
    ids = list(db.session.scalars(query.with_only_columns(Appeal.id).order_by(Appeal.created_at, Appeal.id)
                                  .limit(OLDEST))) if count else []
    return TodoItem(f"appeals-{state}", title, count, "appeals.index", {"state": state}, hot=hot and bool(count),
                    oldest=_appeals_oldest(ids, lambda a: a.replied_at or a.created_at))


def _applications_in_state(user, state, title, *, hot=False):
    query = visible_applications(user).where(Application.state == state)
    count = queues.counts_capped({"n": query})["n"]
    rows = db.session.execute(
        query.with_only_columns(Application.id, Application.receipt_no, Enterprise.name, Application.created_at)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .order_by(Application.created_at, Application.id).limit(OLDEST)).all() if count else []
    return TodoItem(f"applications-{state}", title, count, "applications.index", {"state": state},
                    hot=hot and bool(count),
                    oldest=[Oldest(r[1] or "草稿", r[2], r[3], "applications.show", "application_id", r[0]) for r in rows])


def _dispatcher(user, day):
    """The dispatch centre's to-do: kept per change of the centre's work stamp (raised by every appeal's
    change) and day for a user of a dispatch centre, like its tab counts; worked out every time otherwise."""
    if user.unit.kind != UnitKind.dispatch_centre.value:
        return _dispatcher_items(user, day)
    key = queues.stamped_key("home-dispatch", user, work.stamp(user.unit_id), day)
    return queues.COUNTS.get_or_compute(key, lambda: _dispatcher_items(user, day))


def _dispatcher_items(user, day):
    counts = queues.dispatch_counts(user, day)
    returned_query = visible_appeals(user).where(Appeal.state == AppealState.awaiting_dispatch, Appeal.return_count > 0)
    returned = queues.counts_capped({"n": returned_query})["n"]
    queue_rows, _ = queues.queue_page(user, 1)
    returned_rows, _ = queues.queue_page(user, 1, returned_only=True)
    overdue_rows, _ = queues.overdue_page(user, 1, day, sort="due")
    return [
        TodoItem("queue", "待派单", counts["queue"], "dispatch.index", hot=bool(counts["queue"]),
                 oldest=_appeals_oldest([i for i, _ in queue_rows], lambda a: a.created_at)),
        TodoItem("returned", "退回", returned, "dispatch.index", {"returned": "1"}, hot=bool(returned),
                 oldest=_appeals_oldest([i for i, _ in returned_rows], lambda a: a.created_at)),
        TodoItem("extensions", "延期申请", counts["extensions"], "dispatch.extensions", hot=bool(counts["extensions"])),
        TodoItem("overdue", "超期", counts["overdue"], "dispatch.overdue", {"sort": "due"}, hot=bool(counts["overdue"]),
                 oldest=_appeals_oldest([i for i, _ in overdue_rows], lambda a: a.due_on or a.sign_due_on)),
    ]


def sections(user, day, calendar):
    """[TodoSection] for every working role the user holds, in the order of the roles."""
    found = []
    if user.has_role(Role.clerk):
        found.append(TodoSection("诉求与申报", [
            _appeals_in_state(user, AppealState.replied.value, "已答复待回访", hot=True),
            _applications_in_state(user, ApplicationState.awaiting_supplement.value, "补正待收", hot=True),
        ]))
    if user.has_role(Role.window):
        found.append(TodoSection("窗口", [
            _applications_in_state(user, ApplicationState.submitted.value, "待形式审查", hot=True),
            _applications_in_state(user, ApplicationState.approved.value, "待出件（审核通过）", hot=True),
            _applications_in_state(user, ApplicationState.rejected.value, "待出件（审核不通过）", hot=True),
            _appeals_in_state(user, AppealState.replied.value, "已答复待回访"),
        ]))
    if user.has_role(Role.dispatcher):
        found.append(TodoSection("调度中心", _dispatcher(user, day)))
    if user.has_role(*DEPARTMENT_ROLES):
        title = f"{user.unit.name}（本部门）" if user.has_role(Role.dept_lead) else "部门收件箱"
        found.append(TodoSection(title, _department(user, day, calendar)))
    return found


def shortcuts(user):
    """(label, endpoint) of the tasks that start something new, for the roles that may."""
    links = [("登记诉求", "appeals.new", "appeal.create"), ("政策申报收件", "applications.new", "application.create"),
             ("企业档案", "enterprises.index", "enterprise.view"), ("常用语", "settings.phrases_index", "phrase.manage")]
    return [(label, endpoint) for label, endpoint, action in links if can(user, action)]

