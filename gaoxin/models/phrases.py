"""Canned replies (常用语): a department's phrases, kept by its lead, inserted into replies and notes."""
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

#: A phrase's length limit, in characters (a sentence or two, not a whole reply).
PHRASE_MAX = 500


class Phrase(db.Model):
    """One phrase of a department, in the order its lead gave."""

    __tablename__ = "phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(PHRASE_MAX))
    position: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    unit = relationship("Unit", lazy="raise_on_sql")

    @property
    def short(self):
        """The first words, for a select's option."""
        return self.text if len(self.text) <= 40 else self.text[:40] + "…"


Index("ix_phrases_unit_position", Phrase.unit_id, Phrase.position, Phrase.id)
