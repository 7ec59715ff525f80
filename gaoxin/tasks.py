"""The task queue (Huey): one queue per app, SQLite in the instance folder by default or Redis (GAOXIN_JOBS_URL);
the task that runs a job row, and the periodic jobs with their schedules. `flask gaoxin worker` consumes it.

Every task runs in its own app context and database session; what a job does lives in services.jobs.
Schedules are in China time (the consumer's clock is UTC; crontab runs with utc=True, so hours are shifted).
"""
from pathlib import Path

from huey import RedisHuey, SqliteHuey, crontab

#: Periodic jobs: kind → (crontab in UTC, what it does). China time is UTC+8.
SCHEDULES = {
    # Every 15 minutes: a case that passes its deadline is told to its department the same quarter-hour.
    "overdue_check": dict(minute="*/15"),
    # 08:05 and 13:05 China time, working days or not (the check itself is idempotent per case and deadline).
    "due_reminders": dict(minute="5", hour="0,5"),
    # 02:30 China time: re-hash every stored file, verify the audit chain.
    "integrity_check": dict(minute="30", hour="18"),
    # Hourly: remove export files past GAOXIN_EXPORT_KEEP_HOURS.
    "cleanup": dict(minute="40"),
}
#: Every 5 minutes: fail jobs whose worker died, re-send queued jobs whose message was lost.
SWEEP = dict(minute="*/5")


def _in_app(app, work):
    """Run `work(jobs)` (services.jobs) in its own app context and database session, as a request would."""
    from .extensions import db
    from .services import jobs

    with app.app_context():
        try:
            return work(jobs)
        finally:
            db.session.remove()


class Queue:
    """An app's Huey instance and its tasks."""

    def __init__(self, app):
        url = app.config["GAOXIN_JOBS_URL"]
        self.immediate = url == "immediate"
        if url.startswith(("redis://", "rediss://", "unix://")):
            self.huey = RedisHuey("gaoxin", url=url)
        else:
            path = Path(app.instance_path) / "jobs.sqlite"
            self.huey = SqliteHuey("gaoxin", filename=str(path), immediate=self.immediate)
        retries = app.config["GAOXIN_JOBS_RETRIES"]
        # Immediate mode has no consumer to run a delayed retry: retry at once.
        delay = 0 if self.immediate else app.config["GAOXIN_JOBS_RETRY_DELAY"]

        @self.huey.task(retries=retries, retry_delay=delay, context=True, name="run_job")
        def run_job(job_id, task=None):
            _in_app(app, lambda jobs: jobs.run(job_id, retries_left=task.retries if task else 0))

        self.run_job = run_job
        for kind, schedule in SCHEDULES.items():
            self._periodic(app, f"periodic_{kind}", schedule, lambda jobs, kind=kind: jobs.periodic(kind))
        self._periodic(app, "sweep", SWEEP, lambda jobs: jobs.sweep())

    def _periodic(self, app, name, schedule, work):
        @self.huey.periodic_task(crontab(**schedule), name=name)
        def periodic():
            _in_app(app, work)

    def send(self, job_id):
        """Queue job `job_id` (or, in immediate mode, run it now)."""
        self.run_job(job_id)

    def consumer(self, workers):
        """A consumer with `workers` threads that also runs the periodic tasks."""
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                         check_worker_health=True)


def init_app(app):
    app.extensions["gaoxin_jobs"] = Queue(app)


def _queue():
    from flask import current_app

    return current_app.extensions["gaoxin_jobs"]


def job_figures():
    """/metrics: messages waiting in the queue, and the job rows by state (failed ones are the alert)."""
    from prometheus_client.core import GaugeMetricFamily
    from sqlalchemy import func, select

    from .extensions import db
    from .models import Job
    from .workflow import JobState

    queue = _queue()
    waiting = GaugeMetricFamily("gaoxin_job_queue_length", "Job messages waiting for a worker.")
    waiting.add_metric([], 0 if queue.immediate else queue.huey.pending_count())
    yield waiting
    by_state = dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    jobs = GaugeMetricFamily("gaoxin_jobs", "Background jobs kept in the jobs table, by state.", labels=["state"])
    for state in JobState:
        jobs.add_metric([state.value], by_state.get(state, 0))
    yield jobs


def queue_ready():
    """/readyz: the queue's storage answers (SQLite file or Redis); None when ready."""
    queue = _queue()
    if queue.immediate:
        return "skip"
    queue.huey.pending_count()
    return None


def _register_monitoring():
    from . import health, metrics

    metrics.register_collector("jobs", job_figures)
    health.register_check("jobs", "后台任务队列", queue_ready)


_register_monitoring()
