"""The working calendar is read once per worker and kept while its stamp holds: a change made by any worker
(here: another connection, committed) is seen by the next request, and an unchanged calendar is not read again."""
from datetime import date

from sqlalchemy import text

from gaoxin.extensions import db as _db
from gaoxin.services.calendar import working_calendar
from tests.conftest import statements_sent

#: A Monday, a working day by the official schedule.
MONDAY = date(2026, 11, 23)


def in_a_request(app, read):
    """`read()` as a request of this worker sees it: its own app context (g) and database session."""
    with app.app_context():
        try:
            return read()
        finally:
            _db.session.remove()


def committed_elsewhere(app, sql, **params):
    """A change another worker commits: its own connection, not this request's session."""
    with app.app_context(), _db.engine.begin() as connection:
        connection.execute(text(sql), params)


def statements_of(app, read):
    with statements_sent(app) as seen:
        result = in_a_request(app, read)
    return result, seen


def test_an_unchanged_calendar_is_checked_with_one_statement_and_not_read_again(app, db):
    first = in_a_request(app, working_calendar)
    again, statements = statements_of(app, working_calendar)
    assert again is first and len(statements) == 1


def test_an_override_committed_by_another_worker_is_seen_by_the_next_request(app, db):
    assert in_a_request(app, lambda: working_calendar().is_workday(MONDAY)) is True
    committed_elsewhere(app, "INSERT INTO calendar_overrides (day, is_workday, note, created_at) "
                             "VALUES (:day, false, '停电', CURRENT_TIMESTAMP)", day=MONDAY)
    assert in_a_request(app, lambda: working_calendar().is_workday(MONDAY)) is False
    committed_elsewhere(app, "DELETE FROM calendar_overrides WHERE day = :day", day=MONDAY)
    assert in_a_request(app, lambda: working_calendar().is_workday(MONDAY)) is True


def test_an_override_replaced_by_another_keeps_the_count_but_not_the_calendar(app, db):
    saturday = date(2026, 11, 28)
    committed_elsewhere(app, "INSERT INTO calendar_overrides (day, is_workday, created_at) "
                             "VALUES (:day, false, '2026-01-01 00:00:00')", day=MONDAY)
    assert in_a_request(app, lambda: working_calendar().is_workday(MONDAY)) is False
    committed_elsewhere(app, "DELETE FROM calendar_overrides WHERE day = :day", day=MONDAY)
    committed_elsewhere(app, "INSERT INTO calendar_overrides (day, is_workday, created_at) "
                             "VALUES (:day, true, '2026-01-02 00:00:00')", day=saturday)
    calendar = in_a_request(app, working_calendar)
    assert calendar.is_workday(MONDAY) is True and calendar.is_workday(saturday) is True
