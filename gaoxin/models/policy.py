"""Policies (政策目录) with their material checklists, and policy applications (政策兑现申报)."""
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workflow import ApplicationOutcome, ApplicationState
from .base import EnumString, LabelledEnum, UTCDateTime, coerce_to_enum, enum_check, enum_column_type, utcnow

#: Money is NUMERIC(14, 2) in yuan, Decimal in Python: never float.
Money = Numeric(14, 2, asdecimal=True)


class PolicyLevel(LabelledEnum):
    """Which government's policy it is (政策层级)."""

    district = "district"
    city = "city"
    province = "province"

    __titles__ = {district: "区级", city: "市级", province: "省级"}


class ItemCheck(LabelledEnum):
    """The window's finding on one checklist item (形式审查)."""

    ok = "ok"
    missing = "missing"
    faulty = "faulty"

    __titles__ = {ok: "齐全", missing: "缺少", faulty: "有误"}
    __css_classes__ = {ok: "status-ok", missing: "status-bad", faulty: "status-bad"}

    @property
    def needs_supplement(self) -> bool:
        """The item goes on the one-time supplement notice (missing or faulty)."""
        return self is not ItemCheck.ok


class Policy(db.Model):
    __tablename__ = "policies"
    __table_args__ = (
        enum_check("level", PolicyLevel, "level"),
        CheckConstraint("max_amount > 0", name="max_amount_positive"),
        CheckConstraint("review_days BETWEEN 1 AND 90", name="review_days"),
        CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(enum_column_type(PolicyLevel))
    #: The responsible department, which reviews applications on substance (实质审查).
    department_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    opens_on = mapped_column(Date, nullable=True)
    closes_on = mapped_column(Date, nullable=True)
    max_amount = mapped_column(Money, nullable=False)
    review_days: Mapped[int] = mapped_column(default=20)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    department = relationship("Unit", lazy="joined", innerjoin=True)
    items = relationship("PolicyItem", back_populates="policy", lazy="selectin", order_by="PolicyItem.position",
                         cascade="all, delete-orphan")

    @property
    def level_title(self):
        return PolicyLevel(self.level).title


class PolicyItem(db.Model):
    """One material on a policy's checklist."""

    __tablename__ = "policy_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    required: Mapped[bool] = mapped_column(default=True)
    #: Accepted formats, comma-separated keys of services.files.ACCEPTED (e.g. "pdf,jpg,png").
    formats: Mapped[str] = mapped_column(String(40), default="pdf,jpg,png,docx,xlsx")
    note: Mapped[str | None] = mapped_column(String(300))

    policy = relationship("Policy", back_populates="items", lazy="raise_on_sql")

    @property
    def format_list(self):
        return [f for f in self.formats.split(",") if f]


class Application(db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        enum_check("state", ApplicationState, "state"),
        CheckConstraint("declared_amount > 0", name="declared_positive"),
        CheckConstraint("approved_amount IS NULL OR approved_amount <= declared_amount", name="approved_le_declared"),
        CheckConstraint("disbursed_amount IS NULL OR disbursed_amount <= approved_amount", name="disbursed_le_approved"),
        enum_check("outcome", ApplicationOutcome, "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SB + date + id; None while a draft.
    receipt_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    #: The policy's department, copied so the department's list is one indexed range.
    department_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    declared_amount = mapped_column(Money, nullable=False)
    state: Mapped[ApplicationState] = mapped_column(EnumString(ApplicationState), default=ApplicationState.draft)
    intake_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    intake_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    #: The day the file became complete (受理日), which starts the review clock.
    accepted_on = mapped_column(Date, nullable=True)
    review_due_on = mapped_column(Date, nullable=True)
    #: Kept once the state has moved on to result_issued or disbursed, which no longer tell approved from rejected.
    outcome: Mapped[ApplicationOutcome | None] = mapped_column(EnumString(ApplicationOutcome))
    approved_amount = mapped_column(Money, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at = mapped_column(UTCDateTime, nullable=True)
    result_issued_at = mapped_column(UTCDateTime, nullable=True)
    disbursed_amount = mapped_column(Money, nullable=True)
    disbursed_on = mapped_column(Date, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    _coerce_enums = coerce_to_enum("state", "outcome")

    enterprise = relationship("Enterprise", lazy="joined", innerjoin=True)
    policy = relationship("Policy", lazy="joined", innerjoin=True)
    department = relationship("Unit", foreign_keys=[department_id], lazy="joined", innerjoin=True)
    intake_unit = relationship("Unit", foreign_keys=[intake_unit_id], lazy="joined", innerjoin=True)
    contact = relationship("Contact", lazy="joined")
    items = relationship("ApplicationItem", back_populates="application", lazy="selectin",
                         cascade="all, delete-orphan", order_by="ApplicationItem.item_id")
    notices = relationship("SupplementNotice", back_populates="application", lazy="raise_on_sql",
                           order_by="SupplementNotice.id", cascade="all, delete-orphan")

    @property
    def state_title(self):
        return ApplicationState(self.state).title


Index("ix_applications_dept_state_due", Application.department_id, Application.state, Application.review_due_on)
Index("ix_applications_state_created", Application.state, Application.created_at)
Index("ix_applications_unit_created", Application.intake_unit_id, Application.created_at)
Index("ix_applications_enterprise_created", Application.enterprise_id, Application.created_at)
#: Covers the policy page's figures (counts by state, approved and disbursed totals): an index-only scan.
Index("ix_applications_policy_figures", Application.policy_id, Application.state, Application.outcome,
      Application.approved_amount, Application.disbursed_amount)
Index("ix_applications_created", Application.created_at)
#: The dashboard's applications per policy (services.figures.applications_by_policy): the period's applications
#: by submission time, with every column it sums and the id its supplement notices are joined on: an index-only
#: range scan instead of every application of every policy (340 ms at 200,000 applications on SQLite).
Index("ix_applications_submitted_figures", Application.submitted_at, Application.policy_id, Application.accepted_on,
      Application.outcome, Application.approved_amount, Application.disbursed_amount, Application.id)
#: A department's list of all its applications, newest first (GET /applications for handler and dept_lead).
Index("ix_applications_dept_created", Application.department_id, Application.created_at)


class ApplicationItem(db.Model):
    """One checklist item of one application: paper received or files (Attachment with item_key), and the window's check."""

    __tablename__ = "application_items"
    __table_args__ = (
        UniqueConstraint("application_id", "item_id", name="uq_application_items_application_item"),
        enum_check("check_status", ItemCheck, "check_status", nullable=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("policy_items.id"))
    paper_received: Mapped[bool] = mapped_column(default=False)
    check_status: Mapped[ItemCheck | None] = mapped_column(EnumString(ItemCheck, length=10))
    check_reason: Mapped[str | None] = mapped_column(String(300))

    _coerce_enums = coerce_to_enum("check_status")

    application = relationship("Application", back_populates="items", lazy="raise_on_sql")
    item = relationship("PolicyItem", lazy="joined", innerjoin=True)

    @property
    def flagged(self):
        """The window found the item missing or faulty (and nothing new has come in since)."""
        return self.check_status is not None and ItemCheck(self.check_status).needs_supplement


class SupplementNotice(db.Model):
    """一次性告知书: every missing or faulty item, listed at once."""

    __tablename__ = "supplement_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    #: 'window' (形式审查) or 'department' (实质审查 back to supplement).
    issued_by_stage: Mapped[str] = mapped_column(String(12), default="window")
    #: JSON list of {"item": name, "status": missing|faulty, "reason": text}.
    items_json: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    completed_on = mapped_column(Date, nullable=True)

    application = relationship("Application", back_populates="notices", lazy="raise_on_sql")
