"""Background jobs (后台任务): create one per idempotency key, claim it once, record progress, retries and failure;
what each kind does (import, export, due-date recomputation) and the periodic ones (overdue notices, reminders 2
working days ahead, the nightly integrity check, removing expired export files, reviving lost jobs).

Jobs run in the Huey consumer (`gaoxin.tasks`); this module never talks to Huey except through `send`. A job's
work raises JobError (a Chinese reason) or anything else (a system error); `run` turns either into a retry or,
after the last attempt, a failed job with its reason. Services here flush or commit as the worker needs: a job
is its own transaction(s), never part of a request's.
"""
import hashlib
import json
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Appeal, Attachment, DepartmentNotice, Job, User, utcnow
from ..workflow import AppealState, JobKind, JobState, NoticeKind
from . import audit, files

#: A running job whose row was not touched for this long lost its worker (killed, machine restarted).
STALL_AFTER = timedelta(minutes=10)
#: A queued job that no worker took for this long is handed to the queue again (its message was lost).
RESEND_AFTER = timedelta(minutes=10)
#: A finished export is reused for the same request this long; after that the same list exports afresh.
EXPORT_REUSE = timedelta(minutes=10)
#: Rows between two progress commits of an export.
PROGRESS_EVERY = 2000
LOST_WORKER = "后台进程在运行中中断（服务器重启或进程被结束），可在任务页重试。"


class JobError(Exception):
    """A job cannot do its work; the message (Chinese) is the reason shown on the page. `retry=False` when
    running it again cannot help (or must not happen without a person deciding)."""

    def __init__(self, message, *, retry=True):
        super().__init__(message)
        self.retry = retry


# --------------------------------------------------------------------------- creating and sending


def _insert_ignoring_duplicates(model, rows, keys):
    """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING id on SQLite and PostgreSQL: the ids of the rows that
    were new (two requests with one key make one row, and each learns whether it was the one)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(rows).on_conflict_do_nothing(index_elements=keys).returning(model.id)
    return list(db.session.scalars(statement))


def by_key(key):
    """The job with this idempotency key, or None."""
    return db.session.scalar(select(Job).where(Job.key == key))


def submit(kind, key, *, user=None, params=None, total=None):
    """The job for `key`: a new queued one, or the one already there. Returns (job, created); flushes.

    The caller commits, then calls `send(job)` when it was created (a worker must see the committed row)."""
    existing = by_key(key)
    if existing is not None:
        return existing, False
    now = utcnow()
    inserted = _insert_ignoring_duplicates(Job, [{
        "kind": JobKind(kind).value, "key": key, "state": JobState.queued.value, "user_id": user.id if user else None,
        "params": json.dumps(params or {}, ensure_ascii=False), "total": total, "done": 0, "attempts": 0,
        "created_at": now, "updated_at": now}], ["key"])
    # Nothing inserted: another request made the job for this key first; this one is shown it.
    return by_key(key), bool(inserted)


def send(job):
    """Hand a committed job to the queue (the consumer, or right here in immediate mode)."""
    current_app.extensions["gaoxin_jobs"].send(job.id)


def params(job):
    return json.loads(job.params or "{}")


# --------------------------------------------------------------------------- running


def claim(job_id):
    """Move the job queued → running in one conditional UPDATE; True if this worker got it. Commits."""
    now = utcnow()
    result = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == JobState.queued.value)
        .values(state=JobState.running.value, attempts=Job.attempts + 1, started_at=now, updated_at=now))
    db.session.commit()
    return result.rowcount == 1


def progress(job, done, total=None):
    """Record progress (and touch the row, so the sweep knows the job lives); commits."""
    job.done = done
    if total is not None:
        job.total = total
    db.session.commit()


def run(job_id, *, retries_left):
    """Run one attempt of the job (called by the worker in its own app context).

    A job not queued any more (another delivery of the same message, a retry of a finished job) is left alone.
    An error with retries left puts it back to queued with the reason and re-raises (the queue retries it);
    on the last attempt the job fails with its reason. Returns the job's state."""
    if not claim(job_id):
        current_app.logger.info("Job %s not queued any more; not run again", job_id)
        return None
    job = db.session.get(Job, job_id)
    try:
        summary = HANDLERS[job.kind](job)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, then retried or final
        db.session.rollback()
        reason = str(exc) if isinstance(exc, JobError) else f"系统错误：{type(exc).__name__}: {exc}"[:1000]
        current_app.logger.exception("Job %s (%s) failed, %s retries left", job_id, job.kind, retries_left)
        job = db.session.get(Job, job_id)
        job.reason = reason[:1000]
        if retries_left and getattr(exc, "retry", True):
            job.state = JobState.queued
            job.reason = f"第{job.attempts}次运行失败，稍后自动重试：{reason}"[:1000]
            db.session.commit()
            raise
        job.state = JobState.failed
        job.finished_at = utcnow()
        db.session.commit()
        return JobState.failed
    job.state = JobState.done
    job.summary = summary
    job.reason = None
    job.finished_at = utcnow()
    db.session.commit()
    return JobState.done


def retry(job, user):
    """Put a failed job back in the queue (the jobs page's 重试); False if it is not failed any more. Flushes.
    The caller commits, then `send(job)`."""
    result = db.session.execute(
        update(Job).where(Job.id == job.id, Job.state == JobState.failed.value)
        .values(state=JobState.queued.value, attempts=0, reason=None, finished_at=None, done=0,
                updated_at=utcnow()))
    if result.rowcount != 1:
        return False
    audit.record("job_retried", job, user=user, detail=f"{job.kind.title}（任务 {job.id}）")
    db.session.flush()
    return True


# --------------------------------------------------------------------------- registry import


def submit_import(import_job, path, user, ip, *, remove=False):
    """The queue job that runs a registry import (its progress and report stay on the ImportJob)."""
    return submit(JobKind.registry_import, f"import:{import_job.id}", user=user,
                  params={"import_job_id": import_job.id, "path": str(path), "ip": ip, "remove": remove})


def _run_import(job):
    from ..models import ImportJob, ImportStatus
    from . import imports

    args = params(job)

    def on_progress(done, total):
        progress(job, done, total)

    try:
        imports.run_import(args["import_job_id"], args["path"], ip=args.get("ip"), on_progress=on_progress)
    finally:
        if args.get("remove"):
            Path(args["path"]).unlink(missing_ok=True)
    db.session.expire_all()
    import_job = db.session.get(ImportJob, args["import_job_id"])
    if import_job.status == ImportStatus.failed:
        # Not retried by itself: the batches before the error are saved, the page says to import the file again.
        raise JobError(import_job.message or "导入失败。", retry=False)
    job.total = job.done = import_job.processed_rows
    return f"{import_job.filename}：{import_job.status_title}，新增{import_job.created_count}，" \
           f"更新{import_job.updated_count}，拒绝{import_job.refused_count}"


# --------------------------------------------------------------------------- exports


def export_key(user, name, fmt, args):
    """The idempotency key of an export: the same user, list, format and filters."""
    digest = hashlib.sha256(json.dumps([name, fmt, sorted(args.items())], ensure_ascii=False).encode()).hexdigest()
    return f"export:{user.id}:{digest[:32]}"


def submit_export(user, name, fmt, args):
    """The background export of list `name` (more rows than an export writes inside the request).

    The same request while the first runs, or within EXPORT_REUSE of its end, is the same job; after that the
    old job gives up its key (renamed with its id) so that the list exports afresh. Returns (job, created)."""
    key = export_key(user, name, fmt, args)
    old = by_key(key)
    if old is not None and old.state in (JobState.done, JobState.failed) and (
            old.finished_at is None or utcnow() - old.finished_at > EXPORT_REUSE or old.result_path is None):
        db.session.execute(update(Job).where(Job.id == old.id, Job.key == key).values(key=f"{key}#{old.id}"))
    return submit(JobKind.export, key, user=user, params={"list": name, "fmt": fmt, "args": args})


def _export_dir():
    folder = Path(current_app.config["GAOXIN_DATA_DIR"]) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _CountedRows(list):
    """The table's rows; iterating them records progress every PROGRESS_EVERY rows (the writers iterate once)."""

    def __init__(self, rows, on_progress):
        super().__init__(rows)
        self.on_progress = on_progress

    def __iter__(self):
        for index, row in enumerate(list.__iter__(self), 1):
            if index % PROGRESS_EVERY == 0:
                self.on_progress(index)
            yield row


def _run_export(job):
    from . import export_lists, exports
    from .calendar import today

    from ..permissions import can

    args = params(job)
    user = db.session.get(User, job.user_id)
    if args.get("list") not in export_lists.LISTS:
        raise JobError(f"没有名为“{args.get('list')}”的列表，无法导出。")
    # Asked again at run time: an account disabled or a role withdrawn since the request exports nothing.
    if user is None or not user.is_active or not can(user, export_lists.LISTS[args["list"]][0]):
        raise JobError("发起导出的账号已停用或已无权查看该列表，导出未进行。", retry=False)
    spec = export_lists.build(args["list"], user, args.get("args") or {})
    # Read every page first (the count is then known), then write with progress.
    rows, page = [], 1
    while True:
        items, has_next = spec.fetch(page)
        rows.extend(spec.shape(item) for item in items)
        if not has_next:
            break
        page += 1
        if page % 10 == 0:
            progress(job, 0, None)
    total = len(rows)
    progress(job, 0, total)
    fmt = args["fmt"]
    table = exports.Table(spec.title, spec.headers, _CountedRows(rows, lambda done: progress(job, done)))
    path = _export_dir() / f"job-{job.id}.{fmt}"
    if fmt == "xlsx":
        exports.write_xlsx(table, str(path))
    else:
        with path.open("wb") as out:
            for chunk in exports.csv_chunks(table):
                out.write(chunk)
    job.done = total
    job.result_path = str(path.relative_to(Path(current_app.config["GAOXIN_DATA_DIR"])))
    job.result_name = f"{spec.title}-{today():%Y%m%d}.{fmt}"
    job.expires_at = utcnow() + timedelta(hours=current_app.config["GAOXIN_EXPORT_KEEP_HOURS"])
    exports.record(user, args["list"], table, fmt, {**spec.filters, "后台任务": job.id})
    return f"{spec.title}，{fmt.upper()}，{total}行"


def result_file(job):
    """The absolute path of a job's result file, or None when it has none or it was removed."""
    if not job.result_path:
        return None
    path = Path(current_app.config["GAOXIN_DATA_DIR"]) / job.result_path
    return path if path.is_file() else None


def record_download(job, user):
    """Audit a download of an export's file."""
    audit.record("export_downloaded", job, user=user, detail=f"{job.result_name}（任务 {job.id}）")


# --------------------------------------------------------------------------- due dates after a calendar change


def calendar_snapshot(calendar):
    """A WorkingCalendar as JSON-able params (the calendar before a change, for the recomputation job)."""
    return {"overrides": {d.isoformat(): w for d, w in calendar.overrides.items()},
            "notices": {str(y): {d.isoformat(): w for d, w in days.items()} for y, days in calendar.notices.items()}}


def submit_recompute(before, reason, user):
    """The job that moves open cases' due dates after a calendar change (keyed by the change's audit entry time)."""
    stamp = utcnow().isoformat()
    return submit(JobKind.recompute_due_dates, f"recompute:{stamp}:{user.id if user else 0}", user=user,
                  params={"before": calendar_snapshot(before), "reason": reason})


def _run_recompute(job):
    from datetime import date

    from ..workflow import WorkingCalendar
    from .calendar import recompute_due_dates

    # Changes are applied in order: an earlier change's recomputation must run first (its "before" is older).
    earlier = db.session.scalar(select(func.count()).select_from(Job).where(
        Job.kind == JobKind.recompute_due_dates.value, Job.id < job.id,
        Job.state.in_([JobState.queued.value, JobState.running.value])))
    if earlier:
        raise JobError("前一次期限重算尚未完成，稍后重试。")
    args = params(job)
    snap = args["before"]
    before = WorkingCalendar(
        {date.fromisoformat(d): w for d, w in snap["overrides"].items()},
        {int(y): {date.fromisoformat(d): w for d, w in days.items()} for y, days in snap["notices"].items()})
    moved = recompute_due_dates(before, args["reason"], job.user)
    job.done = job.total = moved
    return f"{args['reason']}：重新计算了 {moved} 件在办案件的期限"


# --------------------------------------------------------------------------- periodic: overdue and due soon


def _notify(kind, appeals_with_due):
    """Add one notice per (appeal, due date) not told yet; returns how many were added. Flushes."""
    rows = [{"unit_id": unit_id, "appeal_id": appeal_id, "kind": kind.value, "due_on": due_on, "created_at": utcnow()}
            for appeal_id, unit_id, due_on in appeals_with_due]
    # 500 rows a statement: SQLite allows 32,766 bound values in one, and the first run may find thousands.
    return sum(len(_insert_ignoring_duplicates(DepartmentNotice, rows[i:i + 500], ["kind", "appeal_id", "due_on"]))
               for i in range(0, len(rows), 500))


def _department_deadline():
    """The deadline running now for the lead department: sign-for while dispatched, handling after."""
    from sqlalchemy import case

    return case((Appeal.state == AppealState.dispatched.value, Appeal.sign_due_on), else_=Appeal.due_on)


def mark_overdue(on=None):
    """Tell each department about its appeals that passed their deadline (once per appeal and deadline)."""
    from .calendar import today

    on = on or today()
    deadline = _department_deadline()
    found = db.session.execute(select(Appeal.id, Appeal.lead_unit_id, deadline).where(
        Appeal.state.in_([AppealState.dispatched.value, AppealState.in_progress.value]),
        Appeal.lead_unit_id.is_not(None), deadline < on)).all()
    return _notify(NoticeKind.overdue, found)


def remind_due_soon(on=None):
    """Tell each department about its appeals whose handling deadline (办理期限) is at most 2 working days away
    (once per appeal and deadline: an extension's new date is told again)."""
    from .calendar import today, working_calendar

    on = on or today()
    target = working_calendar().add_workdays(on, 2)
    # Every date up to the target, not only the target: a run missed (a stopped worker, a weekend between two
    # runs) must not skip a case; the unique key keeps it to one notice.
    found = db.session.execute(select(Appeal.id, Appeal.lead_unit_id, Appeal.due_on).where(
        Appeal.state.in_([AppealState.dispatched.value, AppealState.in_progress.value]),
        Appeal.lead_unit_id.is_not(None), Appeal.due_on > on, Appeal.due_on <= target)).all()
    return _notify(NoticeKind.due_soon, found)


def _run_overdue(job):
    added = mark_overdue()
    job.done = job.total = added
    return f"新增超期提醒{added}条"


def _run_reminders(job):
    added = remind_due_soon()
    job.done = job.total = added
    return f"新增到期提醒{added}条"


def unread_count(unit_id):
    """The unit's unread notices: one count over a partial index (the inbox header shows it)."""
    if unit_id is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(DepartmentNotice).where(
        DepartmentNotice.unit_id == unit_id, DepartmentNotice.read_at.is_(None)))


def notices_page(unit_id, page=1):
    """One page of the unit's notices, newest first: (notices, has_next)."""
    from .pages import fetch_page

    query = select(DepartmentNotice).where(DepartmentNotice.unit_id == unit_id).order_by(
        DepartmentNotice.created_at.desc(), DepartmentNotice.id.desc())
    return fetch_page(query, page)


def mark_read(unit_id):
    """Mark every unread notice of the unit read; returns how many. Flushes."""
    result = db.session.execute(update(DepartmentNotice).where(
        DepartmentNotice.unit_id == unit_id, DepartmentNotice.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount


# --------------------------------------------------------------------------- periodic: integrity


def check_files():
    """Re-hash every stored attachment against its row: (files checked, [problem, …])."""
    from .files import CHUNK, _storage_path

    checked, problems = 0, []
    rows = db.session.execute(select(Attachment.id, Attachment.filename, Attachment.sha256).order_by(Attachment.id))
    for attachment_id, filename, sha256 in rows:
        checked += 1
        path = _storage_path(sha256)
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            problems.append(f"附件 #{attachment_id}“{filename}”的文件缺失。")
            continue
        if digest.hexdigest() != sha256:
            problems.append(f"附件 #{attachment_id}“{filename}”的文件内容与登记的哈希不符（已损坏或被改动）。")
    return checked, problems


def _run_integrity(job):
    checked, problems = check_files()
    chain = audit.verify_chain()
    audit.save_check(chain, username="job")
    job.done = job.total = checked
    files = f"附件{checked}个，" + (f"{len(problems)}个有问题：" + "；".join(problems[:20]) if problems else "全部完好")
    text = f"{files}。{chain.summary}"
    if problems or not chain.ok:
        raise JobError(text[:1000])
    return text


def latest(kind):
    """The newest job of this kind, or None."""
    return db.session.scalar(select(Job).where(Job.kind == JobKind(kind).value).order_by(Job.id.desc()).limit(1))


# --------------------------------------------------------------------------- periodic: housekeeping


def remove_expired_exports(now=None):
    """Delete the files of exports past their time; returns how many. Commits."""
    now = now or utcnow()
    removed = 0
    for job in db.session.scalars(select(Job).where(Job.kind == JobKind.export.value,
                                                    Job.result_path.is_not(None), Job.expires_at < now)):
        (Path(current_app.config["GAOXIN_DATA_DIR"]) / job.result_path).unlink(missing_ok=True)
        job.result_path = None
        job.summary = (job.summary or "") + "（文件已过期删除）"
        removed += 1
    db.session.commit()
    return removed


#: Finished periodic job rows are kept this long on the jobs page (the overdue check alone makes 96 a day).
KEEP_PERIODIC = timedelta(days=30)


#: An upload no case claimed after this long is abandoned (its form was left or its worker killed).
ABANDONED_UPLOAD_AFTER = timedelta(days=1)


def _run_cleanup(job):
    removed = remove_expired_exports()
    rows, stray_files = files.remove_abandoned(utcnow() - ABANDONED_UPLOAD_AFTER)
    old = db.session.execute(delete(Job).where(
        Job.user_id.is_(None), Job.state == JobState.done.value, Job.finished_at < utcnow() - KEEP_PERIODIC,
        Job.kind.in_([JobKind.overdue_check.value, JobKind.due_reminders.value, JobKind.cleanup.value]))).rowcount
    return (f"删除过期导出文件{removed}个，清理{old}条旧的定时任务记录，"
            f"{rows}条无主附件记录及{stray_files}个残留文件")


def sweep(now=None):
    """Fail running jobs whose worker is gone, and re-send queued jobs no worker took. Returns (failed, resent)."""
    now = now or utcnow()
    stalled = db.session.execute(update(Job).where(
        Job.state == JobState.running.value, Job.updated_at < now - STALL_AFTER)
        .values(state=JobState.failed.value, reason=LOST_WORKER, finished_at=now)).rowcount
    lost = list(db.session.scalars(select(Job.id).where(
        Job.state == JobState.queued.value, Job.updated_at < now - RESEND_AFTER)))
    if lost:
        db.session.execute(update(Job).where(Job.id.in_(lost)).values(updated_at=now))
    db.session.commit()
    for job_id in lost:
        current_app.extensions["gaoxin_jobs"].send(job_id)
    return stalled, len(lost)


def periodic(kind):
    """Run a periodic job once: one Job row per kind and run (key with the minute), so it shows on the jobs page."""
    key = f"{kind}:{utcnow():%Y-%m-%dT%H:%M}"
    job, created = submit(kind, key)
    db.session.commit()
    if created:
        run(job.id, retries_left=0)
    return job


HANDLERS = {
    JobKind.registry_import: _run_import,
    JobKind.export: _run_export,
    JobKind.recompute_due_dates: _run_recompute,
    JobKind.overdue_check: _run_overdue,
    JobKind.due_reminders: _run_reminders,
    JobKind.integrity_check: _run_integrity,
    JobKind.cleanup: _run_cleanup,
}


# --------------------------------------------------------------------------- the jobs page


def recent_page(page=1):
    """One page of jobs, newest first: (jobs, has_next)."""
    from .pages import fetch_page

    return fetch_page(select(Job).order_by(Job.created_at.desc(), Job.id.desc()), page)
