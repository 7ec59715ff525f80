"""Settings as the system admin: categories are routing rules, overrides move deadlines, missing years warn."""
from datetime import date

import pytest
from flask import g
from sqlalchemy import select

from gaoxin.models import AppealCategory, AuditEntry, CalendarOverride, Role, UnitKind
from gaoxin.services import appeals as appeal_service
from gaoxin.services import calendar as calendar_service
from gaoxin.services.calendar import working_calendar
from tests.conftest import text_of


@pytest.fixture
def sysadmin(login_as):
    return login_as(Role.sysadmin)


@pytest.fixture
def depts(make_unit):
    return [make_unit(UnitKind.department, name=n) for n in ("科技人才局", "发展规划局", "财政金融局")]


def _category(db, name):
    return db.session.scalar(select(AppealCategory).where(AppealCategory.name == name))


def _form(name="人才", lead=None, co=(), days="5", position="1", active=True):
    data = {"name": name, "lead_unit_id": str(lead.id) if lead else "", "handling_days": days, "position": position,
            "co_unit_ids": [str(u.id) for u in co]}
    if active:
        data["active"] = "y"
    return data


# --------------------------------------------------------------------------- categories


def test_sysadmin_creates_a_category_with_its_routing_rule(client, db, sysadmin, depts):
    talent, planning, finance = depts
    response = client.post("/settings/categories/new", data=_form(lead=talent, co=[planning, finance], days="7"))
    assert response.status_code == 303
    category = _category(db, "人才")
    assert category.lead_unit_id == talent.id
    assert [u.id for u in category.co_units] == [planning.id, finance.id]
    assert category.handling_days == 7 and category.active
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "config_changed"))
    assert entry.object_type == "AppealCategory" and "科技人才局" in entry.detail
    page = text_of(client.get("/settings/categories"))
    assert "人才" in page and "科技人才局" in page and "7 个工作日" in page


def test_the_new_category_form_defaults_to_five_working_days(client, sysadmin, depts):
    body = client.get("/settings/categories/new").get_data(as_text=True)
    assert 'name="handling_days"' in body and 'value="5"' in body
    assert body.count("<h1") == 1


@pytest.mark.parametrize("days, message", [("0", "办理时限应为1至60个工作日。"), ("61", "办理时限应为1至60个工作日。"),
                                           ("", "请输入办理时限。"), ("五", "请输入整数。")])
def test_a_bad_limit_is_refused_beside_the_field_with_typed_values_kept(client, db, sysadmin, depts, days, message):
    response = client.post("/settings/categories/new", data=_form(name="融资类别", lead=depts[0], days=days))
    assert response.status_code == 200
    assert message in text_of(response)
    assert 'value="融资类别"' in response.get_data(as_text=True)
    assert _category(db, "融资类别") is None


def test_a_duplicate_name_is_refused(client, db, sysadmin, depts, make_category):
    make_category(name="融资", lead_unit=depts[2])
    response = client.post("/settings/categories/new", data=_form(name="融资", lead=depts[0]))
    assert "已有名为“融资”的诉求类别。" in text_of(response)
    assert len(db.session.scalars(select(AppealCategory)).all()) == 1


def test_the_lead_department_cannot_also_co_handle(client, db, sysadmin, depts):
    response = client.post("/settings/categories/new", data=_form(lead=depts[0], co=[depts[0], depts[1]]))
    assert "主办部门不能同时作为协办部门" in text_of(response)
    assert _category(db, "人才") is None


def test_a_unit_that_is_not_a_department_is_refused(client, db, sysadmin, make_unit):
    station = make_unit(UnitKind.building_station)
    response = client.post("/settings/categories/new", data=_form(lead=station))
    assert "所选部门无效" in text_of(response)
    assert _category(db, "人才") is None


def test_editing_a_category_changes_its_rule_and_is_audited(client, db, sysadmin, depts, make_category):
    category = make_category(name="人才", lead_unit=depts[0], co_units=[depts[1]])
    form = client.get(f"/settings/categories/{category.id}/edit").get_data(as_text=True)
    assert 'value="人才"' in form
    response = client.post(f"/settings/categories/{category.id}/edit",
                           data=_form(name="人才服务", lead=None, co=[], days="3", active=False))
    assert response.status_code == 303
    db.session.refresh(category)
    assert (category.name, category.lead_unit_id, category.co_units, category.handling_days, category.active) == (
        "人才服务", None, [], 3, False)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "config_changed"))
    assert "原名“人才”" in entry.detail and "办理时限 5" in entry.detail and "办理时限 3" in entry.detail


def test_renaming_to_another_categorys_name_is_refused(client, db, sysadmin, depts, make_category):
    make_category(name="融资", lead_unit=depts[2])
    category = make_category(name="人才", lead_unit=depts[0])
    response = client.post(f"/settings/categories/{category.id}/edit", data=_form(name="融资", lead=depts[0]))
    assert "已有名为“融资”的诉求类别。" in text_of(response)
    db.session.refresh(category)
    assert category.name == "人才"


# --------------------------------------------------------------------------- routing effect


def test_an_appeal_in_a_category_without_lead_waits_for_the_dispatcher(client, db, sysadmin, make_appeal):
    client.post("/settings/categories/new", data=_form(name="政策咨询", lead=None))
    appeal = make_appeal(category=_category(db, "政策咨询"))
    assert appeal.state == "awaiting_dispatch"
    assert appeal.lead_unit_id is None and appeal.due_on is None


def test_an_appeal_in_a_category_with_a_lead_goes_to_that_department_with_its_deadline(
    client, db, sysadmin, depts, make_appeal
):
    client.post("/settings/categories/new", data=_form(name="人才", lead=depts[0], co=[depts[1]], days="7"))
    appeal = make_appeal(category=_category(db, "人才"))
    assert appeal.state == "dispatched"
    assert appeal.lead_unit_id == depts[0].id
    assert [c.unit_id for c in appeal.co_handlers] == [depts[1].id]
    assert appeal.handling_days == 7
    assert appeal.due_on == working_calendar().add_workdays(calendar_service.today(), 7)


# --------------------------------------------------------------------------- working days


def test_an_override_changes_a_computed_deadline(client, db, sysadmin, depts, make_category, make_appeal, monkeypatch):
    monday = date(2026, 11, 23)
    monkeypatch.setattr(appeal_service, "today", lambda: monday)
    category = make_category(name="人才", lead_unit=depts[0], handling_days=1)

    def due_on():
        # Each request loads the calendar afresh; this test's one app context must forget its copy.
        g.pop("working_calendar", None)
        return make_appeal(category=category).due_on

    assert due_on() == date(2026, 11, 24)

    response = client.post("/settings/calendar/overrides",
                           data={"day": "2026-11-24", "is_workday": "0", "note": "区内停电"})
    assert response.status_code == 303
    assert db.session.get(CalendarOverride, date(2026, 11, 24)).is_workday is False
    assert due_on() == date(2026, 11, 25)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "config_changed"))
    assert "2026-11-24 放假" in entry.detail

    response = client.post("/settings/calendar/overrides/2026-11-24/delete")
    assert response.status_code == 303
    assert db.session.get(CalendarOverride, date(2026, 11, 24)) is None
    assert due_on() == date(2026, 11, 24)


def test_the_calculator_previews_a_deadline_across_national_day(client, sysadmin):
    # National Day 2026: 1–7 October off, Saturday 10 October worked (国办发明电〔2025〕7号).
    page = text_of(client.get("/settings/calendar?start=2026-09-30&days=2"))
    assert "期限为 2026-10-09" in page
    fragment = client.get("/settings/calendar?start=2026-09-30&days=3", headers={"HX-Request": "true"})
    assert "期限为 2026-10-10" in text_of(fragment)
    assert "<h1" not in fragment.get_data(as_text=True)


def test_the_calculator_explains_bad_input_beside_its_field(client, sysadmin):
    page = text_of(client.get("/settings/calendar?start=2026-13-40&days=0"))
    assert "日期格式应为" in page and "工作日数应为1至250" in page


def test_a_duplicate_override_is_refused_beside_the_day(client, db, sysadmin):
    client.post("/settings/calendar/overrides", data={"day": "2027-01-01", "is_workday": "0"})
    response = client.post("/settings/calendar/overrides", data={"day": "2027-01-01", "is_workday": "1", "note": "重复"})
    assert response.status_code == 200
    assert "2027-01-01 已有调整" in text_of(response)
    assert 'value="重复"' in response.get_data(as_text=True)
    assert db.session.get(CalendarOverride, date(2027, 1, 1)).is_workday is False


def test_the_page_warns_that_2027_is_missing_and_a_single_override_does_not_hide_it(client, sysadmin, monkeypatch):
    # Issue 13: one 2027 override used to hide the warning, after which the Spring Festival counted as working days.
    monkeypatch.setattr(calendar_service, "today", lambda: date(2026, 11, 25))
    page = text_of(client.get("/settings/calendar"))
    assert "2027年的法定节假日安排尚未录入" in page
    assert "2026年" not in page.split("尚未录入")[0]
    client.post("/settings/calendar/overrides", data={"day": "2027-01-01", "is_workday": "0", "note": "元旦"})
    page = text_of(client.get("/settings/calendar"))
    assert "2027年的法定节假日安排尚未录入" in page
    assert "2027-01-01" in page and "元旦" in page


def test_a_deadline_crossing_into_2027_is_still_computed_and_warned(client, sysadmin):
    page = text_of(client.get("/settings/calendar?start=2026-12-30&days=3"))
    # 31 Dec 2026 (Thu) is a working day; 1 Jan 2027 (Fri) is 元旦 by rule though the package does not know
    # 2027: then Monday 4 and Tuesday 5 January.
    assert "期限为 2027-01-05" in page
    assert "2027年的法定节假日安排尚未录入" in page


# --------------------------------------------------------------------------- permissions


def _settings_snapshot(db):
    """Everything the settings pages change: categories with their rules, and the working-day overrides."""
    categories = [
        (c.id, c.name, c.lead_unit_id, sorted(u.id for u in c.co_units), c.handling_days, c.position, c.active)
        for c in db.session.scalars(select(AppealCategory).order_by(AppealCategory.id))
    ]
    overrides = [(o.day, o.is_workday, o.note)
                 for o in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))]
    return categories, overrides


@pytest.mark.parametrize("role", [Role.clerk, Role.dispatcher, Role.handler, Role.secadmin, Role.auditor, Role.leader])
@pytest.mark.parametrize("method, path", [
    ("get", "/settings/categories"), ("get", "/settings/categories/new"), ("get", "/settings/calendar"),
    ("get", "/settings/categories/{category}/edit"),
    ("post", "/settings/categories/new"), ("post", "/settings/categories/{category}/edit"),
    ("post", "/settings/calendar/overrides"), ("post", "/settings/calendar/overrides/2027-01-01/delete"),
])
def test_only_the_sysadmin_may_change_settings(client, db, login_as, make_category, depts, role, method, path):
    """A refused request changes nothing, even with a form that the sysadmin would have had accepted."""
    category = make_category(name="人才", lead_unit=depts[0], handling_days=5)
    db.session.add(CalendarOverride(day=date(2027, 1, 1), is_workday=False, note="元旦"))
    db.session.commit()
    before = _settings_snapshot(db)
    login_as(role)
    data = {
        "/settings/categories/new": _form(name="融资", lead=depts[1], days="7"),
        "/settings/categories/{category}/edit": _form(name="人才改名", lead=depts[2], co=[depts[1]], days="9",
                                                      active=False),
        "/settings/calendar/overrides": {"day": "2027-01-04", "is_workday": "1", "note": "调休"},
    }.get(path) if method == "post" else None
    url = path.format(category=category.id)
    response = client.post(url, data=data) if method == "post" else client.get(url)
    assert response.status_code == 403
    db.session.expire_all()
    assert _settings_snapshot(db) == before


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/settings/calendar")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
