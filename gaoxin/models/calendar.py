"""Local working-day overrides: holidays and swapped working days the admin enters."""
from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class CalendarOverride(db.Model):
    """One day that differs from chinesecalendar (or that a year it does not know needs)."""

    __tablename__ = "calendar_overrides"

    day = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(60))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
