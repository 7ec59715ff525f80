"""Background jobs (后台任务): a job's page with its progress (its owner's or the system admin's), the download of
an export's file (its owner only), and the system admin's list of recent jobs with retry for a failed one."""
from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import render
from ..models import Job
from ..permissions import NotVisible, can, require
from ..services import jobs
from ..workflow import JobKind

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _own_or_404(job_id, action="view"):
    """The job if the user started it (or, to view it, is the system admin); 404 otherwise, audited as 越权尝试
    when the job exists (another's export is not even shown)."""
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if not (job.user_id == current_user.id or (action == "view" and can(current_user, "jobs.manage"))):
        raise NotVisible(f"job.{action}", "Job", job_id)
    return job


@bp.get("/")
@login_required
def index():
    """Recent jobs, newest first, with their state, progress and reasons; the last integrity check on top."""
    require("jobs.manage")
    page = max(request.args.get("page", 1, type=int), 1)
    rows, has_next = jobs.recent_page(page)
    return render("jobs/index.html", jobs=rows, page=page, has_next=has_next,
                  integrity=jobs.latest(JobKind.integrity_check))


@bp.get("/<int:job_id>")
@login_required
def show(job_id):
    """One job's state and progress (htmx polls the status block while it runs), and its file when done."""
    job = _own_or_404(job_id)
    return render("jobs/show.html", block="status", job=job, job_params=jobs.params(job))


@bp.get("/<int:job_id>/download")
@login_required
def download(job_id):
    """The export's file: only the user who asked for it (anyone else, the system admin too, gets 404)."""
    job = _own_or_404(job_id, "download")
    path = jobs.result_file(job) if job.kind == JobKind.export else None
    if path is None:
        abort(404)
    jobs.record_download(job, current_user)
    db.session.commit()
    response = send_file(path, as_attachment=True, download_name=f"export{path.suffix}")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=export{path.suffix}; filename*=UTF-8''{quote(job.result_name)}")
    return response


@bp.post("/<int:job_id>/retry")
@login_required
def retry(job_id):
    """Put a failed job back in the queue; a job someone already retried (or that did not fail) is told so."""
    require("jobs.manage")
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if not jobs.retry(job, current_user):
        db.session.rollback()
        flash(f"任务 {job.id} 当前状态为“{job.state.title}”，无需重试。", "error")
        return redirect(url_for("jobs.index"), code=303)
    db.session.commit()
    jobs.send(job)
    flash(f"任务 {job.id} 已重新排队。", "success")
    return redirect(url_for("jobs.show", job_id=job.id), code=303)
