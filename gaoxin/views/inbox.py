"""The department inbox (部门收件箱): tabs with counts, filters, sign-for in place, a live region that polls a stamp."""
import hashlib
from datetime import timedelta, timezone

from flask import Blueprint, current_app, flash, g, make_response, redirect, request, session, url_for
from flask_wtf.csrf import generate_csrf
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select

from .. import logs
from ..extensions import db
from ..forms.appeals import SignForm
from ..htmx import is_fragment_request, render
from ..models import Appeal, User, UserSession, WorkStamp, utcnow
from ..permissions import can, get_visible_or_404, require, visible_appeals
from ..services import appeals as service
from ..services import jobs, queues, work
from ..services.calendar import today, working_calendar
from ..workflow import AppealAction, WorkflowError, appeal_actions
from .actions import commit_once_more_if_stale

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
TEMPLATE = "inbox/index.html"
#: Query-string keys that describe a list (tab, filters, page); nothing else is carried back.
LIST_ARGS = frozenset({"tab", "page", "category", "q", "enterprise_id", "from", "to", "overdue", "sort"})


def _tab(value):
    return value if value in queues.INBOX_TABS else "sign"


def _since(day):
    """What the live region's content depends on: the unit's work stamp (services.work, raised with every
    transition of an appeal the unit leads or co-handles) and the day (deadlines and 超期 move at midnight).
    Read before the list, so a change committed in between makes the next poll redraw, never the reverse."""
    return _token(current_user.unit_id, work.stamp(current_user.unit_id), day)


def _token(unit_id, stamp, day):
    return hashlib.blake2b(repr((unit_id, stamp, day.isoformat())).encode(), digest_size=8).hexdigest()


def _unchanged_poll():
    """The live check's fast path, before the app's other request hooks: when the poll's digest still
    matches, answer 204 after one indexed query (the open session, its user's unit, the unit's stamp),
    without loading the user, the roles or anything else. Whatever else — no session, an idle or ended
    one, a change — falls through to the full view, which logs in again, refuses or redraws."""
    if request.endpoint != "inbox.live" or request.args.get("part") or not request.args.get("since"):
        return None
    token = session.get("_user_id")
    if not token:
        return None
    found = _poll_row(token)
    if found is None:
        return None
    user_id, unit_id, last_seen_at, version, changed_at = found
    g.poll_user = (user_id, unit_id)  # for the request log line, which never loads the user itself
    if utcnow() - last_seen_at > timedelta(minutes=current_app.config["GAOXIN_IDLE_MINUTES"]):
        return None
    stamp = (version, changed_at) if version is not None else None
    if request.args.get("since") != _token(unit_id, stamp, today()):
        return None
    response = current_app.response_class(status=204)
    response.headers["Vary"] = "HX-Request"
    return response


#: The live check's one statement (the open session, its user's unit, the unit's stamp), built once.
_POLL = (select(User.id, User.unit_id, UserSession.last_seen_at, WorkStamp.version, WorkStamp.changed_at)
         .select_from(UserSession).join(User, User.id == UserSession.user_id)
         .outerjoin(WorkStamp, WorkStamp.unit_id == User.unit_id)
         .where(UserSession.token == bindparam("token"), UserSession.ended_at.is_(None), User.active.is_(True)))
#: Its SQL for psycopg, compiled on first use.
_POLL_SQL = {}


def _poll_row(token):
    """(user_id, unit_id, last_seen_at, version, changed_at) of the open session `token`, or None: outside the request's
    session and in autocommit (one round trip, no BEGIN and ROLLBACK around it). On PostgreSQL straight on a
    pooled psycopg connection: SQLAlchemy's statement and result handling were three quarters of the poll's CPU
    (1.7 ms against 0.4 ms, profiled at 300k appeals)."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return connection.execute(_POLL, {"token": token}).first()
    sql = _POLL_SQL.get("postgresql") or _POLL_SQL.setdefault("postgresql", str(_POLL.compile(dialect=engine.dialect)))
    pooled = engine.raw_connection()
    try:
        driver = pooled.driver_connection
        driver.autocommit = True
        try:
            row = driver.execute(sql, {"token": token}).fetchone()
            logs.count_statement()
        finally:
            driver.autocommit = False
    finally:
        pooled.close()
    if row is None:
        return None
    # As the columns' UTCDateTime type reads them (the token is a digest of the stamp as the view reads it).
    user_id, unit_id, last_seen_at, version, changed_at = row
    return user_id, unit_id, _utc(last_seen_at), version, _utc(changed_at)


def _utc(value):
    return value.replace(tzinfo=timezone.utc) if value is not None else None


@bp.record_once
def _first_hook(state):
    # First of the app's before_request hooks: the others (the user loader among them) cost more than this.
    state.app.before_request_funcs.setdefault(None, []).insert(0, _unchanged_poll)


def _list_context(args=None):
    """Counts, the page of rows (ids only) and everything the links need, from the query string
    (or, for a sign-for, from the form's hidden copy of it)."""
    args = request.args if args is None else args
    tab = _tab(args.get("tab"))
    filters = queues.InboxFilters.parse(args)
    page = max(args.get("page", 1, type=int) or 1, 1)
    day = today()
    stamp = work.stamp(current_user.unit_id)
    since = _token(current_user.unit_id, stamp, day)
    counts = queues.inbox_counts(current_user, day, stamp)
    rows, has_next = queues.inbox_page(current_user, tab, filters, page, day)
    filter_args = filters.as_args()
    return {
        "tab": tab, "tabs": queues.INBOX_TABS, "counts": counts, "filters": filters, "filter_args": filter_args,
        "page": page, "has_next": has_next, "rows": rows, "today": day,
        "list_args": {"tab": tab, "page": page, **filter_args},
        "live_url": url_for("inbox.live", tab=tab, page=page, poll=1, **filter_args),
        "tabs_url": url_for("inbox.live", tab=tab, part="tabs", poll=1, **filter_args),
        "since": since,
    }


def _signable(appeals):
    """Ids of the rows that get a 签收 button: the workflow allows signing and the user may sign this one."""
    user = current_user._get_current_object()
    return {a.id for a in appeals if AppealAction.sign in appeal_actions(a.state) and can(user, "appeal.sign", a)}


def _with_rows(context):
    appeals = queues.list_rows([appeal_id for appeal_id, _ in context["rows"]])
    context.update(
        appeals=appeals, signable=_signable(appeals),
        calendar=queues.DueCounter(working_calendar(), context["today"]),
        categories=queues.category_choices(), sorts=queues.INBOX_SORTS,
    )
    return context


def _render_list(context, block=None, status=200):
    return render(TEMPLATE, block=block, status=status, **_with_rows(context))


#: The live region as drawn for (unit, roles, work stamp, day, calendar, list arguments), with a slot for the
#: CSRF token: a change is drawn once per worker, and every other open inbox of the unit that polls after it gets
#: the same HTML with its own token. What a region shows depends on nothing else: the rows and counts on the
#: unit and the roles (visibility, 签收 buttons), the dates on the day and the calendar.
_DRAWN = queues.StampedCache(64)
_CSRF_SLOT = "csrf-slot-5e0c1f"


def _live_region(day):
    """The changed live region for an htmx poll, drawn or taken from _DRAWN."""
    key = queues.stamped_key("live", current_user, work.stamp(current_user.unit_id), day)
    if key is not None:
        key = (*key, working_calendar(), tuple(sorted(kv for kv in request.args.items(multi=True) if kv[0] != "since")))
    # Kept as UTF-8 (half the memory of a str of Chinese text).
    body = _DRAWN.get_or_compute(key, lambda: render_block(
        TEMPLATE, "live", csrf_token=lambda: _CSRF_SLOT, **_with_rows(_list_context())).encode())
    response = make_response(body.replace(_CSRF_SLOT.encode(), generate_csrf().encode()))
    response.content_type = "text/html; charset=utf-8"
    response.headers["Vary"] = "HX-Request"
    return response


@bp.get("")
@login_required
def index():
    """The inbox: a tab of the unit's appeals with counts, filtered and sorted; the list redraws itself."""
    require("inbox.view")
    # The unread notices (部门提醒) in the header: one count over a partial index of the unread rows.
    return _render_list({**_list_context(), "unread_notices": jobs.unread_count(current_user.unit_id)}, block="live")


@bp.get("/notices")
@login_required
def notices():
    """The department's notices from the periodic jobs (超期, 2 working days before the deadline), newest first."""
    require("inbox.view")
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = jobs.notices_page(current_user.unit_id, page)
    return render("inbox/notices.html", notices=rows, page=page, has_next=has_next,
                  unread=jobs.unread_count(current_user.unit_id))


@bp.post("/notices/read")
@login_required
def notices_read():
    """Mark every notice of the department read (the header badge goes away)."""
    require("inbox.view")
    count = jobs.mark_read(current_user.unit_id)
    db.session.commit()
    flash(f"已将 {count} 条提醒标为已读。", "success")
    return redirect(url_for("inbox.notices"), code=303)


@bp.get("/live")
@login_required
def live():
    """The live region (tabs and list) for polling: 204 when nothing changed since the digest the page has."""
    require("inbox.view")
    if request.args.get("part") == "tabs":
        # After the user's own action (appeals-changed): the counts only; the list keeps its messages.
        return render(TEMPLATE, block="tabs", **_list_context())
    # Nothing changed: one primary-key lookup, no counts, no list.
    day = today()
    if request.args.get("since") == _since(day):
        return "", 204
    if is_fragment_request():
        return _live_region(day)
    return _render_list(_list_context(), block="live")


@bp.get("/badge")
@login_required
def badge():
    """The nav badge: appeals waiting to be signed for plus supervised ones; it refreshes itself."""
    require("inbox.view")
    return render("inbox/_badge.html",
                  count=queues.badge_count(current_user, today(), work.stamp(current_user.unit_id)))


def _row(appeal_id, *, message, error=False, status=200):
    """The row again, with the message, and the list's new digest: the row keeps its message until
    something else changes in the list (the next poll would otherwise drop the signed row at once)."""
    args = request.form
    tab, day = _tab(args.get("tab")), today()
    since = _since(day)
    page = max(args.get("page", 1, type=int) or 1, 1)
    appeal = queues.list_rows([appeal_id])[0]
    return render(TEMPLATE, block="row", status=status, appeal=appeal, signable=_signable([appeal]),
                  tab=tab, list_args={"tab": tab, "page": page, **queues.InboxFilters.parse(args).as_args()},
                  since_oob=since, calendar=queues.DueCounter(working_calendar(), day), today=day,
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
        flash(Markup('已签收诉求 {0}。<a href="{1}">去办理</a>').format(
            appeal.receipt_no, url_for("appeals.show", appeal_id=appeal_id)), "success")
        return redirect(back, code=303)
    response = _row(appeal_id, message="已签收，请及时办理。")
    response.headers["HX-Trigger"] = "appeals-changed"
    return response
