"""Working days for deadlines: chinesecalendar plus the admin's overrides, and 'today' in China time."""
from flask import g, has_app_context
from sqlalchemy import select

from ..extensions import db
from ..localtime import local_today
from ..models import CalendarOverride
from ..workflow import WorkingCalendar, missing_schedule_warning


def today():
    """Today's date in China (deadlines are counted on China's calendar, not UTC)."""
    return local_today()


def working_calendar():
    """The WorkingCalendar with the admin's overrides, loaded once per request."""
    if has_app_context() and "working_calendar" in g:
        return g.working_calendar
    overrides = dict(db.session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)).all())
    calendar = WorkingCalendar(overrides)
    if has_app_context():
        g.working_calendar = calendar
    return calendar


def schedule_warning(start, end):
    """A warning for the admin when [start, end] crosses a year chinesecalendar does not know
    and no override for that year was entered."""
    calendar = working_calendar()
    unknown = calendar.unknown_years(start, end)
    covered = {d.year for d in calendar.overrides}
    return missing_schedule_warning(sorted(unknown - covered))
