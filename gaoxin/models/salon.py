"""Salons (高新沙龙): the meeting, its departments and enterprises, and the public sign-ups."""
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import EnumString, LabelledEnum, StateEnum, UTCDateTime, coerce_to_enum, enum_check, utcnow


class SalonState(StateEnum):
    """Where a salon is: planned → open for sign-up → held → summarised (DOMAIN.md, Salon)."""

    planned = "planned"
    open = "open"
    held = "held"
    summarised = "summarised"

    __titles__ = {planned: "筹备中", open: "报名中", held: "已举办", summarised: "已总结"}
    __css_classes__ = {open: "status-warn", held: "status-ok", summarised: "status-ok"}
    __final__ = frozenset({summarised})


#: state → {action: next state}; the salon service refuses anything else.
SALON_TRANSITIONS = {
    SalonState.planned: {"publish": SalonState.open, "hold": SalonState.held},
    SalonState.open: {"hold": SalonState.held},
    SalonState.held: {"summarise": SalonState.summarised},
    SalonState.summarised: {},
}


class SignupStatus(StateEnum):
    """The organiser's answer to a public sign-up."""

    pending = "pending"
    accepted = "accepted"
    declined = "declined"

    __titles__ = {pending: "待确认", accepted: "已接受", declined: "已婉拒"}
    __css_classes__ = {pending: "status-warn", accepted: "status-ok", declined: "status-bad"}
    __final__ = frozenset({accepted, declined})


class ParticipantSource(LabelledEnum):
    """How an enterprise came to take part."""

    signup = "signup"
    registry = "registry"
    pasted = "pasted"

    __titles__ = {signup: "网络报名", registry: "档案选取", pasted: "名单导入"}


salon_departments = db.Table(
    "salon_departments",
    db.Column("salon_id", db.ForeignKey("salons.id", ondelete="CASCADE"), primary_key=True),
    db.Column("unit_id", db.ForeignKey("units.id"), primary_key=True),
)


class Salon(db.Model):
    """A 高新沙龙 meeting; appeals recorded during it are tagged with it."""

    __tablename__ = "salons"
    __table_args__ = (enum_check("state", SalonState, "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(100))
    held_on = mapped_column(Date, nullable=False, index=True)
    venue: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    state: Mapped[SalonState] = mapped_column(EnumString(SalonState), default=SalonState.planned,
                                              server_default=SalonState.planned.value)
    #: The organising department (经济运行局 in the article); None for the quick records made at intake.
    organiser_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: What the organiser adds to the printed summary.
    summary_note: Mapped[str | None] = mapped_column(Text)
    summarised_at = mapped_column(UTCDateTime, nullable=True)

    _coerce_enums = coerce_to_enum("state")

    organiser_unit = relationship("Unit", lazy="joined")
    departments = relationship("Unit", secondary=salon_departments, lazy="selectin", order_by="Unit.id")

    @property
    def is_accepting_signups(self):
        return self.state == SalonState.open


class SalonParticipant(db.Model):
    """An enterprise taking part in a salon, with its seat (table) on the seating list."""

    __tablename__ = "salon_participants"

    salon_id: Mapped[int] = mapped_column(ForeignKey("salons.id", ondelete="CASCADE"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(10), default=ParticipantSource.registry.value)
    #: The topic the enterprise wants to raise (from its sign-up), printed on the seating list.
    topic: Mapped[str | None] = mapped_column(String(500))
    added_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    enterprise = relationship("Enterprise", lazy="joined", innerjoin=True)

    @property
    def source_title(self):
        return ParticipantSource(self.source).title


class SalonSignup(db.Model):
    """A public sign-up (网络征集): one per enterprise (credit code) and salon."""

    __tablename__ = "salon_signups"
    __table_args__ = (
        UniqueConstraint("salon_id", "credit_code", name="uq_salon_signups_salon_code"),
        enum_check("status", SignupStatus, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    salon_id: Mapped[int] = mapped_column(ForeignKey("salons.id", ondelete="CASCADE"))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    contact_name: Mapped[str] = mapped_column(String(50))
    mobile: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(500))
    status: Mapped[SignupStatus] = mapped_column(EnumString(SignupStatus), default=SignupStatus.pending)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_at = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    _coerce_enums = coerce_to_enum("status")


Index("ix_salon_signups_salon_status", SalonSignup.salon_id, SalonSignup.status, SalonSignup.id)
Index("ix_salons_state_held", Salon.state, Salon.held_on)
