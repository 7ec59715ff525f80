"""The dispatch centre (调度中心): the queue, returned cases, extension requests, the overdue list."""
from flask import Blueprint, request
from flask_login import current_user, login_required

from ..htmx import render
from ..permissions import require
from ..services import queues
from ..services.calendar import today, working_calendar

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")


def _page_number():
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _render(template, current, overdue=None, **context):
    """A dispatcher page with its tabs and their counts."""
    day = today()
    return render(
        template, current=current, tabs=queues.DISPATCH_TABS,
        counts=queues.dispatch_counts(current_user, day, overdue=overdue),
        today=day, calendar=queues.DueCounter(working_calendar(), day), **context,
    )


@bp.get("")
@login_required
def index():
    """The queue: appeals no rule routed and appeals departments returned, with the latest reason."""
    require("appeal.dispatch")
    page = _page_number()
    category_id = request.args.get("category", type=int)
    returned_only = request.args.get("returned") == "1"
    rows, has_next = queues.queue_page(current_user, page, category_id=category_id, returned_only=returned_only)
    appeals = queues.list_rows([appeal_id for appeal_id, _ in rows])
    args = {k: v for k, v in {"category": category_id, "returned": "1" if returned_only else None}.items() if v}
    return _render(
        "dispatch/index.html", "queue", appeals=appeals, returns=queues.latest_returns([a.id for a in appeals]),
        page=page, has_next=has_next, args=args, categories=queues.category_choices(),
        category_id=category_id, returned_only=returned_only,
    )


@bp.get("/extensions")
@login_required
def extensions():
    """Pending extension requests, oldest first, with approve and refuse forms."""
    require("appeal.dispatch")
    page = _page_number()
    items, has_next = queues.extensions_page(current_user, page)
    return _render("dispatch/extensions.html", "extensions", items=items, page=page, has_next=has_next, args={})


@bp.get("/overdue")
@login_required
def overdue():
    """Open appeals past a deadline across departments, by department or most overdue first, to supervise."""
    require("appeal.dispatch")
    page = _page_number()
    day = today()
    unit_id = request.args.get("unit", type=int)
    sort = request.args.get("sort") if request.args.get("sort") in queues.OVERDUE_SORTS else ""
    rows, has_next = queues.overdue_page(current_user, page, day, unit_id=unit_id, sort=sort)
    departments = queues.overdue_by_department(current_user, day)
    args = {k: v for k, v in {"unit": unit_id, "sort": sort}.items() if v}
    return _render(
        "dispatch/overdue.html", "overdue", overdue=sum(n for _, n in departments),
        appeals=queues.list_rows([appeal_id for appeal_id, _ in rows]),
        departments=departments, page=page, has_next=has_next, args=args,
        unit_id=unit_id, sort=sort, sorts=queues.OVERDUE_SORTS,
    )
