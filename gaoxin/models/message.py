"""Messages to an enterprise (企业消息): one row per change in its cases that it should hear about."""
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import LabelledEnum, UTCDateTime, enum_check, enum_column_type, utcnow


class MessageKind(LabelledEnum):
    """What happened to the case, as the enterprise's message list names it."""

    signed = "signed"
    replied = "replied"
    supplement = "supplement"
    accepted = "accepted"
    result = "result"
    refused = "refused"

    __titles__ = {signed: "已签收", replied: "已答复", supplement: "需补正材料", accepted: "已受理",
                  result: "结果已出", refused: "不予受理"}
    __css_classes__ = {replied: "status-ok", supplement: "status-warn", accepted: "status-ok",
                       result: "status-ok", refused: "status-bad"}


class PortalMessage(db.Model):
    """A message in an enterprise's portal, written in the transaction of the change it tells about."""

    __tablename__ = "portal_messages"
    __table_args__ = (
        enum_check("kind", MessageKind, "kind"),
        # Every message is about exactly one case.
        CheckConstraint("(appeal_id IS NULL) <> (application_id IS NULL)", name="one_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    #: The case's receipt number, copied so that the list needs no join.
    receipt_no: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(enum_column_type(MessageKind))
    #: The timeline's public text: what the enterprise may read (no staff names, no internal notes).
    text: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: When the enterprise's list page showed it (any of its accounts); None while unread.
    read_at = mapped_column(UTCDateTime, nullable=True)

    @property
    def kind_enum(self):
        return MessageKind(self.kind)


# The enterprise's list, newest first; and its unread count (a partial index over the few unread rows).
Index("ix_portal_messages_enterprise", PortalMessage.enterprise_id, PortalMessage.id)
_UNREAD = PortalMessage.read_at.is_(None)
Index("ix_portal_messages_unread", PortalMessage.enterprise_id, sqlite_where=_UNREAD, postgresql_where=_UNREAD)
