"""Exports (导出): every list with its current filters, and every dashboard table, to XLSX or CSV; each audited."""
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.dashboard import PeriodForm
from ..permissions import require
from ..services import export_lists, figures, jobs
from ..services import exports as service
from ..services.calendar import today

bp = Blueprint("exports", __name__, url_prefix="/exports")

FORMATS = ("xlsx", "csv")


def _send(name, table, fmt, filters, back):
    """Audit, commit, then stream the file."""
    if fmt not in FORMATS:
        abort(404)
    service.record(current_user, name, table, fmt, filters)
    db.session.commit()
    filename = f"{table.title}-{today():%Y%m%d}.{fmt}"
    response = Response(stream_with_context(service.chunks(table, fmt)), mimetype=service.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=export.{fmt}; filename*=UTF-8''{quote(filename)}"
    return response


# --------------------------------------------------------------------------- lists


def _list(name, fmt):
    """Export list `name` with the page's filters: in the request up to GAOXIN_EXPORT_SYNC_LIMIT rows, else as a
    background job whose page shows progress and then the file (the same request again opens the same job)."""
    if fmt not in FORMATS:
        abort(404)
    permission, _ = export_lists.LISTS[name]
    require(permission)
    args = {k: v for k, v in request.args.items() if v}
    spec = export_lists.build(name, current_user, args)
    back = url_for(spec.back_endpoint, **spec.back_args)
    try:
        rows = service.rows_from_pages(spec.fetch, spec.shape, limit=current_app.config["GAOXIN_EXPORT_SYNC_LIMIT"])
    except service.ExportTooLarge:
        db.session.rollback()
        job, created = jobs.submit_export(current_user, name, fmt, args)
        db.session.commit()
        if created:
            jobs.send(job)
            flash(f"数据超过{current_app.config['GAOXIN_EXPORT_SYNC_LIMIT']:,}行，已转为后台导出；完成后可在本页下载。",
                  "success")
        else:
            flash("同样的导出已在进行或刚刚完成，以下是该任务。", "success")
        return redirect(url_for("jobs.show", job_id=job.id), code=303)
    return _send(name, service.Table(spec.title, spec.headers, rows), fmt, spec.filters, back)


@bp.get("/appeals.<fmt>")
@login_required
def appeals(fmt):
    """The appeals list (诉求) with the page's filters: state, category, receipt number, enterprise."""
    return _list("appeals", fmt)


@bp.get("/applications.<fmt>")
@login_required
def applications(fmt):
    """The applications list (政策申报) with the page's filters: state, policy, receipt number."""
    return _list("applications", fmt)


@bp.get("/inbox.<fmt>")
@login_required
def inbox(fmt):
    """One tab of the department inbox (部门收件箱) with the page's filters and sort."""
    return _list("inbox", fmt)


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
