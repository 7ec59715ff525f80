"""The dashboard's rollup of appeals: counts per dispatch day or month, lead department and one cut."""
from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class AppealRollup(db.Model):
    """How many appeals dispatched on a day (grain 'd') or in a month (grain 'm', `dispatched_on` its first day)
    to one lead department (0: waiting for re-dispatch) are in each count of the dashboard, cut one way:

    - grain 'd', dim 'a' (value ''): the day's counts, for the departments, the zone's total and the trend;
    - grain 'm', dim 'c' / 'h' / 'u' (value: category id / channel / intake unit id): the cuts;
    - grain 'm', dim 'r' (value: the China date of the reply): how many of them were replied that day
      (`replied`), for working days to reply under the calendar in force when the page is read.

    Kept in the same transaction as every change of an appeal (services.rollups), rebuilt from the appeals
    by `flask gaoxin rollup-rebuild`."""

    __tablename__ = "appeal_rollups"

    #: 'd' (a China date) or 'm' (a month, by its first day)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    dispatched_on = mapped_column(Date, primary_key=True)
    #: the current lead department; 0 for the appeals returned and waiting for the dispatcher
    lead_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: 'a' all, 'c' category, 'h' channel, 'u' intake unit, 'r' reply day
    dim: Mapped[str] = mapped_column(String(1), primary_key=True)
    value: Mapped[str] = mapped_column(String(20), primary_key=True)
    dispatched: Mapped[int] = mapped_column(default=0)
    signed_on_time: Mapped[int] = mapped_column(default=0)
    replied: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    followed_up: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    replied_on_time: Mapped[int] = mapped_column(default=0)
