"""Exports (导出): every list with its current filters, and every dashboard table, to XLSX or CSV; each audited."""
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.dashboard import PeriodForm
from ..permissions import require
from ..services import appeals as appeal_service
from ..services import applications as application_service
from ..services import exports as service
from ..services import figures, queues
from ..services.calendar import today

bp = Blueprint("exports", __name__, url_prefix="/exports")

FORMATS = ("xlsx", "csv")


def _send(name, table, fmt, filters, back):
    """Audit, commit, then stream the file; a list too large goes back to the page with the reason."""
    if fmt not in FORMATS:
        abort(404)
    service.record(current_user, name, table, fmt, filters)
    db.session.commit()
    filename = f"{table.title}-{today():%Y%m%d}.{fmt}"
    response = Response(stream_with_context(service.chunks(table, fmt)), mimetype=service.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=export.{fmt}; filename*=UTF-8''{quote(filename)}"
    return response


def _too_large(exc, back):
    flash(str(exc), "error")
    return redirect(back, code=303)


# --------------------------------------------------------------------------- lists


APPEAL_HEADERS = ["回执号", "企业", "类别", "受理渠道", "承办部门", "状态", "签收期限", "办理期限", "登记时间"]


def _appeal_cells(a):
    return [a.receipt_no, a.enterprise.name, a.category.name, a.channel_title,
            a.lead_unit.name if a.lead_unit else "调度中心", a.state.title, a.sign_due_on, a.due_on, a.created_at]


@bp.get("/appeals.<fmt>")
@login_required
def appeals(fmt):
    """The appeals list (诉求) with the page's filters: state, category, receipt number, enterprise."""
    require("appeal.list")
    filters = {
        "state": request.args.get("state") or "", "category": request.args.get("category", type=int) or "",
        "receipt": (request.args.get("receipt") or "").strip().upper(),
        "enterprise": request.args.get("enterprise", type=int) or "",
    }
    back = url_for("appeals.index", **{k: v for k, v in filters.items() if v})
    try:
        rows = service.rows_from_pages(
            lambda page: appeal_service.search_page(
                current_user, state=filters["state"], category_id=filters["category"], receipt=filters["receipt"],
                enterprise_id=filters["enterprise"], page=page),
            _appeal_cells)
    except service.ExportTooLarge as exc:
        return _too_large(exc, back)
    return _send("appeals", service.Table("诉求", APPEAL_HEADERS, rows), fmt, filters, back)


APPLICATION_HEADERS = ["回执号", "企业", "政策", "审查部门", "申报金额", "状态", "收件时间"]


def _application_cells(a):
    return [a.receipt_no, a.enterprise.name, a.policy.title, a.department.name, a.declared_amount, a.state.title,
            a.created_at]


@bp.get("/applications.<fmt>")
@login_required
def applications(fmt):
    """The applications list (政策申报) with the page's filters: state, policy, receipt number."""
    require("application.list")
    filters = {"state": request.args.get("state") or "", "policy": request.args.get("policy", type=int) or "",
               "receipt": (request.args.get("receipt") or "").strip().upper()}
    back = url_for("applications.index", **{k: v for k, v in filters.items() if v})
    try:
        rows = service.rows_from_pages(
            lambda page: application_service.list_page(current_user, state=filters["state"],
                                                       policy_id=filters["policy"], receipt=filters["receipt"],
                                                       page=page),
            _application_cells)
    except service.ExportTooLarge as exc:
        return _too_large(exc, back)
    return _send("applications", service.Table("政策申报", APPLICATION_HEADERS, rows), fmt, filters, back)


INBOX_HEADERS = ["回执号", "企业", "类别", "承办人", "状态", "签收期限", "办理期限", "退单次数", "登记时间"]


def _inbox_cells(a):
    return [a.receipt_no, a.enterprise.name, a.category.name, a.assignee.name if a.assignee else "", a.state.title,
            a.sign_due_on, a.due_on, a.return_count, a.created_at]


@bp.get("/inbox.<fmt>")
@login_required
def inbox(fmt):
    """One tab of the department inbox (部门收件箱) with the page's filters and sort."""
    require("inbox.view")
    tab = request.args.get("tab") if request.args.get("tab") in queues.INBOX_TABS else "sign"
    filters = queues.InboxFilters.parse(request.args)
    day = today()
    back = url_for("inbox.index", tab=tab, **filters.as_args())

    def fetch(page):
        rows, has_next = queues.inbox_page(current_user, tab, filters, page, day)
        return queues.list_rows([appeal_id for appeal_id, _ in rows]), has_next

    try:
        rows = service.rows_from_pages(fetch, _inbox_cells)
    except service.ExportTooLarge as exc:
        return _too_large(exc, back)
    table = service.Table(f"部门收件箱-{queues.INBOX_TABS[tab]}", INBOX_HEADERS, rows)
    return _send("inbox", table, fmt, {"tab": tab, **filters.as_args()}, back)


# --------------------------------------------------------------------------- dashboard tables


RATE_HEADERS = ["派单数", "按时签收", "响应率", "已答复", "已解决/采纳", "解决率", "已回访", "满意/基本满意", "满意率",
                "按期答复", "按时办结率"]


def _rate_cells(row):
    return [row.dispatched, row.signed_on_time, row.response.text, row.replied, row.resolved, row.resolution.text,
            row.followed_up, row.satisfied, row.satisfaction.text, row.replied_on_time, row.on_time.text]


def dashboard_table(dash, name):
    """One dashboard table as an export Table, or None for an unknown name."""
    if name == "departments":
        rows = [[r.name, *_rate_cells(r), r.avg_workdays_text, r.overdue, r.returned]
                for r in [*dash.departments.rows, dash.departments.total]]
        return service.Table("各部门三率", ["部门", *RATE_HEADERS, "平均答复工作日", "当前超期", "退单"], rows)
    if name in ("categories", "channels", "units", "trend"):
        title = {"categories": ("按类别", "类别"), "channels": ("按受理渠道", "渠道"), "units": ("按受理单位", "受理单位"),
                 "trend": ("月度趋势", "月份")}[name]
        return service.Table(title[0], [title[1], *RATE_HEADERS],
                             [[r.name, *_rate_cells(r)] for r in getattr(dash, name if name != "trend" else "trend")])
    if name == "policies":
        return service.Table("政策申报兑现", ["政策编号", "政策", "收件", "受理", "补正次数", "审核通过", "核定金额", "已拨付金额"],
                             [[p["code"], p["title"], p["received"], p["accepted"], p["supplements"], p["approved"],
                               p["amount_approved"], p["amount_disbursed"]] for p in dash.policies])
    return None


@bp.get("/dashboard/<name>.<fmt>")
@login_required
def dashboard(name, fmt):
    """One table of the dashboard, for the period and scope the page shows."""
    require("figures.view")
    form = PeriodForm(request.args)
    if not form.validate():
        flash("统计期间有误，请在看板上修改后再导出。", "error")
        return redirect(url_for("dashboard.index"), code=303)
    period = figures.period_for(form.period.data, form.start.data, form.end.data)
    dash = figures.dashboard(current_user, period)
    table = dashboard_table(dash, name)
    if table is None:
        abort(404)
    table.title = f"{table.title}"
    filters = {"期间": period.label}
    return _send(f"dashboard-{name}", table, fmt, filters, url_for("dashboard.index"))
