"""Appeals (诉求): categories with routing rules, the appeal itself, co-handlers, extensions and the timeline."""
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, case, literal, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import Grouping

from ..extensions import db
from ..workflow import ANSWERED_APPEAL_STATES, DEPARTMENT_APPEAL_STATES, AppealState
from .event import Event
from .salon import Salon  # noqa: F401 - moved to models/salon.py; kept importable from here
from .base import (
    EnumString, LabelledEnum, StateEnum, UTCDateTime, coerce_to_enum, enum_check, enum_column_type, sql_values,
    utcnow,
)


class Channel(LabelledEnum):
    """Where an appeal was recorded (受理渠道)."""

    building_station = "building_station"
    service_point = "service_point"
    window = "window"
    salon = "salon"
    phone = "phone"
    online = "online"

    __titles__ = {
        building_station: "楼宇企业服务站",
        service_point: "企业服务中心工作服务点",
        window: "一窗式窗口",
        salon: "高新沙龙",
        phone: "电话",
        online: "网上",
    }


class ReplyOutcome(LabelledEnum):
    """The outcome of a department's reply (办理结果)."""

    resolved = "resolved"
    explained = "explained"
    adopted = "adopted"

    __titles__ = {resolved: "已解决", explained: "已解释说明", adopted: "建议已采纳"}


class Satisfaction(LabelledEnum):
    """The enterprise's verdict at the follow-up (回访)."""

    satisfied = "satisfied"
    basically = "basically"
    unsatisfied = "unsatisfied"

    __titles__ = {satisfied: "满意", basically: "基本满意", unsatisfied: "不满意"}


class ExtensionStatus(StateEnum):
    """Where an extension request is: waiting for the dispatcher, or decided."""

    pending = "pending"
    approved = "approved"
    refused = "refused"

    __titles__ = {pending: "待审批", approved: "已同意", refused: "不同意"}
    __css_classes__ = {pending: "status-warn", approved: "status-ok", refused: "status-bad"}
    __final__ = frozenset({approved, refused})

#: Default handling limit in working days when a category sets none (DOMAIN.md).
DEFAULT_HANDLING_DAYS = 5
#: Sign-for limit: 1 working day after dispatch.
SIGN_DAYS = 1
#: Appeal content limit, in characters.
CONTENT_MAX = 5000
#: The state title of a merged duplicate (its state is withdrawn: closed without an answer of its own).
MERGED_TITLE = "已并案"

category_co_units = db.Table(
    "category_co_units",
    db.Column("category_id", db.ForeignKey("appeal_categories.id", ondelete="CASCADE"), primary_key=True),
    db.Column("unit_id", db.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class AppealCategory(db.Model):
    """A category and its routing rule: lead department (主办), co-handlers (协办), handling limit."""

    __tablename__ = "appeal_categories"
    __table_args__ = (CheckConstraint("handling_days BETWEEN 1 AND 60", name="handling_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    #: No lead department → appeals of this category wait in the dispatch centre's queue.
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    handling_days: Mapped[int] = mapped_column(default=DEFAULT_HANDLING_DAYS)

    lead_unit = relationship("Unit", lazy="joined")
    #: Read by routing and the category settings (which load it with the list); not by every page that shows
    #: an appeal's category (the appeal page paid a statement for it).
    co_units = relationship("Unit", secondary=category_co_units, lazy="select", order_by="Unit.id")


class Appeal(db.Model):
    __tablename__ = "appeals"
    __table_args__ = (
        enum_check("state", AppealState, "state"),
        enum_check("channel", Channel, "channel"),
        enum_check("reply_outcome", ReplyOutcome, "reply_outcome", nullable=True),
        enum_check("satisfaction", Satisfaction, "satisfaction", nullable=True),
        # A replied or closed appeal always has its outcome and the text the enterprise sees.
        CheckConstraint(f"state NOT IN ({sql_values(ANSWERED_APPEAL_STATES)}) OR reply_outcome IS NOT NULL",
                        name="replied_has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the enterprise keeps: SQ + date + id, printed on the receipt (回执).
    receipt_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: The intake form's one-time token: a resubmitted form finds the appeal it already created.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    #: Why the appeal has no contact with a mobile (nobody to call for the 回访 otherwise).
    no_contact_reason: Mapped[str | None] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("appeal_categories.id"), active_history=True)
    channel: Mapped[str] = mapped_column(enum_column_type(Channel), active_history=True)
    salon_id: Mapped[int | None] = mapped_column(ForeignKey("salons.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[AppealState] = mapped_column(EnumString(AppealState), default=AppealState.registered)

    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recording_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), active_history=True)
    #: The department responsible now (主办); None while it waits for the dispatcher.
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), active_history=True)
    #: The handler in the lead department who signed or was assigned.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    handling_days: Mapped[int] = mapped_column(default=DEFAULT_HANDLING_DAYS)
    # The columns the dashboard's rollup counts keep their old value when set (active_history), so that
    # services.rollups can take the appeal out of its old rows whatever was loaded before.
    dispatched_at = mapped_column(UTCDateTime, nullable=True, active_history=True)
    sign_due_on = mapped_column(Date, nullable=True)
    signed_at = mapped_column(UTCDateTime, nullable=True)
    #: Signed within the 1-working-day limit (the response rate counts these).
    signed_in_time: Mapped[bool | None] = mapped_column(active_history=True)
    due_on = mapped_column(Date, nullable=True)
    extended_days: Mapped[int] = mapped_column(default=0)
    return_count: Mapped[int] = mapped_column(default=0)
    supervised_at = mapped_column(UTCDateTime, nullable=True)
    reopened: Mapped[bool] = mapped_column(default=False)

    reply_outcome: Mapped[str | None] = mapped_column(String(10), active_history=True)
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at = mapped_column(UTCDateTime, nullable=True, active_history=True)
    replied_in_time: Mapped[bool | None] = mapped_column(active_history=True)
    satisfaction: Mapped[str | None] = mapped_column(String(12), active_history=True)
    followed_up_at = mapped_column(UTCDateTime, nullable=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)
    #: 并案: the main appeal this duplicate was merged into (its state is then withdrawn). Figures count the
    #: main case once: exclude merged ones with `Appeal.merged_into_id.is_(None)` (see `is_merged`).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"), index=True)
    merged_at = mapped_column(UTCDateTime, nullable=True)

    __mapper_args__ = {"version_id_col": version}
    _coerce_enums = coerce_to_enum("state")

    enterprise = relationship("Enterprise", lazy="joined", innerjoin=True)
    contact = relationship("Contact", lazy="joined")
    category = relationship("AppealCategory", lazy="joined", innerjoin=True)
    salon = relationship("Salon", lazy="joined")
    merged_into = relationship("Appeal", remote_side=[id], foreign_keys=[merged_into_id], lazy="select")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id], lazy="raise_on_sql")
    recording_unit = relationship("Unit", foreign_keys=[recording_unit_id], lazy="joined", innerjoin=True)
    lead_unit = relationship("Unit", foreign_keys=[lead_unit_id], lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    co_handlers = relationship(
        "AppealCoHandler", back_populates="appeal", lazy="selectin", cascade="all, delete-orphan",
        order_by="AppealCoHandler.unit_id",
    )
    events = relationship(
        "Event", back_populates="appeal", lazy="raise_on_sql", order_by="Event.id",
        cascade="all, delete-orphan",
    )
    extensions = relationship(
        "Extension", back_populates="appeal", lazy="raise_on_sql", order_by="Extension.id",
        cascade="all, delete-orphan",
    )

    @property
    def state_enum(self):
        """The state as an AppealState (the column is one already; kept for older callers)."""
        return AppealState(self.state)

    @property
    def state_title(self):
        return MERGED_TITLE if self.is_merged else AppealState(self.state).title

    @property
    def is_merged(self):
        """A duplicate closed into another appeal (并案): count it nowhere, the main case stands for it."""
        return self.merged_into_id is not None

    @property
    def channel_title(self):
        return Channel(self.channel).title

    @property
    def outcome_title(self):
        return ReplyOutcome(self.reply_outcome).title if self.reply_outcome else ""

    @property
    def satisfaction_title(self):
        return Satisfaction(self.satisfaction).title if self.satisfaction else ""

    @property
    def is_supervised(self):
        return self.supervised_at is not None


# The dashboard (services/figures.py): every figure of a period is one aggregate over the appeals dispatched in
# it, read from this index alone (no table rows), grouped by department, category, channel or intake unit.
Index("ix_appeals_figures", Appeal.dispatched_at, Appeal.lead_unit_id, Appeal.signed_in_time, Appeal.replied_at,
      Appeal.replied_in_time, Appeal.reply_outcome, Appeal.satisfaction, Appeal.return_count, Appeal.category_id,
      Appeal.channel, Appeal.recording_unit_id)
# The returns (退单) each department made in a period.
Index("ix_events_action_at", Event.action, Event.at, Event.actor_unit_id)

# Every list's filter and sort, at 1,000,000 appeals:
Index("ix_appeals_lead_state_due", Appeal.lead_unit_id, Appeal.state, Appeal.due_on)
Index("ix_appeals_lead_supervised", Appeal.lead_unit_id, Appeal.supervised_at)
Index("ix_appeals_state_created", Appeal.state, Appeal.created_at)
Index("ix_appeals_state_due", Appeal.state, Appeal.due_on)
Index("ix_appeals_unit_created", Appeal.recording_unit_id, Appeal.created_at)
Index("ix_appeals_enterprise_created", Appeal.enterprise_id, Appeal.created_at)
Index("ix_appeals_category_created", Appeal.category_id, Appeal.created_at)
Index("ix_appeals_created", Appeal.created_at)

# The department inbox and the dispatcher's overdue list (services/queues.py): partial indexes over the few
# cases still being worked, carrying every column those lists filter and sort on, so that neither database
# walks ten years of closed cases. SQLite's planner knows only average rows per state (94% are closed) and
# picks a full scan without them. The conditions are ORs of equalities because SQLite can prove that a
# query's `state = 'dispatched'` (a literal, not a bound parameter) implies one, but not an IN list.
_OPEN = or_(*(Appeal.state == s for s in DEPARTMENT_APPEAL_STATES))
_DONE = or_(*(Appeal.state == s for s in ANSWERED_APPEAL_STATES))
Index("ix_appeals_open_work", Appeal.lead_unit_id, Appeal.state, Appeal.due_on, Appeal.supervised_at,
      Appeal.sign_due_on, Appeal.category_id, Appeal.created_at, Appeal.enterprise_id, Appeal.version, Appeal.id,
      sqlite_where=_OPEN, postgresql_where=_OPEN)
#: The deadline running now: signing for a dispatched appeal, handling otherwise. For a dispatched appeal
#: the sign-for deadline is never after the handling one (both restart at dispatch; extensions come after
#: signing), so an open appeal is overdue exactly when this date is past. The state is a literal so that
#: SQLite matches the expression of ix_appeals_open_due in a query.
EFFECTIVE_DUE = case(
    (Appeal.state == literal(AppealState.dispatched.value, literal_execute=True), Appeal.sign_due_on),
    else_=Appeal.due_on)
# PostgreSQL wants an expression in an index definition in its own parentheses, and reads the index
# alone (index-only scan) only when the columns the expression is made of are in it too.
Index("ix_appeals_open_due", Grouping(EFFECTIVE_DUE), Appeal.lead_unit_id, Appeal.id, Appeal.version, Appeal.state,
      Appeal.sign_due_on, Appeal.due_on, sqlite_where=_OPEN, postgresql_where=_OPEN)
Index("ix_appeals_done_replied", Appeal.lead_unit_id, Appeal.replied_at, Appeal.id, Appeal.category_id,
      Appeal.created_at, Appeal.enterprise_id, Appeal.version, sqlite_where=_DONE, postgresql_where=_DONE)
# 已答复 filtered by enterprise: without it PostgreSQL ANDs a bitmap of the department's 250,000 rows.
Index("ix_appeals_done_enterprise", Appeal.lead_unit_id, Appeal.enterprise_id, Appeal.replied_at, Appeal.id,
      Appeal.version, sqlite_where=_DONE, postgresql_where=_DONE)


class AppealCoHandler(db.Model):
    """A co-handling department (协办) and the opinion it gives before the lead may reply."""

    __tablename__ = "appeal_co_handlers"

    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    opinion: Mapped[str | None] = mapped_column(Text)
    opinion_at = mapped_column(UTCDateTime, nullable=True)
    opinion_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    appeal = relationship("Appeal", back_populates="co_handlers", lazy="raise_on_sql")
    unit = relationship("Unit", lazy="joined", innerjoin=True)


# The inbox's 协办 tab: the co-handling rows still waiting for a unit's opinion.
Index("ix_appeal_co_handlers_pending", AppealCoHandler.unit_id, AppealCoHandler.opinion_at, AppealCoHandler.appeal_id)


class Extension(db.Model):
    """A request for more working days, decided by the dispatcher."""

    __tablename__ = "appeal_extensions"
    __table_args__ = (
        enum_check("status", ExtensionStatus, "status"),
        CheckConstraint("days BETWEEN 1 AND 30", name="days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    days: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(EnumString(ExtensionStatus), default=ExtensionStatus.pending,
                                                    index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime, nullable=True)
    decision_comment: Mapped[str | None] = mapped_column(Text)

    _coerce_enums = coerce_to_enum("status")

    appeal = relationship("Appeal", back_populates="extensions", lazy="joined", innerjoin=True)
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")

    @property
    def status_title(self):
        return ExtensionStatus(self.status).title
