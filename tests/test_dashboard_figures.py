"""The dashboard's figures equal the rates computed here from each appeal's own record, for several departments
and periods (an empty one too); a department lead sees only their own with the zone's total."""
import datetime as dt
import random

import pytest

from gaoxin.models import Role, UnitKind
from gaoxin.services import figures
from gaoxin.services.calendar import working_calendar
from tests.conftest import text_of

UTC = dt.timezone.utc
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def history(db, make_unit, make_category, make_appeal, make_user):
    """40 appeals over three months in two departments, with every kind of outcome."""
    rng = random.Random(3)
    units = [make_unit(UnitKind.department, name=n) for n in ("科技人才局", "财政金融局")]
    categories = [make_category(lead_unit=u) for u in units]
    clerk = make_user(Role.clerk)
    appeals = []
    for i in range(40):
        k = i % 2
        appeal = make_appeal(category=categories[k], recorder=clerk)
        dispatched = dt.datetime(2026, 9 + i % 3, 1 + rng.randrange(27), rng.randrange(24), tzinfo=UTC)
        appeal.dispatched_at = dispatched
        appeal.signed_in_time = rng.random() < 0.7
        if rng.random() < 0.75:
            appeal.state = "replied"
            appeal.replied_at = dispatched + dt.timedelta(days=rng.randrange(1, 9), hours=rng.randrange(12))
            appeal.reply_outcome = rng.choice(["resolved", "explained", "adopted"])
            appeal.replied_in_time = rng.random() < 0.8
            if rng.random() < 0.6:
                appeal.state = "closed"
                appeal.satisfaction = rng.choice(["satisfied", "basically", "unsatisfied"])
        appeals.append(appeal)
    db.session.commit()
    return units, appeals


def expected(appeals, unit_id, start, end):
    """The figures computed from each appeal's record: the cohort dispatched in [start, end] (China dates)."""
    calendar = working_calendar()
    day = lambda t: t.astimezone(CST).date()  # noqa: E731
    cohort = [a for a in appeals if (unit_id is None or a.lead_unit_id == unit_id)
              and start <= day(a.dispatched_at) <= end]
    replied = [a for a in cohort if a.replied_at]
    followed = [a for a in cohort if a.satisfaction]

    def rate(num, den):
        return None if den == 0 else num / den
    return {
        "dispatched": len(cohort),
        "response": rate(sum(1 for a in cohort if a.signed_in_time), len(cohort)),
        "resolution": rate(sum(1 for a in replied if a.reply_outcome in ("resolved", "adopted")), len(replied)),
        "satisfaction": rate(sum(1 for a in followed if a.satisfaction in ("satisfied", "basically")), len(followed)),
        "on_time": rate(sum(1 for a in replied if a.replied_in_time), len(replied)),
        "avg_workdays": rate(sum(calendar.workdays_between(day(a.dispatched_at), day(a.replied_at)) for a in replied),
                             len(replied)),
    }


PERIODS = [
    (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    (dt.date(2026, 9, 15), dt.date(2026, 11, 10)),
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dt.date(2025, 1, 1), dt.date(2025, 6, 30)),  # nothing dispatched: every rate is —
]


@pytest.mark.parametrize("start,end", PERIODS)
def test_the_rates_per_department_equal_those_computed_from_the_appeals(history, start, end):
    units, appeals = history
    table = figures.by_department(figures.Period("custom", start, end))
    rows = {r.key: r for r in table.rows}
    for unit_id, row in [(u.id, rows[u.id]) for u in units] + [(None, table.total)]:
        want = expected(appeals, unit_id, start, end)
        assert row.dispatched == want["dispatched"]
        for key in ("response", "resolution", "satisfaction", "on_time"):
            got = getattr(row, key).value
            assert got == pytest.approx(want[key]) if want[key] is not None else got is None, key
        assert row.avg_workdays == (pytest.approx(want["avg_workdays"]) if want["avg_workdays"] is not None else None)


def test_an_empty_period_shows_a_dash_for_every_rate(client, login_as, history):
    login_as(Role.leader)
    page = text_of(client.get("/dashboard/?period=custom&start=2025-01-01&end=2025-01-31"))
    assert "全区合计 0 0 — 0 0 — 0 — —" in page


def test_a_range_that_ends_before_it_starts_is_refused_beside_the_field(client, login_as):
    login_as(Role.dispatcher)
    response = client.get("/dashboard/?period=custom&start=2026-10-01&end=2026-09-01")
    assert response.status_code == 422
    page = text_of(response)
    assert "结束日期不能早于开始日期" in page and "2026-10-01" in response.get_data(as_text=True)


def test_a_department_lead_sees_their_department_and_the_zone_total_only(client, login_as, history):
    units, _ = history
    login_as(Role.dept_lead, unit=units[0])
    page = text_of(client.get("/dashboard/?period=year"))
    assert "科技人才局" in page and "全区合计" in page and "财政金融局" not in page


def test_each_rate_shows_its_formula(client, login_as):
    login_as(Role.leader)
    page = text_of(client.get("/dashboard/"))
    for _, name, formula in figures.RATES:
        assert name in page and formula in page
