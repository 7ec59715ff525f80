"""The timeline (Event): one entry per action on an appeal or an application, internal or public."""
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class Event(db.Model):
    """One timeline entry; `public` entries (with `public_text`) are what the enterprise sees."""

    __tablename__ = "events"
    __table_args__ = (
        # Every entry belongs to exactly one case.
        CheckConstraint("(appeal_id IS NULL) <> (application_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    #: Internal comment: staff only.
    comment: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(default=False)
    #: What the enterprise reads in the public lookup (no staff names, no internal notes).
    public_text: Mapped[str | None] = mapped_column(Text)

    appeal = relationship("Appeal", back_populates="events", lazy="raise_on_sql")
    actor = relationship("User", lazy="joined")
    actor_unit = relationship("Unit", lazy="joined")


Index("ix_events_appeal_id", Event.appeal_id, Event.id)
Index("ix_events_application_id", Event.application_id, Event.id)
Index("ix_events_appeal_action", Event.appeal_id, Event.action)
