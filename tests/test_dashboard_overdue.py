"""The dashboard's "overdue now" per department: open appeals past the deadline running now (sign-for while
dispatched, handling after), counted from the appeals as they are."""
import datetime as dt

from gaoxin.models import Role, UnitKind
from gaoxin.services import figures


def test_overdue_now_counts_open_appeals_past_the_deadline_running_now(db, make_unit, make_category, make_appeal,
                                                                          make_user):
    units = [make_unit(UnitKind.department, name=n) for n in ("科技人才局", "财政金融局")]
    categories = [make_category(lead_unit=u) for u in units]
    clerk = make_user(Role.clerk)
    today = figures.china_today()
    past, future = today - dt.timedelta(days=3), today + dt.timedelta(days=3)
    # (department, state, sign-for due, handling due, overdue?)
    cases = [
        (0, "dispatched", past, future, True),      # not signed for in time
        (0, "dispatched", future, future, False),
        (0, "dispatched", today, future, False),    # due today is not yet past
        (0, "in_progress", past, past, True),       # handling deadline passed
        (0, "in_progress", past, future, False),    # signed late, but handling is within its limit
        (1, "in_progress", future, past, True),
        (1, "replied", past, past, False),          # answered: not open
        (1, "closed", past, past, False),
    ]
    for k, state, sign_due, due, _ in cases:
        appeal = make_appeal(category=categories[k], recorder=clerk)
        if state in ("replied", "closed"):
            appeal.reply_outcome, appeal.reply_text = "resolved", "已办理"
        appeal.state, appeal.sign_due_on, appeal.due_on = state, sign_due, due
        db.session.flush()
    db.session.commit()
    table = figures.by_department(figures.Period("month", today.replace(day=1), today))
    rows = {r.key: r for r in table.rows}
    for k, unit in enumerate(units):
        assert rows[unit.id].overdue == sum(1 for c in cases if c[0] == k and c[4])
    assert table.total.overdue == sum(1 for c in cases if c[4])
