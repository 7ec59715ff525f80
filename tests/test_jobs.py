"""Background jobs through Huey's immediate mode (the real task code, run inside the request that queues it):
one job per idempotency key, retries then failure with the reason, exports past the sync limit with progress and
an owner-only download, the overdue and due-soon notices, the integrity check and the jobs page."""
import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gaoxin.models import AuditEntry, DepartmentNotice, Job, Role, UnitKind, utcnow
from gaoxin.services import jobs
from gaoxin.services.calendar import today, working_calendar
from gaoxin.workflow import JobKind, JobState
from tests.conftest import text_of


def job_count(db):
    return db.session.scalar(select(func.count()).select_from(Job))


def test_the_same_key_twice_is_one_job(db, make_user):
    user = make_user(Role.sysadmin)
    first, created = jobs.submit(JobKind.cleanup, "cleanup:once", user=user)
    db.session.commit()
    second, created_again = jobs.submit(JobKind.cleanup, "cleanup:once", user=user)
    assert (created, created_again) == (True, False)
    assert second.id == first.id and job_count(db) == 1


def test_a_job_runs_once_however_often_its_message_arrives(db, make_user):
    job, _ = jobs.submit(JobKind.cleanup, "cleanup:twice", user=make_user(Role.sysadmin))
    db.session.commit()
    jobs.send(job)
    jobs.send(job)
    db.session.refresh(job)
    assert (job.state, job.attempts) == (JobState.done, 1)
    assert jobs.claim(job.id) is False


def test_a_job_that_raises_is_retried_then_failed_with_its_reason(db, app, make_user):
    job, _ = jobs.submit(JobKind.export, "export:broken", user=make_user(Role.dispatcher),
                         params={"list": "no-such-list", "fmt": "csv", "args": {}})
    db.session.commit()
    jobs.send(job)
    db.session.refresh(job)
    assert job.state == JobState.failed
    assert job.attempts == 1 + app.config["GAOXIN_JOBS_RETRIES"]
    assert job.reason == "没有名为“no-such-list”的列表，无法导出。"


@pytest.fixture
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "GAOXIN_EXPORT_SYNC_LIMIT", 2)


def test_an_export_past_the_limit_runs_in_the_background_and_only_its_owner_downloads_it(
        client, db, login_as, make_appeal, make_user, small_limit):
    for _ in range(3):
        make_appeal()
    owner = login_as(Role.dispatcher)
    response = client.get("/exports/appeals.csv")
    assert response.status_code == 303
    page_url = response.headers["Location"]
    page = text_of(client.get(page_url))
    assert "数据超过2行，已转为后台导出" in page and "已完成" in page
    assert "下载 诉求-" in page and "只有您本人可以下载" in page
    job = db.session.scalar(select(Job))
    assert (job.kind, job.user_id, job.done, job.total) == ("export", owner.id, 3, 3)
    # Asked again: the same job's page, nothing exported twice.
    again = client.get("/exports/appeals.csv")
    assert again.headers["Location"] == page_url and job_count(db) == 1
    assert "同样的导出已在进行或刚刚完成" in text_of(client.get(page_url))

    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0][0] == "回执号" and len(rows) == 4
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "data_exported" in actions and "export_downloaded" in actions

    for other in (make_user(Role.dispatcher), make_user(Role.sysadmin)):
        client.post("/logout")
        login_as(other)
        assert client.get(f"/jobs/{job.id}/download").status_code == 404
    client.post("/logout")
    login_as(make_user(Role.dispatcher))
    assert client.get(page_url).status_code == 404
    refused = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "access_denied")).all()
    assert refused == ["job.download", "job.download", "job.view"]


def test_an_export_file_is_removed_after_its_time(client, db, login_as, make_appeal, small_limit, app):
    for _ in range(3):
        make_appeal()
    login_as(Role.dispatcher)
    client.get("/exports/appeals.xlsx")
    job = db.session.scalar(select(Job))
    path = Path(app.config["GAOXIN_DATA_DIR"]) / job.result_path
    assert path.is_file()
    assert jobs.remove_expired_exports(now=utcnow() + timedelta(hours=app.config["GAOXIN_EXPORT_KEEP_HOURS"] + 1)) == 1
    assert not path.exists()
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert "文件已过期删除，请重新导出" in text_of(client.get(f"/jobs/{job.id}"))


def test_a_running_job_page_polls_and_offers_a_refresh_link_without_javascript(client, db, login_as):
    user = login_as(Role.dispatcher)
    job, _ = jobs.submit(JobKind.export, "export:waiting", user=user, params={"list": "appeals", "fmt": "csv"})
    db.session.commit()
    body = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-hx-trigger="every 2s"' in body and '<noscript><meta http-equiv="refresh"' in body
    assert "排队中" in text_of(client.get(f"/jobs/{job.id}")) and "立即刷新" in body
    fragment = client.get(f"/jobs/{job.id}?poll=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section id="job-status"')


@pytest.fixture
def late_appeal(db, make_appeal, make_category, make_unit):
    """An appeal dispatched to a department whose sign-for deadline was yesterday."""
    department = make_unit(UnitKind.department)
    appeal = make_appeal(category=make_category(lead_unit=department))
    appeal.sign_due_on = today() - timedelta(days=1)
    db.session.commit()
    return appeal


def test_an_overdue_appeal_is_told_to_its_department_once_and_shows_in_the_inbox_header(
        client, db, login_as, make_user, late_appeal):
    jobs.periodic(JobKind.overdue_check)
    assert jobs.mark_overdue() == 0  # told already
    notice = db.session.scalar(select(DepartmentNotice))
    assert (notice.unit_id, notice.appeal_id, notice.kind) == (late_appeal.lead_unit_id, late_appeal.id, "overdue")
    assert db.session.scalar(select(Job.summary).where(Job.kind == "overdue_check")) == "新增超期提醒1条"

    login_as(make_user(Role.handler, unit=late_appeal.lead_unit))
    assert "部门提醒 1 条未读" in text_of(client.get("/inbox"))
    page = text_of(client.get("/inbox/notices"))
    assert late_appeal.receipt_no in page and "已超期" in page
    client.post("/inbox/notices/read")
    assert "条未读" not in text_of(client.get("/inbox"))
    # Another department sees none of it.
    client.post("/logout")
    login_as(Role.handler)
    assert late_appeal.receipt_no not in text_of(client.get("/inbox/notices"))


def test_a_reminder_comes_two_working_days_before_the_deadline_once(db, make_appeal):
    appeal = make_appeal()
    appeal.due_on = working_calendar().add_workdays(today(), 2)
    later = make_appeal()
    later.due_on = working_calendar().add_workdays(today(), 3)
    db.session.commit()
    assert jobs.remind_due_soon() == 1
    assert jobs.remind_due_soon() == 0
    assert db.session.scalars(select(DepartmentNotice.appeal_id)).all() == [appeal.id]
    # An extension moves the deadline: the new date is reminded again, once.
    appeal.due_on = later.due_on
    db.session.commit()
    assert jobs.remind_due_soon(on=working_calendar().add_workdays(today(), 1)) == 2


def test_the_integrity_check_finds_a_changed_file_and_the_admin_sees_it_and_retries(
        client, db, login_as, make_user, app):
    from gaoxin.models import Attachment
    from gaoxin.services.files import _storage_path

    uploader = make_user(Role.clerk)
    data = b"%PDF-1.4 integrity"
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    path = _storage_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    db.session.add(Attachment(owner_type="appeal", filename="材料.pdf", content_type="application/pdf",
                              size=len(data), sha256=sha, uploaded_by_id=uploader.id))
    db.session.commit()
    job = jobs.periodic(JobKind.integrity_check)
    assert job.state == JobState.done and "附件1个，全部完好" in job.summary and "审计链完整" in job.summary

    path.write_bytes(b"changed")
    failed = jobs.periodic(JobKind.integrity_check)
    if failed.id == job.id:  # the same minute: the key is taken, run the check under a new key
        failed, _ = jobs.submit(JobKind.integrity_check, "integrity:again")
        db.session.commit()
        jobs.run(failed.id, retries_left=0)
        db.session.refresh(failed)
    assert failed.state == JobState.failed
    assert "附件 #" in failed.reason and "材料.pdf" in failed.reason and "不符" in failed.reason

    login_as(Role.sysadmin)
    page = text_of(client.get("/jobs"))
    assert "完整性检查" in page and "材料.pdf" in page and "重试" in page
    path.write_bytes(data)
    response = client.post(f"/jobs/{failed.id}/retry")
    assert response.status_code == 303
    db.session.refresh(failed)
    assert failed.state == JobState.done
    again = client.post(f"/jobs/{failed.id}/retry")
    assert again.status_code == 303 and "无需重试" in text_of(client.get("/jobs"))


@pytest.mark.parametrize("role", [Role.dispatcher, Role.handler, Role.secadmin, Role.auditor, Role.leader])
def test_only_the_system_admin_sees_the_jobs_page_and_retries(client, db, login_as, role):
    job, _ = jobs.submit(JobKind.cleanup, "cleanup:perm")
    job.state = JobState.failed
    db.session.commit()
    login_as(role)
    assert client.get("/jobs").status_code == 403
    assert client.post(f"/jobs/{job.id}/retry").status_code == 403
    assert db.session.get(Job, job.id).state == JobState.failed


def test_a_calendar_change_recomputes_due_dates_as_a_job(client, db, login_as, make_appeal):
    make_appeal()
    login_as(Role.sysadmin)
    day = working_calendar().add_workdays(today(), 1)
    client.post("/settings/calendar/overrides", data={"day": day.isoformat(), "is_workday": "0", "note": "停电"})
    job = db.session.scalar(select(Job).where(Job.kind == "recompute_due_dates"))
    assert job.state == JobState.done and "重新计算了 1 件在办案件的期限" in job.summary
    assert "期限重算" in text_of(client.get("/settings/calendar"))


def test_a_worker_that_died_leaves_its_job_failed_with_the_reason(db, make_user):
    job, _ = jobs.submit(JobKind.cleanup, "cleanup:lost", user=make_user(Role.sysadmin))
    db.session.commit()
    assert jobs.claim(job.id)
    assert jobs.sweep(now=utcnow() + jobs.STALL_AFTER + timedelta(minutes=1)) == (1, 0)
    db.session.refresh(job)
    assert job.state == JobState.failed and job.reason == jobs.LOST_WORKER


def test_an_export_for_a_list_its_user_may_no_longer_see_fails_at_once(db, make_user):
    clerk = make_user(Role.clerk)
    job, _ = jobs.submit(JobKind.export, "export:inbox-by-clerk", user=clerk,
                         params={"list": "inbox", "fmt": "csv", "args": {}})
    db.session.commit()
    jobs.send(job)
    db.session.refresh(job)
    assert (job.state, job.attempts, job.result_path) == (JobState.failed, 1, None)
    assert job.reason == "发起导出的账号已停用或已无权查看该列表，导出未进行。"


def test_monitoring_sees_the_queue_length_the_failed_jobs_and_whether_the_queue_answers(
        app, client, db, make_user, monkeypatch, tmp_path):
    """/metrics and /readyz read the real queue: a SQLite queue file here, as run.sh's worker uses it."""
    from gaoxin import tasks
    from tests.test_ops import series

    broken, _ = jobs.submit(JobKind.export, "export:broken-for-metrics", user=make_user(Role.dispatcher),
                            params={"list": "no-such-list", "fmt": "csv", "args": {}})
    db.session.commit()
    jobs.send(broken)  # immediate mode: fails after its retries
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "GAOXIN_JOBS_URL", "")
    queue = tasks.Queue(app)
    monkeypatch.setitem(app.extensions, "gaoxin_jobs", queue)
    waiting, _ = jobs.submit(JobKind.export, "export:waiting", user=make_user(Role.dispatcher),
                             params={"list": "appeals", "fmt": "csv", "args": {}})
    db.session.commit()
    queue.send(waiting.id)  # no worker runs here: the message waits in the queue file

    body = client.get("/metrics").text
    assert "\ngaoxin_job_queue_length 1.0\n" in body
    states = series(body, "gaoxin_jobs")
    assert states['state="failed"'] == 1 and states['state="queued"'] == 1
    assert series(body, "gaoxin_scrape_errors")['collector="jobs"'] == 0
    assert client.get("/readyz").json["checks"]["jobs"] == "ok"

    monkeypatch.setitem(app.config, "GAOXIN_JOBS_URL", "redis://127.0.0.1:1/0")  # a Redis queue nobody serves
    monkeypatch.setitem(app.extensions, "gaoxin_jobs", tasks.Queue(app))
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "后台任务队列" in ready.json["message"]


def test_the_hourly_cleanup_removes_uploads_no_case_claimed_and_files_a_killed_worker_left(app, db, make_user,
                                                                                            make_appeal):
    """A killed worker or an abandoned form leaves attachment rows without a case, and maybe a temporary file:
    after a day the cleanup removes them, and a stored file only when no other row names the same content."""
    import os
    import time

    from werkzeug.datastructures import FileStorage

    from gaoxin.services import files

    clerk = make_user(Role.clerk)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    def upload(content, name):
        return files.store_upload(FileStorage(io.BytesIO(content), filename=name), clerk, owner_type="appeal")

    abandoned = upload(pdf + b"% abandoned\n", "a.pdf")
    shared = upload(pdf + b"% shared\n", "b.pdf")
    claimed_twin = upload(pdf + b"% shared\n", "c.pdf")  # the same content, claimed by a case below
    claimed_twin.owner_id = make_appeal().id
    fresh = upload(pdf + b"% fresh\n", "d.pdf")
    day_old = utcnow() - timedelta(days=2)
    abandoned.created_at = shared.created_at = day_old
    db.session.commit()
    root = Path(app.config["GAOXIN_DATA_DIR"])
    stray = root / ".upload-killed"
    stray.write_bytes(b"half a file")
    os.utime(stray, (time.time() - 2 * 86400,) * 2)
    abandoned_path = files._storage_path(abandoned.sha256)
    assert abandoned_path.exists()
    abandoned_id, shared_id, fresh_id = abandoned.id, shared.id, fresh.id

    job = jobs.periodic(JobKind.cleanup)

    assert job.state == JobState.done and "2条无主附件记录及2个残留文件" in job.summary
    from gaoxin.models import Attachment

    left = set(db.session.scalars(select(Attachment.id)))
    assert abandoned_id not in left and shared_id not in left and fresh_id in left and claimed_twin.id in left
    assert not abandoned_path.exists() and not stray.exists()
    assert files._storage_path(claimed_twin.sha256).exists() and files._storage_path(fresh.sha256).exists()
