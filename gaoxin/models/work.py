"""Work stamps: one row per unit whose version moves whenever an appeal that unit works on changes."""
from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class WorkStamp(db.Model):
    """A unit's change stamp: `version` goes up in the same transaction as every transition of an appeal
    the unit leads or co-handles (services.work), so "has the inbox changed?" is one primary-key lookup."""

    __tablename__ = "work_stamps"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
