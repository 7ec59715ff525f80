"""The lists an export can hold (诉求, 政策申报, 部门收件箱): each read through its own list service for one user and
the page's query-string filters, so that the request (up to the sync limit) and a background job write the same rows."""
from dataclasses import dataclass
from typing import Callable

from . import appeals as appeal_service
from . import applications as application_service
from . import queues
from .calendar import today


@dataclass
class ListExport:
    """One list as its user sees it: the sheet title, headers, filters (for the audit), the page to go back to,
    `fetch(page) -> (items, has_next)` and `shape(item) -> cells`."""

    name: str
    title: str
    headers: list
    filters: dict
    back_endpoint: str
    back_args: dict
    fetch: Callable
    shape: Callable


def _int(value):
    try:
        return int(value) if value not in (None, "") else ""
    except (TypeError, ValueError):
        return ""


APPEAL_HEADERS = ["回执号", "企业", "类别", "受理渠道", "承办部门", "状态", "签收期限", "办理期限", "登记时间"]


def _appeal_cells(a):
    return [a.receipt_no, a.enterprise.name, a.category.name, a.channel_title,
            a.lead_unit.name if a.lead_unit else "调度中心", a.state.title, a.sign_due_on, a.due_on, a.created_at]


def _appeals(user, args):
    """The appeals list (诉求) with the page's filters: state, category, receipt number, enterprise."""
    filters = {"state": args.get("state") or "", "category": _int(args.get("category")),
               "receipt": (args.get("receipt") or "").strip().upper(), "enterprise": _int(args.get("enterprise"))}
    return ListExport(
        "appeals", "诉求", APPEAL_HEADERS, filters, "appeals.index", {k: v for k, v in filters.items() if v},
        lambda page: appeal_service.search_page(
            user, state=filters["state"], category_id=filters["category"], receipt=filters["receipt"],
            enterprise_id=filters["enterprise"], page=page),
        _appeal_cells)


APPLICATION_HEADERS = ["回执号", "企业", "政策", "审查部门", "申报金额", "状态", "收件时间"]


def _application_cells(a):
    return [a.receipt_no, a.enterprise.name, a.policy.title, a.department.name, a.declared_amount, a.state.title,
            a.created_at]


def _applications(user, args):
    """The applications list (政策申报) with the page's filters: state, policy, receipt number."""
    filters = {"state": args.get("state") or "", "policy": _int(args.get("policy")),
               "receipt": (args.get("receipt") or "").strip().upper()}
    return ListExport(
        "applications", "政策申报", APPLICATION_HEADERS, filters, "applications.index",
        {k: v for k, v in filters.items() if v},
        lambda page: application_service.list_page(user, state=filters["state"], policy_id=filters["policy"],
                                                   receipt=filters["receipt"], page=page),
        _application_cells)


INBOX_HEADERS = ["回执号", "企业", "类别", "承办人", "状态", "签收期限", "办理期限", "退单次数", "登记时间"]


def _inbox_cells(a):
    return [a.receipt_no, a.enterprise.name, a.category.name, a.assignee.name if a.assignee else "", a.state.title,
            a.sign_due_on, a.due_on, a.return_count, a.created_at]


def _inbox(user, args):
    """One tab of the department inbox (部门收件箱) with the page's filters and sort."""
    tab = args.get("tab") if args.get("tab") in queues.INBOX_TABS else "sign"
    filters = queues.InboxFilters.parse(args)
    day = today()

    def fetch(page):
        rows, has_next = queues.inbox_page(user, tab, filters, page, day)
        return queues.list_rows([appeal_id for appeal_id, _ in rows]), has_next

    return ListExport("inbox", f"部门收件箱-{queues.INBOX_TABS[tab]}", INBOX_HEADERS, {"tab": tab, **filters.as_args()},
                      "inbox.index", {"tab": tab, **filters.as_args()}, fetch, _inbox_cells)


#: list name → (permission, builder(user, args) -> ListExport).
LISTS = {
    "appeals": ("appeal.list", _appeals),
    "applications": ("application.list", _applications),
    "inbox": ("inbox.view", _inbox),
}


def build(name, user, args):
    """The list `name` for `user` with the query-string `args` (a plain dict of strings); KeyError if unknown."""
    return LISTS[name][1](user, args)
