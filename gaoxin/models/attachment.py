"""Uploaded files, for appeals and applications alike: content-checked, stored by SHA-256."""
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class Attachment(db.Model):
    """A file attached to an owner (`owner_type` 'appeal' or 'application', `owner_id`)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column()
    #: For an application's checklist item; None for appeal attachments.
    item_key: Mapped[str | None] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    #: Hex SHA-256 of the content; also the storage key, so a download can be verified.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    uploaded_by = relationship("User", lazy="raise_on_sql")


Index("ix_attachments_owner", Attachment.owner_type, Attachment.owner_id)
