"""Working-day calendar data: the admin's local overrides, and the years confirmed by entering the State Council's notice."""
from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class CalendarOverride(db.Model):
    """One day that differs from chinesecalendar (or that a year it does not know needs)."""

    __tablename__ = "calendar_overrides"

    day = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(60))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CalendarYear(db.Model):
    """A year chinesecalendar does not know, confirmed as a whole from the State Council's holiday notice."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The notice's lines as the admin pasted them.
    notice: Mapped[str] = mapped_column(Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    days = relationship("CalendarNoticeDay", back_populates="calendar_year", cascade="all, delete-orphan",
                        order_by="CalendarNoticeDay.day", lazy="selectin")
    confirmed_by = relationship("User", lazy="joined")


class CalendarNoticeDay(db.Model):
    """One day of a confirmed notice: a holiday (放假) or a swapped working day (调休上班)."""

    __tablename__ = "calendar_notice_days"

    day = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    is_workday: Mapped[bool] = mapped_column()
    #: The holiday the day belongs to (元旦, 春节 …).
    name: Mapped[str] = mapped_column(String(20))

    calendar_year = relationship("CalendarYear", back_populates="days", lazy="raise_on_sql")
