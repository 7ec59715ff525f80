"""The department inbox (部门收件箱): tabs with counts, filters, sign-for in place, live counts."""
import hashlib

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.appeals import SignForm
from ..htmx import is_fragment_request, render
from ..models import Appeal
from ..permissions import can, get_visible_or_404, require, visible_appeals
from ..services import appeals as service
from ..services import queues
from ..services.calendar import today, working_calendar
from ..workflow import AppealAction, WorkflowError, appeal_actions
from .actions import commit_once_more_if_stale

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
TEMPLATE = "inbox/index.html"
#: Query-string keys that describe a list (tab, filters, page); nothing else is carried back.
LIST_ARGS = frozenset({"tab", "page", "category", "q", "enterprise_id", "from", "to", "overdue", "sort"})


def _tab(value):
    return value if value in queues.INBOX_TABS else "sign"


def _fingerprint(*parts):
    """A short digest of what the live region shows: equal digests mean nothing to redraw."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def _list_context(args=None):
    """Counts, the page of rows (ids only) and everything the links need, from the query string
    (or, for a sign-for, from the form's hidden copy of it)."""
    args = request.args if args is None else args
    tab = _tab(args.get("tab"))
    filters = queues.InboxFilters.parse(args)
    page = max(args.get("page", 1, type=int) or 1, 1)
    day = today()
    counts = queues.inbox_counts(current_user, day)
    rows, has_next = queues.inbox_page(current_user, tab, filters, page, day)
    filter_args = filters.as_args()
    return {
        "tab": tab, "tabs": queues.INBOX_TABS, "counts": counts, "filters": filters, "filter_args": filter_args,
        "page": page, "has_next": has_next, "rows": rows, "today": day,
        "list_args": {"tab": tab, "page": page, **filter_args},
        "live_url": url_for("inbox.live", tab=tab, page=page, poll=1, **filter_args),
        "tabs_url": url_for("inbox.live", tab=tab, part="tabs", poll=1, **filter_args),
        "since": _fingerprint(day, counts, rows, has_next),
    }


def _signable(appeals):
    """Ids of the rows that get a 签收 button: the workflow allows signing and the user may sign this one."""
    user = current_user._get_current_object()
    return {a.id for a in appeals if AppealAction.sign in appeal_actions(a.state) and can(user, "appeal.sign", a)}


def _render_list(context, block=None, status=200):
    appeals = queues.load_appeals([appeal_id for appeal_id, _ in context["rows"]])
    context.update(
        appeals=appeals, signable=_signable(appeals),
        calendar=queues.DueCounter(working_calendar(), context["today"]),
        categories=queues.category_choices(), sorts=queues.INBOX_SORTS,
    )
    return render(TEMPLATE, block=block, status=status, **context)


@bp.get("")
@login_required
def index():
    """The inbox: a tab of the unit's appeals with counts, filtered and sorted; the list redraws itself."""
    require("inbox.view")
    return _render_list(_list_context(), block="live")


@bp.get("/live")
@login_required
def live():
    """The live region (tabs and list) for polling: 204 when nothing changed since the digest the page has."""
    require("inbox.view")
    context = _list_context()
    if request.args.get("part") == "tabs":
        # After the user's own action (appeals-changed): the counts only; the list keeps its messages.
        return render(TEMPLATE, block="tabs", **context)
    if request.args.get("since") == context["since"]:
        return "", 204
    return _render_list(context, block="live")


@bp.get("/badge")
@login_required
def badge():
    """The nav badge: appeals waiting to be signed for plus supervised ones; it refreshes itself."""
    require("inbox.view")
    return render("inbox/_badge.html", count=queues.badge_count(current_user, today()))


def _row(appeal_id, *, message, error=False, status=200):
    """The row again, with the message, and the list's new digest: the row keeps its message until
    something else changes in the list (the next poll would otherwise drop the signed row at once)."""
    context = _list_context(request.form)
    appeal = queues.load_appeals([appeal_id])[0]
    return render(TEMPLATE, block="row", status=status, appeal=appeal, signable=_signable([appeal]),
                  tab=context["tab"], list_args=context["list_args"], since_oob=context["since"],
                  calendar=queues.DueCounter(working_calendar(), context["today"]), today=context["today"],
                  row_message=message, row_error=error)


@bp.post("/<int:appeal_id>/sign")
@login_required
def sign(appeal_id):
    """签收 from the inbox: htmx gets the row back (409 with the reason if someone was faster), a plain form a redirect."""
    require("inbox.view")
    appeal = get_visible_or_404(visible_appeals(current_user), appeal_id, Appeal, action="sign")
    require("appeal.sign", appeal)
    form = SignForm()
    # The form carries the list the user was looking at (tab, filters, page): back to it.
    back = url_for("inbox.index", **{k: v for k, v in request.form.items() if k in LIST_ARGS and v})
    try:
        if not form.validate_on_submit():
            raise WorkflowError("页面已过期，请刷新后重试。")
        commit_once_more_if_stale(
            lambda: service.sign(appeal, current_user, expected_version=form.version.data), service.STALE)
    except WorkflowError as exc:
        db.session.rollback()
        if not is_fragment_request():
            flash(str(exc), "warning")
            return redirect(back, code=303)
        return _row(appeal_id, message=str(exc), error=True, status=409)
    if not is_fragment_request():
        flash(f"已签收诉求 {appeal.receipt_no}。", "success")
        return redirect(back, code=303)
    response = _row(appeal_id, message="已签收，请及时办理。")
    response.headers["HX-Trigger"] = "appeals-changed"
    return response
