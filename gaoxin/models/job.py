"""Background jobs (后台任务) run by the Huey consumer, and the in-app notices the periodic jobs leave for departments."""
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workflow import JobKind, JobState, NoticeKind
from .base import EnumString, UTCDateTime, coerce_to_enum, enum_check, utcnow


class Job(db.Model):
    """One background job: what it does, its idempotency key, where it is, its progress, its result file.

    The key is unique: a second request for the same work finds the first job instead of starting another.
    A worker moves it queued → running with a conditional UPDATE, so a message delivered twice runs once.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        enum_check("state", JobState, "state"),
        enum_check("kind", JobKind, "kind"),
        UniqueConstraint("key", name="uq_jobs_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(EnumString(JobKind, length=30))
    #: The idempotency key: the same key enqueued twice is one job (e.g. "export:<user>:<digest>").
    key: Mapped[str] = mapped_column(String(200))
    state: Mapped[JobState] = mapped_column(EnumString(JobState, length=10), default=JobState.queued)
    #: Who started it (None for the periodic jobs).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The job's input as JSON (list name and filters of an export, the calendar before a change, …).
    params: Mapped[str | None] = mapped_column(Text)
    done: Mapped[int] = mapped_column(default=0)
    #: None while the amount of work is not known yet.
    total: Mapped[int | None] = mapped_column()
    #: Runs started (a retry counts one more).
    attempts: Mapped[int] = mapped_column(default=0)
    #: Why it failed (or why the last attempt failed while a retry is pending), in Chinese.
    reason: Mapped[str | None] = mapped_column(Text)
    #: What it did, in one line of Chinese (rows written, cases moved, files checked…).
    summary: Mapped[str | None] = mapped_column(Text)
    #: The file it produced (an export), relative to GAOXIN_DATA_DIR, and the name it is downloaded under.
    result_path: Mapped[str | None] = mapped_column(String(200))
    result_name: Mapped[str | None] = mapped_column(String(200))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Touched by every progress step: a running job not touched for long lost its worker.
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    started_at = mapped_column(UTCDateTime, nullable=True)
    finished_at = mapped_column(UTCDateTime, nullable=True)
    #: When the result file is removed (exports).
    expires_at = mapped_column(UTCDateTime, nullable=True)

    _coerce_enums = coerce_to_enum("state", "kind")

    user = relationship("User", lazy="joined")

    @property
    def percent(self):
        """Progress in whole percent (0 while the total is unknown)."""
        if self.state == JobState.done:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


# The jobs page lists the newest first; the sweep looks for stale queued / running jobs.
Index("ix_jobs_created", Job.created_at.desc(), Job.id.desc())
Index("ix_jobs_state_updated", Job.state, Job.updated_at)
Index("ix_jobs_kind", Job.kind, Job.id)


class DepartmentNotice(db.Model):
    """An in-app notice (部门提醒) to a department about one appeal: overdue, or due in 2 working days.

    One per (kind, appeal, due date): the periodic jobs may run as often as they like, and an appeal whose
    due date moves (an extension) is told about again for the new date.
    """

    __tablename__ = "department_notices"
    __table_args__ = (
        enum_check("kind", NoticeKind, "kind"),
        UniqueConstraint("kind", "appeal_id", "due_on", name="uq_department_notices_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(EnumString(NoticeKind, length=10))
    due_on = mapped_column(Date, nullable=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime, nullable=True)

    _coerce_enums = coerce_to_enum("kind")

    appeal = relationship("Appeal", lazy="joined")


# The notices page (a unit's newest first) and the inbox badge (a unit's unread ones: a partial index, so the
# count reads only the unread rows).
Index("ix_department_notices_unit_created", DepartmentNotice.unit_id, DepartmentNotice.created_at.desc(),
      DepartmentNotice.id.desc())
Index("ix_department_notices_unread", DepartmentNotice.unit_id,
      sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL"))
