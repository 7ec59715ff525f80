"""Salons from planning to summary: the organiser, the public sign-up, the entry mode, the board, the totals."""
import re

import pytest
from sqlalchemy import func, select

from gaoxin.models import Appeal, AuditEntry, Role, UnitKind
from gaoxin.models.salon import Salon, SalonParticipant, SalonSignup, SalonState
from tests.conftest import text_of

GOOD_CODE = "91510100MA61R7CM5N"


@pytest.fixture
def organiser_unit(make_unit):
    return make_unit(UnitKind.department, name="经济运行局")


@pytest.fixture
def organiser(login_as, make_user, organiser_unit):
    return login_as(make_user(Role.dept_lead, unit=organiser_unit))


@pytest.fixture
def make_salon(db, make_unit, organiser_unit, make_user):
    from gaoxin.services import salons

    def make(state=SalonState.open, departments=None, theme="促进民营企业发展"):
        creator = make_user(Role.dispatcher)
        departments = departments or [make_unit(UnitKind.department)]
        import datetime
        salon = salons.create(creator, theme=theme, held_on=datetime.date.today(), venue="菁蓉汇",
                              organiser=organiser_unit, department_ids=[u.id for u in departments])
        salon.state = state
        db.session.commit()
        return salon
    return make


def test_organiser_creates_a_salon_with_departments_and_publishes_it(client, organiser, make_unit):
    dept = make_unit(UnitKind.department, name="科技人才局")
    response = client.post("/salons/new", data={"theme": "促进民营企业发展", "held_on": "2026-12-10", "venue": "菁蓉汇",
                                                "organiser_unit_id": organiser.unit_id, "department_ids": [dept.id]})
    assert response.status_code == 303
    salon = client.application.extensions["sqlalchemy"].session.scalar(select(Salon))
    assert salon.state == SalonState.planned and [u.name for u in salon.departments] == ["科技人才局"]
    assert client.post(f"/salons/{salon.id}/publish").status_code == 303
    assert client.get(f"/salons/{salon.id}/signup").status_code == 200


def test_a_salon_without_a_department_is_refused_with_everything_typed_kept(client, organiser, db):
    response = client.post("/salons/new", data={"theme": "融资对接会", "held_on": "2026-12-10", "venue": "天府软件园",
                                                "organiser_unit_id": organiser.unit_id})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请至少选择一个参加的部门" in page and "融资对接会" in page and "天府软件园" in page
    assert db.session.scalar(select(func.count(Salon.id))) == 0


def test_a_lead_of_another_department_may_not_organise_salons(client, login_as):
    login_as(Role.dept_lead)
    assert client.get("/salons/new").status_code == 403


def test_an_enterprise_signs_up_publicly_once_and_a_bad_code_is_explained(app, make_salon, db):
    salon = make_salon()
    public = app.test_client()
    form = {"enterprise_name": "成都迈普通信技术有限公司", "credit_code": GOOD_CODE, "contact_name": "张三",
            "mobile": "13812345678", "topic": "希望了解人才公寓政策"}
    bad = public.post(f"/salons/{salon.id}/signup", data={**form, "credit_code": "91510100MA61R7CM5X"})
    assert bad.status_code == 422 and "校验" in text_of(bad) and "成都迈普通信技术有限公司" in bad.get_data(as_text=True)
    assert public.post(f"/salons/{salon.id}/signup", data=form).status_code == 200
    again = public.post(f"/salons/{salon.id}/signup", data=form)
    assert again.status_code == 409 and "无需重复报名" in text_of(again)
    assert db.session.scalar(select(func.count(SalonSignup.id))) == 1


def test_a_closed_salon_takes_no_sign_up(app, make_salon, db):
    salon = make_salon(state=SalonState.held)
    response = app.test_client().post(f"/salons/{salon.id}/signup", data={
        "enterprise_name": "甲公司", "credit_code": GOOD_CODE, "contact_name": "张三", "mobile": "13812345678", "topic": "x"})
    assert response.status_code == 409 and "不接受报名" in text_of(response)
    assert db.session.scalar(select(func.count(SalonSignup.id))) == 0


def test_accepting_a_sign_up_registers_the_enterprise_and_adds_it(app, client, organiser, make_salon, db):
    salon = make_salon()
    app.test_client().post(f"/salons/{salon.id}/signup", data={
        "enterprise_name": "成都新企业有限公司", "credit_code": GOOD_CODE, "contact_name": "张三",
        "mobile": "13812345678", "topic": "融资"})
    signup = db.session.scalar(select(SalonSignup))
    assert client.post(f"/salons/{salon.id}/signups/{signup.id}/accept").status_code == 303
    row = db.session.scalar(select(SalonParticipant))
    assert row.enterprise.credit_code == GOOD_CODE and row.topic == "融资"


def test_a_pasted_list_keeps_the_good_lines_and_reports_unknown_names_and_bad_codes(client, organiser, make_salon,
                                                                                    make_enterprise, db):
    salon = make_salon(state=SalonState.planned)
    known = make_enterprise(name="成都已知科技有限公司")
    by_code = make_enterprise()
    pasted = f"{known.name}\n{by_code.credit_code}\n不存在的公司\n91510100MA61R7CM5X\n"
    response = client.post(f"/salons/{salon.id}/participants/paste", data={"pasted": pasted})
    assert response.status_code == 422
    page = text_of(response)
    assert "已添加2家" in page and "不存在的公司" in page and "档案中没有该名称的企业" in page and "校验" in page
    ids = set(db.session.scalars(select(SalonParticipant.enterprise_id)))
    assert ids == {known.id, by_code.id}


def test_entry_mode_records_a_salon_appeal_and_is_ready_again(client, login_as, make_salon, make_enterprise,
                                                             make_category, db):
    salon = make_salon()
    enterprise = make_enterprise(name="成都参会科技有限公司")
    db.session.add(SalonParticipant(salon_id=salon.id, enterprise_id=enterprise.id))
    db.session.commit()
    category = make_category(name="人才")
    login_as(Role.clerk)
    response = client.post(f"/salons/{salon.id}/entry", data={"enterprise": "参会科技", "category_id": category.id,
                                                               "content": "希望增加人才公寓"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200, text_of(response)
    assert "已登记" in text_of(response)
    appeal = db.session.scalar(select(Appeal))
    assert appeal.salon_id == salon.id and appeal.channel == "salon" and appeal.enterprise_id == enterprise.id
    assert 'value="参会科技"' not in response.get_data(as_text=True)
    outsider = client.post(f"/salons/{salon.id}/entry", data={"enterprise": "别的公司", "category_id": category.id,
                                                              "content": "x"})
    assert outsider.status_code == 422 and "参会企业" in text_of(outsider)
    assert db.session.scalar(select(func.count(Appeal.id))) == 1


def test_the_board_counts_and_answers_204_while_nothing_changed(client, login_as, make_salon, make_appeal, db):
    salon = make_salon()
    appeal = make_appeal()
    appeal.salon_id = salon.id
    db.session.commit()
    login_as(Role.leader)
    page = client.get(f"/salons/{salon.id}/board")
    assert page.status_code == 200 and 'data-count="raised">1<' in page.get_data(as_text=True)
    stamp = re.search(r"since=([0-9a-f]+)", page.get_data(as_text=True)).group(1)
    assert client.get(f"/salons/{salon.id}/board?since={stamp}", headers={"HX-Request": "true"}).status_code == 204
    appeal.version += 1
    db.session.commit()
    changed = client.get(f"/salons/{salon.id}/board?since={stamp}", headers={"HX-Request": "true"})
    assert changed.status_code == 200 and 'id="board"' in changed.get_data(as_text=True)


def test_summary_and_year_totals_count_the_salons_held(client, organiser, make_salon, make_appeal, db):
    from gaoxin.services import salons
    salon = make_salon(state=SalonState.held)
    for _ in range(2):
        appeal = make_appeal()
        appeal.salon_id = salon.id
    db.session.commit()
    assert client.post(f"/salons/{salon.id}/summarise", data={"summary_note": "圆满完成"}).status_code == 303
    summary = client.get(f"/salons/{salon.id}/summary")
    assert 'data-count="raised">2<' in summary.get_data(as_text=True) and "圆满完成" in text_of(summary)
    totals = salons.year_totals(salon.held_on.year)
    assert totals["salons"] == 1 and totals["enterprises"] == 2 and totals["appeals"] == 2
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "salon_summarised")) == 1


def test_entry_mode_without_javascript_redirects_back_to_an_empty_form(client, login_as, make_salon, make_enterprise,
                                                                      make_category, db):
    salon = make_salon()
    enterprise = make_enterprise(name="成都无脚本科技有限公司")
    db.session.add(SalonParticipant(salon_id=salon.id, enterprise_id=enterprise.id))
    db.session.commit()
    category = make_category(name="融资")
    login_as(Role.window)
    response = client.post(f"/salons/{salon.id}/entry", data={"enterprise": enterprise.credit_code,
                                                               "category_id": category.id, "content": "贷款贴息"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/salons/{salon.id}/entry")
    assert "已登记：成都无脚本科技有限公司" in text_of(client.get(response.headers["Location"]))


def test_sign_ups_past_ten_a_minute_are_refused_in_chinese(app, make_salon):
    salon = make_salon()
    public = app.test_client()
    statuses = [public.post(f"/salons/{salon.id}/signup", data={"enterprise_name": "甲"}).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    last = public.post(f"/salons/{salon.id}/signup", data={"enterprise_name": "甲"})
    assert "每分钟最多提交10次" in text_of(last)


def test_a_salon_moves_only_along_its_states(client, organiser, make_salon, db):
    salon = make_salon(state=SalonState.summarised)
    response = client.post(f"/salons/{salon.id}/publish")
    assert response.status_code == 409 and "不能发布报名" in text_of(response)
    assert db.session.get(Salon, salon.id).state == SalonState.summarised
